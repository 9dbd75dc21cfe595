"""Frames for the variation explorer: funnel plot, caterpillar, outliers and similar practices.

Practices are judged against the NWL average with funnel limits (OHID / PHEindicatormethods method):
a practice outside the 99.8% limits differs by more than chance would explain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.stats import chi2

from metrics import areas, reports
from metrics.areas import Area
from metrics.catalogue import Metric
from metrics.periods import month_end
from metrics.store import Store
from metrics.stats import funnel_limits, funnel_significance, overdispersion

# Registered patients aged 65+ are this metric's denominator: the age profile used to find similar practices.
AGE_PROFILE_METRIC = "emergency_admissions_65_plus"
SIMILAR_PRACTICES = 10
OVERDISPERSION_TEST = 0.95
FUNNEL_LABELS = {
    "high_998": "Above the 99.8% limit", "high_95": "Above the 95% limit", "not_significant": "Within the limits",
    "low_95": "Below the 95% limit", "low_998": "Below the 99.8% limit", "not_compared": "Not compared",
}


@dataclass(frozen=True)
class Dispersion:
    """How far practices scatter beyond what chance explains (FunnelPlotR's phi and tau2), and whether the
    funnel's limits are widened for it: by default when phi shows overdispersion (``overdispersed``)."""

    phi: float
    tau2: float
    units: int
    adjusted: bool
    standardisation: str | None = None  # e.g. "age-standardised (indirect, ...)": values and limits are

    @property
    def note(self) -> str:
        """What the chart says about its values and limits."""
        values = f"Rates {self.standardisation}. " if self.standardisation else ""
        if self.phi != self.phi:
            return (f"{values}Plain limits: overdispersion could not be estimated (too few practices, or too many "
                    "with no events).")
        if self.adjusted:
            return f"{values}Limits widened for overdispersion (phi = {self.phi:.2f}, from {self.units} practices)."
        return f"{values}Plain limits (phi = {self.phi:.2f}, from {self.units} practices: no overdispersion shown)."


NO_DISPERSION = Dispersion(phi=float("nan"), tau2=0.0, units=0, adjusted=False)


def dispersion(counts: pd.DataFrame, metric: Metric, average: float, adjust: bool = True) -> Dispersion:
    """phi and tau2 of practices about ``average`` (numerator and denominator columns; suppressed rows left
    out): proportions on the arcsine scale, rates as observed against expected events (a ratio, SHMI-style),
    expected at the average rate, or at NWL's age-specific rates for an age-standardised metric (an ``expected``
    column)."""
    rows = counts.dropna(subset=["numerator", "denominator"])
    rows = rows[rows["denominator"] > 0]
    label = metric.standardisation_label if "expected" in rows and rows["expected"].notna().any() else None
    if len(rows) < 3:
        return Dispersion(**{**NO_DISPERSION.__dict__, "standardisation": label})
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric.statistic == "proportion":
            found = overdispersion(rows["numerator"], rows["denominator"], "proportion")
        else:
            found = overdispersion(rows["numerator"], _expected(rows, average, metric), "ratio")
    if not (np.isfinite(found.phi) and np.isfinite(found.tau2)):
        # Log z-scores of practices with no events are infinite; past the 10% trimmed away, phi cannot be found.
        return Dispersion(phi=float("nan"), tau2=0.0, units=found.n, adjusted=False, standardisation=label)
    return Dispersion(phi=found.phi, tau2=found.tau2, units=found.n, adjusted=adjust and overdispersed(found),
                      standardisation=label)


def overdispersed(found) -> bool:
    """Whether phi shows overdispersion: above 1 by more than chance (n phi beyond the 95th percentile of
    chi-squared on n - 1 degrees of freedom, Spiegelhalter 2005's test). Below that the adjusted limits, which
    are approximations, can be narrower than the exact ones and would flag more practices, not fewer."""
    return found.phi > 1 and found.n * found.phi > chi2.ppf(OVERDISPERSION_TEST, found.n - 1)


def _expected(rows: pd.DataFrame, average: float, metric: Metric) -> np.ndarray:
    """Events each practice would have at NWL's rates: its ``expected`` column where it is age-standardised (at
    NWL's age-specific rates), else its denominator times the average rate."""
    if "expected" in rows:
        return rows["expected"].to_numpy(dtype=float)
    return rows["denominator"].to_numpy(dtype=float) * average / metric.multiplier


def _as_ratio(metric: Metric, spread: Dispersion) -> bool:
    """Rates are judged as observed against expected events (a ratio about 1) when standardised or when the limits
    are widened for overdispersion; otherwise crude rates take OHID's exact Poisson limits."""
    return metric.statistic == "rate" and (bool(spread.standardisation) or (spread.adjusted and spread.tau2 > 0))


def _tau2(spread: Dispersion) -> float:
    return spread.tau2 if spread.adjusted else 0.0


def _limits(metric: Metric, denominators: np.ndarray, average: float,
            spread: Dispersion = NO_DISPERSION) -> dict[str, np.ndarray]:
    """Funnel limits on the metric's scale (funnel_limits takes a proportion on the 0-1 scale, a rate per
    multiplier, a ratio's expected events), widened by tau2 when the dispersion is adjusted for. A ratio's limits
    are drawn at the events expected at the average rate (for a standardised metric, those of a practice with
    NWL's age mix)."""
    if _as_ratio(metric, spread):
        expected = np.asarray(denominators, dtype=float) * average / metric.multiplier
        if _tau2(spread):
            return funnel_limits(expected, average, statistic="ratio", tau2=_tau2(spread))
        # Plain: OHID's exact Poisson funnel per expected event, the limits funnel_significance judges by.
        return {k: v * average for k, v in funnel_limits(expected, 1.0, statistic="rate").items()}
    if metric.statistic == "proportion":
        return funnel_limits(denominators, average / metric.multiplier, statistic="proportion",
                             multiplier=metric.multiplier, tau2=_tau2(spread) or None)
    return funnel_limits(denominators, average, statistic="rate", multiplier=metric.multiplier)


def _events(practices: pd.DataFrame, metric: Metric) -> np.ndarray:
    """Each practice's numerator; where a frame carries only values, the count they were made from."""
    if "numerator" in practices:
        return practices["numerator"].to_numpy(dtype=float)
    return practices["value"].to_numpy(dtype=float) * practices["denominator"].to_numpy(dtype=float) / metric.multiplier


def funnel_frame(practices: pd.DataFrame, metric: Metric, average: float,
                 spread: Dispersion = NO_DISPERSION) -> pd.DataFrame:
    """Label each practice against funnel limits round ``average`` at its own denominator (its own expected
    events for a ratio), with ``stats.funnel_significance``; a suppressed or missing value is not compared."""
    events = np.where(practices["value"].isna(), np.nan, _events(practices, metric))
    if _as_ratio(metric, spread):
        found = funnel_significance(events, _expected(practices, average, metric), "ratio", tau2=_tau2(spread))
    else:
        found = funnel_significance(events, practices["denominator"].to_numpy(dtype=float), metric.statistic,
                                    metric.multiplier, average=average, tau2=_tau2(spread) or None)
    label = np.where(np.array(found) == "not_applicable", "not_compared", np.array(found))
    verdict = np.select(
        [np.char.startswith(label.astype(str), "high"), np.char.startswith(label.astype(str), "low"),
         label == "not_compared"],
        [metric.judge(1) or "higher", metric.judge(-1) or "lower", "not_compared"], "similar")
    return practices.assign(funnel=label, funnel_label=[FUNNEL_LABELS[x] for x in label], funnel_verdict=verdict,
                            funnel_x=_funnel_x(practices, metric, average))


def _funnel_x(practices: pd.DataFrame, metric: Metric, average: float) -> np.ndarray:
    """Where each practice stands on the funnel's x axis: its denominator; for an age-standardised rate, the
    population with NWL's age mix that would expect the practice's expected events, so the limits drawn at a dot
    are exactly those it is judged by (its own expected events)."""
    if "expected" not in practices or not average:
        return practices["denominator"].to_numpy(dtype=float)
    return _expected(practices, average, metric) * metric.multiplier / average


def funnel_curve(practices: pd.DataFrame, metric: Metric, average: float, spread: Dispersion = NO_DISPERSION,
                 points: int = 200) -> pd.DataFrame:
    """The funnel's limit lines over the range of the funnel's x axis shown (``funnel_x``)."""
    x = practices["funnel_x"] if "funnel_x" in practices else practices["denominator"]
    lo, hi = x.min(), x.max()
    grid = np.geomspace(max(lo * 0.8, 1.0), hi * 1.1, points)
    limits = _limits(metric, grid, average, spread)
    return pd.DataFrame({"denominator": grid, **{k: np.asarray(v) for k, v in limits.items()}})


def practices_against_nwl(store: Store, snapshot: date, metric: Metric, scope: Area, month: str,
                          names: dict[str, str], pcn_names: dict[str, str], adjust: bool = True
                          ) -> tuple[pd.DataFrame, float | None, Dispersion]:
    """Practices in ``scope`` with CIs and funnel labels against the NWL average, that average, and the
    dispersion of every NWL practice about it (which widens the limits unless ``adjust`` is off)."""
    practices = reports.compare_within(store, snapshot, metric, scope, "practice", month, names)
    nwl = areas.home_ics(store, snapshot)
    average = reports.scorecard_value(store, snapshot, metric, nwl, month)
    if practices.empty or average is None:
        return pd.DataFrame(), None, NO_DISPERSION
    start = practices["period_start"].iloc[0]
    standardised = "standardisation" in practices
    if standardised:  # NWL's rate from the same age-band rows the practices' expected events come from
        average = float(reports.standardised_rows(store, snapshot, metric, "ics", start, month,
                                                  area_codes=(nwl.code,))["value"].iloc[0])
    counts = store.practice_expected_counts if standardised else store.practice_counts
    everyone = counts(snapshot, metric.id, nwl.code, start.date(), month_end(month))
    spread = dispersion(everyone[everyone["period_start"] == start], metric, average, adjust)
    practices = reports.against_benchmark(practices, metric, average)
    practices["pcn_name"] = practices["area_code"].map(pcn_names).fillna(areas.UNALLOCATED)
    return funnel_frame(practices, metric, average, spread), average, spread


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
