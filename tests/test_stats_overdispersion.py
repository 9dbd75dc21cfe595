"""metrics.stats' overdispersion and overdispersion-adjusted funnel limits against NHS-R FunnelPlotR.

Sources (each file in tests/data names its own in a header comment):
  * stats_funnelplotr_medpar.csv, stats_funnelplotr_medpar_poisson_limits.csv: the medpar example that
    FunnelPlotR's funnel_plot() help page prints (source_data(), outliers(), phi 8.532851, tau2 0.02841023);
  * FunnelPlotR's README (0.6.0): the same data at limit = 99 has 25 outliers with unadjusted (Poisson) limits and
    9 with overdispersion-adjusted ones;
  * FunnelPlotR's tests/testthat (test-classes_methods.R, test-poisson_limits.R);
  * stats_funnelplotr_proportion_reference.csv, stats_funnelplotr_arcsine_fold.csv: FunnelPlotR publishes no
    proportion example, so these hold the outputs of its own R functions, run unchanged (the files say how).
Printed figures are compared within half a unit of their last printed digit (``published()``), full-precision
package outputs to 1e-12 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.stats import Overdispersion, _truncation_kept, funnel_limits, overdispersion

DATA = Path(__file__).parent / "data"
LEVELS = {"lower_95": "OD95LCL", "upper_95": "OD95UCL", "lower_998": "OD99LCL", "upper_998": "OD99UCL"}
POISSON = {"lower_95": "LCL95", "upper_95": "UCL95", "lower_998": "LCL99", "upper_998": "UCL99"}


def published(text: str, slack: float = 1e-12):
    """A printed figure as pytest.approx, within half a unit of its last decimal place."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return pytest.approx(float(text), abs=0.5 * 10.0**-decimals + slack)


