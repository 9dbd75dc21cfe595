"""The metric catalogue: one validated registry that pages, charts and exports read.

Metrics are declared as data in ``catalogue.yaml`` (MetricFlow style) so that titles, units,
polarity and targets are written exactly once.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

Unit = Literal["percent", "per_100k"]
Polarity = Literal["higher_is_better", "lower_is_better", "neutral"]
Frequency = Literal["monthly", "quarterly", "annual"]
Level = Literal["practice", "pcn", "borough", "ics"]
Breakdown = Literal["ethnicity", "imd_quintile", "age_band", "sex"]

UNIT_MULTIPLIER: dict[str, float] = {"percent": 100.0, "per_100k": 100_000.0}
UNIT_LABEL: dict[str, str] = {"percent": "%", "per_100k": "per 100,000"}
BREAKDOWN_LABEL: dict[str, str] = {
    "ethnicity": "Ethnic group",
    "imd_quintile": "Deprivation (IMD quintile)",
    "age_band": "Age band",
    "sex": "Sex",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """A fixed target value, or the area's own value in a baseline period."""

    value: float | None = None
    baseline_period_start: date | None = None
    source: str = Field(min_length=3)

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> "Target":
        if (self.value is None) == (self.baseline_period_start is None):
            raise ValueError("a target needs exactly one of value or baseline_period_start")
        return self


class Priority(_Strict):
    id: str
    title: str
    question: str


class Metric(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]+$")
    title: str
    short_title: str
    priority: str
    also_on: tuple[str, ...] = ()
    definition: str = Field(min_length=10)
    numerator: str = Field(min_length=5)
    denominator: str = Field(min_length=5)
    unit: Unit
    polarity: Polarity
    target: Target | None = None
    baseline_note: str | None = None
    frequency: Frequency
    season_months: tuple[int, ...] = ()
    lowest_level: Literal["practice", "borough"]
    breakdowns: tuple[Breakdown, ...] = ()
    data_source: str = Field(min_length=3)
    # OHID Fingertips indicator IDs whose exports load into this metric (python -m metrics ingest --format fingertips).
    fingertips_indicator_ids: tuple[int, ...] = ()

    @property
    def multiplier(self) -> float:
        return UNIT_MULTIPLIER[self.unit]

    @property
    def unit_label(self) -> str:
        return UNIT_LABEL[self.unit]

    @property
    def ci_method(self) -> str:
        """Fingertips practice: Wilson score for proportions, Byar's for rates."""
        return "Wilson score" if self.unit == "percent" else "Byar's method"

    @property
    def pages(self) -> tuple[str, ...]:
        return (self.priority, *self.also_on)

    def format_change(self, change: float | None) -> str:
        """A change in the metric's units: percentage points for percentages."""
        if change is None or change != change:
            return "-"
        digits = 2 if 0 < abs(change) < 0.05 else 1
        return f"{change:+.{digits}f} pp" if self.unit == "percent" else f"{change:+,.{digits}f}"

    def format_value(self, value: float | None) -> str:
        if value is None or value != value:
            return "-"
        return f"{value:.1f}%" if self.unit == "percent" else f"{value:,.1f}"


class Catalogue(_Strict):
    priorities: tuple[Priority, ...]
    metrics: tuple[Metric, ...]

    @model_validator(mode="after")
    def _consistent(self) -> "Catalogue":
        ids = [m.id for m in self.metrics]
        if len(ids) != len(set(ids)):
            raise ValueError("metric ids must be unique")
        known = {p.id for p in self.priorities}
        for m in self.metrics:
            unknown = set(m.pages) - known
            if unknown:
                raise ValueError(f"metric {m.id}: unknown priority {sorted(unknown)}")
        fingertips = [i for m in self.metrics for i in m.fingertips_indicator_ids]
        if len(fingertips) != len(set(fingertips)):
            raise ValueError("a Fingertips indicator id can load into one metric only")
        return self

    def metric(self, metric_id: str) -> Metric:
        for m in self.metrics:
            if m.id == metric_id:
                return m
        raise KeyError(f"unknown metric id {metric_id!r}")

    def priority(self, priority_id: str) -> Priority:
        for p in self.priorities:
            if p.id == priority_id:
                return p
        raise KeyError(f"unknown priority {priority_id!r}")

    def for_page(self, priority_id: str) -> list[Metric]:
        return [m for m in self.metrics if priority_id in m.pages]

    def for_fingertips_indicator(self, indicator_id: int) -> Metric | None:
        """The metric a Fingertips indicator loads into, if the catalogue maps it."""
        return next((m for m in self.metrics if indicator_id in m.fingertips_indicator_ids), None)

    def practice_level(self) -> list[Metric]:
        return [m for m in self.metrics if m.lowest_level == "practice"]


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Parse and validate a catalogue file; raises pydantic.ValidationError naming the bad field."""
    with open(path, encoding="utf-8") as fh:
        return Catalogue.model_validate(yaml.safe_load(fh))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The project's catalogue, parsed once per process."""
    return load_catalogue()
