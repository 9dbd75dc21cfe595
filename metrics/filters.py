"""The URL vocabulary: one pydantic model for everything a page reads from the query string.

``?borough=Harrow&pcn=U89806&period=2026-09&snapshot=2026-10-05&metric=flu_uptake_65_plus``
Boroughs travel by name (stable, readable), PCNs and practices by ODS code (names drift between releases),
metrics by catalogue id. Page controls travel too (``view=spc``, ``limits=plain``, ``chart=trend``,
``start=2025-04``, ...), so a link built from a page reproduces its view exactly.

``UrlParams`` checks the form of each value (a month looks like a month); whether it names something that
exists (a borough held in the snapshot, a metric on this page) is checked by the control that uses it.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from metrics.periods import MONTH_PATTERN

FILTER_KEYS = ("snapshot", "borough", "pcn", "period", "metric")
MONTH = f"^{MONTH_PATTERN}$"
ODS_CODE = r"^[A-Z0-9]{3,8}$"
WORD = r"^[a-z0-9_]{1,80}$"


class UrlParams(BaseModel):
    """Every query parameter the app understands, with the form its value must have."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    # global filters (the sidebar) and the metric
    snapshot: date | None = Field(None, description="a date such as 2026-10-05")
    borough: str | None = Field(None, min_length=2, max_length=80, description="a borough or place name")
    pcn: str | None = Field(None, pattern=ODS_CODE, description="a PCN's ODS code such as U89806")
    period: str | None = Field(None, pattern=MONTH, description="a month such as 2026-09")
    metric: str | None = Field(None, pattern=WORD, description="a metric id such as flu_uptake_65_plus")
    # page controls
    view: Literal["spc", "compared"] | None = Field(None, description="spc or compared")
    recalc: str | None = Field(None, pattern=f"^(auto|none|{MONTH_PATTERN})$",
                               description="auto, none or a month such as 2025-04")
    practices: Literal["area", "nwl"] | None = Field(None, description="area or nwl")
    limits: Literal["adjusted", "plain"] | None = Field(None, description="adjusted or plain")
    peer: str | None = Field(None, pattern=ODS_CODE, description="a practice's ODS code such as E84005")
    seen: date | None = Field(None, description="a snapshot date such as 2026-09-05")
    chart: str | None = Field(None, pattern=WORD, description="a chart type such as trend")
    breakdown: str | None = Field(None, pattern=WORD, description="a breakdown such as ethnicity")  # chart studio, priority pages
    start: str | None = Field(None, pattern=MONTH, description="a month such as 2025-04")
    end: str | None = Field(None, pattern=MONTH, description="a month such as 2026-09")
    title: str | None = Field(None, max_length=200, description="a title of up to 200 characters")
    subtitle: str | None = Field(None, max_length=300, description="a subtitle of up to 300 characters")
    q: str | None = Field(None, max_length=100, description="search words, up to 100 characters")


def url_problem(key: str, value: str) -> str | None:
    """Why ``key=value`` cannot be a parameter of this app's URL (None when its form is fine)."""
    if key not in UrlParams.model_fields:
        return f"`{key}` is not a setting this dashboard knows"
    try:
        UrlParams.model_validate({key: value})
    except ValidationError:
        return f"`{key}` should be {UrlParams.model_fields[key].description}"
    return None


class ViewState(BaseModel):
    model_config = ConfigDict(frozen=True)

    snapshot: date
    borough: str = Field(min_length=2)
    borough_code: str
    borough_level: Literal["borough", "place"] = "borough"
    pcn: str | None = None
    pcn_name: str | None = None
    period: str = Field(pattern=MONTH)
    metric: str | None = None

    def query_params(self, **overrides: str | None) -> dict[str, str]:
        """Query parameters for a link to this view, with some filters changed (None drops one)."""
        params = {"snapshot": self.snapshot.isoformat(), "borough": self.borough, "pcn": self.pcn,
                  "period": self.period, "metric": self.metric}
        params.update(overrides)
        return {k: v for k, v in params.items() if v}
