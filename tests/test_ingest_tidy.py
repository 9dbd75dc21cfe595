"""The tidy template: exactly its columns, ISO dates, CSV / Excel / parquet, suppression markers, rounding to 5."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from metrics.ingest.load import Source
from tests.ingest_fixtures import fixture_text, load, make_root, messages, source

TIDY = "tidy_smoking_example.csv"


def test_template_example_loads(tmp_path):
    prepared = load(make_root(tmp_path), "tidy", source(TIDY))
    outcome = prepared.outcomes[0]
    assert outcome.status == "accepted", messages(prepared)
    rows = outcome.parsed.rows.set_index(["org_code", "period_start"])
    assert rows.loc[("E84002", date(2022, 4, 1)), "value"] == pytest.approx(100 * 740 / 6315)
    assert rows.loc[("E84003", date(2023, 4, 1)), "value"] == pytest.approx(100 * 1049 / 11995)  # no value given


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_excel_and_parquet_hold_the_same_template(tmp_path, suffix):
    frame = pd.read_csv(io.StringIO(fixture_text(TIDY)), dtype={"breakdown_value": str}, keep_default_na=False)
    frame["period_start"] = pd.to_datetime(frame["period_start"])  # Excel holds real dates, not text
    buffer = io.BytesIO()
    if suffix == "xlsx":
        frame.to_excel(buffer, index=False)
    else:
        frame.assign(period_start=frame["period_start"].dt.date).to_parquet(buffer, index=False)
    prepared = load(make_root(tmp_path), "tidy", Source(f"extract.{suffix}", buffer.getvalue()))
    assert prepared.outcomes[0].status == "accepted", messages(prepared)
    assert prepared.outcomes[0].loaded == 5


def test_extra_and_missing_columns_are_named(tmp_path):
    text = fixture_text(TIDY).replace("denominator,value", "denominator_count,value", 1).replace(
        "metric_id,", "notes,metric_id,", 1)
    problems = messages(load(make_root(tmp_path), "tidy", source(TIDY, text)))
    assert any("column denominator: required column missing" in m for m in problems)
    assert any("columns notes, denominator_count: unexpected column(s)" in m for m in problems)


def test_dates_must_be_iso(tmp_path):
    text = fixture_text(TIDY).replace("2022-04-01,2023-03-31,E84002", "01/04/2022,2023-03-31,E84002")
    problems = messages(load(make_root(tmp_path), "tidy", source(TIDY, text)))
    assert problems == [f"{TIDY}, row 2, column period_start: '01/04/2022' is not an ISO date YYYY-MM-DD"]


@pytest.mark.parametrize("marker", ["*", "-", "NA", ""])
def test_suppressed_numerators_are_kept_as_suppressed(tmp_path, marker):
    text = fixture_text(TIDY).replace(",740,6315,11.7", f",{marker},6315,")
    prepared = load(make_root(tmp_path), "tidy", source(TIDY, text))
    assert prepared.outcomes[0].status == "accepted", messages(prepared)
    row = prepared.outcomes[0].parsed.rows.iloc[0]
    assert row["suppressed"] and pd.isna(row["numerator"]) and row["denominator"] == 6315 and pd.isna(row["value"])


def test_counts_rounded_to_five(tmp_path):
    text = fixture_text(TIDY).replace(",740,6315,11.7", ",5,60,8.1").replace(",1016,11263,9.0", ",15,60,24.6")
    root = make_root(tmp_path)
    rounded = load(root, "tidy", source(TIDY, text), counts_rounded_to_5=True)
    rows = rounded.outcomes[0].parsed.rows
    assert rows["suppressed"].tolist()[:2] == [True, False]  # 5 stands for 1-7; 15 is a (rounded) count
    assert rounded.outcomes[0].status == "accepted", messages(rounded)  # 24.6 is within rounding of 15/60
    exact = load(root, "tidy", source(TIDY, text))
    assert any("value 24.6 does not match" in m for m in messages(exact))
