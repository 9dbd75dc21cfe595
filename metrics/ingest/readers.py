"""Reading published files as they really come: UTF-8 with or without a BOM (or Excel's Windows-1252), CRLF
line endings, quoted multi-line cells, CSV or Excel or parquet; dates in every format NHS releases use; counts
with suppression markers.

Every table is read as text (one string per cell, blanks as ''), so a value is judged by the rule that knows
what it should be, and a bad cell can be reported exactly as the file had it.
"""

from __future__ import annotations

import io
import math
import re
from datetime import date, datetime

import pandas as pd

# Markers publishers use for "not published" (small-number suppression or not available). Kept as suppressed,
# never read as zero. Talking Therapies writes '-', Trafford-style tidy files 'NA', others '*'.
SUPPRESSION_MARKERS = frozenset({"", "*", "-", "NA", "N/A", "n/a", "na"})
DATE_FORMATS = ("%Y-%m-%d", "%d%b%Y", "%d/%m/%Y", "%Y%m%d")
DATE_HELP = "a date like 2026-04-01, 01APR2026, 01Apr2026 or 01/04/2026 (day first)"
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


class UnreadableFile(ValueError):
    """The file cannot be read as a table at all (not CSV/Excel/parquet, or not text)."""


def decode(data: bytes) -> tuple[str, str]:
    """Text of a file and the encoding used: UTF-8 (a BOM is dropped), else Windows-1252 as Excel saves CSV."""
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def _cell_text(value: object) -> str:
    """One Excel or parquet cell as the text a CSV would hold (dates ISO, whole numbers without '.0')."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def read_table(name: str, data: bytes) -> tuple[pd.DataFrame, list[str]]:
    """The file as a frame of strings, plus notes on how it was read (encoding, line endings)."""
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    notes: list[str] = []
    try:
        if suffix in ("xlsx", "xlsm"):
            frame = pd.read_excel(io.BytesIO(data), dtype=object, engine="openpyxl")
            frame = frame.map(_cell_text)
        elif suffix == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
            frame = frame.astype(object).map(_cell_text)
        else:
            text, encoding = decode(data)
            if data.startswith(b"\xef\xbb\xbf"):
                notes.append("UTF-8 with a byte-order mark")
            if encoding != "UTF-8":
                notes.append(f"not UTF-8; read as {encoding}")
            if "\r\n" in text:
                notes.append("Windows (CRLF) line endings")
            frame = pd.read_csv(io.StringIO(text, newline=""), dtype=str, keep_default_na=False,
                                skip_blank_lines=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure means the same thing to the user
        raise UnreadableFile(f"cannot be read as a {'spreadsheet' if suffix.startswith('xls') else suffix or 'CSV'}"
                             f" table: {exc}") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.map(lambda v: v.strip() if isinstance(v, str) else _cell_text(v)), notes


def first_row_number(name: str) -> int:
    """Row number of the first record as the analyst sees it: 2 in a CSV or sheet (row 1 is the header)."""
    return 1 if name.lower().endswith(".parquet") else 2


def parse_date(text: str) -> date:
    """A date in any of the formats NHS files use.

    >>> [parse_date(t).isoformat() for t in ("01JAN2021", "01Jan2022", "2026-04-01", "01/05/2023")]
    ['2021-01-01', '2022-01-01', '2026-04-01', '2023-05-01']
    """
    cleaned = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not {DATE_HELP}")


def parse_iso_date(text: str) -> date:
    """A strict ISO date (the tidy template's only format)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not an ISO date YYYY-MM-DD")


def parse_number(text: str) -> tuple[float | None, bool]:
    """(number, suppressed) from a cell: a suppression marker gives (None, True); raises on anything else.

    >>> parse_number("46608551.5"), parse_number("*"), parse_number("1,234")
    ((46608551.5, False), (None, True), (1234.0, False))
    """
    cleaned = text.strip()
    if cleaned in SUPPRESSION_MARKERS:
        return None, True
    if _THOUSANDS.match(cleaned):
        cleaned = cleaned.replace(",", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"{text!r} is not a number")
    return number, False


def decimals_tolerance(text: str) -> float:
    """Half a unit in the last decimal place a value was given to: how far a rounded value may be off.

    >>> decimals_tolerance("71.2"), decimals_tolerance("2012")
    (0.05, 0.5)
    """
    cleaned = text.strip().replace(",", "")
    if "e" in cleaned.lower():
        return abs(float(cleaned)) * 1e-9
    places = len(cleaned.split(".", 1)[1]) if "." in cleaned else 0
    return 0.5 * 10 ** -places
