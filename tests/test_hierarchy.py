"""The orgs table is the real NWL hierarchy: a strict tree with list sizes and deprivation deciles, places as data,
and (for real data) dated memberships."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.hierarchy import (
    BOROUGH_CODES, ORG_COLUMNS, PLACES_CSV, QOF_MAPPING_DATE, apply_mapping, build_orgs, latest_change, places,
    tidy_name, valid_on,
)

DATED = build_orgs(dated=True)


def test_counts_meet_the_brief():
    counts = build_orgs()["org_type"].value_counts()
    assert counts["ics"] == 1 and counts["borough"] == 8
    assert counts["pcn"] >= 40 and counts["practice"] >= 300


def test_every_org_has_a_known_parent_one_level_up():
    orgs = build_orgs().set_index("org_code")
    parent_type = orgs["parent_code"].dropna().map(orgs["org_type"])
    child_type = orgs.loc[parent_type.index, "org_type"]
    allowed = {("borough", "ics"), ("place", "ics"), ("pcn", "borough"), ("practice", "pcn"), ("practice", "borough")}
    assert set(zip(child_type, parent_type)) <= allowed
    assert parent_type.notna().all()


def test_practices_carry_list_size_and_decile():
    practices = build_orgs().query("org_type == 'practice'")
    assert (practices["list_size"] > 0).all()
    assert practices["imd_decile"].between(1, 10).all()
    assert practices["imd_decile_imputed"].sum() == 5  # seven blanks, less the two special services dropped


def test_rollups_sum_list_sizes():
    orgs = build_orgs()
    practices = orgs.query("org_type == 'practice'")
    boroughs = orgs.query("org_type == 'borough'").set_index("org_code")["list_size"]
    assert boroughs.to_dict() == practices.groupby("borough_code")["list_size"].sum().to_dict()
    assert orgs.query("org_type == 'ics'")["list_size"].iloc[0] == practices["list_size"].sum()


def test_real_codes_and_names():
    orgs = build_orgs().set_index("org_code")
    assert orgs.loc[BOROUGH_CODES["Harrow"], "org_name"] == "Harrow"
    assert orgs.loc["U89375", "org_name"] == "Brent Central KWH PCN"
    assert orgs.loc["E85124", "list_size"] == 89786  # Babylon GP at Hand, a real outlier


def test_unallocated_practices_hang_off_their_borough():
    orgs = build_orgs()
    unallocated = orgs.query("org_type == 'practice' and pcn_code.isna()")
    assert len(unallocated) > 0
    assert (unallocated["parent_code"] == unallocated["borough_code"]).all()


def test_tidy_name_keeps_acronyms():
    assert tidy_name("HARROW EAST PCN") == "Harrow East PCN"
    assert tidy_name("K AND C SOUTH PCN") == "K and C South PCN"


def test_demo_tree_is_undated_and_has_every_column():
    orgs = build_orgs()
    assert list(orgs.columns) == ORG_COLUMNS
    assert orgs["valid_from"].isna().all() and orgs["valid_to"].isna().all()
    assert not orgs["org_code"].duplicated().any()


def test_places_are_data_and_group_the_bi_borough():
    orgs = build_orgs().set_index("org_code")
    bi = orgs.loc["PLACE_BI_BOROUGH"]
    assert bi["org_type"] == "place" and "Bi-borough" in bi["org_name"]
    kc, wm = BOROUGH_CODES["Kensington & Chelsea"], BOROUGH_CODES["Westminster"]
    assert orgs.loc[kc, "place_code"] == orgs.loc[wm, "place_code"] == "PLACE_BI_BOROUGH"
    assert bi["list_size"] == orgs.loc[kc, "list_size"] + orgs.loc[wm, "list_size"]
    assert len(places()) == 8 and places()["place_code"].nunique() == 7
    assert PLACES_CSV.name == "places.csv"


def test_places_file_must_cover_every_borough_once(monkeypatch, tmp_path):
    bad = tmp_path / "places.csv"
    bad.write_text("place_code,place_name,borough_code\nPLACE_X,X,E09000005\n", encoding="utf-8")
    monkeypatch.setattr("metrics.hierarchy.PLACES_CSV", bad)
    with pytest.raises(ValueError, match="every NWL borough must be in exactly one place"):
        places()


def test_dated_hierarchy_records_moves_and_closures():
    practices = DATED[DATED["org_type"] == "practice"]
    willows = practices[practices["org_code"] == "E84002"].sort_values("valid_from", na_position="first")
    assert willows["pcn_code"].tolist() == ["U89375", "U11559"]  # Brent Central KWH -> Harness South in 2024
    assert willows["valid_to"].iloc[0] == date(2024, 3, 31) and willows["valid_from"].iloc[1] == QOF_MAPPING_DATE
    moved = practices.groupby("org_code").size()
    assert (moved > 1).sum() == 11  # the 11 practices that changed PCN between Jan 2022 and Apr 2024
    closed = practices[practices["valid_to"].notna() & ~practices["org_code"].isin(moved[moved > 1].index)]
    assert len(closed) == 6 + 5  # closed or merged by Apr 2024, and gone before Jan 2022
    assert latest_change(DATED) == QOF_MAPPING_DATE


def test_unallocated_means_no_pcn_and_hangs_off_the_borough():
    now = valid_on(DATED[DATED["org_type"] == "practice"], date(2025, 1, 1)).set_index("org_code")
    assert pd.isna(now.loc["E85625", "pcn_code"])  # moved to 'U' in April 2024
    assert now.loc["E85625", "parent_code"] == BOROUGH_CODES["Hounslow"]
    assert len(now) == 348


def test_membership_valid_on_a_day_is_one_row_per_practice():
    for day in (date(2019, 4, 1), date(2023, 6, 1), date(2026, 1, 1)):
        rows = valid_on(DATED[DATED["org_type"] == "practice"], day)
        assert not rows["org_code"].duplicated().any(), day
    assert len(valid_on(DATED[DATED["org_type"] == "practice"], date(2021, 6, 1))) == 354 + 5


def test_a_pcn_can_span_two_boroughs_but_sits_in_one():
    pcn = DATED.set_index("org_code").loc["U80710"]  # Great West Road: Hounslow, with an ex-Ealing practice
    assert pcn["borough_code"] == BOROUGH_CODES["Hounslow"]
    members = DATED[(DATED["pcn_code"] == "U80710") & (DATED["org_type"] == "practice")]
    assert set(members["borough_code"]) == {BOROUGH_CODES["Hounslow"]}


def test_apply_mapping_adds_a_new_practice_and_pcn():
    current = valid_on(DATED[DATED["org_type"] == "practice"], date(2025, 1, 1)).reset_index(drop=True)
    mapping = pd.DataFrame({"practice_code": current["org_code"], "practice_name": current["org_name"],
                            "postcode": "", "pcn_code": current["pcn_code"].fillna("U"), "pcn_name": ""})
    mapping.loc[len(mapping)] = ["Y09999", "NEW SURGERY", "HA1 1AA", "U99999", "NEW PCN"]
    mapping.loc[mapping["practice_code"] == "E84002", "pcn_code"] = "U99999"
    orgs, changes = apply_mapping(DATED, mapping, date(2026, 4, 1))
    assert changes.opened == ["Y09999"] and changes.moved == ["E84002"] and changes.closed == []
    new_pcn = orgs.set_index("org_code").loc["U99999"]
    assert new_pcn["org_name"] == "New PCN" and new_pcn["borough_code"] == BOROUGH_CODES["Brent"]
    assert new_pcn["valid_from"] == date(2026, 4, 1)
    surgery = orgs.set_index("org_code").loc["Y09999"]
    assert surgery["borough_code"] == BOROUGH_CODES["Brent"] and surgery["postcode"] == "HA1 1AA"
    assert orgs.set_index("org_code").loc["QRV", "list_size"] == DATED.set_index("org_code").loc["QRV", "list_size"]
