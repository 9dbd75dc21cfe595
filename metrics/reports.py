"""Tidy frames for each section of a page: the store's sums plus catalogue facts and statistics.

Pages call these and hand the result to a chart builder or a table; no page touches SQL or
computes a statistic itself. Every value comes with its numerator, denominator and 95% CI so the
figure on screen is auditable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from metrics import areas
from metrics.areas import Area
from metrics.catalogue import Level, Metric, breakdown_value_label, catalogue
from metrics.periods import is_in_season, month_end, month_start, period_label
from metrics.provenance import SYNTHETIC_LABEL, provenance
from metrics.store import Store
from metrics.stats import (compare_to_benchmark, expected_events, indirectly_standardised_rate,
                           slope_index_of_inequality, value_ci, xmr)

RAG_LABELS = {"green": "On track", "amber": "Near", "red": "Off track", "grey": "No judgement"}
# What a RAG was judged against, as the RAG column says it ("Off track vs same point last season").
SAME_POINT_LAST_SEASON = "same point last season"
RAG_BASIS_SHORT = {"target": "target", "NWL figure": "NWL", SAME_POINT_LAST_SEASON: SAME_POINT_LAST_SEASON}
AMBER_TOLERANCE = 0.05  # within 5% (relative) of the target counts as amber, not red
SPARKLINE_POINTS = 13
MIN_SPC_POINTS = 12  # fewer points than this give limits too unreliable to show (NHSRplotthedots warns < 12)
# The series columns scorecard_row reads (with the grouping keys).
SCORECARD_INPUT = ("metric_id", "area_code", "period_start", "period_label", "value", "lower", "upper", "numerator",
                   "denominator")


def with_ci(frame: pd.DataFrame) -> pd.DataFrame:
    """Add value and 95% limits per row on each metric's own scale (percent or per 100,000).

    One vectorised pass per unit (there are two), not one per metric: the limits are elementwise.
    """
    out = frame.copy()
    ids = out["metric_id"]
    units = ids.map({m: catalogue().metric(m).unit for m in ids.dropna().unique()})
    columns = {column: np.full(len(out), np.nan) for column in ("value", "lower", "upper")}
    for unit in units.dropna().unique():
        rows = (units == unit).to_numpy()
        triple = value_ci(unit, out["numerator"][rows], out["denominator"][rows])
        for column, values in zip(columns, triple):
            columns[column][rows] = values
    for column, values in columns.items():
        out[column] = values
    return out


def _period_labels(frame: pd.DataFrame) -> list[str]:
    """Each row's period label, worked out once per distinct (frequency, period start) and mapped back."""
    ids = frame["metric_id"]
    frequency = ids.map({m: catalogue().metric(m).frequency for m in ids.unique()})
    codes, pairs = pd.MultiIndex.from_arrays([frequency, frame["period_start"]]).factorize()
    labels = np.array([period_label(f, start) for f, start in pairs], dtype=object)
    return labels[codes].tolist()


def series(store: Store, snapshot: date, metric_ids: list[str], areas: list[Area], end: date | None = None,
           breakdown: str = "all") -> pd.DataFrame:
    """Time series for several areas (possibly at different levels), with CIs and labels."""
    frames = []
    for level in dict.fromkeys(a.level for a in areas):
        codes = tuple(a.code for a in areas if a.level == level)
        frames.append(store.aggregate(snapshot, tuple(metric_ids), level, area_codes=codes,
                                      breakdown=breakdown, end=end).assign(level=level))
    frame = pd.concat(frames, ignore_index=True)
    names = {a.code: a.name for a in areas}
    frame["area_name"] = frame["area_code"].map(names)
    frame["period_label"] = _period_labels(frame)
    return with_ci(frame)


def target_value(metric: Metric, area_series: pd.DataFrame) -> float | None:
    """The target for one area: the fixed value, or the area's own value in the baseline period."""
    if metric.target is None:
        return None
    if metric.target.value is not None:
        return metric.target.value
    base = area_series[area_series["period_start"].dt.date == metric.target.baseline_period_start]
    return float(base["value"].iloc[0]) if len(base) else None


