"""The demo generator writes the store's layout and data with the properties the dashboard's pages rely on."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from metrics.store import Store
from metrics.catalogue import catalogue
from metrics.demo import DEMO_SNAPSHOTS, generate_demo
from metrics.hierarchy import build_orgs

HARROW = "E09000015"
LATEST = DEMO_SNAPSHOTS[-1]
SUBSET = ("breast_screening_coverage", "flu_uptake_65_plus", "frail_mdt_care_plan")
EXPECTED_COLUMNS = {
    "metric_id": pa.string(), "period_start": pa.date32(), "period_end": pa.date32(), "org_code": pa.string(),
    "breakdown": pa.string(), "breakdown_value": pa.string(), "numerator": pa.float64(),
    "denominator": pa.float64(), "value": pa.float64(),
}
CATEGORIES = {
    "ethnicity": {"Asian", "Black", "Mixed", "White", "Other", "Not stated"},
    "imd_quintile": {"1 (most deprived)", "2", "3", "4", "5 (least deprived)"},
    "sex": {"Female", "Male"},
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[tuple[float, str]]]:
    root = tmp_path_factory.mktemp("demo")
    (root / "reference").mkdir()
    (root / "reference" / "keep.txt").write_text("not the generator's")
    calls: list[tuple[float, str]] = []
    summary = generate_demo(root, progress=lambda fraction, message: calls.append((fraction, message)))
    return root, summary, calls


@pytest.fixture(scope="module")
def con(demo: tuple[Path, dict, list]) -> duckdb.DuckDBPyConnection:
    root = demo[0]
    connection = duckdb.connect()
    connection.execute(f"create view mv as select * from read_parquet('{root}/**/metric_values*.parquet', "
                       "hive_partitioning=true)")
    connection.execute(f"create view orgs as select * from read_parquet('{root}/snapshot_date={LATEST}/orgs.parquet')")
    connection.execute("create view latest as select * exclude (snapshot_date) from mv "
                       f"where snapshot_date = date '{LATEST}'")
    connection.execute("create table metrics as select * from (values "
                       + ", ".join(f"('{m.id}', '{m.unit}', '{m.frequency}', '{m.lowest_level}', {m.multiplier}, "
                                   f"{len(m.season_months) > 0})" for m in catalogue().metrics)
                       + ") t(metric_id, unit, frequency, lowest_level, multiplier, seasonal)")
    return connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchone()[0]


def test_layout_is_hive_partitioned_snapshots_and_leaves_other_files_alone(demo, con) -> None:
    root, summary, _ = demo
    folders = sorted(p.name for p in root.iterdir() if p.name.startswith("snapshot_date="))
    assert folders == [f"snapshot_date={s.isoformat()}" for s in DEMO_SNAPSHOTS]
    for folder in folders:
        files = sorted(p.name for p in (root / folder).iterdir())
        assert files == ["area_values.parquet", "manifest.json", "metric_values.parquet", "orgs.parquet"]
        manifest = json.loads((root / folder / "manifest.json").read_text())
        assert manifest["synthetic"] is True and manifest["generator"] == "metrics.demo" and "seed" in manifest
    assert sorted(p.name for p in root.iterdir()) == sorted([*folders, "reference"])  # no staging left behind
    assert (root / "reference" / "keep.txt").read_text() == "not the generator's"
    dates = [r[0] for r in con.execute("select distinct snapshot_date from mv order by 1").fetchall()]
    assert dates == list(DEMO_SNAPSHOTS)
    assert summary["snapshots"] == [s.isoformat() for s in DEMO_SNAPSHOTS]
    assert summary["rows"] == scalar(con, "select count(*) from mv")


def test_metric_values_columns_and_types_without_snapshot_column(demo) -> None:
    schema = pq.read_schema(demo[0] / f"snapshot_date={LATEST}" / "metric_values.parquet")
    assert {f.name: f.type for f in schema} == EXPECTED_COLUMNS
    assert list(schema.names) == list(EXPECTED_COLUMNS)


def test_orgs_file_is_the_hierarchy(demo) -> None:
    for snapshot in DEMO_SNAPSHOTS:
        written = pd.read_parquet(demo[0] / f"snapshot_date={snapshot}" / "orgs.parquet")
        pd.testing.assert_frame_equal(written, build_orgs())


def test_rows_are_sorted(demo) -> None:
    keys = ["metric_id", "breakdown", "org_code", "period_start"]
    table = pq.read_table(demo[0] / f"snapshot_date={LATEST}" / "metric_values.parquet", columns=keys)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]).to_numpy()
    sorted_table = table.take(order)
    assert all(sorted_table[k].equals(table[k]) for k in keys)


def test_every_metric_present_only_at_its_lowest_level(con) -> None:
    levels = con.execute("select l.metric_id, m.lowest_level, list(distinct o.org_type), count(distinct l.org_code) "
                         "from latest l join orgs o using (org_code) join metrics m using (metric_id) "
                         "group by all").fetchall()
    assert {row[0] for row in levels} == {m.id for m in catalogue().metrics}
    n_orgs = dict(con.execute("select org_type, count(*) from orgs group by 1").fetchall())
    for metric_id, lowest_level, org_types, n in levels:
        assert org_types == [lowest_level], metric_id
        assert n == n_orgs[lowest_level], metric_id


def test_periods_follow_frequency_and_season(con) -> None:
    bad_end = scalar(con, "select count(*) from latest join metrics using (metric_id) where period_end <> "
                          "period_start + to_months(case frequency when 'monthly' then 1 when 'quarterly' then 3 "
                          "else 12 end) - interval 1 day")
    assert bad_end == 0
    assert scalar(con, "select count(*) from latest join metrics using (metric_id) "
                       "where frequency <> 'monthly' and month(period_start) not in (1, 4, 7, 10)") == 0
    assert scalar(con, "select count(*) from latest join metrics using (metric_id) "
                       "where frequency = 'annual' and month(period_start) <> 4") == 0
    assert scalar(con, "select min(period_start) from latest join metrics using (metric_id) "
                       "where frequency = 'annual'") == date(2019, 4, 1)
    monthly = con.execute("select metric_id, count(distinct period_start) from latest join metrics using (metric_id) "
                          "where frequency = 'monthly' and not seasonal group by 1").fetchall()
    assert monthly and all(n >= 36 for _, n in monthly)
    assert scalar(con, "select count(*) from latest join metrics using (metric_id) "
                       "where seasonal and month(period_start) between 3 and 8") == 0


def test_each_snapshot_holds_only_published_periods(con) -> None:
    newest = dict(con.execute("select snapshot_date, max(period_start) from mv "
                              "where metric_id = 'emergency_admissions_65_plus' group by 1").fetchall())
    assert newest == {date(2026, 8, 5): date(2026, 7, 1), date(2026, 9, 5): date(2026, 8, 1),
                      date(2026, 10, 5): date(2026, 9, 1)}
    quarterly = dict(con.execute("select snapshot_date, max(period_start) from mv "
                                 "where metric_id = 'breast_screening_coverage' group by 1").fetchall())
    assert quarterly == {date(2026, 8, 5): date(2026, 1, 1), date(2026, 9, 5): date(2026, 4, 1),
                         date(2026, 10, 5): date(2026, 4, 1)}


def test_breakdown_types_and_categories_match_the_catalogue(con) -> None:
    found = con.execute("select metric_id, breakdown, list(distinct breakdown_value order by breakdown_value) "
                        "from latest group by all").fetchall()
    by_metric: dict[str, dict[str, list[str]]] = {}
    for metric_id, breakdown, values in found:
        by_metric.setdefault(metric_id, {})[breakdown] = values
    for metric in catalogue().metrics:
        assert set(by_metric[metric.id]) == {"all", *metric.breakdowns}, metric.id
        assert by_metric[metric.id]["all"] == [""]
        for breakdown, values in by_metric[metric.id].items():
            if breakdown in CATEGORIES:
                assert set(values) == CATEGORIES[breakdown], (metric.id, breakdown)
            elif breakdown == "age_band" and metric.age_standardisation:
                # Standardised over the European Standard Population 2013's bands from 65, as OHID's 65+ indicators.
                assert values == ["65-69", "70-74", "75-79", "80-84", "85-89", "90+"], metric.id
            elif breakdown == "age_band":
                assert 2 <= len(values) <= 4, metric.id


def test_breakdowns_add_up_to_the_all_row(con) -> None:
    """Denominators always; numerators exactly in settled periods (provisional rows are thinned separately)."""
    gaps = con.execute("""
        with newest as (select metric_id, period_start,
                               dense_rank() over (partition by metric_id order by period_start desc) <= 2 provisional
                        from (select distinct metric_id, period_start from latest)),
             cats as (select metric_id, breakdown, org_code, period_start, sum(denominator) d, sum(numerator) n
                      from latest where breakdown <> 'all' group by all),
             total as (select metric_id, org_code, period_start, denominator d, numerator n
                       from latest where breakdown = 'all')
        select count(*), count(*) filter (where cats.d <> total.d),
               count(*) filter (where not provisional and cats.n <> total.n),
               max(abs(cats.n - total.n) / greatest(total.n, 1000))
        from cats join total using (metric_id, org_code, period_start) join newest using (metric_id, period_start)
        """).fetchone()
    compared, denominator_gaps, settled_numerator_gaps, worst_relative_gap = gaps
    assert compared > 100_000
    assert denominator_gaps == 0
    assert settled_numerator_gaps == 0
    assert worst_relative_gap < 0.05


def test_counts_are_valid_and_values_match_them(con) -> None:
    assert scalar(con, "select count(*) from mv where numerator < 0 or denominator < 0 "
                       "or numerator <> round(numerator) or denominator <> round(denominator)") == 0
    assert scalar(con, "select count(*) from mv join metrics using (metric_id) "
                       "where unit = 'percent' and numerator > denominator") == 0
    assert scalar(con, "select count(*) from mv join metrics using (metric_id) where denominator > 0 "
                       "and abs(value - numerator / denominator * multiplier) > 1e-9 * multiplier") == 0
    assert scalar(con, "select count(*) from mv where (denominator = 0) <> isnan(value)") == 0


def test_wsic_segments_partition_the_adults(con) -> None:
    """Outside the two provisional months the five segment numerators add up to the denominator."""
    unbalanced = scalar(con, """
        select count(*) from (
            select org_code, period_start, breakdown, breakdown_value, sum(numerator) n, min(denominator) d,
                   max(denominator) d2, count(*) k
            from latest where metric_id like 'wsic_%' and period_start < date '2026-08-01' group by all)
        where n <> d or d <> d2 or k <> 5""")
    assert unbalanced == 0


def test_older_snapshot_shows_provisional_numbers_that_are_later_revised_up(con) -> None:
    first, last = DEMO_SNAPSHOTS[0], DEMO_SNAPSHOTS[-1]
    for metric_id, period in (("emergency_admissions_65_plus", date(2026, 7, 1)),
                              ("breast_screening_coverage", date(2026, 1, 1))):
        totals = dict(con.execute(
            "select snapshot_date, sum(numerator) from mv where metric_id = ? and period_start = ? "
            "and breakdown = 'all' group by 1", [metric_id, period]).fetchall())
        assert totals[first] < totals[last], metric_id
    settled_rows, changed_rows = con.execute(f"""
        with settled as (select * exclude (snapshot_date) from mv m where snapshot_date = date '{first}'
                         and period_start < (select min(p) from (select distinct period_start p from mv x
                                             where x.metric_id = m.metric_id and x.snapshot_date = m.snapshot_date
                                             order by p desc limit 2)))
        select (select count(*) from settled),
               (select count(*) from (select * from settled except select * from latest))""").fetchone()
    assert settled_rows > 1_000_000
    assert changed_rows == 0  # everything but the provisional periods is identical across snapshots


def harrow_vs_rest(con: duckdb.DuckDBPyConnection, metric_id: str, multiplier: float) -> dict:
    """Mean over months of the value summed across each area's practices, before/after April 2025."""
    rows = con.execute(f"""
        with monthly as (
            select o.borough_code = '{HARROW}' as harrow, l.period_start,
                   {multiplier} * sum(numerator) / sum(denominator) as rate
            from latest l join orgs o using (org_code)
            where metric_id = ? and breakdown = 'all' group by all)
        select harrow, period_start >= date '2025-04-01' as after, avg(rate) from monthly group by all""",
        [metric_id]).fetchall()
    return {(harrow, after): rate for harrow, after, rate in rows}


