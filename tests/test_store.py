"""The store sums numerators and denominators up the hierarchy and filters by snapshot, period, area."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics import layout, store
from metrics.store import Store
from metrics.__main__ import main
from tests.conftest import SNAP_NEW, SNAP_OLD

FLU = ("flu_uptake_65_plus",)


@pytest.fixture(params=["values only", "with roll-ups"])
def served_root(request, tiny_root: Path, tiny_rollup_root: Path) -> Path:
    """Each test runs on both: area questions summed from practice rows, and answered from the roll-ups."""
    root = tiny_rollup_root if request.param == "with roll-ups" else tiny_root
    assert Store(root).has_rollup(SNAP_NEW) == (request.param == "with roll-ups")
    return root


def test_snapshots_listed_from_partitions(served_root):
    assert Store(served_root).snapshots() == [SNAP_OLD, SNAP_NEW]


def test_files_readable_with_plain_duckdb(served_root):
    rows = duckdb.sql(f"SELECT count(*), count(DISTINCT snapshot_date) FROM read_parquet("
                      f"'{store.parquet_glob(served_root, 'metric_values')}', hive_partitioning=true)").fetchall()[0]
    assert rows == (30, 2)  # 15 rows per snapshot


def test_pcn_aggregate_sums_numerators_and_denominators(served_root):
    frame = Store(served_root).aggregate(SNAP_NEW, FLU, "pcn", area_codes=("N1",),
                            start=date(2026, 8, 1), end=date(2026, 8, 31))
    row = frame.iloc[0]
    # P1 81/100 and P2 11/100: pooled 92/200.
    assert (row.numerator, row.denominator, row.n_orgs) == (92, 200, 2)


def test_borough_and_ics_aggregates(served_root):
    boroughs = Store(served_root).aggregate(SNAP_OLD, FLU, "borough", end=date(2026, 8, 31))
    assert dict(zip(boroughs.area_code, boroughs.numerator)) == {"B1": 140, "B2": 30}
    assert dict(zip(boroughs.area_code, boroughs.denominator)) == {"B1": 400, "B2": 50}
    ics = Store(served_root).aggregate(SNAP_OLD, FLU, "ics", area_codes=("Q1",), end=date(2026, 8, 31))
    assert (ics.numerator.iloc[0], ics.denominator.iloc[0]) == (170, 450)


def test_within_picks_children_of_one_ancestor(served_root):
    frame = Store(served_root).aggregate(SNAP_NEW, FLU, "practice", within=("pcn", "N1"),
                            start=date(2026, 9, 1))
    assert sorted(frame.area_code) == ["P1", "P2"]
    assert frame.set_index("area_code").numerator.to_dict() == {"P1": 91, "P2": 21}


def test_snapshot_is_respected(served_root):
    args = (FLU, "practice")
    old = Store(served_root).aggregate(SNAP_OLD, *args, area_codes=("P1",), start=date(2026, 9, 1))
    new = Store(served_root).aggregate(SNAP_NEW, *args, area_codes=("P1",), start=date(2026, 9, 1))
    assert (old.numerator.iloc[0], new.numerator.iloc[0]) == (90, 91)


def test_borough_level_metric_has_no_pcn_rows(served_root):
    metric = ("discharged_usual_residence",)
    assert Store(served_root).aggregate(SNAP_NEW, metric, "pcn").empty
    ics = Store(served_root).aggregate(SNAP_NEW, metric, "ics", start=date(2026, 9, 1))
    assert (ics.numerator.iloc[0], ics.denominator.iloc[0]) == (1250, 1500)


def test_breakdown_rows_are_separate_from_totals(served_root):
    frame = Store(served_root).aggregate(SNAP_NEW, FLU, "borough", area_codes=("B1",), breakdown="sex")
    assert frame.set_index("breakdown_value").numerator.to_dict() == {"Female": 60, "Male": 30}


@pytest.mark.parametrize("kwargs", [
    {"area_codes": ("NOPE",)},
    {"start": date(2030, 1, 1)},
    {"breakdown": "ethnicity"},
])
def test_empty_results_are_empty_frames(served_root, kwargs):
    frame = Store(served_root).aggregate(SNAP_NEW, FLU, "practice", **kwargs)
    assert frame.empty and "numerator" in frame.columns


def test_orgs_filters_by_type_and_parent(served_root):
    pcns = Store(served_root).orgs(SNAP_NEW, "pcn", "B1")
    assert list(pcns.org_code) == ["N1", "N2"]
    assert len(Store(served_root).orgs(SNAP_NEW)) == 10


def test_period_range_spans_monthly_periods(served_root):
    assert Store(served_root).period_range(SNAP_NEW) == (date(2026, 8, 1), date(2026, 9, 30))


def test_sql_parameters_are_not_interpolated(served_root):
    hostile = ("P1' OR 1=1 --",)
    assert Store(served_root).aggregate(SNAP_NEW, FLU, "practice", area_codes=hostile).empty


def test_no_data_root_raises_clear_error(tmp_path):
    with pytest.raises(store.NoDataError, match=str(tmp_path)):
        Store(tmp_path).aggregate(SNAP_NEW, FLU, "ics")
    assert Store(tmp_path).snapshots() == []


AREA_QUESTIONS = [
    ("pcn", {}), ("borough", {}), ("ics", {}), ("pcn", {"within": ("borough", "B1")}),
    ("borough", {"area_codes": ("B2",)}), ("borough", {"within": ("ics", "Q1"), "breakdown": "sex"}),
    ("pcn", {"area_codes": ("N1", "N3"), "start": date(2026, 9, 1)}), ("ics", {"end": date(2026, 8, 31)}),
]


@pytest.mark.parametrize(("level", "kwargs"), AREA_QUESTIONS)
def test_rollups_give_exactly_the_sums_from_practice_rows(tiny_root, tiny_rollup_root, level, kwargs):
    metrics = (*FLU, "discharged_usual_residence")
    for snap in (SNAP_OLD, SNAP_NEW):
        from_values = Store(tiny_root).aggregate(snap, metrics, level, **kwargs)
        from_rollup = Store(tiny_rollup_root).aggregate(snap, metrics, level, **kwargs)
        assert not from_values.empty
        pd.testing.assert_frame_equal(from_rollup, from_values, check_exact=True)


def test_snapshot_summary_is_the_same_from_footer_and_rollup(tiny_root, tiny_rollup_root):
    summary = Store(tiny_rollup_root).snapshot_summary(SNAP_NEW)
    del summary["written"]
    assert summary == {k: v for k, v in Store(tiny_root).snapshot_summary(SNAP_NEW).items() if k != "written"}
    assert (summary["rows"], summary["metrics"]) == (15, 2)


def _copy(root: Path, tmp_path: Path) -> str:
    shutil.copytree(root, tmp_path / "data")
    return str(tmp_path / "data")


def test_rollup_of_rewritten_values_is_not_used(tiny_rollup_root, tmp_path):
    root = _copy(tiny_rollup_root, tmp_path)
    values = Path(root) / f"snapshot_date={SNAP_NEW}" / layout.METRIC_VALUES_FILE
    frame = pd.read_parquet(values)
    frame.loc[frame["org_code"] == "P4", "numerator"] += 100  # the values change after the roll-up was made
    frame.to_parquet(values, index=False)
    assert not Store(root).has_rollup(SNAP_NEW) and Store(root).has_rollup(SNAP_OLD)
    borough = Store(root).aggregate(SNAP_NEW, FLU, "borough", area_codes=("B2",), end=date(2026, 8, 31))
    assert borough.numerator.iloc[0] == 131  # 31 + 100, summed from the values, not the stale roll-up


def test_unreadable_rollup_is_named_and_its_snapshot_still_served(tiny_rollup_root, tmp_path):
    root = _copy(tiny_rollup_root, tmp_path)
    rollup = Path(root) / f"snapshot_date={SNAP_NEW}" / layout.ROLLUP_FILE
    rollup.write_bytes(rollup.read_bytes()[:100])
    assert [path for path, _ in Store(root).unreadable_files()] == [str(rollup)]
    assert Store(root).snapshots() == [SNAP_OLD, SNAP_NEW]
    ics = Store(root).aggregate(SNAP_NEW, FLU, "ics", end=date(2026, 8, 31))
    assert (ics.numerator.iloc[0], ics.denominator.iloc[0]) == (174, 450)


def test_missing_rollups_are_built_once(tiny_root, tmp_path):
    root = _copy(tiny_root, tmp_path)
    assert not Store(root).has_rollup(SNAP_NEW)
    # Per snapshot: flu 2 months x (3 PCNs + 2 boroughs + ICS) = 12; the borough-level metric 2 x (2 boroughs +
    # ICS) = 6 (no PCN rows); flu by sex in August: 3 PCN + 3 borough + 2 ICS rows = 8.
    assert store.build_missing_rollups(root) == {f"snapshot_date={SNAP_OLD}": 26, f"snapshot_date={SNAP_NEW}": 26}
    assert Store(root).has_rollup(SNAP_NEW)
    assert store.build_missing_rollups(root) == {}
    assert not list(Path(root).rglob("*.part"))


def test_rollups_command_adds_what_older_data_roots_lack(tiny_root, tmp_path, capsys):
    root = _copy(tiny_root, tmp_path)
    assert main(["rollups", "--root", root]) == 0
    assert "Done: 2 roll-up(s) written" in capsys.readouterr().out
    assert Store(root).has_rollup(SNAP_OLD) and Store(root).has_rollup(SNAP_NEW)
    assert main(["rollups", "--root", root]) == 0
    assert "all were up to date" in capsys.readouterr().out
