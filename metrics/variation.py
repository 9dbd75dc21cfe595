"""Frames for the variation explorer: funnel plot, caterpillar, outliers and similar practices.

Practices are judged against the NWL average with funnel limits (OHID / PHEindicatormethods method):
a practice outside the 99.8% limits differs by more than chance would explain.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from metrics import areas, reports
from metrics.areas import Area
from metrics.catalogue import Metric
from metrics.periods import month_end
from metrics.store import Store
from metrics.stats import funnel_limits

# Registered patients aged 65+ are this metric's denominator: the age profile used to find similar practices.
AGE_PROFILE_METRIC = "emergency_admissions_65_plus"
SIMILAR_PRACTICES = 10
FUNNEL_LABELS = {
    "high_998": "Above the 99.8% limit", "high_95": "Above the 95% limit", "not_significant": "Within the limits",
    "low_95": "Below the 95% limit", "low_998": "Below the 99.8% limit",
}


def _limits(metric: Metric, denominators: np.ndarray, average: float) -> dict[str, np.ndarray]:
    """Funnel limits on the metric's scale (funnel_limits takes a proportion on the 0-1 scale, a rate per
    multiplier)."""
    centre = average / metric.multiplier if metric.statistic == "proportion" else average
    return funnel_limits(denominators, centre, statistic=metric.statistic, multiplier=metric.multiplier)


def funnel_frame(practices: pd.DataFrame, metric: Metric, average: float) -> pd.DataFrame:
    """Label each practice against funnel limits round ``average`` at its own denominator."""
    limits = _limits(metric, practices["denominator"].to_numpy(), average)
    value = practices["value"].to_numpy()
    label = np.select(
        [value > limits["upper_998"], value > limits["upper_95"], value < limits["lower_998"],
         value < limits["lower_95"]],
        ["high_998", "high_95", "low_998", "low_95"], "not_significant")
    verdict = np.select(
        [np.char.startswith(label.astype(str), "high"), np.char.startswith(label.astype(str), "low")],
        [metric.judge(1) or "higher", metric.judge(-1) or "lower"], "similar")
    return practices.assign(funnel=label, funnel_label=[FUNNEL_LABELS[x] for x in label], funnel_verdict=verdict)


def funnel_curve(practices: pd.DataFrame, metric: Metric, average: float, points: int = 200) -> pd.DataFrame:
    """The funnel's limit lines over the range of denominators shown."""
    lo, hi = practices["denominator"].min(), practices["denominator"].max()
    grid = np.geomspace(max(lo * 0.8, 1.0), hi * 1.1, points)
    limits = _limits(metric, grid, average)
    return pd.DataFrame({"denominator": grid, **{k: np.asarray(v) for k, v in limits.items()}})


def practices_against_nwl(store: Store, snapshot: date, metric: Metric, scope: Area, month: str,
                          names: dict[str, str], pcn_names: dict[str, str]) -> tuple[pd.DataFrame, float | None]:
    """Practices in ``scope`` with CIs and funnel labels against the NWL average, and that average."""
    practices = reports.compare_within(store, snapshot, metric, scope, "practice", month, names)
    nwl = reports.scorecard_value(store, snapshot, metric, areas.home_ics(store, snapshot), month)
    if practices.empty or nwl is None:
        return pd.DataFrame(), None
    practices = reports.against_benchmark(practices, metric, nwl)
    practices["pcn_name"] = practices["area_code"].map(pcn_names).fillna(areas.UNALLOCATED)
    return funnel_frame(practices, metric, nwl), nwl


def practice_profiles(store: Store, snapshot: date, month: str) -> pd.DataFrame:
    """List size, deprivation and share aged 65+ per practice: what 'similar' is measured on.

    Only the latest period is read per practice, found first from the ICS totals (at England scale every
    practice's whole series is hundreds of thousands of rows)."""
    orgs = store.orgs(snapshot, "practice")[["org_code", "org_name", "list_size", "imd_score"]]
    totals = store.aggregate(snapshot, (AGE_PROFILE_METRIC,), "ics", end=month_end(month))
    start = totals["period_start"].max().date() if len(totals) else None
    age = store.aggregate(snapshot, (AGE_PROFILE_METRIC,), "practice", start=start,
                          end=month_end(month))
    latest = age[age["period_start"] == age["period_start"].max()].set_index("area_code")["denominator"]
    profiles = orgs.assign(registered_65_plus=orgs["org_code"].map(latest))
    profiles["share_65_plus"] = profiles["registered_65_plus"] / profiles["list_size"]
    return profiles.dropna(subset=["imd_score", "share_65_plus"]).reset_index(drop=True)


def nearest_neighbours(profiles: pd.DataFrame, code: str, k: int = SIMILAR_PRACTICES) -> pd.DataFrame:
    """The ``k`` practices closest to ``code`` on standardised log list size, IMD score and share 65+."""
    features = np.column_stack([np.log(profiles["list_size"]), profiles["imd_score"], profiles["share_65_plus"]])
    spread = features.std(axis=0)
    z = (features - features.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    me = z[profiles.index[profiles["org_code"] == code][0]]
    distance = np.sqrt(((z - me) ** 2).sum(axis=1))
    ranked = profiles.assign(distance=distance).sort_values("distance")
    return ranked[ranked["org_code"] != code].head(k)