def rag(metric: Metric, value: float, target: float | None, vs_benchmark: str) -> tuple[str, str]:
    """Red / amber / green and what it was judged against (the target, else the NWL figure)."""
    if not metric.judged or np.isnan(value):
        return "grey", "no data" if metric.judged else "no judgement (neutral metric)"
    if target is None:
        if vs_benchmark == "not_compared":  # no NWL figure (or no interval) to judge against
            return "grey", "no NWL figure to compare with"
        colour = {"better": "green", "similar": "amber", "worse": "red"}[vs_benchmark]
        return colour, "NWL figure"
    if metric.judge(value - target) != "worse":
        return "green", "target"
    return ("amber" if abs(value - target) <= AMBER_TOLERANCE * abs(target) else "red"), "target"


def rag_text(colour: str, basis: str) -> str:
    """The RAG in words with what it was judged against, for a RAG column or cell.

    >>> rag_text("red", "same point last season"), rag_text("green", "target"), rag_text("grey", "no data")
    ('Off track vs same point last season', 'On track vs target', 'No judgement (no data)')
    """
    if basis in RAG_BASIS_SHORT:
        return f"{RAG_LABELS[colour]} vs {RAG_BASIS_SHORT[basis]}"
    return f"{RAG_LABELS[colour]} ({basis})"


def _in_season_rag(metric: Metric, latest: pd.Series, last_season: float | None) -> tuple[str, str]:
    """A cumulative season before its last month: judged against the same point last season (its CI against
    last season's value), never against the end-of-season target, which applies once the season ends."""
    if not metric.judged or np.isnan(latest["value"]):
        return rag(metric, float(latest["value"]), None, "not_compared")
    if last_season is None or np.isnan(last_season):
        return "grey", "season in progress; no figure for the same point last season"
    verdict = str(compare_to_benchmark(latest["lower"], latest["upper"], last_season, metric.polarity))
    return rag(metric, float(latest["value"]), None, verdict)[0], SAME_POINT_LAST_SEASON


def season_in_progress(metric: Metric, period_start: pd.Timestamp) -> bool:
    """True for a seasonal metric before the last month of its season."""
    return bool(metric.season_months) and period_start.month != metric.season_months[-1]


def _direction(metric: Metric, change: float) -> str:
    if np.isnan(change) or change == 0:
        return "no change" if change == 0 else "-"
    verdict = metric.judge(change)
    if verdict is None:
        return "up" if change > 0 else "down"
    return "improving" if verdict == "better" else "worsening"


def _previous(metric: Metric, starts: np.ndarray, latest_start: pd.Timestamp) -> int | None:
    """Where in a period-ordered history the point to compare with sits: the previous period, or the same
    month last season for seasonal metrics (None when there is none)."""
    if metric.season_months:
        matches = np.flatnonzero(starts == (latest_start - pd.DateOffset(years=1)).to_datetime64())
    else:
        matches = np.flatnonzero(starts < latest_start.to_datetime64())
    return int(matches[-1]) if len(matches) else None


def spc_applies(metric: Metric, points: int) -> bool:
    """XmR charts need a run of comparable points: not cumulative seasonal uptake, not a short series."""
    return not metric.season_months and points >= MIN_SPC_POINTS


def rebase_positions(starts: np.ndarray, changes: Sequence[date]) -> list[int]:
    """Where in a period-ordered series each change starts a new SPC phase (the first period on or after it;
    a change before the first period or after the last starts none)."""
    stamps = pd.to_datetime(pd.Series(starts)).to_numpy()
    positions = {int(np.searchsorted(stamps, np.datetime64(pd.Timestamp(change)))) for change in changes}
    return sorted(p for p in positions if 0 < p < len(stamps))


def _xmr(metric: Metric, values: np.ndarray, target: float | None, rebase_at: Sequence[int] = ()):
    """The XmR result for period-ordered values, or None where SPC does not apply."""
    if not spc_applies(metric, len(values)):
        return None
    return xmr(values, improvement=metric.improvement, target=target if metric.judged else None,
               rebase_at=list(rebase_at) or None)


