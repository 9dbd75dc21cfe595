"""Confidence intervals and benchmark comparison (the full published-values suite comes with issue 3)."""

import numpy as np
import pytest
from scipy import stats as sps

from metrics.stats import compare_to_benchmark, proportion_ci, rate_ci, value_ci


def test_wilson_matches_the_textbook_form():
    value, lower, upper = proportion_ci(65, 100)
    z = sps.norm.ppf(0.975)
    p, n = 0.65, 100
    centre, half = p + z * z / (2 * n), z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert value == pytest.approx(0.65)
    assert lower == pytest.approx((centre - half) / (1 + z * z / n), abs=1e-12)
    assert upper == pytest.approx((centre + half) / (1 + z * z / n), abs=1e-12)


def test_wilson_edges_stay_in_range():
    _, lower, upper = proportion_ci([0, 10], [10, 10])
    assert lower[0] == pytest.approx(0) and upper[1] == pytest.approx(1)
    assert upper[0] > 0 and lower[1] < 1


def test_zero_denominator_gives_nan():
    assert all(np.isnan(v) for v in proportion_ci(0, 0))


def test_rate_exact_below_ten_and_byar_from_ten():
    _, lower, upper = rate_ci(5, 1000, multiplier=1)
    assert lower == pytest.approx(sps.chi2.ppf(0.025, 10) / 2 / 1000)
    assert upper == pytest.approx(sps.chi2.ppf(0.975, 12) / 2 / 1000)
    _, lower, _ = rate_ci(10, 1000, multiplier=1)
    z = sps.norm.ppf(0.975)
    assert lower == pytest.approx(10 * (1 - 1 / 90 - z / (3 * np.sqrt(10))) ** 3 / 1000)


def test_value_ci_scales_by_unit():
    assert value_ci("percent", 1, 4)[0] == pytest.approx(25)
    assert value_ci("per_100k", 1, 4)[0] == pytest.approx(25_000)


def test_compare_to_benchmark():
    lower, upper = np.array([60, 40, 45]), np.array([70, 50, 55])
    assert list(compare_to_benchmark(lower, upper, 52, "higher_is_better")) == ["better", "worse", "similar"]
    assert list(compare_to_benchmark(lower, upper, 52, "lower_is_better")) == ["worse", "better", "similar"]
    assert list(compare_to_benchmark(lower, upper, 52, "neutral")) == ["higher", "lower", "similar"]
