"""Fingertips exports: the three real column-23 names, blank IDs and parent codes, skipped rows, scales, suppression,
and the IMD score (93553) as a practice attribute."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.ingest import fingertips
from metrics.ingest.readers import read_table
from tests.ingest_fixtures import (SMOKING, context, dated_orgs, fixture_bytes, fixture_text, load, make_root, messages,
                                   source)

AE = "fingertips_93930_ae_cut.csv"
IMD = "fingertips_93553_imd_cut.csv"


def parse(name: str, text: str | None = None, ctx=None):
    frame, _ = read_table(name, fixture_bytes(name) if text is None else text.encode())
    return fingertips.parse(name, frame, ctx or context())


@pytest.mark.parametrize(("name", "column_23"), [
    (SMOKING, "Column not used"),
    (AE, "Compared to PCNs (v. 27/10/23) value or percentiles"),
    (IMD, "Compared to percentiles"),
])
def test_column_23_may_have_any_name(name, column_23):
    parsed = parse(name)
    assert not parsed.file_level_problems
    assert f"column 23 is named {column_23!r} in this export (not used)" in parsed.notes


def test_smoking_export_loads_practice_rows_only():
    parsed = parse(SMOKING)
    rows = parsed.rows.set_index(["org_code", "period_start"])
    assert len(rows) == 12 and set(rows.index.get_level_values(0)) == {"E84002", "E84003", "E84006", "E84617",
                                                                        "E85124", "E87003"}
    assert rows.loc[("E84002", date(2022, 4, 1)), ["numerator", "denominator"]].tolist() == [740, 6315]
    assert rows.loc[("E84002", date(2023, 4, 1)), "period_end"] == date(2024, 3, 31)
    assert parsed.skipped == {"category rows (e.g. deprivation deciles) are not loaded": 2,
                              "England area type (computed by the dashboard, not loaded)": 1,
                              "ICBs area type (computed by the dashboard, not loaded)": 1}
    assert not parsed.problems


def test_blank_indicator_id_sex_and_parent_code_on_2023_24_rows():
    parsed = parse(SMOKING)
    latest = parsed.rows[parsed.rows["period_start"] == date(2023, 4, 1)]
    assert len(latest) == 6 and set(latest["metric_id"]) == {"smoking_prevalence"}
    assert set(latest["breakdown"]) == {"all"}  # blank Sex read as persons
    assert any("6 rows had a blank Indicator ID" in n for n in parsed.notes)


def test_blank_id_with_an_unknown_name_is_a_problem():
    blank_id_row = "\n,Smoking prevalence in adults (15+) - current smokers (QOF),,,E84002,"
    assert blank_id_row in fixture_text(SMOKING)
    text = fixture_text(SMOKING).replace(blank_id_row, "\n,Not a real indicator,,,E84002,")
    parsed = parse(SMOKING, text)
    assert any(p.columns == ("Indicator ID",) and "blank" in p.message for p in parsed.problems)


def test_fractional_denominator_is_kept():
    text = fixture_text(SMOKING).replace("740,6315", "740,6315.5")
    parsed = parse(SMOKING, text)
    row = parsed.rows[(parsed.rows["org_code"] == "E84002") & (parsed.rows["period_start"] == date(2022, 4, 1))]
    assert row["denominator"].iloc[0] == 6315.5


def test_suppressed_value_with_a_note_is_not_zero(tmp_path):
    original = "11.71813143,10.94802443,12.53478438,10.52479572,13.02707192,740,6315,"
    assert original in fixture_text(SMOKING)
    text = fixture_text(SMOKING).replace(original, ",,,,,,6315,Value suppressed for disclosure control reasons")
    prepared = load(make_root(tmp_path), "fingertips", source(SMOKING, text))
    rows = prepared.outcomes[0].parsed.rows
    row = rows[(rows["org_code"] == "E84002") & (rows["period_start"] == date(2022, 4, 1))].iloc[0]
    assert row["suppressed"] and pd.isna(row["numerator"]) and row["denominator"] == 6315
    assert prepared.outcomes[0].status == "accepted"


def test_per_1000_values_are_checked_and_stored_per_1000(tmp_path):
    prepared = load(make_root(tmp_path), "fingertips", source(AE))
    outcome = prepared.outcomes[0]
    assert outcome.status == "accepted", messages(prepared)
    row = outcome.parsed.rows.set_index("org_code").loc["E84017"]
    assert row["metric_id"] == "ae_attendances_0_4" and row["value_scale"] == 1000  # published per 1,000
    assert row["value"] == pytest.approx(310 / 400 * 1000)  # the catalogue's unit is per 1,000 too


def test_pcn_rows_are_skipped_with_a_note(tmp_path):
    parsed = load(make_root(tmp_path), "fingertips", source(AE)).outcomes[0].parsed
    assert parsed.skipped["PCNs (v. 27/10/23) area type (computed by the dashboard, not loaded)"] == 2
    assert any(n.startswith("2 PCN rows not loaded: the dashboard's PCN figures are the sums") for n in parsed.notes)


def test_a_value_that_disagrees_with_count_and_denominator_is_rejected(tmp_path):
    text = fixture_text(AE).replace("775,", "785,", 1)
    prepared = load(make_root(tmp_path), "fingertips", source(AE, text))
    assert any("value 785 does not match" in m for m in messages(prepared))


def test_unmapped_indicator_names_the_catalogue_field():
    parsed = parse(AE, fixture_text(AE).replace("93930,", "12345,"))
    assert len(parsed.problems) == 1
    problem = parsed.problems[0]
    assert problem.columns == ("Indicator ID",) and len(problem.rows) == 2  # the two GP rows; others are skipped
    assert "12345 (A&E attendances (0 to 4 years)) is not mapped" in problem.message
    assert "fingertips_indicator_ids" in problem.message


def test_imd_export_updates_the_practices_scores_and_leaves_deciles(tmp_path):
    prepared = load(make_root(tmp_path), "fingertips", source(IMD, fixture_text(IMD).replace(
        "23.820223476298", "30.5")))
    outcome = prepared.outcomes[0]
    assert outcome.status == "accepted" and outcome.parsed.kind == "practice_attributes", messages(prepared)
    assert outcome.loaded == 2 and prepared.orgs_changed
    practices = prepared.orgs[prepared.orgs["org_type"] == "practice"].set_index("org_code")
    before = dated_orgs()[dated_orgs()["org_type"] == "practice"].set_index("org_code")
    assert (practices.loc[["E84002"], "imd_score"] == 30.5).all()
    # the reference hierarchy holds the same published score to 3 decimals; the export has it in full
    assert practices.loc[["E85124"], "imd_score"].to_numpy() == pytest.approx(
        before.loc[["E85124"], "imd_score"].to_numpy(), abs=5e-4)
    assert practices["imd_decile"].equals(before["imd_decile"])  # a regional export gives no national decile
    assert any("imd_decile left as it was" in n for n in outcome.parsed.notes)


def test_a_national_imd_export_gives_national_deciles(tmp_path):
    header, *lines = fixture_text(IMD).splitlines()
    gp = next(line for line in lines if ",E84002," in line)
    others = [gp.replace("E84002", f"Z{i:05d}").replace("23.820223476298", str(i / 100)) for i in range(5999)]
    prepared = load(make_root(tmp_path), "fingertips", source(IMD, "\n".join([header, gp, *others])))
    parsed = prepared.outcomes[0].parsed
    # 23.82 is below the made-up practices' 23.83 to 59.98 (3,616 of them), so 3,617th most deprived of 6,000
    assert parsed.rows.set_index("org_code").loc["E84002", "national_decile"] == 7
    assert parsed.skipped["practices outside NWL"] == 5999
    assert any("national deciles (1 = most deprived)" in n for n in parsed.notes)
    practice = prepared.orgs[prepared.orgs["org_code"] == "E84002"]
    assert (practice["imd_decile"] == 7).all() and not practice["imd_decile_imputed"].any()
    before = dated_orgs().set_index("org_code").loc[["E84003"], "imd_decile"].to_numpy()
    assert (prepared.orgs.set_index("org_code").loc[["E84003"], "imd_decile"].to_numpy() == before).all()


def test_imd_rows_in_a_metric_export_are_a_problem():
    imd_gp = next(line for line in fixture_text(IMD).splitlines() if ",E85124," in line)
    parsed = parse(SMOKING, fixture_text(SMOKING) + imd_gp + "\r\n")
    assert [p.columns for p in parsed.problems] == [("Indicator ID",)]
    assert "load them as a file of their own" in parsed.problems[0].message


def test_practices_outside_nwl_are_skipped_not_errors():
    text = fixture_text(SMOKING).replace("E84006", "B85010")
    parsed = parse(SMOKING, text)
    assert parsed.skipped["practices outside NWL"] == 2 and not parsed.problems


def test_missing_column_is_named():
    text = fixture_text(SMOKING).replace("Denominator,Value note", "Denom,Value note", 1)
    parsed = parse(SMOKING, text)
    assert [p.columns for p in parsed.file_level_problems] == [("Denominator",)]
    assert "required column missing" in parsed.file_level_problems[0].message


@pytest.mark.parametrize(("text", "bounds"), [
    ("2022/23", (date(2022, 4, 1), date(2023, 3, 31))),
    ("2019", (date(2019, 1, 1), date(2019, 12, 31))),
    ("2023/24 Q4", (date(2024, 1, 1), date(2024, 3, 31))),
    ("Feb 2024", (date(2024, 2, 1), date(2024, 2, 29))),
])
def test_time_periods(text, bounds):
    assert fingertips.period_bounds(text) == bounds


@pytest.mark.parametrize("text", ["2022/24", "2018 - 20", "Q1"])
def test_unknown_time_periods_say_what_is_expected(text):
    with pytest.raises(ValueError, match="Fingertips time period like 2022/23"):
        fingertips.period_bounds(text)