def test_harrow_frailty_model_cuts_admissions_and_lifts_care_plans(con) -> None:
    admissions = harrow_vs_rest(con, "emergency_admissions_65_plus", 1e5)
    harrow_change = admissions[(True, True)] / admissions[(True, False)]
    rest_change = admissions[(False, True)] / admissions[(False, False)]
    assert harrow_change < 0.92
    assert harrow_change / rest_change < 0.92  # not just seasonality or a trend shared with everyone
    plans = harrow_vs_rest(con, "frail_mdt_care_plan", 100)
    harrow_rise = plans[(True, True)] - plans[(True, False)]
    assert harrow_rise - (plans[(False, True)] - plans[(False, False)]) > 8


def test_deprivation_and_target_gaps_are_there_to_find(con) -> None:
    by_quintile = dict(con.execute("""
        select breakdown_value, 100 * sum(numerator) / sum(denominator) from latest
        where metric_id = 'breast_screening_coverage' and breakdown = 'imd_quintile'
          and period_start = date '2025-10-01' group by 1""").fetchall())
    assert by_quintile["1 (most deprived)"] + 5 < by_quintile["5 (least deprived)"]
    by_borough = dict(con.execute("""
        select o.borough_code, 100 * sum(numerator) / sum(denominator) from latest l join orgs o using (org_code)
        where metric_id = 'breast_screening_coverage' and breakdown = 'all' and period_start = date '2025-10-01'
        group by 1""").fetchall())
    assert by_borough["E09000033"] < 58 < 70 and max(by_borough.values()) > 62
    vaccine_gap = dict(con.execute("""
        select breakdown_value, sum(numerator) / sum(denominator) from latest
        where metric_id = 'flu_uptake_65_plus' and breakdown = 'ethnicity' and period_start = date '2026-02-01'
        group by 1""").fetchall())
    assert vaccine_gap["Black"] + 0.08 < vaccine_gap["White"]


