"""Helpers every format parser shares: finding columns under their old and new names, reading numbers and
dates cell by cell with a problem recorded for each bad cell, and the context a load runs in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from metrics.catalogue import Catalogue
from metrics.ingest.model import LoadOptions, Parsed
from metrics.ingest.readers import parse_number


@dataclass(frozen=True)
class Context:
    """What a parser may look at: the catalogue, the dated hierarchy the new snapshot will hold, the options."""

    catalogue: Catalogue
    orgs: pd.DataFrame
    options: LoadOptions

    def known_codes(self, org_type: str) -> set[str]:
        return set(self.orgs.loc[self.orgs["org_type"] == org_type, "org_code"])


def find_columns(parsed: Parsed, frame: pd.DataFrame, spec: dict[str, tuple[str, ...]],
                 optional: frozenset[str] = frozenset()) -> dict[str, str]:
    """Canonical name -> the file's column, accepting every name a release has used (case-insensitive).

    A missing required column is a file-level problem naming the column and the names accepted.
    """
    by_upper = {c.upper(): c for c in frame.columns}
    found: dict[str, str] = {}
    for canonical, names in spec.items():
        match = next((by_upper[n.upper()] for n in names if n.upper() in by_upper), None)
        if match is not None:
            found[canonical] = match
        elif canonical not in optional:
            accepted = " or ".join(repr(n) for n in names)
            parsed.problem([], [names[0]], f"required column missing (expected a column named {accepted})")
    return found


def numbers(parsed: Parsed, values: pd.Series, rows: pd.Series, column: str,
            what: str = "a number") -> tuple[list[float | None], list[bool]]:
    """Each cell as (number or None, suppressed); a cell that is neither is a problem naming its row."""
    out, suppressed, bad = [], [], []
    for text, row in zip(values, rows):
        try:
            number, marker = parse_number(text)
        except ValueError:
            bad.append((row, text))
            number, marker = None, False
        out.append(number)
        suppressed.append(marker)
    for row, text in bad:
        parsed.problem([row], [column], f"{text!r} is not {what} (expected {what}, or a suppression marker: "
                                        "blank, *, -, NA)")
    return out, suppressed


def dates(parsed: Parsed, values: pd.Series, rows: pd.Series, column: str,
          parser: Callable[[str], date]) -> list[date | None]:
    """Each cell as a date; a bad one is a problem with the formats accepted."""
    out: list[date | None] = []
    for text, row in zip(values, rows):
        try:
            out.append(parser(text))
        except ValueError as exc:
            parsed.problem([row], [column], str(exc))
            out.append(None)
    return out


def row_numbers(frame: pd.DataFrame, first_row: int) -> pd.Series:
    return pd.Series(range(first_row, first_row + len(frame)), index=frame.index)


def empty_metric_rows() -> pd.DataFrame:
    return pd.DataFrame(columns=["metric_id", "period_start", "period_end", "org_code", "breakdown",
                                 "breakdown_value", "numerator", "denominator", "value", "suppressed", "source_row",
                                 "value_given", "value_tol", "value_scale"])


def rounded_five(parsed: Parsed, numerators: list, suppressed: list[bool]) -> list[bool]:
    """Sources that round counts to 5 (the National Diabetes Audit) show every count of 1-7 as 5: such a 5 is
    suppressed, not a count."""
    out = [s or n == 5 for n, s in zip(numerators, suppressed)]
    fives = sum(o and not s for o, s in zip(out, suppressed))
    if fives:
        parsed.notes.append(f"{fives} numerators of 5 kept as suppressed (counts rounded to 5 show 1-7 as 5)")
    return out
