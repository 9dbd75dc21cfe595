"""Reporting periods: months as YYYY-MM strings in the URL, financial quarters and years in labels."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date

import pandas as pd

MONTH_FORMAT = "%Y-%m"
MONTH_PATTERN = r"\d{4}-(0[1-9]|1[0-2])"  # a month as it travels in URLs and on the command line


def month_end(month: str) -> date:
    """Last day of a YYYY-MM month: the cut-off for 'the latest period by this month'."""
    year, mon = (int(part) for part in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def month_start(month: str) -> pd.Timestamp:
    """First day of a YYYY-MM month."""
    return pd.Timestamp(f"{month}-01")


def months_before(month: str, count: int) -> str:
    """The month ``count`` months before a YYYY-MM month: ``months_before('2026-09', 23) == '2024-10'``."""
    return (pd.Period(month, freq="M") - count).strftime(MONTH_FORMAT)


def month_of(day: date) -> str:
    """The YYYY-MM month a date falls in."""
    return day.strftime(MONTH_FORMAT)


def month_options(first: date, last: date) -> list[str]:
    """Months from ``first`` to ``last`` inclusive, newest first (as the period picker lists them)."""
    months = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="M")
    return [p.strftime(MONTH_FORMAT) for p in reversed(months)]


def month_name(month: str) -> str:
    """'2026-09' -> 'September 2026'."""
    return month_start(month).strftime("%B %Y")


def financial_year(start: date | pd.Timestamp) -> str:
    """'2025/26' for any date from April 2025 to March 2026."""
    year = start.year if start.month >= 4 else start.year - 1
    return f"{year}/{str(year + 1)[-2:]}"


def period_label(frequency: str, start: date | pd.Timestamp) -> str:
    """Human label of a period: 'Sep 2026', 'Q2 2026/27' or '2025/26'."""
    start = pd.Timestamp(start)
    if frequency == "monthly":
        return start.strftime("%b %Y")
    if frequency == "quarterly":
        return f"Q{(start.month - 4) % 12 // 3 + 1} {financial_year(start)}"
    return financial_year(start)


def is_in_season(season_months: tuple[int, ...], month: str) -> bool:
    return int(month.split("-")[1]) in season_months


def default_trend_start(months: Sequence[str], end: str, season_months: tuple[int, ...] = ()) -> str:
    """Where a trend chart starts unless the user says otherwise: at a start of year a reader counts from (a
    financial year's April, or a seasonal metric's first season month), two whole years or seasons before the one
    ``end`` falls in; never before the first month held (then the earliest such start, else the first month).

    >>> default_trend_start([f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"], "2026-09")
    '2023-04'
    >>> default_trend_start(["2023-01", "2024-09", "2025-02"], "2026-10", (9, 10, 11, 12, 1, 2))
    '2024-09'
    """
    first = season_months[0] if season_months else 4
    last = pd.Period(end, freq="M")
    start = f"{(last.year if last.month >= first else last.year - 1) - 2}-{first:02d}"
    held = sorted(m for m in months if m <= end)
    starts = [m for m in held if int(m[5:]) == first]
    return next((m for m in starts if m >= start), starts[-1] if starts else (held or list(months))[0])
