"""One bad-input test per rule: each changes one thing in a real-numbers tidy file and expects one named problem."""

from __future__ import annotations

import pytest

from metrics.ingest.load import Source
from tests.ingest_fixtures import fixture_text, load, make_root, messages, source

TIDY = "tidy_smoking_example.csv"
FIRST = "smoking_prevalence,2022-04-01,2023-03-31,E84002,all,,740,6315,11.7"
FLU = "flu_uptake_65_plus,2026-09-01,2026-09-30,E84002,{breakdown},{value},40,100,"


def problems_after(tmp_path, replacement: str, original: str = FIRST, **options) -> list[str]:
    text = fixture_text(TIDY)
    assert original in text
    prepared = load(make_root(tmp_path), "tidy", source(TIDY, text.replace(original, replacement)), **options)
    assert prepared.outcomes[0].status == "rejected"
    assert not prepared.writable  # strict: nothing is written
    return messages(prepared)


@pytest.mark.parametrize(("replacement", "expected"), [
    # metric ids known to the catalogue
    (FIRST.replace("smoking_prevalence", "smoking_rate"),
     "row 2, column metric_id: 'smoking_rate' is not a metric in the catalogue"),
    # types
    (FIRST.replace(",740,", ",seven hundred,"),
     "row 2, column numerator: 'seven hundred' is not a count (expected a count, or a suppression marker"),
    # dates
    (FIRST.replace("2023-03-31", "2023-02-30"), "row 2, column period_end: '2023-02-30' is not an ISO date"),
    # periods as the metric's frequency says
    (FIRST.replace("2023-03-31", "2022-06-30"),
     "row 2, columns period_start, period_end: 2022-04-01 to 2022-06-30 is not one annual period"),
    # org codes known to the hierarchy
    (FIRST.replace("E84002", "Z99999"), "row 2, column org_code: 'Z99999' is not an organisation in the NWL hierarchy"),
    # ... for that period: E84696 closed before January 2022
    (FIRST.replace("E84002", "E84696"),
     "row 2, columns org_code, period_start: E84696 is not in the hierarchy on 2022-04-01 (it is valid from the "
     "start to 2021-12-31)"),
    # ... at the metric's lowest level
    (FIRST.replace("E84002", "E09000015"),
     "row 2, column org_code: E09000015 is a borough, but smoking_prevalence is stored at practice level"),
    # numerator <= denominator for percentages
    (FIRST.replace(",740,6315,11.7", ",7400,6315,"),
     "row 2, columns numerator, denominator: numerator 7400 is larger than denominator 6315"),
    # no negative counts
    (FIRST.replace(",740,6315,11.7", ",-740,6315,"), "row 2, column numerator: -740 is negative"),
    # values consistent with numerator / denominator
    (FIRST.replace(",11.7", ",17.1"), "row 2, column value: value 17.1 does not match numerator/denominator"),
    # a published numerator needs a denominator
    (FIRST.replace(",740,6315,11.7", ",740,,"), "row 2, column denominator: a numerator needs a denominator"),
])
def test_each_rule_names_row_column_and_expectation(tmp_path, replacement, expected):
    problems = problems_after(tmp_path, replacement)
    assert len(problems) == 1, problems
    assert problems[0] == f"{TIDY}, {expected}" or problems[0].startswith(f"{TIDY}, {expected}"), problems[0]


def test_duplicate_rows_name_both_rows(tmp_path):
    problems = problems_after(tmp_path, FIRST + "\n" + FIRST)
    assert problems == [f"{TIDY}, rows 2, 3, columns metric_id, period_start, org_code, breakdown: the same metric, "
                        "period, organisation and breakdown appears 2 times (smoking_prevalence, 2022-04-01, E84002, "
                        "all); expected one row each"]


def test_zero_denominator_with_events(tmp_path):
    rate = "emergency_admissions_65_plus,2026-09-01,2026-09-30,E84002,all,,3,0,"
    problems = problems_after(tmp_path, FIRST + "\n" + rate)
    assert problems == [f"{TIDY}, row 3, column denominator: denominator is 0 with a numerator of 3 "
                        "(expected a positive denominator)"]


@pytest.mark.parametrize(("breakdown", "value", "expected"), [
    ("all", "Female", "column breakdown_value: 'Female' given for a total"),
    ("religion", "None", "column breakdown: 'religion' is not a breakdown of flu_uptake_65_plus"),
    ("sex", "", "column breakdown_value: breakdown 'sex' needs a breakdown_value"),
])
def test_breakdowns_follow_the_catalogue(tmp_path, breakdown, value, expected):
    problems = problems_after(tmp_path, FIRST + "\n" + FLU.format(breakdown=breakdown, value=value))
    assert problems == [f"{TIDY}, row 3, {expected}" + problems[0].split(expected, 1)[1]]


def test_a_sex_breakdown_the_catalogue_lists_is_accepted(tmp_path):
    text = fixture_text(TIDY) + FLU.format(breakdown="sex", value="Female") + "\n"
    prepared = load(make_root(tmp_path), "tidy", source(TIDY, text))
    assert prepared.outcomes[0].status == "accepted", messages(prepared)


def test_only_twenty_problems_are_listed_then_a_count(tmp_path):
    bad = "\n".join(FIRST.replace("E84002", f"Z{i:05d}") for i in range(25))
    text = fixture_text(TIDY).replace(FIRST, bad)
    prepared = load(make_root(tmp_path), "tidy", source(TIDY, text))
    report = prepared.report()
    assert report.count("is not an organisation in the NWL hierarchy") == 20
    assert "... and 5 more problem(s)." in report
    assert "Nothing was written" in report


def test_the_same_row_in_two_files_is_a_problem_in_both(tmp_path):
    copy = Source("copy.csv", fixture_text(TIDY).encode())
    prepared = load(make_root(tmp_path), "tidy", source(TIDY), copy)
    problems = messages(prepared)
    assert any(m.startswith(f"{TIDY}, rows 2, 3, 4, 5, 6") and "also in copy.csv" in m for m in problems)
    assert any(m.startswith("copy.csv, rows 2, 3, 4, 5, 6") and f"also in {TIDY}" in m for m in problems)
    assert not prepared.writable
