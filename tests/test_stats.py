"""metrics.stats against values published by the reference implementations, not values computed here.

Sources (each table or constant below names its own file):
  PHE  = ukhsa-collaboration/PHEindicatormethods (OHID's R package behind Fingertips)
  PTD  = nhs-r-community/NHSRplotthedots (the R implementation of Making Data Count)
  BSOL = Birmingham-and-Solihull-ICS/BSOLutils (an NHS ICS's R implementation of the same CI methods)
Published figures are compared within half a unit of their last printed digit (``published()``), except
where a comment gives a wider, explained tolerance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.stats import (_part_of_run, _shift_points, _trend_points, _two_of_three_points, assurance_icon,
                           compare_to_benchmark, funnel_limits, funnel_significance, proportion_ci, rate_ci,
                           slope_index_of_inequality, value_ci, variation_icon, xmr)

DATA = Path(__file__).parent / "data"
PHE_LABELS = {"High (0.001)": "high_998", "High (0.025)": "high_95", "Low (0.001)": "low_998",
              "Low (0.025)": "low_95", "Not significant": "not_significant"}


def published(text: str, slack: float = 1e-12):
    """A printed figure as pytest.approx, within half a unit of its last decimal place."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return pytest.approx(float(text), abs=0.5 * 10.0**-decimals + slack)


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#")


# --- proportions (Wilson score) ----------------------------------------------------------------------------

# An early version of PHE tests/testthat/testProportions.R (from when the package was PHEstatmethods;
# the code index returned it without its commit path): phe_proportion(x, n, conf.level) -> value, lower, upper.
PHE_PROPORTIONS = [
    (35078, 41980, 0.95, "0.835588375", "0.83201210", "0.83910324"),
    (35078, 41980, 0.998, "0.835588375", "0.82992190", "0.84110220"),
    (65, 100, 0.95, "0.65", "0.55254443", "0.73635752"),
    (65, 100, 0.998, "0.65", "0.49549466", "0.77835406"),
]


@pytest.mark.parametrize("x, n, confidence, value, lower, upper", PHE_PROPORTIONS)
def test_wilson_matches_phe_published_values(x, n, confidence, value, lower, upper):
    got = proportion_ci(x, n, confidence)
    assert [float(v) for v in got] == [published(value), published(lower), published(upper)]


@pytest.mark.parametrize("x, n, confidence, value, lower, upper", PHE_PROPORTIONS)
def test_wilson_on_the_percent_scale_and_percent_confidence(x, n, confidence, value, lower, upper):
    got = proportion_ci(x, n, confidence * 100, multiplier=100)
    expected = [float(v) * 100 for v in (value, lower, upper)]
    assert [float(v) for v in got] == [pytest.approx(e, abs=1e-6) for e in expected]


def test_wilson_zero_count_and_numerator_equal_to_denominator():
    # insightsengineering/cards tests/testthat/_snaps/proportion_ci.md: Wilson without continuity
    # correction for 0 of 32 (upper 0.1071792) and 32 of 32 (lower 0.8928208).
    assert [float(v) for v in proportion_ci(0, 32)] == [0, 0, published("0.1071792")]
    assert [float(v) for v in proportion_ci(32, 32)] == [1, published("0.8928208"), pytest.approx(1, abs=1e-12)]


def test_wilson_matches_bsol_prop_ci():
    # BSOL tests/testthat/test-prop_ci.R: prop_ci(50, 100) -> 0.5, 0.403831530, 0.596168470
    assert [float(v) for v in proportion_ci(50, 100)] == [0.5, published("0.403831530"), published("0.596168470")]


def test_proportion_missing_or_zero_denominator_gives_nan():
    value, lower, upper = proportion_ci([5, np.nan, 5, 5], [10, 10, 0, np.nan])
    assert not np.isnan(value[0]) and np.isnan([value[1:], lower[1:], upper[1:]]).all()


def test_proportion_rejects_impossible_numerators():
    with pytest.raises(ValueError, match="between 0 and their denominator"):
        proportion_ci(11, 10)
    with pytest.raises(ValueError, match="between 0 and their denominator"):
        proportion_ci(-1, 10)


def test_confidence_levels_are_checked():
    assert float(proportion_ci(65, 100, 95)[1]) == float(proportion_ci(65, 100, 0.95)[1])
    with pytest.raises(ValueError, match="confidence"):
        proportion_ci(65, 100, 80)


def test_scalars_give_0d_arrays_and_arrays_vectorise():
    value, lower, upper = proportion_ci(65, 100)
    assert np.ndim(value) == 0 and isinstance(float(lower), float)
    assert proportion_ci([65, 35078], [100, 41980])[1] == pytest.approx([0.55254443, 0.83201210], abs=5e-9)


