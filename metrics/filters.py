"""The URL vocabulary: one pydantic model for the state every page reads from the query string.

``?borough=Harrow&pcn=U89806&period=2026-09&snapshot=2026-10-05&metric=flu_uptake_65_plus``
Boroughs travel by name (stable, readable), PCNs by ODS code (names drift between releases),
metrics by catalogue id. A link built from a ViewState reproduces the view exactly.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metrics.periods import MONTH_PATTERN

FILTER_KEYS = ("snapshot", "borough", "pcn", "period", "metric")


class ViewState(BaseModel):
    model_config = ConfigDict(frozen=True)

    snapshot: date
    borough: str = Field(min_length=2)
    borough_code: str
    borough_level: Literal["borough", "place"] = "borough"
    pcn: str | None = None
    pcn_name: str | None = None
    period: str = Field(pattern=f"^{MONTH_PATTERN}$")
    metric: str | None = None

    def query_params(self, **overrides: str | None) -> dict[str, str]:
        """Query parameters for a link to this view, with some filters changed (None drops one)."""
        params = {"snapshot": self.snapshot.isoformat(), "borough": self.borough, "pcn": self.pcn,
                  "period": self.period, "metric": self.metric}
        params.update(overrides)
        return {k: v for k, v in params.items() if v}
