"""metrics.stats' standardised rates and ratios against PHEindicatormethods' own published test values.

Sources: ukhsa-collaboration/PHEindicatormethods (OHID's R package behind Fingertips), commit 093fd28:
tests/testthat/testdata_DSR_ISR.xlsx (inputs and expected outputs of its testDSRs.R, testISRatios.R and
testISRates.R, copied sheet by sheet into tests/data/stats_dsr_*.csv and stats_isr_*.csv, each file naming its
sheet) and data-raw/LoadTestdata.R (``esp2013``). Expected values are the sheets' full-precision numbers; they are
compared to 1e-9 relative, tighter than the package's own expect_equal (1.5e-8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.stats import (ESP2013_CSV, directly_standardised_rate, european_standard_population_2013,
                           indirectly_standardised_rate, indirectly_standardised_ratio)

DATA = Path(__file__).parent / "data"
REL = 1e-9


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, comment="#")


def close(expected) -> list:
    return [pytest.approx(float(e), rel=REL, abs=1e-9) for e in expected]


def area(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = frame[frame["area"] == name]
    assert len(rows) == 19, name
    return rows


MULTIAREA = read("stats_dsr_isr_multiarea.csv")
REFDATA = read("stats_isr_refdata.csv")
DSR_RESULTS = read("stats_dsr_results.csv")
ISR_RESULTS = read("stats_isr_results.csv")


def result_row(results: pd.DataFrame, name: str, statistic: str) -> pd.Series:
    """The area's expected row; a suppressed DSR's rows say "dsr NA for total count < 10" whatever the multiplier."""
    rows = results[(results["area"] == name) & (results["statistic"] == statistic)]
    if rows.empty:
        rows = results[(results["area"] == name) & (results["statistic"] == "dsr NA for total count < 10")].head(1)
    assert len(rows) == 1, (name, statistic)
    return rows.iloc[0]


# --- European Standard Population 2013 ---------------------------------------------------------------------

def test_esp2013_is_phe_esp2013():
    # PHEindicatormethods data-raw/LoadTestdata.R: esp2013 <- c(5000,5500,...,1000)
    phe_esp2013 = [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000, 6500, 6000, 5500, 5000, 4000,
                   2500, 1500, 1000]
    esp = european_standard_population_2013()
    assert esp.dtype == float and esp.tolist() == phe_esp2013 and esp.sum() == 100_000


def test_esp2013_file_names_its_bands():
    bands = pd.read_csv(ESP2013_CSV, comment="#")["age_band"].tolist()
    assert bands == [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]
    assert ESP2013_CSV.is_relative_to(Path(__file__).resolve().parent.parent)


# --- directly standardised rates (calculate_dsr) -----------------------------------------------------------

DSR_CASES = [(name, multiplier, confidence)
             for name in ("testdata_big", "testdata_small", "testdata_tiny")
             for multiplier in (100_000, 10_000) for confidence in (0.95, 0.998)]


@pytest.mark.parametrize("name, multiplier, confidence", DSR_CASES)
def test_dsr_matches_phe(name, multiplier, confidence):
    data = area(MULTIAREA, name)
    expected = result_row(DSR_RESULTS, name, f"dsr per {multiplier}")
    columns = ["value", "lower95_0cl", "upper95_0cl"] if confidence == 0.95 else [
        "value", "lower99_8cl", "upper99_8cl"]
    got = directly_standardised_rate(data["count"], data["pop"], european_standard_population_2013(),
                                     confidence=confidence, multiplier=multiplier)
    if name == "testdata_tiny":   # 9 events: calculate_dsr gives NA value and limits ("dsr NA for total count < 10")
        assert expected[columns].isna().all() and np.isnan(got).all()
    else:
        assert list(got) == close(expected[columns])


def test_dsr_confidence_as_a_percentage():
    data = area(MULTIAREA, "testdata_big")
    expected = result_row(DSR_RESULTS, "testdata_big", "dsr per 100000")
    got = directly_standardised_rate(data["count"], data["pop"], european_standard_population_2013(), confidence=99.8)
    assert list(got) == close(expected[["value", "lower99_8cl", "upper99_8cl"]])


def test_dsr_with_user_standard_population():
    # testDSRs.R "test with user specified stdpop": esp1976 (18 bands), 95% limits per 100,000.
    data = read("stats_dsr_1976.csv")
    expected = result_row(DSR_RESULTS, "testdata_1976", "dsr per 100000")
    got = directly_standardised_rate(data["count"], data["pop"], data["esp1976"])
    assert list(got) == close(expected[["value", "lower95_0cl", "upper95_0cl"]])


NONINDEPENDENT = read("stats_dsr_nonindependent.csv")


def nonindependent(name: str) -> tuple[np.ndarray, list[int], np.ndarray]:
    """People by band and event frequency, as data-raw/LoadTestdata.R builds test_DSR_nonind."""
    rows = area(NONINDEPENDENT, name)
    frequencies = [1, 2, 3] if name in ("testdata_nonind_dummy", "testdata_nonind_small",
                                        "testdata_nonind_tiny") else [1, 2, 3, 4]
    return rows[[f"f{f}" for f in frequencies]].to_numpy(), frequencies, rows["pop"].to_numpy()


@pytest.mark.parametrize("name", ["testdata_nonind_big", "testdata_nonind_dummy", "testdata_nonind_small",
                                  "testdata_nonind_tiny"])
@pytest.mark.parametrize("confidence, columns", [(0.95, ["value", "lower95_0cl", "upper95_0cl"]),
                                                 (0.998, ["value", "lower99_8cl", "upper99_8cl"])])
def test_dsr_non_independent_events_matches_phe(name, confidence, columns):
    people, frequencies, populations = nonindependent(name)
    expected = result_row(DSR_RESULTS, name, "dsr per 100000")
    got = directly_standardised_rate(people, populations, european_standard_population_2013(),
                                     confidence=confidence, event_frequencies=frequencies)
    if name == "testdata_nonind_tiny":   # 9 events in all
        assert expected[columns].isna().all() and np.isnan(got).all()
    else:
        assert list(got) == close(expected[columns])


def test_dsr_non_independent_events_keep_the_rate_and_widen_the_limits():
    # PHE's nonind_big has the same events per band as testdata_big: same DSR, wider limits.
    people, frequencies, populations = nonindependent("testdata_nonind_big")
    esp = european_standard_population_2013()
    adjusted = directly_standardised_rate(people, populations, esp, event_frequencies=frequencies)
    plain = directly_standardised_rate(area(MULTIAREA, "testdata_big")["count"], populations, esp)
    assert adjusted[0] == pytest.approx(plain[0], rel=1e-12)
    assert adjusted[1] < plain[1] and adjusted[2] > plain[2]


def test_dsr_missing_counts_count_as_zero():
    data = area(MULTIAREA, "testdata_small")
    counts = data["count"].to_numpy(dtype=float)
    esp = european_standard_population_2013()
    with_zero, with_nan = counts.copy(), counts.copy()
    with_zero[2], with_nan[2] = 0, np.nan
    assert directly_standardised_rate(with_nan, data["pop"], esp) == directly_standardised_rate(
        with_zero, data["pop"], esp)


def big_inputs():
    data = area(MULTIAREA, "testdata_big")
    return data["count"].to_numpy(dtype=float), data["pop"].to_numpy(dtype=float), european_standard_population_2013()


@pytest.mark.parametrize("change, argument", [
    (lambda x, n, w: (np.where(np.arange(19) == 5, -26, x), n, w), "counts"),           # PHE testdata_err1
    (lambda x, n, w: (x, np.where(np.arange(19) == 1, 0, n), w), "populations"),        # testdata_err2
    (lambda x, n, w: (x, np.where(np.arange(19) == 1, -558, n), w), "populations"),     # testdata_err3
    (lambda x, n, w: (x, n, np.where(np.arange(19) == 5, -6000, w)), "standard_populations"),  # testdata_err4
    (lambda x, n, w: (x, np.where(np.arange(19) == 1, np.nan, n), w), "populations"),   # "n cannot have missing"
    (lambda x, n, w: (x, n, np.where(np.arange(19) == 1, np.nan, w)), "standard_populations"),
    (lambda x, n, w: (x[:18], n, w), "counts"),
    (lambda x, n, w: (x, n, w[:18]), "standard_populations"),
    (lambda x, n, w: (x, n, np.zeros(19)), "standard_populations"),
    (lambda x, n, w: (["a"] * 19, n, w), "counts"),
])
def test_dsr_rejects_invalid_input_naming_the_argument(change, argument):
    with pytest.raises(ValueError, match=argument):
        directly_standardised_rate(*change(*big_inputs()))


@pytest.mark.parametrize("confidence", [0.74, 3, 1000, 0, 1, -0.5])   # PHE: 0.74, 3 and 1000 are errors
def test_dsr_rejects_confidence_outside_phe_range(confidence):
    with pytest.raises(ValueError, match="confidence"):
        directly_standardised_rate(*big_inputs(), confidence=confidence)


def test_dsr_rejects_bad_multiplier_and_frequencies():
    x, n, w = big_inputs()
    with pytest.raises(ValueError, match="multiplier"):
        directly_standardised_rate(x, n, w, multiplier=-1)
    people, frequencies, populations = nonindependent("testdata_nonind_big")
    with pytest.raises(ValueError, match="event_frequencies"):
        directly_standardised_rate(people, populations, w, event_frequencies=[1, 2, 3])
    with pytest.raises(ValueError, match="event_frequencies"):
        directly_standardised_rate(people, populations, w, event_frequencies=[1, 2, np.nan, 4])
    with pytest.raises(ValueError, match="counts"):
        directly_standardised_rate(people, populations, w)   # a table needs its event frequencies
    with pytest.raises(ValueError, match="counts"):
        directly_standardised_rate(x, n, w, event_frequencies=[1])


# --- indirectly standardised ratios and rates (calculate_ISRatio, calculate_ISRate) ------------------------

ISR_CASES = [(name, kind, multiplier, confidence)
             for name in ("testdata_big", "testdata_small", "testdata_tiny")
             for kind, multiplier in (("ratio", 1), ("ratio", 100), ("rate", 100_000), ("rate", 1000))
             for confidence in (0.95, 0.998)]
STATISTIC = {"ratio": "indirectly standardised ratio x {}", "rate": "indirectly standardised rate per {}"}
FUNCTION = {"ratio": indirectly_standardised_ratio, "rate": indirectly_standardised_rate}


def isr_columns(confidence: float) -> list[str]:
    return ["value", "lower95_0cl", "upper95_0cl"] if confidence == 0.95 else [
        "value", "lower99_8cl", "upper99_8cl"]


@pytest.mark.parametrize("name, kind, multiplier, confidence", ISR_CASES)
def test_isr_matches_phe(name, kind, multiplier, confidence):
    data = area(MULTIAREA, name)
    expected = result_row(ISR_RESULTS, name, STATISTIC[kind].format(multiplier))
    got = FUNCTION[kind](data["count"], data["pop"], REFDATA["refcount"], REFDATA["refpop"],
                         confidence=confidence, multiplier=multiplier)
    assert list(got) == close(expected[isr_columns(confidence)])


@pytest.mark.parametrize("name", ["testdata_big", "testdata_small", "testdata_tiny"])
@pytest.mark.parametrize("kind, multiplier", [("ratio", 1), ("rate", 100_000)])
def test_isr_with_observed_totals(name, kind, multiplier):
    # testISRatios.R / testISRates.R "test default with observed_totals": one observed total per area.
    data = area(MULTIAREA, name)
    expected = result_row(ISR_RESULTS, name, STATISTIC[kind].format(multiplier))
    got = FUNCTION[kind](int(expected["observed"]), data["pop"], REFDATA["refcount"], REFDATA["refpop"],
                         multiplier=multiplier)
    assert list(got) == close(expected[isr_columns(0.95)])


@pytest.mark.parametrize("kind, multiplier", [("ratio", 1), ("rate", 100_000)])
def test_isr_missing_reference_count_and_population_count_as_zero(kind, multiplier):
    # "test ref as specified vector" (x_ref NA in band 10-14) and the own-reference sheet's missing population.
    data = area(MULTIAREA, "testdata_tiny")
    expected = result_row(ISR_RESULTS, "testdata_tiny", STATISTIC[kind].format(multiplier))
    ref_counts = REFDATA["refcount"].to_numpy(dtype=float)
    ref_counts[2] = np.nan
    populations = data["pop"].to_numpy(dtype=float)
    populations[2] = np.nan
    got = FUNCTION[kind](data["count"], populations, ref_counts, REFDATA["refpop"], multiplier=multiplier)
    assert list(got) == close(expected[isr_columns(0.95)])


@pytest.mark.parametrize("kind, multiplier, statistic", [("ratio", 100, "indirectly standardised ratio x 100"),
                                                          ("rate", 100_000, "indirectly standardised rate per 100000")])
@pytest.mark.parametrize("name", ["Area1", "Area2"])
def test_isr_zero_population_band(kind, multiplier, statistic, name):
    # testISRatios.R "test n = 0" / testISRates.R "test zero population" (testdata_err2).
    data = read("stats_isr_zero_population.csv")
    data = data[data["area"] == name]
    expected = result_row(ISR_RESULTS, name, statistic)
    got = FUNCTION[kind](data["count"], data["pop"], REFDATA["refcount"], REFDATA["refpop"], multiplier=multiplier)
    assert list(got) == close(expected[isr_columns(0.95)])


@pytest.mark.parametrize("kind", ["ratio", "rate"])
def test_isr_rejects_invalid_input_naming_the_argument(kind):
    data = area(MULTIAREA, "testdata_big")
    x, n = data["count"].to_numpy(dtype=float), data["pop"].to_numpy(dtype=float)
    ref_x, ref_n = REFDATA["refcount"].to_numpy(dtype=float), REFDATA["refpop"].to_numpy(dtype=float)
    function = FUNCTION[kind]
    cases = [
        ((np.where(np.arange(19) == 5, -26, x), n, ref_x, ref_n), "counts"),            # PHE testdata_err1
        ((x, np.where(np.arange(19) == 1, -558, n), ref_x, ref_n), "populations"),      # testdata_err3
        ((-5, n, ref_x, ref_n), "counts"),
        ((x, n, ref_x[:18], ref_n), "reference_counts"),                              # "x_ref length"
        ((x, n, ref_x, ref_n[1:]), "reference_populations"),                          # "n_ref length"
        ((x[:18], n, ref_x, ref_n), "counts"),
        ((x, n, -ref_x, ref_n), "reference_counts"),
        ((x, n, ref_x, np.where(np.arange(19) == 3, 0, ref_n)), "reference_populations"),
    ]
    for args, argument in cases:
        with pytest.raises(ValueError, match=argument):
            function(*args)
    for confidence in (0.74, 3, 1000):
        with pytest.raises(ValueError, match="confidence"):
            function(x, n, ref_x, ref_n, confidence=confidence)
    with pytest.raises(ValueError, match="multiplier"):
        function(x, n, ref_x, ref_n, multiplier=0)


def test_isr_missing_observed_total_or_no_expected_events_is_nan():
    assert np.isnan(indirectly_standardised_ratio(np.nan, [10, 20], [1, 2], [100, 100])).all()
    assert np.isnan(indirectly_standardised_rate(5, [0, 0], [1, 2], [100, 100])).all()
