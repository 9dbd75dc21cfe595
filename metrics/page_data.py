"""Each page's data: the view in (the store, the filters of ``metrics.filters.ViewState`` and the page's own
controls), named frames out.

A page renders from these and nothing else reads the data for it, so the page, the benchmark (``benchmarks/
queries.py``) and the tests ask exactly the same question the same way: a benchmark figure or a test result is
the page's own. A section that depends on a control the user picks (the metric, the SPC recalculation point, the
Variation explorer's toggles and peer practice, Chart studio's choices) has a function of its own that takes that
control's value, and the data of the section before it when it builds on it, so nothing is read twice.

The store handed in is already the reader's (``Store.scoped``): practices outside their access are not in any
frame. What depends on the session (small numbers blanked on screen outside the reader's own practices, the
notice that a PCN's practices are outside their access) stays in the Streamlit glue, ``metrics.ui``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from metrics import areas, exports, meeting, reports, variation
from metrics.areas import Area
from metrics.catalogue import BREAKDOWN_LABEL, Level, Metric, catalogue
from metrics.charts import ChartSpec
from metrics.filters import ViewState
from metrics.periods import default_trend_start, month_end, month_options
from metrics.stats import SiiResult, XmrResult
from metrics.store import Store
from metrics.variation import Dispersion

BREAKDOWN_ORDER = ["ethnicity", "imd_quintile", "age_band", "sex"]  # the inequalities section's order


def borough_area(view: ViewState) -> Area:
    """The chosen borough, or place (a group of boroughs)."""
    return Area(view.borough_code, view.borough, view.borough_level)


def focus_area(view: ViewState) -> Area:
    """The area a page is about: the chosen PCN, else the borough or place."""
    if view.pcn:
        return Area(view.pcn, view.pcn_name or view.pcn, "pcn")
    return borough_area(view)


# --- Overview ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """Every metric for the area and month, the exceptions drawn from it, and the snapshots an earlier meeting
    could have seen (oldest first; "Since last meeting" compares with one of them)."""

    area: Area
    card: pd.DataFrame
    exceptions: pd.DataFrame
    earlier_snapshots: list[date]


def overview(store: Store, view: ViewState) -> Overview:
    """The Overview's scorecard and exceptions for the chosen area and month."""
    area = focus_area(view)
    card = reports.scorecard(store, view.snapshot, area, areas.home_ics(store, view.snapshot), view.period)
    earlier = [d for d in store.snapshots() if d < view.snapshot]
    return Overview(area, card, reports.exceptions(card), earlier)


def since_last_meeting(store: Store, view: ViewState, seen: date) -> meeting.SinceLastMeeting:
    """This month's view against last month's as the snapshot ``seen`` had it (the Overview's "Since last
    meeting"; the reader picks the snapshot, by default the one before this)."""
    return meeting.since_last_meeting(store, focus_area(view), areas.home_ics(store, view.snapshot), view.period,
                                      view.snapshot, seen)


# --- Priority pages --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Headline:
    """A priority page's metrics and their scorecard lines for the area (the headline tiles)."""

    area: Area
    metrics: list[Metric]
    card: pd.DataFrame


def priority_headline(store: Store, view: ViewState, priority_id: str) -> Headline:
    """The scorecard of one priority's metrics, for its headline tiles and the metric explored below them."""
    metrics = catalogue().for_page(priority_id)
    area = focus_area(view)
    card = reports.scorecard(store, view.snapshot, area, areas.home_ics(store, view.snapshot), view.period, metrics)
    return Headline(area, metrics, card)


@dataclass(frozen=True)
class Trend:
    """One metric's series for the area, beside its borough (for a PCN) and NWL; what the SPC chart may offer."""

    metric: Metric
    area: Area
    areas: list[Area]  # the area, its borough when it is a PCN, NWL
    series: pd.DataFrame  # every area's series to the month
    mine: pd.DataFrame  # the area's own, oldest first (empty: no data for the area)
    target: float | None
    spc_applies: bool  # the SPC chart is the default view only where XmR limits mean something
    service_changes: tuple = ()  # changes the catalogue declares for the area (SpcChange): where "auto" recalculates
    recalculation_months: list[str] = field(default_factory=list)  # months a reader may recalculate from


