"""Patients Registered at a GP Practice: old and new column names, 5-year bands, NWL filter, list sizes in orgs."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.ingest import gp_list_size
from metrics.ingest.load import commit
from metrics.ingest.readers import read_table
from tests.ingest_fixtures import context, fixture_bytes, fixture_text, load, make_root, messages, source

OLD, NEW, LAYOUT, BANDS = ("gp_list_size_2021-01_cut.csv", "gp_list_size_2026-04_nwl_derived.csv",
                           "gp_list_size_2026-04_layout.csv", "gp_quin_age_2017-10_cut.csv")


def parse(name: str, text: str | None = None):
    frame, _ = read_table(name, fixture_bytes(name) if text is None else text.encode())
    return gp_list_size.parse(name, frame, context("gp-list-size"))


@pytest.mark.parametrize(("name", "extract_date"), [(OLD, date(2021, 1, 1)), (NEW, date(2026, 4, 1))])
def test_old_ccg_and_new_sub_icb_names(name, extract_date):
    parsed = parse(name)
    assert not parsed.problems
    assert set(parsed.rows["extract_date"]) == {extract_date}
    assert parsed.rows.set_index("org_code").loc["E85124", "patients"] == 89786  # Babylon GP at Hand


def test_practice_closed_by_2022_is_known_in_2021(tmp_path):
    prepared = load(make_root(tmp_path), "gp-list-size", source(OLD))
    assert prepared.outcomes[0].status == "accepted", messages(prepared)
    assert "E84696" in set(prepared.outcomes[0].parsed.rows["org_code"])


def test_but_not_in_2026(tmp_path):
    text = fixture_text(NEW).replace("E84003", "E84696")
    problems = messages(load(make_root(tmp_path), "gp-list-size", source(NEW, text)))
    assert problems == [f"{NEW}, row 3, column CODE: practice E84696 is not in the NWL hierarchy on 2026-04-01 "
                        "(it is valid from the start to 2021-12-31)"]


def test_national_rows_outside_nwl_are_skipped():
    parsed = parse(LAYOUT)
    assert parsed.rows.empty and not parsed.problems
    assert parsed.skipped == {"practices outside NWL (by sub-ICB / CCG code)": 3}


def test_five_year_band_file_reads_bands_by_sex():
    nwl = fixture_text(BANDS).replace("B85010", "E84002")  # the real rows, relabelled as an NWL practice
    parsed = parse(BANDS, nwl)
    assert not parsed.problems
    rows = parsed.rows
    assert len(rows) == 43 and set(rows["sex"]) == {"ALL", "FEMALE", "MALE"}
    assert {"0_4", "95+", "ALL"} <= set(rows["age_band"])
    bands = rows[(rows["sex"] == "FEMALE") & (rows["age_band"] != "ALL")]["patients"].sum()
    assert bands == rows[(rows["sex"] == "FEMALE") & (rows["age_band"] == "ALL")]["patients"].iloc[0]
    assert parse(BANDS).skipped == {"practices outside NWL (not in the NWL hierarchy)": 43}


def test_negative_and_fractional_patients_are_rejected(tmp_path):
    text = fixture_text(OLD).replace(",6905", ",-6905").replace(",9257", ",9257.5")
    problems = messages(load(make_root(tmp_path), "gp-list-size", source(OLD, text)))
    assert problems == [f"{OLD}, row 2, column NUMBER_OF_PATIENTS: -6905 is negative (expected a count)",
                        f"{OLD}, row 3, column NUMBER_OF_PATIENTS: 9257.5 is not a whole number of patients"]


def test_list_sizes_become_the_snapshot_table_and_orgs_list_size(tmp_path):
    root = make_root(tmp_path)
    result, _ = commit(load(root, "gp-list-size", source(NEW)), root)
    sizes = pd.read_parquet(result.path / "list_sizes.parquet")
    assert len(sizes) == 4 and set(sizes["extract_date"]) == {date(2026, 4, 1)}
    orgs = pd.read_parquet(result.path / "orgs.parquet").set_index("org_code")
    assert orgs.loc["E84003", "list_size"] == 9257
    # the metric values were carried over untouched
    assert len(pd.read_parquet(result.path / "metric_values.parquet")) == 3
