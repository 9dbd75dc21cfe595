"""What the ingest pipeline passes around: problems found, parsed files, and the options a load runs with.

Problems are pydantic records so the page, the command line and the rejected-rows side file all describe a
problem the same way: which file, which row(s), which column(s), and what was expected.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from metrics.ingest.formats import FORMAT_NAMES

MAX_LISTED_PROBLEMS = 20
Kind = Literal["metric_values", "list_sizes", "mapping", "practice_attributes"]
METRIC_COLUMNS = ["metric_id", "period_start", "period_end", "org_code", "breakdown", "breakdown_value",
                  "numerator", "denominator", "value", "suppressed"]
LIST_SIZE_COLUMNS = ["org_code", "extract_date", "sex", "age_band", "patients"]
MAPPING_COLUMNS = ["practice_code", "practice_name", "postcode", "pcn_code", "pcn_name"]
# A practice attribute published as a Fingertips indicator (IMD score, 93553): the newest value per practice
# goes into orgs; imd_decile is the national decile when the file is a national export (else blank).
ATTRIBUTE_COLUMNS = ["org_code", "attribute", "period_start", "value", "national_decile"]


class Problem(BaseModel):
    """One thing wrong with a file; ``rows`` empty means the whole file (e.g. a missing column)."""

    model_config = ConfigDict(frozen=True)

    file: str
    rows: tuple[int, ...] = ()
    columns: tuple[str, ...] = ()
    message: str = Field(min_length=3)

    def __str__(self) -> str:
        where = [self.file]
        if self.rows:
            more = f" and {len(self.rows) - 5} more" if len(self.rows) > 5 else ""
            shown = ", ".join(map(str, self.rows[:5])) + more
            where.append(f"row{'s' if len(self.rows) > 1 else ''} {shown}")
        if self.columns:
            where.append(f"column{'s' if len(self.columns) > 1 else ''} {', '.join(self.columns)}")
        return f"{', '.join(where)}: {self.message}"


class LoadOptions(BaseModel):
    """A validated load request (from the command line or the page)."""

    model_config = ConfigDict(frozen=True)

    format: Literal[FORMAT_NAMES]  # type: ignore[valid-type]  # one of metrics.ingest.formats
    snapshot: date
    allow_partial: bool = False
    counts_rounded_to_5: bool = False
    as_of: date | None = None  # the date a practice-mapping file describes, when it has no EXTRACT_DATE


@dataclass
class Parsed:
    """One file turned into canonical rows (each with ``source_row``, its row number in the file) plus what was
    wrong, what was deliberately left out (reason -> rows) and notes for the report."""

    file: str
    kind: Kind
    rows: pd.DataFrame
    raw: pd.DataFrame
    first_row: int = 2
    problems: list[Problem] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    as_of: date | None = None

    def problem(self, rows: list[int] | tuple[int, ...], columns: list[str] | tuple[str, ...], message: str) -> None:
        self.problems.append(Problem(file=self.file, rows=tuple(sorted(set(int(r) for r in rows))),
                                     columns=tuple(columns), message=message))

    @property
    def file_level_problems(self) -> list[Problem]:
        return [p for p in self.problems if not p.rows]

    @property
    def bad_rows(self) -> set[int]:
        return {r for p in self.problems for r in p.rows}


def summarise(problems: list[Problem], limit: int = MAX_LISTED_PROBLEMS) -> list[str]:
    """The first ``limit`` problems as lines, then how many more there are."""
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"... and {len(problems) - limit} more problem(s).")
    return lines
