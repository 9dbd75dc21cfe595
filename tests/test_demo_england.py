"""The England-scale generator: a national hierarchy in the demo's vocabulary, and files in the demo's schema
and sort order, written a piece at a time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from metrics import demo
from metrics.store import Store
from metrics.__main__ import main
from metrics.demo_england import (
    SCALES, TARGET_PCNS, TARGET_PRACTICES, england_orgs, generate_england, synthetic_icss,
)
from metrics.hierarchy import ICS_CODE, ORG_COLUMNS

METRICS = ("discharged_usual_residence", "emergency_admissions_65_plus", "flu_uptake_65_plus")


@pytest.fixture(scope="module")
def england() -> object:
    return england_orgs(synthetic_icss(SCALES["england"]))


@pytest.fixture(scope="module")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("england")
    summary = generate_england(root, synthetic_ics=1, metric_ids=METRICS, row_group_size=5_000)
    assert summary["rows"] == sum(summary["rows_per_snapshot"].values()) > 0
    return root


def test_england_has_the_size_of_england(england):
    counts = england["org_type"].value_counts()
    assert counts["ics"] == 42
    assert counts["practice"] == TARGET_PRACTICES
    assert abs(counts["pcn"] - TARGET_PCNS) <= 25
    assert 150 <= counts["borough"] <= 300
    assert set(england["org_type"]) == {"ics", "place", "borough", "pcn", "practice"}
    assert list(england.columns) == ORG_COLUMNS
    assert england["org_code"].is_unique


def test_every_practice_has_consistent_ancestors(england):
    practices = england[(england["org_type"] == "practice") & (england["ics_code"] != ICS_CODE)]
    pcns = england[england["org_type"] == "pcn"].set_index("org_code")
    boroughs = england[england["org_type"] == "borough"].set_index("org_code")
    assert practices[["pcn_code", "borough_code", "ics_code", "place_code"]].notna().all().all()
    assert (practices["parent_code"] == practices["pcn_code"]).all()
    assert (pcns.loc[practices["pcn_code"], "borough_code"].to_numpy() == practices["borough_code"].to_numpy()).all()
    assert (boroughs.loc[practices["borough_code"], "ics_code"].to_numpy() == practices["ics_code"].to_numpy()).all()
    sizes = practices.groupby("pcn_code")["list_size"].sum()
    assert (pcns.loc[sizes.index, "list_size"] == sizes).all(), "PCN list sizes are their practices' sums"


def test_the_hierarchy_is_fixed_by_the_seed():
    first, again = synthetic_icss(3), synthetic_icss(3)
    assert all(a.orgs.equals(b.orgs) and a.twins == b.twins for a, b in zip(first, again))
    assert not synthetic_icss(3, seed=1)[0].orgs.equals(first[0].orgs)


def test_files_have_the_demo_schema_and_no_staging_is_left(small_root):
    folders = sorted(small_root.glob("snapshot_date=*"))
    assert [f.name.split("=")[1] for f in folders] == [d.isoformat() for d in demo.DEMO_SNAPSHOTS]
    for folder in folders:
        assert pq.read_schema(folder / "metric_values.parquet").equals(demo.METRIC_VALUES_SCHEMA)
        assert Store(small_root).has_rollup(date.fromisoformat(folder.name.split("=")[1]))
    assert not list(small_root.glob(".england-tmp-*"))


def test_rows_are_in_the_demo_order_across_icss_in_full_row_groups(small_root):
    path = sorted(small_root.glob("snapshot_date=*"))[-1] / "metric_values.parquet"
    table = pq.read_table(path).to_pandas()
    keys = ["metric_id", "breakdown", "org_code", "period_start", "breakdown_value"]
    assert table[keys].equals(table.sort_values(keys, kind="stable")[keys])
    sizes = [pq.ParquetFile(path).metadata.row_group(i).num_rows for i in range(pq.ParquetFile(path).num_row_groups)]
    assert set(sizes[:-1]) == {5_000} and sizes[-1] <= 5_000
    assert set(table["metric_id"]) == set(METRICS)


def test_sixty_months_and_every_value_belongs_to_a_known_organisation(small_root):
    folder = sorted(small_root.glob("snapshot_date=*"))[-1]
    con = duckdb.connect()
    values, orgs = f"read_parquet('{folder}/metric_values.parquet')", f"read_parquet('{folder}/orgs.parquet')"
    months = con.execute(f"SELECT count(DISTINCT period_start) FROM {values} "
                         "WHERE metric_id = 'emergency_admissions_65_plus'").fetchone()[0]
    assert months == 60
    orphans = con.execute(f"SELECT count(*) FROM {values} v ANTI JOIN {orgs} o USING (org_code)").fetchone()[0]
    assert orphans == 0
    icss = con.execute(f"SELECT count(DISTINCT o.ics_code) FROM {values} v JOIN {orgs} o USING (org_code)").fetchone()
    assert icss[0] == 2, "NWL and the one synthetic ICS both carry values"


def test_breakdowns_add_up_to_the_all_rows(small_root):
    """The demo's structure survives the national run: each breakdown is a margin of the same counts."""
    folder = sorted(small_root.glob("snapshot_date=*"))[-1]
    con = duckdb.connect()
    mismatched = con.execute(f"""
        WITH v AS (SELECT * FROM read_parquet('{folder}/metric_values.parquet')
                   WHERE metric_id = 'flu_uptake_65_plus'),
             total AS (SELECT org_code, period_start, numerator, denominator FROM v WHERE breakdown = 'all'),
             parts AS (SELECT breakdown, org_code, period_start, sum(numerator) AS n, sum(denominator) AS d
                       FROM v WHERE breakdown <> 'all' GROUP BY ALL)
        SELECT count(*) FROM parts JOIN total USING (org_code, period_start)
        WHERE parts.d <> total.denominator""").fetchone()[0]
    assert mismatched == 0
    values = pq.read_table(folder / "metric_values.parquet", columns=["numerator", "denominator"])
    assert np.all(np.asarray(values["numerator"]) <= np.asarray(values["denominator"]))


def test_the_command_refuses_to_put_england_in_the_demo_root(monkeypatch, capsys):
    monkeypatch.delenv("ICP_DATA_ROOT", raising=False)
    assert main(["demo", "--scale", "quarter"]) == 2
    assert "--root" in capsys.readouterr().err