# --- rates (exact below 10, Byar's from 10) ----------------------------------------------------------------

def test_byar_at_ten_events_matches_bsol():
    # BSOL tests/testthat/test-byars_ci.R: byars_ci(10, 20) -> 0.5, 0.239372496, 0.919572930 and
    # byars_ci(50, 100) -> 0.5, 0.371081, 0.659201567 (10 events is where phe_rate switches to Byar's)
    assert [float(v) for v in rate_ci(10, 20, multiplier=1)] == [
        0.5, published("0.239372496"), published("0.919572930")]
    assert [float(v) for v in rate_ci(50, 100, multiplier=1)] == [
        0.5, published("0.371081"), published("0.659201567")]


def test_zero_events_use_the_exact_upper_limit():
    # BSOL tests/testthat/test-exact_SMR_ci.R: exact_SMR_ci(0, 10) -> 0, 0, 0.368887945
    assert [float(v) for v in rate_ci(0, 10, multiplier=1)] == [0, 0, published("0.368887945")]


def _phe_rate_funnel():
    inputs, outputs = read("stats_funnel_rate_inputs.csv"), read("stats_funnel_rate_outputs.csv")
    average = inputs.ev.sum() / (1e5 * inputs.ev / inputs.rate).sum()   # events per person, as phe_funnels
    return average, outputs


def test_exact_limits_below_ten_events_match_phe_funnel_points():
    # PHE's rate funnel places O events at the population whose expected count is O's exact Poisson limit
    # (poisson_funnel): lower_*_population * 3 years * average is the upper limit of O, and vice versa, at
    # 95% (2s) and 99.8% (3s). poisson_funnel bisects on v = limit / (1 + O + limit) and stops at a step of
    # 2^-24, so each published limit is good to (1 + O) 2^-24 / (1 - v)^2; we allow twice that.
    average, table = _phe_rate_funnel()
    small = table[table.Events < 10]
    for confidence, level in ((0.95, "2s"), (0.998, "3s")):
        _, lower, upper = rate_ci(small.Events.to_numpy(), 1, confidence, multiplier=1)
        for ours, column in ((upper, f"lower_{level}_population_1_year"), (lower, f"upper_{level}_population_1_year")):
            theirs = small[column].to_numpy() * 3 * average
            v = theirs / (1 + small.Events.to_numpy() + theirs)
            bound = 2 * (1 + small.Events.to_numpy()) * 2.0**-24 / (1 - v) ** 2
            assert np.all(np.abs(ours - theirs) <= bound), column
            assert ours == pytest.approx(theirs, rel=1e-4)
    assert {1, 9} <= set(small.Events)


def test_counts_above_the_denominator_are_allowed_for_rates():
    value, lower, upper = rate_ci(25, 10, multiplier=1)
    assert float(value) == 2.5 and float(lower) < 2.5 < float(upper)


def test_rate_missing_values_and_bad_counts():
    value, lower, upper = rate_ci([5, np.nan, 5], [1000, 1000, 0])
    assert not np.isnan(value[0]) and np.isnan([value[1:], lower[1:], upper[1:]]).all()
    with pytest.raises(ValueError, match="zero or more"):
        rate_ci(-1, 10)


def test_value_ci_scales_by_unit():
    assert value_ci("percent", 65, 100)[1] == pytest.approx(55.254443, abs=5e-7)
    assert value_ci("per_100k", 10, 20)[1] == pytest.approx(23937.2496, abs=5e-4)
    assert value_ci("per_1000", 10, 20)[1] == pytest.approx(239.372496, abs=5e-6)  # the unit's own multiplier


def test_compare_to_benchmark():
    lower, upper = np.array([60, 40, 45]), np.array([70, 50, 55])
    assert list(compare_to_benchmark(lower, upper, 52, "higher_is_better")) == ["better", "worse", "similar"]
    assert list(compare_to_benchmark(lower, upper, 52, "lower_is_better")) == ["worse", "better", "similar"]
    assert list(compare_to_benchmark(lower, upper, 52, "neutral")) == ["higher", "lower", "similar"]


@pytest.mark.parametrize("polarity", ["higher_is_better", "lower_is_better", "neutral"])
def test_missing_or_suppressed_values_and_benchmarks_are_not_compared(polarity):
    # A suppressed value has no interval (NaN); a missing benchmark gives nothing to compare with.
    lower, upper = np.array([np.nan, 45.0, 45.0, np.nan]), np.array([np.nan, 55.0, np.nan, 55.0])
    assert list(compare_to_benchmark(lower, upper, 52, polarity)) == [
        "not_compared", "similar", "not_compared", "not_compared"]
    assert list(compare_to_benchmark([45.0, 60.0], [55.0, 70.0], np.nan, polarity)) == ["not_compared"] * 2
    assert str(compare_to_benchmark(45.0, 55.0, None, polarity)) == "not_compared"
    assert list(compare_to_benchmark(pd.Series([45.0, None]), pd.Series([55.0, None]), 50, polarity)) == [
        "similar", "not_compared"]


