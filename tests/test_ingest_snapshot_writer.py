"""Snapshots are complete, never overwritten, and appear in one step: killing an ingest anywhere changes nothing."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from metrics.store import Store
from metrics.ingest.load import commit
from metrics.ingest.snapshot_writer import (PAUSE_ENV, STAGE_IN_ROOT_ENV, TEST_HOOKS, SnapshotError, base_orgs,
                                            snapshots)
from tests.ingest_fixtures import BASE_SNAPSHOT, FIXTURES, NEW_SNAPSHOT, load, make_root, source

PROJECT = Path(__file__).resolve().parent.parent
TIDY = "tidy_smoking_example.csv"


def file_digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def glob_read(root: Path) -> list[tuple]:
    """What any DuckDB sees with the documented glob (hidden folders included)."""
    return duckdb.sql(f"SELECT * FROM read_parquet('{root}/**/metric_values*.parquet', hive_partitioning = true, "
                      "union_by_name = true) ORDER BY ALL").fetchall()


def test_new_snapshot_is_base_plus_loaded_rows(tmp_path):
    root = make_root(tmp_path)
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert (result.base, result.rows, result.new_rows, result.revised_rows) == (BASE_SNAPSHOT, 7, 4, 1)
    values = pd.read_parquet(result.path / "metric_values.parquet").set_index(["metric_id", "org_code", "period_start"])
    assert values.loc[("smoking_prevalence", "E84002", date(2022, 4, 1)), "numerator"] == 740  # revised (was 700)
    assert values.loc[("flu_uptake_65_plus", "E84002", date(2026, 9, 1)), "numerator"] == 80  # carried over
    assert values.loc[("smoking_prevalence", "E84003", date(2021, 4, 1)), "numerator"] == 1000  # carried over
    old = pd.read_parquet(root / f"snapshot_date={BASE_SNAPSHOT}" / "metric_values.parquet")
    assert old.set_index(["metric_id", "org_code", "period_start"]).loc[
        ("smoking_prevalence", "E84002", date(2022, 4, 1)), "numerator"] == 700  # the old snapshot is untouched
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["hierarchy"] == "dated" and manifest["files"][0]["name"] == TIDY
    assert manifest["files"][0]["sha256"] == hashlib.sha256((FIXTURES / TIDY).read_bytes()).hexdigest()


def test_new_snapshot_comes_with_its_area_rollup(tmp_path):
    root = make_root(tmp_path)
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert Store(root).has_rollup(result.snapshot)  # written from the staged files, matching them
    smoking = Store(root).aggregate(result.snapshot, ("smoking_prevalence",), "borough", start=date(2022, 4, 1),
                              end=date(2023, 3, 31))
    from_values = Store(root, use_rollups=False).aggregate(result.snapshot, ("smoking_prevalence",), "borough",
                                                           start=date(2022, 4, 1), end=date(2023, 3, 31))
    assert not smoking.empty
    pd.testing.assert_frame_equal(smoking, from_values, check_exact=True)


def test_next_snapshot_starts_from_the_ingested_dated_hierarchy(tmp_path):
    root = make_root(tmp_path)
    commit(load(root, "tidy", source(TIDY)), root)
    orgs = base_orgs(root)
    assert orgs["valid_to"].notna().any()  # read back from the ingested snapshot, dates intact


def test_snapshots_are_never_overwritten_and_go_forward(tmp_path):
    root = make_root(tmp_path)
    commit(load(root, "tidy", source(TIDY)), root)
    before = file_digests(root)
    with pytest.raises(SnapshotError, match="already exists"):
        commit(load(root, "tidy", source(TIDY)), root)
    with pytest.raises(SnapshotError, match="not after the newest snapshot 2026-11-01"):
        commit(load(root, "tidy", source(TIDY), snapshot=date(2026, 10, 20)), root)
    assert file_digests(root) == before


def test_in_root_staging_when_the_root_is_a_mount_point(tmp_path, monkeypatch):
    monkeypatch.setitem(TEST_HOOKS, "stage_in_root", True)
    root = make_root(tmp_path)
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert sorted(p.name for p in result.path.iterdir()) == ["area_values.parquet", "manifest.json", "metric_values.parquet",
                                                                "orgs.parquet"]
    assert not [p for p in root.rglob("*") if ".ingest-" in str(p)]  # staging removed


def test_unreadable_newest_snapshot_is_not_used_as_the_base(tmp_path):
    root = make_root(tmp_path)
    broken = root / "snapshot_date=2026-10-20"
    broken.mkdir()
    (broken / "metric_values.parquet").write_bytes(b"PAR1 truncated")
    (broken / "orgs.parquet").write_bytes((root / f"snapshot_date={BASE_SNAPSHOT}" / "orgs.parquet").read_bytes())
    assert [d for d, _ in snapshots(root)] == [BASE_SNAPSHOT]
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert result.base == BASE_SNAPSHOT


def _run_until_paused(root: Path, step: str, in_root: bool) -> subprocess.Popen:
    env = {**os.environ, PAUSE_ENV: step, STAGE_IN_ROOT_ENV: "1" if in_root else "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "metrics", "ingest", "--format", "tidy", "--snapshot", NEW_SNAPSHOT.isoformat(),
         "--root", str(root), str(FIXTURES / TIDY)],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in proc.stdout:  # ends at EOF if the process exits without pausing
        output.append(line)
        if line.strip() == f"INGEST PAUSED AT {step}":
            return proc
    proc.wait()
    pytest.fail(f"ingest never paused at {step}: {''.join(output)}")


@pytest.mark.parametrize(("step", "in_root"), [
    ("metric_values", False), ("verified", False),  # staging beside the root: the last moment before the rename
    ("published-folder", True),  # root is a mount point: folder renamed in, files still *.part
])
def test_killing_an_ingest_midway_leaves_the_data_as_it_was(tmp_path, step, in_root):
    root = make_root(tmp_path / "data")
    files_before, read_before = file_digests(root), glob_read(root)
    proc = _run_until_paused(root, step, in_root)
    try:
        assert glob_read(root) == read_before  # while it is paused, nothing new is visible
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert glob_read(root) == read_before
    assert [d for d, _ in snapshots(root)] == [BASE_SNAPSHOT]
    after = file_digests(root)
    assert {k: after[k] for k in files_before} == files_before  # every file that was there is unchanged
    assert not [k for k in after if k not in files_before and k.endswith(".parquet")]
    # the next run cleans up after the killed one and loads normally
    rerun = subprocess.run([sys.executable, "-m", "metrics", "ingest", "--format", "tidy", "--snapshot",
                            NEW_SNAPSHOT.isoformat(), "--root", str(root), str(FIXTURES / TIDY)],
                           cwd=PROJECT, capture_output=True, text=True,
                           env={**os.environ, STAGE_IN_ROOT_ENV: "1" if in_root else "0"})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert [d for d, _ in snapshots(root)] == [BASE_SNAPSHOT, NEW_SNAPSHOT]
    leftovers = [p for p in (*root.iterdir(), *root.parent.iterdir()) if ".ingest-" in p.name]
    assert leftovers == []
