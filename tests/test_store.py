"""The store sums numerators and denominators up the hierarchy and filters by snapshot, period, area."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from metrics import store
from tests.conftest import SNAP_NEW, SNAP_OLD

FLU = ("flu_uptake_65_plus",)


def test_snapshots_listed_from_partitions(tiny_root):
    assert store.snapshots(str(tiny_root)) == [SNAP_OLD, SNAP_NEW]


def test_files_readable_with_plain_duckdb(tiny_root):
    rows = duckdb.sql(f"SELECT count(*), count(DISTINCT snapshot_date) FROM read_parquet("
                      f"'{store.parquet_glob(tiny_root, 'metric_values')}', hive_partitioning=true)").fetchall()[0]
    assert rows == (30, 2)  # 15 rows per snapshot


def test_pcn_aggregate_sums_numerators_and_denominators(tiny_root):
    frame = store.aggregate(str(tiny_root), SNAP_NEW, FLU, "pcn", area_codes=("N1",),
                            start=date(2026, 8, 1), end=date(2026, 8, 31))
    row = frame.iloc[0]
    # P1 81/100 and P2 11/100: pooled 92/200.
    assert (row.numerator, row.denominator, row.n_orgs) == (92, 200, 2)


def test_borough_and_ics_aggregates(tiny_root):
    boroughs = store.aggregate(str(tiny_root), SNAP_OLD, FLU, "borough", end=date(2026, 8, 31))
    assert dict(zip(boroughs.area_code, boroughs.numerator)) == {"B1": 140, "B2": 30}
    assert dict(zip(boroughs.area_code, boroughs.denominator)) == {"B1": 400, "B2": 50}
    ics = store.aggregate(str(tiny_root), SNAP_OLD, FLU, "ics", area_codes=("Q1",), end=date(2026, 8, 31))
    assert (ics.numerator.iloc[0], ics.denominator.iloc[0]) == (170, 450)


def test_within_picks_children_of_one_ancestor(tiny_root):
    frame = store.aggregate(str(tiny_root), SNAP_NEW, FLU, "practice", within=("pcn", "N1"),
                            start=date(2026, 9, 1))
    assert sorted(frame.area_code) == ["P1", "P2"]
    assert frame.set_index("area_code").numerator.to_dict() == {"P1": 91, "P2": 21}


def test_snapshot_is_respected(tiny_root):
    args = (FLU, "practice")
    old = store.aggregate(str(tiny_root), SNAP_OLD, *args, area_codes=("P1",), start=date(2026, 9, 1))
    new = store.aggregate(str(tiny_root), SNAP_NEW, *args, area_codes=("P1",), start=date(2026, 9, 1))
    assert (old.numerator.iloc[0], new.numerator.iloc[0]) == (90, 91)


def test_borough_level_metric_has_no_pcn_rows(tiny_root):
    metric = ("discharged_usual_residence",)
    assert store.aggregate(str(tiny_root), SNAP_NEW, metric, "pcn").empty
    ics = store.aggregate(str(tiny_root), SNAP_NEW, metric, "ics", start=date(2026, 9, 1))
    assert (ics.numerator.iloc[0], ics.denominator.iloc[0]) == (1250, 1500)


def test_breakdown_rows_are_separate_from_totals(tiny_root):
    frame = store.aggregate(str(tiny_root), SNAP_NEW, FLU, "borough", area_codes=("B1",), breakdown="sex")
    assert frame.set_index("breakdown_value").numerator.to_dict() == {"Female": 60, "Male": 30}


@pytest.mark.parametrize("kwargs", [
    {"area_codes": ("NOPE",)},
    {"start": date(2030, 1, 1)},
    {"breakdown": "ethnicity"},
])
def test_empty_results_are_empty_frames(tiny_root, kwargs):
    frame = store.aggregate(str(tiny_root), SNAP_NEW, FLU, "practice", **kwargs)
    assert frame.empty and "numerator" in frame.columns


def test_orgs_filters_by_type_and_parent(tiny_root):
    pcns = store.orgs(str(tiny_root), SNAP_NEW, "pcn", "B1")
    assert list(pcns.org_code) == ["N1", "N2"]
    assert len(store.orgs(str(tiny_root), SNAP_NEW)) == 10


def test_period_range_spans_monthly_periods(tiny_root):
    assert store.period_range(str(tiny_root), SNAP_NEW) == (date(2026, 8, 1), date(2026, 9, 30))


def test_sql_parameters_are_not_interpolated(tiny_root):
    hostile = ("P1' OR 1=1 --",)
    assert store.aggregate(str(tiny_root), SNAP_NEW, FLU, "practice", area_codes=hostile).empty


def test_no_data_root_raises_clear_error(tmp_path):
    with pytest.raises(store.NoDataError, match=str(tmp_path)):
        store.connection(str(tmp_path))