def test_a_few_practices_are_genuine_outliers(con) -> None:
    """Planted outliers stand several robust SDs from their peers, beyond the ordinary practice spread."""
    counts = con.execute("""
        select sum(numerator), sum(denominator) from latest
        where metric_id = 'breast_screening_coverage' and breakdown = 'all' and period_start < date '2026-01-01'
        group by org_code having sum(denominator) > 2000""").fetchnumpy()
    numerator, denominator = counts["sum(numerator)"], counts["sum(denominator)"]
    log_odds = np.log(numerator / (denominator - numerator))
    median = np.median(log_odds)
    robust_z = (log_odds - median) / (1.4826 * np.median(np.abs(log_odds - median)))
    assert 3 <= (np.abs(robust_z) > 3.5).sum() <= 8


def test_flu_uptake_is_cumulative_within_each_season(con) -> None:
    uptake = con.execute("""
        select period_start, sum(numerator) / sum(denominator) from latest
        where metric_id = 'flu_uptake_65_plus' and breakdown = 'all' group by 1 order by 1""").fetchall()
    by_month = dict(uptake)
    for season in (2023, 2024, 2025):
        months = [by_month[date(season, m, 1)] for m in (9, 10, 11, 12)] + \
                 [by_month[date(season + 1, m, 1)] for m in (1, 2)]
        assert months[-1] > months[0] + 0.4
        assert all(a < b for a, b in zip(months[:-2], months[1:-1]))  # the provisional Feb 2026 may dip slightly
        assert 0.6 < months[-1] < 0.8


