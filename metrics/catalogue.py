"""The metric catalogue: one validated registry that pages, charts and exports read.

Metrics are declared as data in ``catalogue.yaml`` (MetricFlow style) so that titles, units,
polarity and targets are written exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOGUE_PATH = Path(__file__).with_name("catalogue.yaml")

Unit = Literal["percent", "per_100k", "per_1000"]
Polarity = Literal["higher_is_better", "lower_is_better", "neutral"]
Frequency = Literal["monthly", "quarterly", "annual"]
Level = Literal["practice", "pcn", "borough", "ics"]
Breakdown = Literal["ethnicity", "imd_quintile", "age_band", "sex"]

Statistic = Literal["proportion", "rate"]
BREAKDOWN_LABEL: dict[str, str] = {
    "ethnicity": "Ethnic group",
    "imd_quintile": "Deprivation (IMD quintile)",
    "age_band": "Age band",
    "sex": "Sex",
}
# How one group of a breakdown is named on a chart or in a table: "IMD quintile 1 (most deprived)", not "1".
BREAKDOWN_VALUE_PREFIX: dict[str, str] = {"imd_quintile": "IMD quintile ", "age_band": "Aged "}
# Age standardisation a metric is compared with between practices and PCNs (see Metric.age_standardisation).
Standardisation = Literal["indirect"]
STANDARDISATION_LABEL: dict[str, str] = {
    "indirect": "age-standardised (indirect, against NWL's age-specific rates)",
}


def breakdown_value_label(breakdown: str, value: str) -> str:
    """A group's name as a reader sees it: 'IMD quintile 1 (most deprived)', 'Aged 65-69', 'Female'.

    >>> breakdown_value_label("imd_quintile", "1 (most deprived)"), breakdown_value_label("sex", "Male")
    ('IMD quintile 1 (most deprived)', 'Male')
    >>> breakdown_value_label("age_band", "65-69"), breakdown_value_label("age_band", "Under 40")
    ('Aged 65-69', 'Under 40')
    """
    prefix = BREAKDOWN_VALUE_PREFIX.get(breakdown, "")
    return f"{prefix}{value}" if value[:1].isdigit() else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitSpec(_Strict):
    """What a unit means wherever a value is shown, judged or computed: one home, so a chart axis, a table
    column, a sentence and a CI method cannot disagree about it."""

    id: Unit
    label: str  # after a value in titles and column heads: "%", "per 100,000"
    axis_title: str
    multiplier: float
    statistic: Statistic  # proportions get Wilson CIs and binomial funnels; rates Byar's CIs and Poisson funnels
    ci_method: str
    difference: str  # how a difference between two values is said: "percentage points"
    change_suffix: str  # after a formatted change: " pp"
    decimals: int = 1

    @property
    def d3_format(self) -> str:
        """Plotly/d3 number format (hover text, axes)."""
        return f"{',' if self.statistic == 'rate' else ''}.{self.decimals}f"

    @property
    def printf_format(self) -> str:
        """printf-style number format (Streamlit column config)."""
        return f"%{',' if self.statistic == 'rate' else ''}.{self.decimals}f"

    def format_value(self, value: float | None) -> str:
        """'61.2%', or '1,443.9' for a rate (tables head rate columns with the unit)."""
        if value is None or value != value:
            return "-"
        number = f"{value:{self.d3_format}}"
        return f"{number}%" if self.statistic == "proportion" else number

    def format_change(self, change: float | None) -> str:
        """A change in the unit's own terms: percentage points for percentages."""
        if change is None or change != change:
            return "-"
        digits = 2 if 0 < abs(change) < 0.05 else self.decimals
        return f"{change:+,.{digits}f}{self.change_suffix}"


