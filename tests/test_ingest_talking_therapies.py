"""NHS Talking Therapies monthly measures: both date formats, '-' suppression, MEASURE_VALUE in March 2021."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics.ingest import talking_therapies
from metrics.ingest.readers import read_table
from tests.ingest_fixtures import context, fixture_bytes, fixture_text, load, make_root, messages, source

LAYOUT, HARROW = "nhs_talking_therapies_measures_monthly_layout.csv", "talking_therapies_harrow_ccg_derived.csv"


def parse(name: str, text: str | None = None):
    frame, _ = read_table(name, fixture_bytes(name) if text is None else text.encode())
    return talking_therapies.parse(name, frame, context("talking-therapies"))


def test_real_england_rows_are_skipped_not_loaded():
    parsed = parse(LAYOUT)
    assert parsed.rows.empty and not parsed.problems
    assert parsed.skipped == {"England, region and other areas outside NWL": 10}


def test_both_real_date_formats_and_the_dash_marker_read():
    """The real cells (01/05/2023, 2025-06-01, '-' for June 2025's M004) relabelled as Harrow's recovery counts."""
    frame, _ = read_table(LAYOUT, fixture_bytes(LAYOUT))
    names = ["Count_FinishedCourseTreatment", "Count_NotAtCaseness", "Count_Recovery", "Percentage_Recovery",
             "Count_ReferralsReceived"] * 2
    parsed = talking_therapies.parse(LAYOUT, frame.assign(ORG_CODE1="08E", MEASURE_NAME=names),
                                     context("talking-therapies"))
    assert not parsed.problems
    rows = parsed.rows.set_index("period_start")
    assert list(rows.index) == [date(2023, 5, 1), date(2025, 6, 1)]
    assert rows.loc[date(2025, 6, 1), "period_end"] == date(2025, 6, 30)
    assert rows.loc[date(2023, 5, 1), ["numerator", "denominator"]].tolist() == [14028, 146659 - 103825]
    assert pd.isna(rows.loc[date(2025, 6, 1), "value_given"])  # '-' is suppressed, not 0
    assert parsed.skipped == {"measures no catalogue metric uses": 2}


def test_recovery_rate_from_counts(tmp_path):
    prepared = load(make_root(tmp_path), "talking-therapies", source(HARROW))
    outcome = prepared.outcomes[0]
    assert outcome.status == "accepted", messages(prepared)
    rows = outcome.parsed.rows.set_index("period_start")
    may = rows.loc[date(2020, 5, 1)]
    assert (may["org_code"], may["numerator"], may["denominator"]) == ("E09000015", 58, 110)  # 120 - 10 not at caseness
    assert may["value"] == pytest.approx(100 * 58 / 110)
    june = rows.loc[date(2020, 6, 1)]
    assert june["suppressed"] and pd.isna(june["numerator"]) and june["denominator"] == 119
    assert outcome.parsed.skipped == {"England, region and other areas outside NWL": 1}


def test_march_2021_measure_value_column():
    text = fixture_text(HARROW).replace("MEASURE_VALUE_SUPPRESSED", "MEASURE_VALUE", 1)
    parsed = parse(HARROW, text)
    assert not parsed.problems and len(parsed.rows) == 2


def test_a_missing_part_of_the_rate_is_named():
    text = "\n".join(line for line in fixture_text(HARROW).splitlines()
                     if not ("01/05/2020" in line and "Count_NotAtCaseness" in line))
    parsed = parse(HARROW, text)
    assert len(parsed.problems) == 1
    expected = "talking_therapies_recovery needs Count_NotAtCaseness too for E09000015 in May 2020"
    assert expected in str(parsed.problems[0])


def test_published_percentage_is_checked():
    text = fixture_text(HARROW).replace("Percentage_Recovery,52.7", "Percentage_Recovery,62.7")
    prepared_rows = parse(HARROW, text)
    from metrics.ingest.validate import validate_metric_rows

    validate_metric_rows(prepared_rows, context("talking-therapies"))
    assert any("value 62.7 does not match" in p.message for p in prepared_rows.problems)