def test_progress_is_reported_up_to_completion(demo) -> None:
    fractions = [f for f, _ in demo[2]]
    assert len(fractions) >= 5
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] == 1.0


def test_same_seed_gives_identical_data_and_subsets_match_the_full_run(demo, tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_demo(first, metric_ids=SUBSET)
    generate_demo(second, metric_ids=SUBSET)
    generate_demo(other, seed=1, metric_ids=SUBSET)
    for snapshot in DEMO_SNAPSHOTS:
        name = f"snapshot_date={snapshot}/metric_values.parquet"
        a, b = pd.read_parquet(first / name), pd.read_parquet(second / name)
        pd.testing.assert_frame_equal(a, b)
        assert (first / name).read_bytes() == (second / name).read_bytes()
        assert set(a["metric_id"]) == set(SUBSET)
        full = pq.read_table(demo[0] / name, filters=[("metric_id", "in", list(SUBSET))]).to_pandas()
        pd.testing.assert_frame_equal(a, full)
        c = pd.read_parquet(other / name)
        assert not np.array_equal(a["numerator"].to_numpy(), c["numerator"].to_numpy())


def test_regenerating_replaces_snapshots_and_never_exposes_staged_files(tmp_path: Path) -> None:
    generate_demo(tmp_path, metric_ids=("carers_identified",))
    glob = f"{tmp_path}/**/metric_values*.parquet"
    seen_while_writing: list[set[str]] = []

    def look(fraction: float, message: str) -> None:
        if message.startswith("Wrote snapshot"):  # staged but not yet published
            rows = duckdb.sql(f"select distinct metric_id from read_parquet('{glob}', hive_partitioning=true)")
            seen_while_writing.append({r[0] for r in rows.fetchall()})

    generate_demo(tmp_path, progress=look, metric_ids=("mmr1_24_months",))
    assert seen_while_writing == [{"carers_identified"}] * len(DEMO_SNAPSHOTS)
    written = pd.read_parquet(tmp_path / f"snapshot_date={LATEST}" / "metric_values.parquet")
    assert set(written["metric_id"]) == {"mmr1_24_months"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"snapshot_date={s}" for s in DEMO_SNAPSHOTS]


def test_every_demo_snapshot_has_a_matching_area_rollup(demo) -> None:
    root = str(demo[0])
    assert all(Store(root).has_rollup(snapshot) for snapshot in DEMO_SNAPSHOTS)