UNITS: dict[str, UnitSpec] = {
    "percent": UnitSpec(id="percent", label="%", axis_title="%", multiplier=100.0, statistic="proportion",
                        ci_method="Wilson score", difference="percentage points", change_suffix=" pp"),
    "per_100k": UnitSpec(id="per_100k", label="per 100,000", axis_title="Rate per 100,000", multiplier=100_000.0,
                         statistic="rate", ci_method="Byar's method", difference="per 100,000", change_suffix=""),
    # Fingertips publishes some practice rates per 1,000 (A&E attendances aged 0-4, 93930): shown as published.
    "per_1000": UnitSpec(id="per_1000", label="per 1,000", axis_title="Rate per 1,000", multiplier=1_000.0,
                         statistic="rate", ci_method="Byar's method", difference="per 1,000", change_suffix=""),
}
# What a rise means, by polarity: the improvement direction Making Data Count's XmR rules take, and the words.
IMPROVEMENT: dict[str, str] = {"higher_is_better": "increase", "lower_is_better": "decrease", "neutral": "neutral"}
BETTER_WHEN: dict[str, str] = {"higher_is_better": "higher", "lower_is_better": "lower", "neutral": "neither"}


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


class SpcChange(_Strict):
    """A known change in how a service works, from which an area's SPC limits are recalculated (Making Data
    Count: a new process gets its own mean and limits)."""

    area_code: str | None = None  # an area (borough, PCN...) and everything inside it; None: every area
    date: date  # the first period of the new process
    reason: str = Field(min_length=5)


class Priority(_Strict):
    """A priority area: one page of the dashboard, built from the shared priority template."""

    id: str
    title: str
    question: str
    icon: str = Field(pattern=r"^[a-z0-9_]+$")  # a Material Symbols name
    url_path: str = Field(pattern=r"^[a-z0-9-]+$")

    @property
    def page_file(self) -> str:
        """The page's script, relative to the project: one thin file calling the shared template."""
        return f"app_pages/{self.url_path.replace('-', '_')}.py"


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
    spc_changes: tuple[SpcChange, ...] = ()
    # Compared between practices and PCNs as an age-standardised rate (from its age_band rows): "indirect" is an
    # indirectly standardised rate against NWL's age-specific rates (PHEindicatormethods calculate_ISRate).
    age_standardisation: Standardisation | None = None

    @model_validator(mode="after")
    def _standardised_from_age_bands(self) -> "Metric":
        if self.age_standardisation and ("age_band" not in self.breakdowns or self.statistic != "rate"):
            raise ValueError(f"metric {self.id}: age_standardisation needs a rate with an age_band breakdown")
        return self

    @property
    def standardisation_label(self) -> str | None:
        """'age-standardised (indirect, ...)' for a standardised metric's comparisons, else None."""
        return STANDARDISATION_LABEL[self.age_standardisation] if self.age_standardisation else None

    @property
    def units(self) -> UnitSpec:
        return UNITS[self.unit]

    @property
    def multiplier(self) -> float:
        return self.units.multiplier

    @property
    def unit_label(self) -> str:
        return self.units.label

    @property
    def statistic(self) -> Statistic:
        return self.units.statistic

    @property
    def ci_method(self) -> str:
        """Fingertips practice: Wilson score for proportions, Byar's for rates."""
        return self.units.ci_method

    @property
    def judged(self) -> bool:
        """False for descriptive metrics (neutral polarity): no RAG, no better or worse."""
        return self.polarity != "neutral"

    @property
    def improvement(self) -> str:
        """'increase', 'decrease' or 'neutral': which way is better, as XmR rules take it."""
        return IMPROVEMENT[self.polarity]

    @property
    def better_when(self) -> str:
        return BETTER_WHEN[self.polarity]

    def spc_changes_for(self, area_codes: Iterable[str]) -> tuple[SpcChange, ...]:
        """The declared changes that apply to an area (given as its code and its ancestors' codes)."""
        codes = set(area_codes)
        return tuple(c for c in self.spc_changes if c.area_code is None or c.area_code in codes)

    def judge(self, difference: float) -> str | None:
        """'better' or 'worse' for a signed difference (a change, a gap to a target, a slope), None when the
        metric is not judged or there is no difference."""
        if not self.judged or difference != difference or difference == 0:
            return None
        return "better" if (difference > 0) == (self.polarity == "higher_is_better") else "worse"

    @property
    def pages(self) -> tuple[str, ...]:
        return (self.priority, *self.also_on)

    def format_change(self, change: float | None) -> str:
        return self.units.format_change(change)

    def format_value(self, value: float | None) -> str:
        return self.units.format_value(value)


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