def priority_trend(store: Store, view: ViewState, metric: Metric) -> Trend:
    """The trend section of a priority page for the metric the reader explores."""
    area = focus_area(view)
    shown = [area] + ([borough_area(view)] if area.level == "pcn" else []) + [areas.home_ics(store, view.snapshot)]
    frame = reports.series(store, view.snapshot, [metric.id], shown, end=month_end(view.period))
    mine = frame[frame["area_code"] == area.code].sort_values("period_start")
    if mine.empty:
        return Trend(metric, area, shown, frame, mine, None, False)
    months = [f"{start:%Y-%m}" for start in mine["period_start"].iloc[reports.MIN_SPC_POINTS // 2:]]
    return Trend(metric, area, shown, frame, mine, reports.target_value(metric, mine),
                 reports.spc_applies(metric, len(mine)),
                 reports.declared_spc_changes(store, view.snapshot, metric, area), months)


@dataclass(frozen=True)
class Spc:
    """The area's XmR chart: the series with its limits, the result (None where SPC does not apply), the dates
    limits are recalculated from and a few words saying so."""

    rows: pd.DataFrame
    result: XmrResult | None
    changes: list[date]
    phases: str


def priority_spc(store: Store, view: ViewState, trend: Trend, recalculate: str = "auto") -> Spc:
    """The SPC chart of a trend, its limits recalculated where the reader chose (``auto``: where the catalogue
    records a service change; ``none``; or a month such as ``2025-04``)."""
    changes, phases = reports.spc_phases([change.date for change in trend.service_changes], recalculate)
    rows, result = reports.with_spc(trend.metric, trend.mine, trend.target, changes)
    return Spc(rows, result, changes, phases)


@dataclass(frozen=True)
class Comparison:
    """The areas one level down compared with their parent: a borough's PCNs, or a PCN's practices."""

    parent: Area
    level: Level
    frame: pd.DataFrame  # ranked, with 95% CIs, each compared with the parent's own figure
    target: float | None  # a fixed target's line (a baseline target is each area's own, so not drawn)
    pcns: dict[str, str] = field(default_factory=dict)  # the borough's PCNs to drill down to (code -> name)


def priority_comparison(store: Store, view: ViewState, metric: Metric) -> Comparison:
    """PCNs in the chosen borough, or the practices of the chosen PCN."""
    parent = focus_area(view) if view.pcn else borough_area(view)
    level: Level = "practice" if view.pcn else "pcn"
    frame = reports.compare_within(store, view.snapshot, metric, parent, level, view.period,
                                   areas.org_names(store, view.snapshot))
    fixed = metric.target is not None and bool(metric.target.value)
    target = reports.target_value(metric, frame) if fixed and not frame.empty else None
    pcns = areas.pcns_in(store, view.snapshot, parent) if level == "pcn" else {}
    return Comparison(parent, level, frame, target, pcns)


@dataclass(frozen=True)
class Breakdown:
    """One published breakdown of a metric for the area (e.g. by IMD quintile), against the area's own value."""

    kind: str
    frame: pd.DataFrame  # the groups in their natural order (empty without data)
    overall: float | None  # the area's own value (the 'All' line); None without data
    sii: SiiResult | None  # the slope index of inequality, for IMD quintiles where it can be fitted


def priority_breakdown(store: Store, view: ViewState, metric: Metric, kind: str) -> Breakdown:
    """One breakdown of the inequalities section."""
    area = focus_area(view)
    frame = reports.breakdown(store, view.snapshot, metric, area, kind, view.period)
    if frame.empty:
        return Breakdown(kind, frame, None, None)
    sii = reports.slope_index(frame, metric) if kind == "imd_quintile" else None
    # each group is compared with the area's own value (reports.scorecard_value): the frame's benchmark
    return Breakdown(kind, frame, float(frame["benchmark"].iloc[0]), sii)


def breakdown_kinds(metric: Metric) -> list[str]:
    """The breakdowns a metric publishes, in the inequalities section's order."""
    return sorted(metric.breakdowns, key=BREAKDOWN_ORDER.index)


def priority_breakdowns(store: Store, view: ViewState, metric: Metric) -> list[Breakdown]:
    """The whole inequalities section: every breakdown the metric publishes, in ``BREAKDOWN_ORDER``."""
    return [priority_breakdown(store, view, metric, kind) for kind in breakdown_kinds(metric)]


# --- Variation explorer ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variation:
    """Practices against the NWL average: funnel labels, the limits' curve, the outliers."""

    metric: Metric
    scope: Area  # whose practices: the chosen PCN, borough or place, or NWL
    adjusted: bool  # limits widened for overdispersion (when phi shows it)
    practices: pd.DataFrame  # empty: no practice data
    nwl: float | None  # the NWL average
    spread: Dispersion
    limits: pd.DataFrame | None  # the funnel's limit lines (variation.funnel_curve)
    outliers: pd.DataFrame  # outside the 99.8% limits
    period: str | None


def variation_explorer(store: Store, view: ViewState, metric: Metric, every_practice: bool = False,
                       adjusted: bool = True) -> Variation:
    """The funnel, caterpillar and tables of the Variation explorer: the practices of the chosen area (or of
    NWL, ``every_practice``), with plain or overdispersion-adjusted limits."""
    scope = areas.home_ics(store, view.snapshot) if every_practice else focus_area(view)
    practices, nwl, spread = variation.practices_against_nwl(
        store, view.snapshot, metric, scope, view.period, areas.org_names(store, view.snapshot),
        areas.practice_pcn_names(store, view.snapshot), adjust=adjusted)
    if practices.empty:
        return Variation(metric, scope, adjusted, practices, nwl, spread, None, practices, None)
    outliers = practices[practices["funnel"].isin(["high_998", "low_998"])]
    return Variation(metric, scope, adjusted, practices, nwl, spread,
                     variation.funnel_curve(practices, metric, nwl, spread), outliers,
                     practices["period_label"].iloc[0])


@dataclass(frozen=True)
class PeerChoices:
    """The practices a reader may find similar practices for: those shown with a profile (code -> name)."""

    profiles: pd.DataFrame  # every practice's list size, deprivation and share aged 65+
    choices: dict[str, str]


def peer_choices(store: Store, view: ViewState, shown: Variation) -> PeerChoices:
    """The practices of the Variation explorer's scope that have a profile, by name."""
    profiles = variation.practice_profiles(store, view.snapshot, view.period)
    names = areas.org_names(store, view.snapshot)
    held = set(profiles["org_code"])
    codes = shown.practices.sort_values("area_name")["area_code"] if len(shown.practices) else []
    return PeerChoices(profiles, {code: names.get(code, code) for code in codes if code in held})


@dataclass(frozen=True)
class SimilarPractices:
    """A practice and the NWL practices most like it, compared with their pooled value."""

    chosen: str
    neighbours: pd.DataFrame  # the similar practices' profiles, nearest first
    group: pd.DataFrame  # the chosen practice and its neighbours with data, against the peer group's value
    peer_value: float | None  # None: fewer than two practices with data, nothing to compare


def similar_practices(store: Store, view: ViewState, shown: Variation, peers: PeerChoices,
                      chosen: str) -> SimilarPractices:
    """The similar practices section for the practice the reader chose (one of ``peers.choices``)."""
    neighbours = variation.nearest_neighbours(peers.profiles, chosen)
    metric = shown.metric
    group = shown.practices if shown.scope.level == "ics" else variation.practices_against_nwl(
        store, view.snapshot, metric, areas.home_ics(store, view.snapshot), view.period,
        areas.org_names(store, view.snapshot), areas.practice_pcn_names(store, view.snapshot),
        adjust=shown.adjusted)[0]
    if group.empty:
        return SimilarPractices(chosen, neighbours, group, None)
    group = group[group["area_code"].isin([chosen, *neighbours["org_code"]])]
    if len(group) < 2:
        return SimilarPractices(chosen, neighbours, group, None)
    peer_value = float(group["numerator"].sum() / group["denominator"].sum() * metric.multiplier)
    return SimilarPractices(chosen, neighbours, reports.against_benchmark(group, metric, peer_value), peer_value)


# --- Chart studio ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StudioChoices:
    """What Chart studio offers for a metric: chart types (code -> label), months held (oldest first, as the
    period range slider runs) and where a trend starts unless the reader says otherwise."""

    kinds: dict[str, str]
    months: list[str]
    default_start: str


def studio_choices(store: Store, view: ViewState, metric: Metric) -> StudioChoices:
    """Chart studio's controls for one metric (a breakdown chart only for a metric that publishes one)."""
    kinds = {k: label for k, label in exports.STUDIO_KINDS.items() if k != "breakdown" or metric.breakdowns}
    first, last = store.period_range(view.snapshot)
    months = month_options(first, last)[::-1]
    return StudioChoices(kinds, months, default_trend_start(months, view.period, metric.season_months))


def studio_chart(store: Store, view: ViewState, metric: Metric, kind: str, start: str, end: str,
                 title: str | None = None, subtitle: str | None = None, breakdown: str | None = None) -> ChartSpec:
    """The chart a Chart studio reader made, for the chosen area (raises ValueError when it has no data)."""
    return exports.studio_figure(store, kind, metric.id, focus_area(view), start, end, view.snapshot,
                                 title=title or None, subtitle=subtitle or None, breakdown=breakdown)


# --- Data & definitions ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Definitions:
    """The metric catalogue as a table (rows matching the search), its size, and the snapshots held."""

    catalogue: pd.DataFrame
    metrics: int
    snapshots: pd.DataFrame


def _target_text(metric: Metric) -> str:
    target = metric.target
    if target is None:
        return "none"
    if target.value is not None:
        return metric.format_value(target.value)
    start = target.baseline_period_start
    return f"below {start:%Y}/{(start.year + 1) % 100:02d} baseline"


def catalogue_table() -> pd.DataFrame:
    """One row per metric, every field a reader may need, in catalogue order."""
    return pd.DataFrame([{
        "Priority": catalogue().priority(m.priority).title, "Metric": m.title, "Definition": m.definition,
        "Numerator": m.numerator, "Denominator": m.denominator, "Unit": m.unit_label, "Better when": m.better_when,
        "Target": _target_text(m), "Target source": m.target.source if m.target else "",
        "Frequency": m.frequency, "Lowest level": m.lowest_level, "CI method": m.ci_method,
        "Breakdowns": ", ".join(BREAKDOWN_LABEL[b] for b in m.breakdowns), "Data source": m.data_source, "Id": m.id,
    } for m in catalogue().metrics])


def definitions(store: Store, search: str = "") -> Definitions:
    """Data & definitions: the catalogue rows any of whose fields contain ``search`` (any case), and what each
    snapshot holds (its own folder's count, date written and sources)."""
    table = catalogue_table()
    total = len(table)
    if search:
        found = table.apply(lambda col: col.astype(str).str.contains(search, case=False, regex=False)).any(axis=1)
        table = table[found]
    return Definitions(table, total, reports.snapshot_table(store))
