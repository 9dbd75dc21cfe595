"""The command line and the load pipeline: strict by default, partial on request, exit codes, side files."""

from __future__ import annotations

import csv
from datetime import date
from importlib import import_module

import pandas as pd
import pytest

from metrics.__main__ import main
from metrics.ingest.formats import FORMATS
from metrics.ingest.load import Source, commit
from tests.ingest_fixtures import BASE_SNAPSHOT, FIXTURES, SMOKING, fixture_text, load, make_root, source

TIDY = "tidy_smoking_example.csv"
FIRST = "smoking_prevalence,2022-04-01,2023-03-31,E84002,all,,740,6315,11.7"


def snapshot_names(root) -> list[str]:
    return sorted(p.name for p in root.glob("snapshot_date=*"))


def test_cli_loads_a_fingertips_export(tmp_path, capsys):
    root = make_root(tmp_path)
    code = main(["ingest", "--format", "fingertips", "--snapshot", "2026-11-01", "--root", str(root),
                 str(FIXTURES / SMOKING)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{SMOKING}: ACCEPTED - 12 rows to load" in out
    assert "Wrote snapshot 2026-11-01" in out and "(11 new, 1 revised" in out
    assert snapshot_names(root) == ["snapshot_date=2026-10-05", "snapshot_date=2026-11-01"]


def test_cli_takes_the_root_from_the_environment(tmp_path, monkeypatch, capsys):
    root = make_root(tmp_path)
    monkeypatch.setenv("ICP_DATA_ROOT", str(root))
    assert main(["ingest", "--format", "tidy", "--snapshot", "2026-11-01", str(FIXTURES / TIDY)]) == 0
    assert "snapshot_date=2026-11-01" in snapshot_names(root)


def test_strict_rejects_the_whole_file_and_writes_nothing(tmp_path, capsys):
    root = make_root(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(fixture_text(TIDY).replace(FIRST, FIRST.replace("E84002", "Z99999")), encoding="utf-8")
    code = main(["ingest", "--format", "tidy", "--snapshot", "2026-11-01", "--root", str(root), str(bad),
                 str(FIXTURES / TIDY)])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad.csv: REJECTED" in out and "bad.csv, row 2, column org_code: 'Z99999'" in out
    assert "Nothing was written" in out
    assert snapshot_names(root) == [f"snapshot_date={BASE_SNAPSHOT}"]


def test_allow_partial_loads_valid_rows_and_writes_reasons(tmp_path, capsys):
    root = make_root(tmp_path)
    bad = tmp_path / "bad.csv"
    injected = FIRST.replace("E84002", "=HYPERLINK(\"http://x\")")
    bad.write_text(fixture_text(TIDY).replace(FIRST, injected), encoding="utf-8")
    code = main(["ingest", "--format", "tidy", "--snapshot", "2026-11-01", "--root", str(root), "--allow-partial",
                 str(bad)])
    out = capsys.readouterr().out
    assert code == 1  # something was rejected, even though the rest loaded
    assert "bad.csv: PARTLY ACCEPTED - 4 rows to load, 1 rows rejected" in out
    values = pd.read_parquet(root / "snapshot_date=2026-11-01" / "metric_values.parquet")
    assert "=HYPERLINK(\"http://x\")" not in set(values["org_code"])
    side = root / "rejected" / "2026-11-01" / "bad.rejected.csv"
    assert f"Rejected rows and reasons: {side}" in out
    rows = list(csv.DictReader(side.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["row"] == "2"
    assert rows[0]["org_code"] == "'=HYPERLINK(\"http://x\")"  # neutralised for spreadsheets
    assert "is not an organisation in the NWL hierarchy" in rows[0]["problems"]


def test_nothing_to_load_exits_non_zero(tmp_path, capsys):
    root = make_root(tmp_path)
    code = main(["ingest", "--format", "gp-list-size", "--snapshot", "2026-11-01", "--root", str(root),
                 str(FIXTURES / "gp_list_size_2026-04_layout.csv")])
    assert code == 1 and "no rows to load" in capsys.readouterr().out
    assert snapshot_names(root) == [f"snapshot_date={BASE_SNAPSHOT}"]


def test_wrong_commands_exit_2(tmp_path, capsys):
    root = make_root(tmp_path)
    assert main(["ingest", "--format", "tidy", "--snapshot", "2026-11-01", "--root", str(root),
                 str(tmp_path / "missing.csv")]) == 2
    assert main(["ingest", "--format", "tidy", "--snapshot", "2026-10-01", "--root", str(root),
                 str(FIXTURES / TIDY)]) == 2
    assert "not after the newest snapshot 2026-10-05" in capsys.readouterr().err


def test_unreadable_file_is_rejected_by_name(tmp_path):
    prepared = load(make_root(tmp_path), "tidy", Source("extract.parquet", b"not parquet at all"))
    assert prepared.outcomes[0].status == "rejected"
    assert "extract.parquet: cannot be read as a parquet table" in prepared.report()


def test_list_sizes_and_metrics_in_later_snapshots_carry_forward(tmp_path):
    root = make_root(tmp_path)
    commit(load(root, "gp-list-size", source("gp_list_size_2026-04_nwl_derived.csv")), root)
    result, _ = commit(load(root, "tidy", source(TIDY), snapshot=date(2026, 11, 2)), root)
    assert len(pd.read_parquet(result.path / "list_sizes.parquet")) == 4
    orgs = pd.read_parquet(result.path / "orgs.parquet").set_index("org_code")
    assert orgs.loc["E84003", "list_size"] == 9257


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_names_its_parser_module(name):
    assert callable(import_module(f"metrics.ingest.{FORMATS[name].module}").parse)
