"""The orgs table is the real NWL hierarchy: a strict tree with list sizes and deprivation deciles."""

from __future__ import annotations

from metrics.hierarchy import BOROUGH_CODES, build_orgs, tidy_name


def test_counts_meet_the_brief():
    counts = build_orgs()["org_type"].value_counts()
    assert counts["ics"] == 1 and counts["borough"] == 8
    assert counts["pcn"] >= 40 and counts["practice"] >= 300


def test_every_org_has_a_known_parent_one_level_up():
    orgs = build_orgs().set_index("org_code")
    parent_type = orgs["parent_code"].dropna().map(orgs["org_type"])
    child_type = orgs.loc[parent_type.index, "org_type"]
    allowed = {("borough", "ics"), ("pcn", "borough"), ("practice", "pcn"), ("practice", "borough")}
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