# --- funnel plots ------------------------------------------------------------------------------------------

FUNNEL_COLUMNS = {"lower_95": "Lower2s0025limit", "upper_95": "Upper2s0025limit",
                  "lower_998": "Lower3s0001limit", "upper_998": "Upper3s0001limit"}


@pytest.mark.parametrize("outputs, max_denominator, tolerance", [
    ("stats_funnel_prop_outputs.csv", None, 5e-7),                     # published to 6 decimals
    ("stats_funnel_prop_outputs_axis_variation.csv", 31000, 5e-9),     # published to 8 decimals
])
def test_proportion_funnel_limits_match_phe(outputs, max_denominator, tolerance):
    inputs = read("stats_funnel_prop_inputs.csv")
    if max_denominator:
        inputs = inputs[inputs.denominator < max_denominator]
    table = read(outputs)
    average = inputs.numerator.sum() / inputs.denominator.sum()
    assert average * 100 == pytest.approx(table.Baseline.iloc[0], abs=tolerance)
    limits = funnel_limits(table.Population.to_numpy(), average, "proportion", multiplier=100)
    for ours, theirs in FUNNEL_COLUMNS.items():
        assert limits[ours] == pytest.approx(table[theirs].to_numpy(), abs=tolerance + 1e-12), ours


def test_proportion_funnel_is_capped_at_0_and_100_percent():
    table = read("stats_funnel_prop_outputs.csv")
    limits = funnel_limits(table.Population.to_numpy()[:3], 0.80642448, multiplier=100)
    assert list(limits["lower_998"][:2]) == [0, 0] and list(limits["upper_95"]) == [100, 100, 100]


def test_proportion_funnel_significance_matches_phe():
    inputs = read("stats_funnel_prop_inputs.csv")
    labels = funnel_significance(inputs.numerator.to_numpy(), inputs.denominator.to_numpy())
    assert labels == [PHE_LABELS[s] for s in inputs.significance]
    assert {"high_998", "high_95", "low_998", "low_95", "not_significant"} <= set(labels)


def test_rate_funnel_limits_match_phe():
    # PHE's table gives, for O events, the one-year population (3 years of data) at which O sits on each
    # limit, and the limit per 100,000. Our funnel_limits at that population must return that limit. PHE's
    # bisection (poisson_funnel, stopped at 2^-24) leaves up to ~6e-6 relative error at 1-3 events and
    # under 1e-6 from 5 events, hence the two tolerances.
    average, table = _phe_rate_funnel()
    assert average * 1e5 == pytest.approx(table.baseline.iloc[0], abs=5e-8)
    for level, suffix in (("2s", "95"), ("3s", "998")):
        for side in ("lower", "upper"):
            population = table[f"{side}_{level}_population_1_year"].to_numpy() * 3
            ours = funnel_limits(population, average * 1e5, "rate", multiplier=1e5)[f"{side}_{suffix}"]
            theirs = table[f"{side}_{level}_limit"].to_numpy()
            assert ours == pytest.approx(theirs, rel=1e-5)
            assert ours[table.Events >= 5] == pytest.approx(theirs[table.Events >= 5], rel=1e-6)


@pytest.mark.parametrize("column, keep_zero", [("crude_per_100000_with_0", True),
                                               ("crude_per_100000_without_0", False)])
def test_rate_funnel_significance_matches_phe(column, keep_zero):
    table = read("stats_funnel_rate_significance.csv")
    if not keep_zero:
        table = table[table["count"] > 0]
    labels = funnel_significance(table["count"].to_numpy(), table["pop"].to_numpy(), "rate", 1e5)
    assert labels == [PHE_LABELS[s] for s in table[column]]


def test_funnel_missing_values():
    limits = funnel_limits([100, 0, np.nan], 0.8, multiplier=100)
    assert not np.isnan(limits["lower_95"][0]) and np.isnan(limits["lower_95"][1:]).all()
    assert np.isnan(funnel_limits([np.nan], 100, "rate", 1e5)["upper_998"]).all()
    labels = funnel_significance([10, np.nan, 990, 5], [1000, 1000, 1000, 0])
    assert labels == ["low_998", "not_applicable", "high_998", "not_applicable"]
    with pytest.raises(ValueError, match="statistic"):
        funnel_limits([100], 0.5, "ratio")


# --- XmR charts (Making Data Count) ------------------------------------------------------------------------

