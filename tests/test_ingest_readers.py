"""Reading real files: BOM, CRLF, Windows-1252, Excel and parquet cells, every NHS date format, suppression markers."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest

from metrics.ingest.readers import (
    SUPPRESSION_MARKERS, UnreadableFile, decimals_tolerance, first_row_number, parse_date, parse_iso_date,
    parse_number, read_table,
)
from tests.ingest_fixtures import SMOKING, fixture_bytes


@pytest.mark.parametrize(("text", "expected"), [
    ("01JAN2021", date(2021, 1, 1)),  # 2021 list sizes
    ("01Jan2022", date(2022, 1, 1)),  # 2022 mapping
    ("2026-04-01", date(2026, 4, 1)),  # 2026 list sizes, Talking Therapies 2025
    ("01/05/2023", date(2023, 5, 1)),  # Talking Therapies 2023: day first
    ("20240930", date(2024, 9, 30)),  # CQRS ACH_DATE
])
def test_every_real_date_format(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2023-13-01", "32/01/2023", "Jan 2023", ""])
def test_bad_dates_say_what_was_expected(text):
    with pytest.raises(ValueError, match="is not a date like 2026-04-01"):
        parse_date(text)


def test_iso_dates_only_for_the_tidy_template():
    assert parse_iso_date("2026-09-01") == date(2026, 9, 1)
    with pytest.raises(ValueError, match="ISO date"):
        parse_iso_date("01/09/2026")


@pytest.mark.parametrize("marker", sorted(SUPPRESSION_MARKERS))
def test_suppression_markers_are_not_zero(marker):
    assert parse_number(marker) == (None, True)


def test_numbers_fractional_thousands_and_garbage():
    assert parse_number("46608551.5") == (46608551.5, False)  # the real fractional England denominator
    assert parse_number("1,234") == (1234.0, False)
    assert parse_number("-5") == (-5.0, False)  # negative is a number (a rule rejects it later)
    for bad in ("abc", "1,2", "nan", "inf"):
        with pytest.raises(ValueError, match="is not a number"):
            parse_number(bad)


def test_tolerance_follows_the_decimals_given():
    assert decimals_tolerance("71.2") == pytest.approx(0.05)
    assert decimals_tolerance("11.71813143") == pytest.approx(5e-9)
    assert decimals_tolerance("775") == 0.5


def test_bom_and_crlf_read_the_same_as_plain():
    plain, plain_notes = read_table(SMOKING, fixture_bytes(SMOKING))
    bom, bom_notes = read_table("x.csv", fixture_bytes("fingertips_91547_smoking_bom.csv"))
    pd.testing.assert_frame_equal(plain, bom)
    assert plain.columns[0] == "Indicator ID"  # no BOM left glued to the first header
    assert "Windows (CRLF) line endings" in plain_notes
    assert "UTF-8 with a byte-order mark" in bom_notes and "UTF-8 with a byte-order mark" not in plain_notes
    assert not plain.map(lambda v: "\r" in v).any().any()


def test_windows_1252_is_read_with_a_note():
    frame, notes = read_table("x.csv", "name\r\nSt Mary\x92s\r\n".encode("latin-1"))
    assert frame.iloc[0, 0] == "St Mary’s"
    assert any("Windows-1252" in n for n in notes)


def test_excel_and_parquet_cells_become_csv_text(tmp_path):
    frame = pd.DataFrame({"period_start": [datetime(2026, 9, 1)], "numerator": [12.0], "value": [71.25],
                          "breakdown_value": [None]})
    xlsx = io.BytesIO()
    frame.to_excel(xlsx, index=False)
    from_excel, _ = read_table("extract.xlsx", xlsx.getvalue())
    assert from_excel.iloc[0].tolist() == ["2026-09-01", "12", "71.25", ""]
    parquet = io.BytesIO()
    frame.assign(period_start=date(2026, 9, 1)).to_parquet(parquet, index=False)
    from_parquet, _ = read_table("extract.parquet", parquet.getvalue())
    assert from_parquet.iloc[0].tolist() == ["2026-09-01", "12", "71.25", ""]
    assert first_row_number("extract.parquet") == 1 and first_row_number("extract.xlsx") == 2


def test_not_a_table_is_unreadable():
    with pytest.raises(UnreadableFile, match="cannot be read"):
        read_table("extract.parquet", b"PAR1 this is not parquet")