def with_spc(metric: Metric, area_rows: pd.DataFrame, target: float | None, changes: Sequence[date] = ()):
    """The area's series with XmR columns added, and the XmR result (None where SPC does not apply). Limits are
    recalculated from each of ``changes`` (declared in the catalogue, or chosen by the user)."""
    rows = area_rows.sort_values("period_start").reset_index(drop=True)
    result = _xmr(metric, rows["value"].to_numpy(), target, rebase_positions(rows["period_start"], changes))
    if result is None:
        return rows, None
    rows = rows.assign(mean=result.mean, lower_limit=result.lower_limit, upper_limit=result.upper_limit,
                       point_type=result.point_type)
    return rows, result


def declared_spc_changes(store: Store, snapshot: date, metric: Metric, area: Area) -> tuple:
    """The service changes the catalogue declares for the area or an area containing it (``SpcChange``s)."""
    return metric.spc_changes_for(areas.with_ancestors(store, snapshot, area))


def spc_phases(declared: Sequence[date], choice: str = "auto") -> tuple[list[date], str]:
    """The dates from which an area's SPC limits are recalculated, and a few words for the chart's subtitle: the
    service changes the catalogue declares for the area (``declared``, for ``"auto"``), none (``"none"``), or a
    month a user chose (``"2025-04"``).

    >>> spc_phases([date(2025, 4, 1)])
    ([datetime.date(2025, 4, 1)], 'limits recalculated from Apr 2025 (service change)')
    >>> spc_phases([date(2025, 4, 1)], "2024-10")[1], spc_phases([], "auto")[1]
    ('limits recalculated from Oct 2024 (chosen)', 'one set of limits')
    """
    if choice == "none":
        return [], "one set of limits (recalculation off)"
    if choice == "auto":
        if not declared:
            return [], "one set of limits"
        return list(declared), "limits recalculated from " + ", ".join(f"{d:%b %Y}" for d in declared) + \
            " (service change)"
    start = month_start(choice).date()
    return [start], f"limits recalculated from {start:%b %Y} (chosen)"


def scorecard_row(metric: Metric, area_rows: pd.DataFrame, nwl_rows: pd.DataFrame,
                  changes: Sequence[date] = ()) -> dict:
    """One scorecard line: latest value, CI, target, RAG, change, NWL comparison, sparkline.

    ``area_rows`` is the area's series in period order. History and NWL look-ups use numpy columns rather
    than frame filters: the Overview builds one line per metric on every render.
    """
    latest = area_rows.iloc[-1]
    starts, values = area_rows["period_start"].to_numpy(), area_rows["value"].to_numpy()
    nwl_latest = nwl_rows["value"].to_numpy()[nwl_rows["period_start"].to_numpy() == starts[-1]]
    nwl_value = float(nwl_latest[0]) if len(nwl_latest) else np.nan
    vs_nwl = str(compare_to_benchmark(latest["lower"], latest["upper"], nwl_value, metric.polarity))
    target = target_value(metric, area_rows)
    previous = _previous(metric, starts, latest["period_start"])
    change = float(latest["value"] - values[previous]) if previous is not None else np.nan
    if season_in_progress(metric, latest["period_start"]):
        # A cumulative season is not judged against its end-of-season target until the season ends.
        colour, basis = _in_season_rag(metric, latest, values[previous] if previous is not None else None)
    else:
        colour, basis = rag(metric, float(latest["value"]), target, vs_nwl)
    spc = _xmr(metric, values, target, rebase_positions(starts, changes))
    _, lower_998, upper_998 = value_ci(metric.unit, latest["numerator"], latest["denominator"], 0.998)
    return {
        "priority": metric.priority, "metric_id": metric.id, "metric": metric.short_title,
        "unit": metric.unit_label, "period": latest["period_label"], "period_start": latest["period_start"],
        "value": latest["value"], "lower": latest["lower"], "upper": latest["upper"],
        "numerator": latest["numerator"], "denominator": latest["denominator"],
        "target": target, "rag": colour, "rag_basis": basis, "rag_text": rag_text(colour, basis),
        "previous_period": area_rows["period_label"].iat[previous] if previous is not None else None,
        "change": change, "direction": _direction(metric, change),
        "nwl_value": nwl_value, "vs_nwl": vs_nwl,
        "vs_nwl_998": str(compare_to_benchmark(lower_998, upper_998, nwl_value, metric.polarity)),
        "variation": spc.variation if spc else None, "assurance": spc.assurance if spc else None,
        "sparkline": np.round(values[-SPARKLINE_POINTS:], 2).tolist(),
        "published_at": metric.lowest_level,
    }