# R's set.seed(123); rnorm(20), the series PTD's tests use (first values printed in
# PTD tests/testthat/_snaps/ptd_spc_standard.md; the same 8-decimal values appear in many R outputs).
RNORM_123 = np.array([
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
    -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
    0.49785048, -1.96661716, 0.70135590, -0.47279141])


@pytest.mark.parametrize("outlier, screen, mean, lower, upper", [
    (False, True, "0.1416238", "-3.01138", "3.294627"),     # PTD _snaps/ptd_spc_standard.md, r1
    (True, True, "0.6694159", "-2.383666", "3.722497"),     # r2: y[15] <- 10, outliers screened
    (True, False, "0.6694159", "-4.596625", "5.935457"),    # r3: y[15] <- 10, screen_outliers = FALSE
])
def test_xmr_limits_match_ptd(outlier, screen, mean, lower, upper):
    y = RNORM_123.copy()
    if outlier:
        y[14] = 10
    result = xmr(y, screen_outliers=screen)
    slack = 1e-8  # the inputs are R's doubles rounded to 8 decimals
    assert list(result.mean) == [published(mean, slack)] * 20
    assert list(result.lower_limit) == [published(lower, slack)] * 20
    assert list(result.upper_limit) == [published(upper, slack)] * 20


def test_xmr_common_cause_series_matches_ptd_summary():
    # PTD _snaps/ptd_spc.md: 20 points, common_cause 20, no special cause, no short-group warning.
    result = xmr(RNORM_123)
    assert set(result.point_type) == {"common_cause"} and set(result.rule) == {""}
    assert result.variation == "common_cause" and result.assurance is None
    assert not result.short_group_warning


def test_rebased_groups_get_their_own_limits():
    # PTD _snaps/ptd_spc.md, facets of 10 points (computed per group exactly as rebase groups are):
    # mean_col 0.0746 / 0.209, lpl -2.60 / -3.28, upl 2.75 / 3.70, all common cause.
    result = xmr(RNORM_123, rebase_at=[10])
    assert list(result.group) == [0] * 10 + [1] * 10
    assert [result.mean[0], result.lower_limit[0], result.upper_limit[0]] == [
        published("0.0746"), published("-2.60"), published("2.75")]
    assert [result.mean[10], result.lower_limit[10], result.upper_limit[10]] == [
        published("0.209"), published("-3.28"), published("3.70")]
    assert set(result.point_type) == {"common_cause"}
    assert result.short_group_warning  # 10 < 13 points


def test_short_group_warning_below_thirteen_points():
    # PTD R/ptd_add_short_group_warnings.R: warning when n() < 13 (the default threshold).
    assert xmr(RNORM_123[:12]).short_group_warning
    assert not xmr(RNORM_123[:13]).short_group_warning


# Hand-built series for the rules: a 9/11 zig-zag has mean 10, moving ranges 2 and no signal of its own.
ZIGZAG = [9.0, 11.0] * 7


def _flagged(result) -> list[int]:
    return [i for i, rule in enumerate(result.rule) if rule]


@pytest.mark.parametrize("improvement, high, low", [
    ("increase", "special_cause_improvement", "special_cause_concern"),
    ("decrease", "special_cause_concern", "special_cause_improvement"),
    ("neutral", "special_cause_neutral_high", "special_cause_neutral_low"),
])
def test_rule_outside_limits(improvement, high, low):
    # PTD ptd_spc_standard: outside_limits = y > upl | y < lpl; ptd_point_type orients it by direction.
    up = xmr(ZIGZAG + [9.0, 11.0] * 2 + [9.0, 18.0], improvement=improvement)
    down = xmr(ZIGZAG + [9.0, 11.0] * 2 + [9.0, 2.0], improvement=improvement)
    assert _flagged(up) == [19] and up.rule[19] == "outside_limits" and up.point_type[19] == high
    assert _flagged(down) == [19] and down.point_type[19] == low


def test_rule_trend_of_seven_follows_the_trend_direction():
    # PTD test-ptd_calculate_point_type.R (ptd_seven_point_trend(1:7) flags the 7th point) and PR #180:
    # trend points are coloured by the trend's direction, here rising through the mean.
    result = xmr(ZIGZAG + [8.5, 9, 9.5, 10, 10.5, 11, 11.5] + [9, 11, 9])
    assert _flagged(result) == list(range(14, 21))
    assert set(result.rule[14:21]) == {"trend"} and set(result.point_type[14:21]) == {"special_cause_improvement"}
    assert result.point_type[14] == "special_cause_improvement" and result.mean[14] > 8.5  # below the mean