def read(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#", **kwargs)


MEDPAR = read("stats_funnelplotr_medpar.csv", dtype=str)
OBSERVED = MEDPAR["numerator"].astype(float).to_numpy()
EXPECTED = MEDPAR["denominator"].astype(float).to_numpy()
MEDPAR_PHI, MEDPAR_TAU2 = "8.532851", "0.02841023"   # phi(fp), tau2(fp) on the funnel_plot() help page


# --- ratios: the SHMI method (log z-scores, 10% truncation) ------------------------------------------------

def test_medpar_phi_and_tau2_match_funnelplotr():
    result = overdispersion(OBSERVED, EXPECTED, statistic="ratio")
    assert isinstance(result, Overdispersion)
    assert result.phi == published(MEDPAR_PHI) and result.tau2 == published(MEDPAR_TAU2)
    assert result.n == int((MEDPAR["truncated"] == "0").sum()) == 44


def test_medpar_truncation_matches_funnelplotr():
    z = np.sqrt(EXPECTED) * np.log(OBSERVED / EXPECTED)
    assert z.tolist() == [published(v) for v in MEDPAR["Uzscore"]]
    kept = _truncation_kept(z, 0.1)
    assert (~kept).astype(int).astype(str).tolist() == MEDPAR["truncated"].tolist()


def test_funnelplotr_classes_methods_phi():
    # FunnelPlotR tests/testthat/test-classes_methods.R: round(phi, 6) == 2.948033 (SR, SHMI, defaults).
    result = overdispersion([100, 150, 180, 80, 120, 225], [108, 112, 165, 95, 100, 220], statistic="ratio")
    assert round(result.phi, 6) == 2.948033 and result.n == 6


def test_shmi_rounding_of_expected_counts():
    # FunnelPlotR rounds expected counts to 2 dp (SHMI_rounding = TRUE) before the z-scores.
    nudged = EXPECTED + 0.004
    assert overdispersion(OBSERVED, nudged, "ratio") == overdispersion(OBSERVED, EXPECTED, "ratio")
    assert overdispersion(OBSERVED, nudged, "ratio", shmi_rounding=False).phi != pytest.approx(
        float(MEDPAR_PHI), abs=5e-7)


@pytest.mark.parametrize("key", list(LEVELS))
def test_medpar_overdispersed_limits_match_funnelplotr(key):
    # tau2 as estimated (checked against the printed 0.02841023 above): some printed limits sit within 5e-8 of a
    # rounding boundary, closer than the effect of tau2's own rounding.
    tau2 = overdispersion(OBSERVED, EXPECTED, statistic="ratio").tau2
    limits = funnel_limits(EXPECTED, 1.0, statistic="ratio", tau2=tau2)
    assert limits[key].tolist() == [published(v) for v in MEDPAR[LEVELS[key]]]


def outliers(limits: dict, level: str, ratio: np.ndarray, multiplier: float = 1) -> np.ndarray:
    """FunnelPlotR's outliers_func: outside [lower, upper] (a point on a limit is inside)."""
    return ~((ratio * multiplier <= limits[f"upper_{level}"]) & (ratio * multiplier >= limits[f"lower_{level}"]))


def test_medpar_outliers_match_funnelplotr():
    # Help page (limit = 95): 54 points of which 16 are outliers, flagged row by row in source_data();
    # README (limit = 99): 9 outliers with overdispersion-adjusted limits, 25 with Poisson limits.
    tau2 = overdispersion(OBSERVED, EXPECTED, "ratio").tau2
    adjusted = funnel_limits(EXPECTED, 1.0, statistic="ratio", tau2=tau2)
    ratio = OBSERVED / EXPECTED
    assert outliers(adjusted, "95", ratio).astype(int).astype(str).tolist() == MEDPAR["outlier"].tolist()
    assert outliers(adjusted, "95", ratio).sum() == 16
    assert outliers(adjusted, "998", ratio).sum() == 9
    unadjusted = funnel_limits(EXPECTED, 1.0, statistic="ratio", tau2=0)
    assert outliers(unadjusted, "998", ratio).sum() == 25


def test_multiplier_scales_ratio_limits_and_target_centres_them():
    base = funnel_limits(EXPECTED, 1.0, statistic="ratio", tau2=float(MEDPAR_TAU2))
    scaled = funnel_limits(EXPECTED, 1.0, statistic="ratio", tau2=float(MEDPAR_TAU2), multiplier=100)
    moved = funnel_limits(EXPECTED, 0.5, statistic="ratio", tau2=float(MEDPAR_TAU2))
    for key in LEVELS:
        np.testing.assert_allclose(scaled[key], 100 * base[key], rtol=1e-14)
        np.testing.assert_allclose(moved[key], 0.5 * base[key], rtol=1e-14)


# --- ratios without overdispersion: FunnelPlotR's Poisson limits -------------------------------------------

@pytest.mark.parametrize("key", list(POISSON))
def test_medpar_poisson_limits_match_funnelplotr(key):
    table = read("stats_funnelplotr_medpar_poisson_limits.csv", dtype=str)
    limits = funnel_limits(table["denominator"].astype(float).to_numpy(), 1.0, statistic="ratio", tau2=0)
    assert limits[key].tolist() == [published(v) for v in table[POISSON[key]]]


def test_funnelplotr_poisson_limits_test():
    # FunnelPlotR tests/testthat/test-poisson_limits.R: calculate_limits(number_seq = c(15, 20, 30), target = 1).
    limits = funnel_limits([15, 20, 30], 1.0, statistic="ratio", tau2=0)
    assert np.round(limits["lower_95"], 7).tolist() == [0.5596924, 0.6108260, 0.6746958]
    assert np.round(limits["upper_95"], 6).tolist() == [1.649348, 1.544419, 1.427562]
    assert np.round(limits["lower_998"], 7).tolist() == [0.3862650, 0.4479107, 0.5289724]
    assert np.round(limits["upper_998"], 6).tolist() == [2.082907, 1.902094, 1.702771]


# --- proportions: arcsine z-scores, 10% Winsorisation ------------------------------------------------------

PROPORTION_REFERENCE = DATA / "stats_funnelplotr_proportion_reference.csv"


def reference_scalars() -> dict[str, float]:
    line = next(row for row in PROPORTION_REFERENCE.read_text().splitlines() if row.startswith("# phi ="))
    return {k.strip(): float(v) for k, v in (item.split("=") for item in line[2:].split(","))}


def proportion_inputs() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    inputs = read("stats_funnel_prop_inputs.csv")
    reference = read(PROPORTION_REFERENCE.name).set_index("Area").loc[inputs["Area"]]
    return inputs["numerator"].to_numpy(), inputs["denominator"].to_numpy(dtype=float), reference


def test_proportion_phi_and_tau2_match_funnelplotr():
    numerator, denominator, _ = proportion_inputs()
    expected = reference_scalars()
    result = overdispersion(numerator, denominator, statistic="proportion")
    assert result.phi == pytest.approx(expected["phi"], rel=1e-12)
    assert result.tau2 == pytest.approx(expected["tau2"], rel=1e-12)
    assert result.n == expected["n"] == 303


@pytest.mark.parametrize("key, column", [("lower_95", "odll95"), ("upper_95", "odul95"),
                                         ("lower_998", "odll998"), ("upper_998", "odul998")])
def test_proportion_overdispersed_limits_match_funnelplotr(key, column):
    numerator, denominator, reference = proportion_inputs()
    expected = reference_scalars()
    limits = funnel_limits(denominator, expected["target"], multiplier=100, tau2=expected["tau2"])
    np.testing.assert_allclose(limits[key], reference[column].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("key, column", [("lower_95", "odll95"), ("upper_95", "odul95"),
                                         ("lower_998", "odll998"), ("upper_998", "odul998")])
def test_proportion_limits_fold_back_to_0_and_100_as_funnelplotr(key, column):
    reference = read("stats_funnelplotr_arcsine_fold.csv")
    for target, rows in reference.groupby("target"):
        limits = funnel_limits(rows["number_seq"].to_numpy(dtype=float), target, multiplier=100, tau2=0.05)
        np.testing.assert_allclose(limits[key], rows[column].to_numpy(), rtol=1e-12, atol=1e-12)


def test_winsorising_keeps_every_unit_and_tau2_is_zero_without_overdispersion():
    numerator, denominator, _ = proportion_inputs()
    assert overdispersion(numerator, denominator, trim=0.05).n == len(numerator)
    # Every unit exactly at the pooled proportion (or expected count): phi 0 < (n - 1) / n, so tau2 = 0.
    assert overdispersion([10, 20, 30], [100, 200, 300]) == Overdispersion(phi=0.0, tau2=0.0, n=3)
    assert overdispersion([10, 20, 30], [10, 20, 30], "ratio") == Overdispersion(phi=0.0, tau2=0.0, n=3)


# --- funnel_limits: unchanged without tau2, and its arguments ----------------------------------------------

@pytest.mark.parametrize("statistic, average, multiplier", [("proportion", 0.8, 100), ("rate", 250.0, 100_000)])
def test_funnel_limits_without_tau2_are_unchanged(statistic, average, multiplier):
    denominators = np.array([50.0, 1008, 41980, 0, np.nan])
    plain = funnel_limits(denominators, average, statistic, multiplier)
    for tau2 in (None, 0, 0.0):
        other = funnel_limits(denominators, average, statistic, multiplier, tau2=tau2)
        assert all(other[k].tobytes() == plain[k].tobytes() for k in plain)


def test_funnel_limits_rejects_bad_tau2_and_statistic():
    with pytest.raises(ValueError, match="tau2"):
        funnel_limits([100], 0.5, tau2=-0.1)
    with pytest.raises(ValueError, match="tau2"):
        funnel_limits([100], 0.5, tau2=np.nan)
    with pytest.raises(ValueError, match="tau2"):
        funnel_limits([100], 250, "rate", 1e5, tau2=0.01)
    with pytest.raises(ValueError, match="tau2"):
        funnel_limits([100], 1.0, "ratio")        # ratio limits need tau2 (0 for unadjusted)
    with pytest.raises(ValueError, match="statistic"):
        funnel_limits([100], 0.5, "mean", tau2=0.01)


@pytest.mark.parametrize("kwargs, argument", [
    ({"numerator": [1, 2], "denominator": [10, 20], "statistic": "rate"}, "statistic"),
    ({"numerator": [1, 2], "denominator": [10, 20], "trim": 0.5}, "trim"),
    ({"numerator": [1, 2], "denominator": [10, 20], "trim": 0}, "trim"),
    ({"numerator": [-1, 2], "denominator": [10, 20]}, "numerator"),
    ({"numerator": [np.nan, 2], "denominator": [10, 20]}, "numerator"),
    ({"numerator": [1, 2], "denominator": [0, 20]}, "denominator"),
    ({"numerator": [1, 2], "denominator": [10]}, "denominator"),
    ({"numerator": [11, 2], "denominator": [10, 20]}, "denominator"),
    ({"numerator": [1, 2], "denominator": [0.001, 20], "statistic": "ratio"}, "denominator"),
    ({"numerator": [], "denominator": []}, "numerator"),
])
def test_overdispersion_rejects_invalid_input_naming_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        overdispersion(**kwargs)
