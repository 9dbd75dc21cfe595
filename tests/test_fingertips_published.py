"""The dashboard's figures against what OHID Fingertips publishes for NWL: the whole real exports of 91547 (smoking
prevalence, QOF) and 93930 (A&E attendances aged 0-4, per 1,000) are loaded as an analyst would load them, then
every practice's value and 95% / 99.8% limits, as the store and the pages compute them, are compared with the
file's own Value and Lower / Upper CI columns, and the dashboard's PCN sums with the file's PCN rows.

Fingertips publishes 93930's counts rounded to the nearest 5 but computes its limits from the unrounded counts.
The dashboard can only use the published counts, so for 93930 the test shows the method is the same: for every
practice and PCN, one whole count within 2 of the published one gives exactly the published limits by the
dashboard's own rate method (Byar's, per 1,000); and after undoing that rounding the practices' counts add up
exactly to their PCN's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.catalogue import catalogue
from metrics.hierarchy import valid_on
from metrics.ingest.load import commit, prepare
from metrics.ingest.model import LoadOptions
from metrics.reports import with_ci
from metrics.stats import value_ci
from metrics.store import Store
from tests.ingest_fixtures import FIXTURES, NEW_SNAPSHOT, make_root, source

SMOKING = "fingertips_91547_smoking_prev_qof_gp_nwl.csv"
AE = "fingertips_93930_ae_attendances_0to4_gp_pcn_nwl.csv"
AE_METRIC, SMOKING_METRIC = "ae_attendances_0_4", "smoking_prevalence"
YEAR_2021, YEAR_2022 = date(2021, 4, 1), date(2022, 4, 1)
LIMITS = {0.95: ("Lower CI 95.0 limit", "Upper CI 95.0 limit"), 0.998: ("Lower CI 99.8 limit", "Upper CI 99.8 limit")}
NUMBERS = ["Value", "Count", "Denominator", *LIMITS[0.95], *LIMITS[0.998]]


def published(name: str, area_type: str) -> pd.DataFrame:
    """The export's rows of one area type (no category rows), numbers as numbers, by area code and period."""
    frame = pd.read_csv(FIXTURES / name, dtype=str, keep_default_na=False)
    frame = frame[frame["Area Type"].str.startswith(area_type) & (frame["Category Type"] == "")].copy()
    frame[NUMBERS] = frame[NUMBERS].apply(lambda c: pd.to_numeric(c.replace("", np.nan)))
    frame["period_start"] = frame["Time period"].map(lambda p: date(int(p[:4]), 4, 1))
    return frame.set_index(["Area Code", "period_start"]).sort_index()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with both exports loaded, strictly, as one new snapshot."""
    root = make_root(tmp_path_factory.mktemp("published") / "data")
    prepared = prepare(LoadOptions(format="fingertips", snapshot=NEW_SNAPSHOT), [source(SMOKING), source(AE)], root)
    assert [o.status for o in prepared.outcomes] == ["accepted", "accepted"], prepared.report()
    commit(prepared, root)
    return root


def dashboard(root: Path, metric_id: str, level: str, start: date, use_rollups: bool = True) -> pd.DataFrame:
    """The figures a page shows: the store's sums at ``level`` with the pages' own value and 95% limits, plus
    99.8% limits as the funnel and exception rules compute them."""
    end = date(start.year + 1, 3, 31)  # the financial year
    frame = Store(root, use_rollups=use_rollups).aggregate(NEW_SNAPSHOT, (metric_id,), level, start=start, end=end)
    frame = with_ci(frame)
    unit = catalogue().metric(metric_id).unit
    _, frame["lower_998"], frame["upper_998"] = value_ci(unit, frame["numerator"], frame["denominator"], 0.998)
    return frame.set_index("area_code").sort_index()


@pytest.mark.parametrize("start", [YEAR_2022, date(2023, 4, 1)])
def test_smoking_practice_values_and_both_limits_are_fingertips_own(root, start):
    ours = dashboard(root, SMOKING_METRIC, "practice", start)
    theirs = published(SMOKING, "GP").xs(start, level="period_start")
    assert len(theirs) in (344, 341) and sorted(ours.index) == sorted(theirs.index)
    theirs = theirs.loc[ours.index]
    assert (ours["numerator"] == theirs["Count"]).all() and (ours["denominator"] == theirs["Denominator"]).all()
    assert ours["value"].to_numpy() == pytest.approx(theirs["Value"].to_numpy(), abs=1e-8)  # 8 decimals published
    if start == YEAR_2022:  # the 2023/24 rows of this export carry no limits
        for ours_col, theirs_col in (("lower", "Lower CI 95.0 limit"), ("upper", "Upper CI 95.0 limit"),
                                     ("lower_998", "Lower CI 99.8 limit"), ("upper_998", "Upper CI 99.8 limit")):
            assert ours[ours_col].to_numpy() == pytest.approx(theirs[theirs_col].to_numpy(), abs=1e-8), ours_col


def _unrounded_count(count: float, denominator: float, lower: float, upper: float) -> int | None:
    """The whole count within 2 of a count rounded to 5 whose per-1,000 limits, by the dashboard's method, are
    the published ones (to their 5 decimal places); None if there is none."""
    for candidate in range(int(count) - 2, int(count) + 3):
        _, low, high = value_ci("per_1000", candidate, denominator)
        if abs(low - lower) <= 5e-6 and abs(high - upper) <= 5e-6:
            return candidate
    return None


def test_ae_practice_values_match_and_limits_are_fingertips_method(root):
    ours = dashboard(root, AE_METRIC, "practice", YEAR_2021)
    theirs = published(AE, "GP").xs(YEAR_2021, level="period_start")
    assert len(theirs) == 338 and sorted(ours.index) == sorted(theirs.index)
    theirs = theirs.loc[ours.index]
    assert (ours["numerator"] == theirs["Count"]).all() and (ours["denominator"] == theirs["Denominator"]).all()
    assert ours["value"].to_numpy() == pytest.approx(theirs["Value"].to_numpy(), abs=5e-6)  # 5 decimals published
    assert theirs["Lower CI 99.8 limit"].isna().all()  # this export publishes 95% limits only
    unrounded = [_unrounded_count(*row) for row in theirs[["Count", "Denominator", *LIMITS[0.95]]].itertuples(
        index=False)]
    assert None not in unrounded
    # where rounding changed nothing (the count was already a multiple of 5) the dashboard's limits are Fingertips'
    same = (np.array(unrounded) == theirs["Count"].to_numpy())
    assert same.sum() >= 30
    for ours_col, theirs_col in (("lower", "Lower CI 95.0 limit"), ("upper", "Upper CI 95.0 limit")):
        assert ours.loc[same, ours_col].to_numpy() == pytest.approx(theirs.loc[same, theirs_col].to_numpy(), abs=5e-6)


def test_ae_pcn_sums_equal_the_published_pcn_rows_where_all_practices_are_present(root):
    """A PCN has all its practices present when the practices the dashboard places in it on the period's first day
    are the ones the export lists under it, and their registered children add up to the PCN's published
    denominator. Others differ for known reasons: the dashboard dates membership by the January 2022 mapping while
    Fingertips uses its PCNs of 27/10/23, and a practice outside the NWL export can count in an NWL PCN's row."""
    ours = dashboard(root, AE_METRIC, "pcn", YEAR_2021)
    assert dashboard(root, AE_METRIC, "pcn", YEAR_2021, use_rollups=False)[["numerator", "denominator"]].equals(
        ours[["numerator", "denominator"]])  # the stored roll-up says what summing the practices says
    practices = published(AE, "GP").xs(YEAR_2021, level="period_start")
    pcns = published(AE, "PCN").xs(YEAR_2021, level="period_start")
    orgs = pd.read_parquet(root / f"snapshot_date={NEW_SNAPSHOT}" / "orgs.parquet")
    members = valid_on(orgs[orgs["org_type"] == "practice"], YEAR_2021).groupby("pcn_code")["org_code"].agg(set)
    listed = practices.groupby("Parent Code").apply(lambda rows: set(rows.index))
    complete = [code for code in pcns.index if members.get(code) == listed.get(code)
                and ours.loc[code, "denominator"] == pcns.loc[code, "Denominator"]]
    assert len(complete) >= 15, f"only {len(complete)} of {len(pcns)} PCNs comparable"
    for code in complete:
        n_practices = int(ours.loc[code, "n_orgs"])
        assert n_practices == len(listed[code])
        # each practice's count and the PCN's are rounded to 5 separately: at most 2 off each
        assert abs(ours.loc[code, "numerator"] - pcns.loc[code, "Count"]) <= 2 * (n_practices + 1), code
        unrounded = sum(_unrounded_count(*practices.loc[p, ["Count", "Denominator", *LIMITS[0.95]]])
                        for p in listed[code])
        assert unrounded == _unrounded_count(*pcns.loc[code, ["Count", "Denominator", *LIMITS[0.95]]]), code