def test_six_rises_or_a_repeated_value_is_no_trend():
    # PTD: ptd_seven_point_trend(1:6) and ptd_seven_point_trend(c(1:3, 3:6)) flag nothing.
    assert not _flagged(xmr(ZIGZAG + [9, 9.5, 10, 10.5, 11, 11.5] + [9, 11, 9]))
    assert not _flagged(xmr(ZIGZAG + [8.5, 9, 9.5, 9.5, 10, 10.5, 11] + [9, 11, 9]))


def test_rule_two_of_three_flags_only_the_near_limit_points():
    # PTD test-ptd_calculate_point_type.R, ptd_part_of_two_in_three(c(1, 0, 1)) -> c(1, 0, 1): of three
    # points on one side, only the two beyond two-thirds of the way to the limit are flagged.
    result = xmr(ZIGZAG + [15.2, 11, 15.2] + [9, 11] * 3 + [9])
    assert _flagged(result) == [14, 16] and set(result.rule[[14, 16]]) == {"two_of_three"}
    assert set(result.point_type[[14, 16]]) == {"special_cause_improvement"}


def test_two_near_limit_points_on_opposite_sides_are_not_a_signal():
    # PTD test-ptd_spc_standard.R: symmetrical data with 5.5 and -5.5 last -> both common_cause.
    result = xmr([1, -1] * 7 + [5.5, -5.5])
    assert result.point_type[-2:].tolist() == ["common_cause", "common_cause"]


def test_rule_shift_of_seven_on_one_side():
    # PTD: ptd_seven_point_one_side_mean(c(rep(1, 8), -1)) flags a run of 8 on one side.
    result = xmr(ZIGZAG + [10.5, 11, 10.5, 10.5, 10.5, 11, 10.5] + [9.5, 9, 9.5, 9.5, 9, 9.5] + [11, 9, 11, 9])
    assert _flagged(result) == list(range(13, 21))  # the zig-zag's last 11 joins the run of 7
    assert set(result.rule[13:21]) == {"shift"} and set(result.point_type[13:21]) == {"special_cause_improvement"}


def test_a_point_on_the_mean_breaks_a_shift():
    # The series' mean is exactly 10 and the 4th point of the run is 10: sign(y - mean) == 0, which
    # PTD's ptd_seven_point_one_side_mean never counts as one side.
    y = ZIGZAG + [10.5, 11, 10.5, 10, 10.5, 11, 10.5] + [9.5, 9, 9.5, 9.5, 9, 9.5] + [11, 9, 11, 9]
    result = xmr(y)
    assert result.mean[0] == 10 and not _flagged(result)


def test_precedence_outside_then_trend_then_two_of_three_then_shift():
    # PTD R/ptd_calculate_point_type.R, ptd_special_cause_type(): case_when in this order.
    trend_to_outlier = xmr(ZIGZAG + [8.5, 9, 9.5, 10, 10.5, 11, 18] + [9, 11, 9])
    assert list(trend_to_outlier.rule[14:21]) == ["trend"] * 6 + ["outside_limits"]
    falling_above_mean = xmr(ZIGZAG + [13, 12.6, 12.2, 11.8, 11.4, 11, 10.6] + [11.5, 9, 11, 9])
    assert set(falling_above_mean.rule[14:21]) == {"trend"}          # also a shift: trend wins
    assert set(falling_above_mean.point_type[14:21]) == {"special_cause_concern"}  # falling, not "above"
    assert falling_above_mean.rule[13] == "shift" and falling_above_mean.point_type[13] == "special_cause_improvement"
    near_in_shift = xmr(ZIGZAG + [11, 11.5, 15.2, 11, 15.2, 11.5, 11] + [9, 11, 9])
    assert list(near_in_shift.rule[13:21]) == ["shift"] * 3 + ["two_of_three", "shift", "two_of_three"] + ["shift"] * 2


def test_rule_helpers_reproduce_ptd_unit_tests():
    # PTD tests/testthat/test-ptd_calculate_point_type.R, composed as ptd_special_cause_type composes them.
    assert list(_trend_points(np.arange(1, 8.0))[0]) == [True] * 7                     # 1:7
    assert list(_trend_points(np.array([2.0, *range(1, 8), 3]))[0]) == [False] + [True] * 7 + [False]
    assert list(_trend_points(np.arange(7, 0, -1.0))[0]) == [True] * 7                 # 7:1
    assert not _trend_points(np.array([1.0, 2, 3, 3, 4, 5, 6]))[0].any()               # c(1:3, 3:6)
    assert list(_shift_points(np.array([1.0] * 8 + [-1]))) == [True] * 8 + [False]
    assert not _shift_points(np.array([1.0] * 6 + [-1])).any()
    assert list(_part_of_run(np.array([0, 0, 0, 0, 0, 0, 0, 1, 0], dtype=bool))) == [False] + [True] * 7 + [False]
    ones = np.ones(7)
    assert list(_two_of_three_points(np.array([0, 0, 1, 0, 1, 0, 0], dtype=bool), ones)) == [
        False, False, True, False, True, False, False]
    assert not _two_of_three_points(np.array([1, 0, 0, 1], dtype=bool), ones[:4]).any()
    assert list(_two_of_three_points(np.array([1, 0, 0, 1, 1], dtype=bool), ones[:5])) == [
        False, False, False, True, True]
    assert not _two_of_three_points(np.array([1, 0, 1], dtype=bool), np.array([1.0, -1, 1])).any()


