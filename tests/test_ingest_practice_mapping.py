"""Practice -> PCN mappings in their old, new and QOF namings; loading one dates the hierarchy's changes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.hierarchy import _reference, apply_mapping, build_orgs, reference_mapping
from metrics.ingest import practice_mapping
from metrics.ingest.load import commit
from metrics.ingest.readers import read_table
from tests.ingest_fixtures import context, fixture_bytes, fixture_text, load, make_root, messages, source

OLD, QOF, NEW = ("nhsd_gp_reg_pat_prac_map_2022-01_nwl.csv", "nhsd_qof_2324_practice_mapping_nwl.csv",
                 "practice_map_2026-04_new_names_derived.csv")


def parse(name: str, text: str | None = None, **options):
    frame, _ = read_table(name, fixture_bytes(name) if text is None else text.encode())
    return practice_mapping.parse(name, frame, context("practice-mapping", **options))


@pytest.mark.parametrize(("name", "options", "as_of", "n"), [
    (OLD, {}, date(2022, 1, 1), 354),
    (QOF, {"as_of": date(2024, 4, 1)}, date(2024, 4, 1), 348),
    (NEW, {}, date(2026, 4, 1), 348),
])
def test_three_namings_read_the_same_way(name, options, as_of, n):
    parsed = parse(name, **options)
    assert not parsed.problems and parsed.as_of == as_of and len(parsed.rows) == n
    assert parsed.rows.set_index("practice_code").loc["E84002", "pcn_code"] == ("U89375" if name == OLD else "U11559")


def test_mapping_without_a_date_needs_as_of():
    parsed = parse(QOF)
    assert [p.columns for p in parsed.file_level_problems] == [("EXTRACT_DATE",)]
    assert "--as-of" in parsed.file_level_problems[0].message


def test_the_ingest_path_rebuilds_the_reference_hierarchy():
    """January 2022 then April 2024 through the parser and apply_mapping gives build_orgs(dated=True)."""
    first, _ = apply_mapping(build_orgs(dated=True), reference_mapping(_reference(), "2022_01"), date(2030, 1, 1))
    old, qof = parse(OLD), parse(QOF, as_of=date(2024, 4, 1))
    raw = _reference()
    assert dict(zip(old.rows["practice_code"], old.rows["pcn_code"])) == dict(
        zip(raw["practice_code"], raw["pcn_code_2022_01"]))
    assert dict(zip(qof.rows["practice_code"], qof.rows["pcn_code"])) == dict(
        zip(raw.loc[raw["in_qof_2324_mapping"] == "Y", "practice_code"],
            raw.loc[raw["in_qof_2324_mapping"] == "Y", "pcn_code_2024_04"]))
    assert len(first) > len(build_orgs(dated=True))  # 2030: moves back, reopenings -> new rows


def test_loading_a_newer_mapping_dates_a_closure_and_a_move(tmp_path):
    text = fixture_text(NEW)
    closed = next(line for line in text.splitlines() if ",E84003," in line)
    text = text.replace(closed + "\r\n", "")  # Premier Medical Centre left out: closed from 2026-04-01
    willows = ",E84002,FORTY WILLOWS SURGERY,HA9 9HA,"
    text = text.replace(willows + "U11559,", willows + "U78157,")
    root = make_root(tmp_path)
    prepared = load(root, "practice-mapping", source(NEW, text))
    assert prepared.outcomes[0].status == "accepted", messages(prepared)
    assert any("1 practices change PCN, 0 open, 1 close (E84003)" in n for n in prepared.outcomes[0].parsed.notes)
    result, _ = commit(prepared, root)
    orgs = pd.read_parquet(result.path / "orgs.parquet")
    premier = orgs[orgs["org_code"] == "E84003"]
    assert premier["valid_to"].max() == date(2026, 3, 31)
    willows = orgs[orgs["org_code"] == "E84002"].sort_values("valid_from", na_position="first")
    assert willows["pcn_code"].tolist() == ["U89375", "U11559", "U78157"]
    assert willows["valid_to"].tolist()[:2] == [date(2024, 3, 31), date(2026, 3, 31)]


def test_mappings_load_in_date_order(tmp_path):
    problems = messages(load(make_root(tmp_path), "practice-mapping", source(OLD)))
    assert problems == [f"{OLD}, column EXTRACT_DATE: the mapping is dated 2022-01-01, but the hierarchy already "
                        "holds changes from 2024-04-01; mappings load in date order (expected a date after "
                        "2024-04-01)"]


def test_a_mapping_must_list_every_practice(tmp_path):
    lines = fixture_text(NEW).splitlines()
    text = "\r\n".join(lines[:50]) + "\r\n"
    problems = messages(load(make_root(tmp_path), "practice-mapping", source(NEW, text)))
    assert len(problems) == 1 and "only 49 of the 348 NWL practices" in problems[0]


def test_bad_codes_and_repeated_practices(tmp_path):
    text = fixture_text(NEW)
    text = text.replace(",E84003,PREMIER", ",E8400,PREMIER").replace(",HA0 4UZ,U78157,", ",HA0 4UZ,78157,")
    repeated = next(line for line in text.splitlines() if ",E84006," in line)
    problems = messages(load(make_root(tmp_path), "practice-mapping", source(NEW, text + repeated + "\r\n")))
    assert any("column PRACTICE_CODE: 'E8400' is not a practice ODS code" in p for p in problems)
    assert any("column PCN_CODE: '78157' is not a PCN code" in p for p in problems)
    assert any("practice E84006 is listed more than once" in p for p in problems)


def test_allow_partial_never_half_loads_a_mapping(tmp_path):
    text = fixture_text(NEW).replace(",E84003,PREMIER", ",E8400,PREMIER")
    prepared = load(make_root(tmp_path), "practice-mapping", source(NEW, text), allow_partial=True)
    assert prepared.outcomes[0].status == "rejected" and not prepared.writable