def scorecard(store: Store, snapshot: date, area: Area, nwl: Area, month: str,
              metrics: list[Metric] | tuple[Metric, ...] | None = None) -> pd.DataFrame:
    """Every catalogue metric (or the given ones) for one area at the latest period ending by ``month``.

    Lines follow the order of ``metrics``; a metric with no data for the area is left out. The series is
    put in period order and grouped once, rather than filtered per metric.
    """
    metrics = metrics or catalogue().metrics
    frame = series(store, snapshot, [m.id for m in metrics], [area, nwl], end=month_end(month))
    # Only the columns a line reads, in period order, split once (groupby keeps each group's row order).
    frame = frame[list(SCORECARD_INPUT)].sort_values("period_start", kind="stable")
    groups = dict(list(frame.groupby(["metric_id", "area_code"], sort=False)))
    within = areas.with_ancestors(store, snapshot, area)
    rows = []
    for metric in metrics:
        mine = groups.get((metric.id, area.code))
        if mine is None:
            continue
        theirs = groups.get((metric.id, nwl.code), frame.iloc[:0])
        changes = [change.date for change in metric.spc_changes_for(within)]
        rows.append(scorecard_row(metric, mine, theirs, changes))
    return pd.DataFrame(rows)


def exceptions(card: pd.DataFrame) -> pd.DataFrame:
    """Highlighted metrics, as Model Health System defines them, each with the reason it is flagged.

    A metric is highlighted for a special cause of concern, a consistent fail against its target, or a
    value significantly worse than NWL at 99.8%.
    """
    reasons = []
    for row in card.itertuples():
        why = []
        if row.variation in ("concern_high", "concern_low"):
            why.append("special cause of concern (" + ("rising" if row.variation == "concern_high" else "falling") + ")")
        if row.assurance == "consistent_fail":
            why.append("consistently failing the target")
        if row.vs_nwl_998 == "worse":
            why.append("significantly worse than NWL (99.8%)")
        if why:
            reasons.append({"metric_id": row.metric_id, "metric": row.metric, "period": row.period,
                            "value": row.value, "lower": row.lower, "upper": row.upper,
                            "target": row.target, "rag": row.rag,
                            "rag_text": getattr(row, "rag_text", RAG_LABELS.get(row.rag, row.rag)),
                            "variation": row.variation, "assurance": row.assurance, "why": "; ".join(why)})
    columns = ["metric_id", "metric", "period", "value", "lower", "upper", "target", "rag", "rag_text",
               "variation", "assurance", "why"]
    out = pd.DataFrame(reasons, columns=columns)
    # Most reasons first, then red before amber.
    severity = -out["why"].str.count(";") * 10 + out["rag"].map({"red": 0, "amber": 1, "green": 2, "grey": 3})
    return out.iloc[severity.argsort(kind="stable")].reset_index(drop=True)


def latest_period_start(store: Store, snapshot: date, metric: Metric, area: Area, month: str) -> pd.Timestamp | None:
    """Start of the latest period of a metric that ends by ``month`` for this area."""
    frame = store.aggregate(snapshot, (metric.id,), area.level, area_codes=(area.code,),
                            end=month_end(month))
    return frame["period_start"].max() if len(frame) else None


def compare_within(store: Store, snapshot: date, metric: Metric, parent: Area, level: Level, month: str,
                   names: dict[str, str]) -> pd.DataFrame:
    """Every area at ``level`` inside ``parent`` for the latest period by ``month``, with CIs.

    Each area is also compared with the parent's own figure (CI excludes it -> better / worse).
    """
    start = latest_period_start(store, snapshot, metric, parent, month)
    if start is None:
        return pd.DataFrame()
    frame = store.aggregate(snapshot, (metric.id,), level, within=(parent.level, parent.code),
                            start=start.date(), end=month_end(month))
    frame = with_ci(frame[frame["period_start"] == start])
    benchmark = scorecard_value(store, snapshot, metric, parent, month)
    standardised = standardised_rows(store, snapshot, metric, level, start, month,
                                     within=(parent.level, parent.code)) if metric.age_standardisation else None
    if standardised is not None and len(standardised):  # without age-band rows the crude rates are compared
        # Areas with older populations have more admissions for that reason alone: compare like with like.
        frame = with_standardised(frame, metric, standardised)
        own = standardised_rows(store, snapshot, metric, parent.level, start, month, area_codes=(parent.code,))
        benchmark = float(own["value"].iloc[0]) if len(own) else None
    frame["area_name"] = frame["area_code"].map(names).fillna(frame["area_code"])
    frame = against_benchmark(frame, metric, benchmark)
    frame["period_label"] = period_label(metric.frequency, start)
    return frame.sort_values("value", ascending=False).reset_index(drop=True)