def test_rebasing_stops_rules_crossing_the_break():
    y = ZIGZAG + [10.5, 11, 10.5, 11] + [10.5, 11, 10.5, 11] + [9, 11] * 6
    assert _flagged(xmr(y))                       # 8 above the mean in a row: a shift
    rebased = xmr(y, rebase_at=[18])
    assert not _flagged(rebased)                  # 5 before the break, 4 after
    assert rebased.mean[0] != rebased.mean[-1]


@pytest.mark.parametrize("tail, improvement, icon", [
    ([9.0, 11.0], "increase", "common_cause"),
    ([9.0, 18.0], "increase", "improvement_high"),
    ([9.0, 2.0], "decrease", "improvement_low"),
    ([9.0, 18.0], "decrease", "concern_high"),
    ([9.0, 2.0], "increase", "concern_low"),
    ([9.0, 18.0], "neutral", "neutral_high"),
    ([9.0, 2.0], "neutral", "neutral_low"),
])
def test_variation_icon_comes_from_the_last_point(tail, improvement, icon):
    # PTD R/geom_ptd_icon.R, ptd_get_icons(): the last point's type; concern is "low" when increase is good.
    assert xmr(ZIGZAG + [9.0, 11.0] * 2 + tail, improvement=improvement).variation == icon


def test_variation_icon_mapping():
    assert variation_icon("special_cause_improvement", "decrease") == "improvement_low"
    assert variation_icon("special_cause_concern", "decrease") == "concern_high"


@pytest.mark.parametrize("improvement, expected", [
    ("increase", ["consistent_fail", "consistent_pass", "inconsistent"]),
    ("decrease", ["consistent_pass", "consistent_fail", "inconsistent"]),
    ("neutral", [None, None, None]),
])
def test_assurance_matches_ptd_table(improvement, expected):
    # PTD tests/testthat/test-ptd_calculate_assurance_type.R: lpl (1, 5, 1), upl (3, 7, 5), target 4.
    got = [assurance_icon(4, lpl, upl, improvement) for lpl, upl in ((1, 3), (5, 7), (1, 5))]
    assert got == expected
    assert assurance_icon(None, 1, 3, improvement) is None


def test_assurance_uses_the_last_groups_limits():
    # PTD "returns correct values for assurance when rebase": the last row's limits decide.
    y = ZIGZAG + [9.0, 11.0] * 2 + [29.0, 31.0] * 9
    target = 20.0  # the whole series' mean, but below the last group's lower limit (about 24.7)
    assert xmr(y, target=target).assurance == "inconsistent"
    assert xmr(y, target=target, rebase_at=[18]).assurance == "consistent_pass"
    assert xmr(y, target=target, improvement="decrease", rebase_at=[18]).assurance == "consistent_fail"
    assert xmr(y, target=target, improvement="neutral", rebase_at=[18]).assurance is None


def test_missing_values_are_left_out_and_break_runs():
    # PTD computes the mean with na.rm and drops the moving ranges either side of an NA (diff() of NA).
    y = RNORM_123.copy()
    y[5] = np.nan
    result = xmr(y)
    assert result.mean[0] == pytest.approx(np.nanmean(y))
    ranges = np.abs(np.diff(y))
    assert result.upper_limit[0] - result.mean[0] == pytest.approx(2.66 * np.nanmean(ranges))
    assert result.point_type[5] == "common_cause" and result.rule[5] == ""
    shift = ZIGZAG + [10.5, 11, 10.5, np.nan, 10.5, 11, 10.5, 11] + [9, 11] * 3
    assert not _flagged(xmr(shift))               # 3 + 4 observed points either side of the gap
    last_missing = xmr(ZIGZAG + [9.0, 11.0] * 2 + [9.0, 18.0, np.nan])
    assert last_missing.variation == "improvement_high"


def test_xmr_rejects_bad_arguments():
    with pytest.raises(ValueError, match="improvement"):
        xmr(RNORM_123, improvement="up")
    with pytest.raises(ValueError, match="rebase_at"):
        xmr(RNORM_123, rebase_at=[0])


