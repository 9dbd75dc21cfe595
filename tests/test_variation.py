"""Funnel labelling against an average and the similar-practice neighbours."""

import numpy as np
import pandas as pd

from metrics.catalogue import catalogue
from metrics.stats import funnel_limits
from metrics.variation import NO_DISPERSION as NO_SPREAD, dispersion, funnel_curve, funnel_frame, nearest_neighbours

SCREENING = catalogue().metric("breast_screening_coverage")
ADMISSIONS = catalogue().metric("emergency_admissions_65_plus")


def test_funnel_labels_follow_the_limits_at_each_denominator():
    practices = pd.DataFrame({"denominator": [1000.0, 1000.0, 1000.0, 50.0],
                              "value": [75.0, 62.0, 40.0, 75.0]})
    limits = funnel_limits(practices["denominator"].to_numpy(), 0.6, statistic="proportion", multiplier=100)
    out = funnel_frame(practices, SCREENING, 60.0)
    expected = []
    for v, lo95, hi95, lo998, hi998 in zip(practices["value"], limits["lower_95"], limits["upper_95"],
                                           limits["lower_998"], limits["upper_998"]):
        expected.append("high_998" if v > hi998 else "high_95" if v > hi95 else
                        "low_998" if v < lo998 else "low_95" if v < lo95 else "not_significant")
    assert list(out["funnel"]) == expected
    assert out.loc[0, "funnel"] == "high_998" and out.loc[0, "funnel_verdict"] == "better"
    assert out.loc[2, "funnel_verdict"] == "worse"


def test_lower_is_better_flips_the_verdict():
    practices = pd.DataFrame({"denominator": [2000.0], "value": [4000.0]})
    assert funnel_frame(practices, ADMISSIONS, 2000.0).loc[0, "funnel_verdict"] == "worse"


def test_funnel_narrows_as_denominator_grows():
    curve = funnel_curve(pd.DataFrame({"denominator": [100.0, 10000.0]}), SCREENING, 60.0)
    width = curve["upper_998"] - curve["lower_998"]
    assert width.iloc[0] > width.iloc[-1] and np.all(np.diff(width) <= 1e-9)


def test_nearest_neighbours_by_size_deprivation_and_age():
    profiles = pd.DataFrame({
        "org_code": ["A", "B", "C", "D"], "org_name": list("ABCD"),
        "list_size": [5000, 5050, 30000, 5600], "imd_score": [20.0, 20.5, 45.0, 26.0],
        "share_65_plus": [0.12, 0.12, 0.20, 0.13]})
    assert list(nearest_neighbours(profiles, "A", k=2)["org_code"]) == ["B", "D"]


def _overdispersed(seed: int = 7) -> pd.DataFrame:
    """300 practices whose true uptake varies (sd 4 points) about 60%: far more spread than binomial noise."""
    rng = np.random.default_rng(seed)
    lists = rng.integers(300, 3000, 300).astype(float)
    truth = np.clip(rng.normal(0.60, 0.04, 300), 0.05, 0.95)
    counts = rng.binomial(lists.astype(int), truth).astype(float)
    frame = pd.DataFrame({"numerator": counts, "denominator": lists})
    return frame.assign(value=100 * frame["numerator"] / frame["denominator"])


def test_overdispersion_widens_the_limits_so_fewer_practices_are_flagged():
    practices = _overdispersed()
    spread = dispersion(practices, SCREENING, 60.0)
    assert spread.adjusted and spread.phi > 3 and spread.tau2 > 0
    plain = funnel_frame(practices, SCREENING, 60.0)["funnel"].isin(["high_998", "low_998"]).sum()
    adjusted = funnel_frame(practices, SCREENING, 60.0, spread)["funnel"].isin(["high_998", "low_998"]).sum()
    assert plain > 60 and adjusted < plain / 5
    assert "widened for overdispersion" in spread.note and "phi =" in spread.note
    assert not dispersion(practices, SCREENING, 60.0, adjust=False).adjusted