STANDARDISED_COLUMNS = ("numerator", "denominator", "expected", "value", "lower", "upper")


def standardised_rows(store: Store, snapshot: date, metric: Metric, level: Level, start: pd.Timestamp, month: str,
                      area_codes: tuple[str, ...] | None = None,
                      within: tuple[Level, str] | None = None) -> pd.DataFrame:
    """Per area at ``level`` for the period starting ``start``: observed events (numerator) and population
    (denominator) summed over the metric's age bands, the events expected at NWL's age-specific rates in the same
    period (expected), and the indirectly standardised rate with its 95% CI (value, lower, upper; exact below 10
    events, Byar's from 10, as PHEindicatormethods' calculate_ISRate). Bands NWL has no population in are left
    out; an area whose every band is suppressed has no value."""
    end = month_end(month)
    bands = store.aggregate(snapshot, (metric.id,), level, area_codes=area_codes, within=within,
                            breakdown="age_band", start=start.date(), end=end)
    nwl = areas.home_ics(store, snapshot)
    reference = store.aggregate(snapshot, (metric.id,), "ics", area_codes=(nwl.code,), breakdown="age_band",
                                start=start.date(), end=end)
    reference = reference[(reference["period_start"] == start) & (reference["denominator"] > 0)]
    bands = bands[bands["period_start"] == start].merge(
        reference[["breakdown_value", "numerator", "denominator"]], on="breakdown_value", suffixes=("", "_ref"))
    rows = []
    for code, group in bands.groupby("area_code", sort=False):
        people = group["denominator"].fillna(0.0).to_numpy()
        ref = (group["numerator_ref"].to_numpy(), group["denominator_ref"].to_numpy())
        triple = (indirectly_standardised_rate(group["numerator"].to_numpy(), people, *ref,
                                               multiplier=metric.multiplier)
                  if group["numerator"].notna().any() else (np.nan, np.nan, np.nan))
        rows.append((code, group["numerator"].sum(min_count=1), people.sum(), expected_events(people, *ref),
                     *triple))
    return pd.DataFrame(rows, columns=["area_code", *STANDARDISED_COLUMNS])


def with_standardised(frame: pd.DataFrame, metric: Metric, standardised: pd.DataFrame) -> pd.DataFrame:
    """A comparison frame with its values replaced by the age-standardised ones, counts by the age bands' sums they
    are made from (the crude rate of those counts kept as ``crude_value``), and a ``standardisation`` column
    saying so, for charts and tables."""
    out = frame.drop(columns=[c for c in STANDARDISED_COLUMNS if c in frame]).merge(
        standardised, on="area_code", how="left")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["crude_value"] = out["numerator"] / out["denominator"] * metric.multiplier
    out["standardisation"] = metric.standardisation_label
    return out


def against_benchmark(frame: pd.DataFrame, metric: Metric, benchmark: float) -> pd.DataFrame:
    """Mark each row better / similar / worse than ``benchmark`` by whether its 95% CI excludes it."""
    return frame.assign(benchmark=benchmark, vs_benchmark=compare_to_benchmark(
        frame["lower"], frame["upper"], benchmark, metric.polarity))