# --- slope index of inequality -----------------------------------------------------------------------------
# No published phe_sii outputs are readable: PHE's SII test data is the binary tests/testthat/testdata_SII.xlsx
# and its vignette runs on packaged .rda data with random draws. These tests use the documented method
# (PHE R/SII_function.R) on the inputs of phe_sii's own help-page example.

PHE_SII_EXAMPLE = pd.DataFrame({   # PHE R/SII_function.R @examples, Area1 then Area2
    "area": ["Area1"] * 10 + ["Area2"] * 10,
    "population": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534, 21675,
                   20065, 19750, 24713, 20112, 19618, 22408, 19752, 18939, 19312],
    "value": [75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3, 70.5,
              71.6, 72.5, 73.5, 73.1, 76.2, 78.7, 80.6, 80.9, 80],
    "lowerCL": [72.7, 75.3, 80.9, 80.2, 77.1, 78, 79, 81.4, 75.8, 83.2,
                70.1, 71.1, 72, 73.1, 72.7, 75.7, 78.2, 80.1, 80.4, 79.5],
    "upperCL": [79.1, 81.4, 86.8, 87.1, 83.8, 84.2, 84.4, 86.9, 85.4,
                89.4, 71, 72.1, 73.2, 73.7, 75.8, 78.8, 79.8, 81.2, 81.3, 80.9],
    "se": [1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43,
           1.57, 0.23, 0.26, 0.3, 0.16, 0.79, 0.78, 0.4, 0.28, 0.23, 0.35],
})


def test_sii_is_the_slope_through_population_mid_ranks():
    # phe_sii's documented model: value regressed on the mid-point of each quantile's cumulative population
    # share, weighted by that share. Values exactly on a line give that line's slope and RII = Y1 / Y0.
    population = np.array([12.0, 10, 8, 10, 10, 10, 10, 10, 10, 10])
    share = population / population.sum()
    rank = np.cumsum(share) - share / 2           # 0.06, 0.17, ... as the help page describes
    assert rank[:2] == pytest.approx([0.06, 0.17])
    result = slope_index_of_inequality(40 + 25 * rank, population, standard_errors=np.ones(10))
    assert result.sii == pytest.approx(25) and result.rii == pytest.approx(65 / 40)


@pytest.mark.parametrize("area", ["Area1", "Area2"])
def test_sii_from_standard_errors_or_limits_agree(area):
    # The phe_sii help page: "Supplying the standard error instead of the indicator 95 percent confidence
    # limits gives the same result" (its SEs are the limits' half-widths / 1.96, rounded to 2 decimals).
    rows = PHE_SII_EXAMPLE[PHE_SII_EXAMPLE.area == area]
    by_se = slope_index_of_inequality(rows.value, rows.population, standard_errors=rows.se)
    by_cl = slope_index_of_inequality(rows.value, rows.population, lower=rows.lowerCL, upper=rows.upperCL)
    assert by_se.sii == by_cl.sii and by_se.rii == by_cl.rii
    width = by_se.sii_upper - by_se.sii_lower
    assert by_cl.sii_lower == pytest.approx(by_se.sii_lower, abs=0.05 * width)
    assert by_cl.sii_upper == pytest.approx(by_se.sii_upper, abs=0.05 * width)
    assert by_se.sii_lower < by_se.sii < by_se.sii_upper and by_se.rii_lower < by_se.rii < by_se.rii_upper


def test_sii_confidence_limits_are_repeatable_and_widen_at_998():
    rows = PHE_SII_EXAMPLE[PHE_SII_EXAMPLE.area == "Area1"]
    first = slope_index_of_inequality(rows.value, rows.population, standard_errors=rows.se)
    again = slope_index_of_inequality(rows.value, rows.population, standard_errors=rows.se)
    wider = slope_index_of_inequality(rows.value, rows.population, standard_errors=rows.se, confidence=99.8)
    assert first == again
    assert wider.sii == first.sii and wider.sii_lower < first.sii_lower and wider.sii_upper > first.sii_upper