def test_rates_are_judged_as_observed_against_expected_events():
    rng = np.random.default_rng(3)
    population = rng.integers(500, 4000, 200).astype(float)
    rate = np.exp(rng.normal(np.log(2000), 0.2, 200)) / 100_000  # per person
    practices = pd.DataFrame({"numerator": rng.poisson(population * rate).astype(float), "denominator": population})
    practices["value"] = 100_000 * practices["numerator"] / practices["denominator"]
    spread = dispersion(practices, ADMISSIONS, 2000.0)
    assert spread.adjusted and spread.units < 200  # SHMI-style trimming of the 10% extremes each side
    limits = funnel_curve(practices, ADMISSIONS, 2000.0, spread)
    assert (limits["upper_998"] > 2000).all() and (limits["lower_998"] < 2000).all()


def test_a_suppressed_value_is_not_compared():
    practices = pd.DataFrame({"numerator": [np.nan, 600.0], "denominator": [1000.0, 1000.0],
                              "value": [np.nan, 60.0]})
    out = funnel_frame(practices, SCREENING, 60.0)
    assert out.loc[0, "funnel"] == "not_compared" and out.loc[0, "funnel_verdict"] == "not_compared"


def test_too_many_practices_without_events_leave_the_plain_limits():
    practices = pd.DataFrame({"numerator": [0.0] * 30 + [5.0] * 70, "denominator": [400.0] * 100})
    practices["value"] = 100_000 * practices["numerator"] / practices["denominator"]
    spread = dispersion(practices, ADMISSIONS, 1000.0)
    assert not spread.adjusted and "could not be estimated" in spread.note


def test_practices_are_labelled_by_the_tested_stats_function():
    from metrics.stats import funnel_significance

    practices = _overdispersed(11)
    spread = dispersion(practices, SCREENING, 60.0)
    for given in (NO_SPREAD, spread):
        labels = funnel_frame(practices, SCREENING, 60.0, given)["funnel"].tolist()
        tau2 = given.tau2 if given.adjusted else None
        assert labels == funnel_significance(practices["numerator"], practices["denominator"], "proportion", 100,
                                             average=60.0, tau2=tau2)


def test_standardised_rates_are_judged_against_their_own_expected_events():
    # Same observed and population; the second practice's older patients make 30 admissions expected, not 20.
    practices = pd.DataFrame({"numerator": [30.0, 30.0], "denominator": [1000.0, 1000.0],
                              "expected": [20.0, 30.0], "value": [3000.0, 2000.0]})
    everyone = pd.concat([practices] * 5, ignore_index=True)
    spread = dispersion(everyone, ADMISSIONS, 2000.0)
    assert spread.standardisation and "age-standardised" in spread.note
    out = funnel_frame(practices, ADMISSIONS, 2000.0, spread)
    assert list(out["funnel"]) == ["high_95", "not_significant"]


def test_standardised_dots_stand_where_the_limits_that_judge_them_are_drawn():
    rng = np.random.default_rng(3)
    population = rng.uniform(300, 3000, 60)
    expected = population * rng.uniform(0.012, 0.03, 60)  # older lists expect more admissions per head
    observed = rng.poisson(expected * rng.uniform(0.7, 1.5, 60)).astype(float)
    average = 2000.0
    practices = pd.DataFrame({"numerator": observed, "denominator": population, "expected": expected,
                              "value": observed / expected * average})
    spread = dispersion(practices, ADMISSIONS, average, adjust=False)
    out = funnel_frame(practices, ADMISSIONS, average, spread)
    assert np.allclose(out["funnel_x"] * average / ADMISSIONS.multiplier, expected)
    curve = funnel_curve(out, ADMISSIONS, average, spread, points=4000)
    upper = np.interp(out["funnel_x"], curve["denominator"], curve["upper_998"])
    lower = np.interp(out["funnel_x"], curve["denominator"], curve["lower_998"])
    beyond = (out["value"] > upper * 1.01) | (out["value"] < lower * 0.99)
    inside = (out["value"] < upper * 0.99) & (out["value"] > lower * 1.01)
    flagged = out["funnel"].isin(["high_998", "low_998"])
    assert flagged.any() and not (flagged & inside).any() and not (~flagged & beyond).any()