def snapshot_table(store: Store) -> pd.DataFrame:
    """One row per served snapshot: what it holds and when it was written (each from its own folder)."""
    rows = []
    for snap in store.snapshots():
        info = store.snapshot_summary(snap)
        origin = provenance(store.storage, snap)
        rows.append({"Snapshot (data as at)": snap, "Rows": info["rows"], "Metrics": info["metrics"],
                     "Latest period ends": info["last_period_end"].date(),
                     "Loaded": f"{info['written']:%d %b %Y %H:%M} UTC",
                     "Data": SYNTHETIC_LABEL if origin.synthetic else "Real",
                     "Sources": "; ".join(origin.sources)})
    return pd.DataFrame(rows).sort_values("Snapshot (data as at)", ascending=False)


def breakdown(store: Store, snapshot: date, metric: Metric, area: Area, kind: str, month: str) -> pd.DataFrame:
    """One inequality breakdown (e.g. by IMD quintile) for an area at the latest period by ``month``, in the
    groups' natural order, each named as a reader would ("IMD quintile 1 (most deprived)") and compared with the
    area's overall value as Fingertips compares subgroups (its 95% CI excludes the overall value: better / worse,
    or higher / lower for a neutral metric; a suppressed group is not compared)."""
    start = latest_period_start(store, snapshot, metric, area, month)
    if start is None:
        return pd.DataFrame()
    frame = store.aggregate(snapshot, (metric.id,), area.level, area_codes=(area.code,),
                            breakdown=kind, start=start.date(), end=month_end(month))
    frame = with_ci(frame[frame["period_start"] == start])
    frame["period_label"] = period_label(metric.frequency, start)
    frame["breakdown"] = kind
    frame["group"] = [breakdown_value_label(kind, str(v)) for v in frame["breakdown_value"]]
    frame = against_benchmark(frame, metric, scorecard_value(store, snapshot, metric, area, month))
    order = sorted(frame["breakdown_value"], key=group_order)
    return frame.set_index("breakdown_value", drop=False).loc[order].reset_index(drop=True)


_LAST_GROUPS = ("Other", "Not stated", "Unknown")


def group_order(value: str) -> tuple:
    """Groups in their natural order: ages and quintiles by their first number ('Under 40' first), names
    alphabetically with 'Other' and 'Not stated' last.

    >>> sorted(["80+", "40-64", "Under 40", "65-79"], key=group_order)
    ['Under 40', '40-64', '65-79', '80+']
    >>> sorted(["White", "Not stated", "Asian", "Other"], key=group_order)
    ['Asian', 'White', 'Other', 'Not stated']
    """
    digits = re.match(r"(Under )?(\d+)", value)
    if digits:
        return (0, -1 if digits.group(1) else int(digits.group(2)), value)
    return (2 if value in _LAST_GROUPS else 1, _LAST_GROUPS.index(value) if value in _LAST_GROUPS else 0, value)


def slope_index(quintiles: pd.DataFrame, metric: Metric):
    """SII across IMD quintiles (rows ordered most to least deprived), or None when it cannot be fitted.

    It cannot be fitted when a quintile is missing, or (for percentages, modelled on the logit scale)
    when a quintile sits at 0% or 100%, as happens in small areas.
    """
    frame = quintiles.sort_values("breakdown_value").dropna(subset=["value"])  # '1 (most deprived)' sorts first
    if len(frame) != 5 or (metric.statistic == "proportion" and not frame["value"].between(0, 100, "neither").all()):
        return None
    return slope_index_of_inequality(
        frame["value"].to_numpy(), frame["denominator"].to_numpy(), lower=frame["lower"].to_numpy(),
        upper=frame["upper"].to_numpy(), value_type=metric.statistic,
        multiplier=metric.multiplier)


def scorecard_value(store: Store, snapshot: date, metric: Metric, area: Area, month: str) -> float | None:
    """The area's value at the metric's latest period by ``month`` (the 'All' line on breakdowns)."""
    start = latest_period_start(store, snapshot, metric, area, month)
    if start is None:
        return None
    frame = with_ci(store.aggregate(snapshot, (metric.id,), area.level, area_codes=(area.code,),
                                    start=start.date(), end=month_end(month)))
    return float(frame.loc[frame["period_start"] == start, "value"].iloc[0])


def in_season_note(metric: Metric, month: str) -> str | None:
    """Seasonal metrics are cumulative from September; say so when the month is out of season."""
    if metric.season_months and not is_in_season(metric.season_months, month):
        return f"{metric.short_title} is collected September to February; showing the latest season."
    return None