def test_sii_proportions_and_rates_on_their_own_scales():
    rows = PHE_SII_EXAMPLE[PHE_SII_EXAMPLE.area == "Area2"]
    percent = slope_index_of_inequality(rows.value, rows.population, lower=rows.lowerCL, upper=rows.upperCL,
                                        value_type="proportion", multiplier=100)
    share = slope_index_of_inequality(rows.value / 100, rows.population, lower=rows.lowerCL / 100,
                                      upper=rows.upperCL / 100, value_type="proportion")
    assert percent.sii == pytest.approx(100 * share.sii) and percent.sii_lower == pytest.approx(100 * share.sii_lower)
    assert percent.rii == pytest.approx(share.rii) and percent.rii_upper == pytest.approx(share.rii_upper)
    rate = slope_index_of_inequality(rows.value, rows.population, lower=rows.lowerCL, upper=rows.upperCL,
                                     value_type="rate")
    assert rate.sii == pytest.approx(percent.sii) and rate.sii_lower < rate.sii < rate.sii_upper
    flipped = slope_index_of_inequality(rows.value, rows.population, lower=rows.lowerCL, upper=rows.upperCL,
                                        value_type="proportion", multiplier=-100)
    # phe_sii: a negative multiplier flips the SII and inverts the RII
    assert flipped.sii == pytest.approx(-percent.sii) and flipped.rii == pytest.approx(1 / percent.rii)
    # same draws, mirrored; phe_sii reads order statistics round(reps * 0.025) and round(reps * 0.975), which
    # are one draw off being mirror images, so the flipped limits agree to within a sliver of the CI width
    width = percent.sii_upper - percent.sii_lower
    assert flipped.sii_lower == pytest.approx(-percent.sii_upper, abs=1e-3 * width)
    assert flipped.sii_upper == pytest.approx(-percent.sii_lower, abs=1e-3 * width)


def test_sii_missing_and_invalid_inputs():
    rows = PHE_SII_EXAMPLE[PHE_SII_EXAMPLE.area == "Area1"]
    values = rows.value.to_numpy().copy()
    values[3] = np.nan
    assert np.isnan(list(vars(slope_index_of_inequality(values, rows.population, standard_errors=rows.se))
                         .values())).all()
    with pytest.raises(ValueError, match="5 to 100 quantiles"):
        slope_index_of_inequality([1, 2, 3], [1, 1, 1], standard_errors=[1, 1, 1])
    with pytest.raises(ValueError, match="standard_errors, or lower and upper"):
        slope_index_of_inequality(rows.value, rows.population)
    with pytest.raises(ValueError, match="populations must be positive"):
        slope_index_of_inequality(rows.value, np.zeros(10), standard_errors=rows.se)
    with pytest.raises(ValueError, match="strictly between 0"):
        slope_index_of_inequality(rows.value, rows.population, standard_errors=rows.se, value_type="proportion")


# --- funnel significance against a benchmark, with overdispersion and for ratios ------------------------------

def test_funnel_significance_against_a_given_average_follows_the_drawn_limits():
    rng = np.random.default_rng(11)
    n = rng.integers(50, 5000, 400).astype(float)
    x = rng.binomial(n.astype(int), np.clip(rng.normal(0.6, 0.05, 400), 0, 1)).astype(float)
    for tau2 in (None, 0.004):
        limits = funnel_limits(n, 0.58, "proportion", multiplier=100, tau2=tau2)
        p = 100 * x / n
        expected = np.select([p > limits["upper_998"], p > limits["upper_95"], p < limits["lower_998"],
                              p < limits["lower_95"]], ["high_998", "high_95", "low_998", "low_95"], "not_significant")
        found = funnel_significance(x, n, "proportion", 100, average=58, tau2=tau2)
        assert found == expected.tolist()
        assert len(set(found)) >= 3  # the check would catch a constant answer
    # The benchmark matters: the pooled average (about 60%) labels differently from 58%.
    assert funnel_significance(x, n) != funnel_significance(x, n, average=0.58)


def test_ratio_significance_uses_funnelplotr_limits_with_tau2_and_exact_counts_without():
    observed, expected = np.array([0.0, 0.0, 30.0, 180.0, 60.0]), np.array([1.4, 9.0, 20.0, 120.94, 80.0])
    plain = funnel_significance(observed, expected, "ratio")
    # No events where 1.4 were expected happens one time in four: not flagged; none where 9 were expected is.
    assert plain[0] == "not_significant" and plain[1] == "low_998"
    limits = funnel_limits(expected, 1.0, "ratio", tau2=0.02841023)
    adjusted = funnel_significance(observed, expected, "ratio", tau2=0.02841023)
    ratio = observed / expected
    assert adjusted[3] == ("high_998" if ratio[3] > limits["upper_998"][3] else
                           "high_95" if ratio[3] > limits["upper_95"][3] else "not_significant")
    assert adjusted[2] in ("high_95", "not_significant") and plain[2] in ("high_95", "high_998")
    with pytest.raises(ValueError, match="tau2"):
        funnel_significance([10], [100], "rate", tau2=0.1)


def test_expected_events_are_the_reference_rates_applied_to_the_population():
    from metrics.stats import expected_events, indirectly_standardised_ratio

    people, ref_x, ref_n = [500, 300, 100], [50, 90, 80], [10000, 6000, 2000]
    e = expected_events(people, ref_x, ref_n)
    assert e == pytest.approx(500 * 0.005 + 300 * 0.015 + 100 * 0.04)
    assert indirectly_standardised_ratio(14, people, ref_x, ref_n, multiplier=1)[0] == pytest.approx(14 / e)
