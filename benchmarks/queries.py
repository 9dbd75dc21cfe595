"""The query set: what each page asks of the data, through the same library functions the page calls.

Every query is a plain function of a ``Scene`` (the filters a user has chosen, and the store they are asked of)
that calls ``metrics.reports``, ``metrics.variation``, ``metrics.pack`` or the store exactly as the page or the pack
does, and returns what those return, so the same function can be run on the DuckDB store and, with the scene's
store swapped for ``baseline.PandasStore``, on pandas, and the two answers compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


from metrics import areas, exports, pack, reports, variation
from metrics.areas import Area
from metrics.catalogue import Metric, catalogue
from metrics.periods import month_end, month_of, months_before
from metrics.store import Store

BOROUGH, PCN = "Harrow", "U89806"  # the app's default borough, and its Sphere PCN for the drill-down views
BREAKDOWN_ORDER = ["ethnicity", "imd_quintile", "age_band", "sex"]


@dataclass(frozen=True)
class Scene:
    """The filters a user has picked, and the lookups a page has already made (ui.org_names and friends)."""

    store: Store  # or anything with its methods (baseline.PandasStore, run_queries.Recorder)
    snapshot: date
    month: str
    borough: Area
    pcn: Area
    nwl: Area
    names: dict[str, str]
    practice_pcns: dict[str, str]


@dataclass(frozen=True)
class Query:
    name: str
    page: str
    run: Callable[[Scene], object]


def scene(store: Store) -> Scene:
    """Latest snapshot, latest month, Harrow and its Sphere PCN, read through the store (as the sidebar does)."""
    snapshot = store.snapshots()[-1]
    names = areas.org_names(store, snapshot)
    month = month_of(store.period_range(snapshot)[1])
    return Scene(store, snapshot, month, areas.find_borough(store, snapshot, BOROUGH), Area(PCN, names[PCN], "pcn"),
                 areas.home_ics(store, snapshot), names, areas.practice_pcn_names(store, snapshot))


def _first(priority: str) -> Metric:
    return catalogue().for_page(priority)[0]


# ------------------------------------------------------------------------------------------- pages
def sidebar(s: Scene) -> object:
    """app.py's global filters and the name lookups every page makes (ui.global_filters, ui.org_names)."""
    return (s.store.snapshots(), s.store.orgs(s.snapshot, "borough"), s.store.orgs(s.snapshot, "place"),
            s.store.orgs(s.snapshot, "pcn"), s.store.period_range(s.snapshot),
            s.store.orgs(s.snapshot), s.store.orgs(s.snapshot, "practice"))


def overview(s: Scene) -> object:
    """app_pages/overview.py: every metric for the borough and month, and the exceptions drawn from it."""
    card = reports.scorecard(s.store, s.snapshot, s.borough, s.nwl, s.month)
    return card, reports.exceptions(card)


def headline(priority: str) -> Callable[[Scene], object]:
    def run(s: Scene) -> object:
        return reports.scorecard(s.store, s.snapshot, s.borough, s.nwl, s.month, catalogue().for_page(priority))
    return run


def trend(priority: str) -> Callable[[Scene], object]:
    def run(s: Scene) -> object:
        return reports.series(s.store, s.snapshot, [_first(priority).id], [s.borough, s.nwl], end=month_end(s.month))
    return run


def pcns_in_borough(priority: str) -> Callable[[Scene], object]:
    def run(s: Scene) -> object:
        return reports.compare_within(s.store, s.snapshot, _first(priority), s.borough, "pcn", s.month, s.names)
    return run


def practices_in_pcn(s: Scene) -> object:
    """A priority page drilled down to a PCN: its practices compared (app_pages/_priority.py ``comparison``)."""
    return reports.compare_within(s.store, s.snapshot, _first("frailty"), s.pcn, "practice", s.month, s.names)


def breakdowns(priority: str) -> Callable[[Scene], object]:
    """The inequalities section: the 'All' line and every published breakdown of the page's metric."""
    def run(s: Scene) -> object:
        metric = _first(priority)
        kinds = sorted(metric.breakdowns, key=BREAKDOWN_ORDER.index)
        return (reports.scorecard_value(s.store, s.snapshot, metric, s.borough, s.month),
                *(reports.breakdown(s.store, s.snapshot, metric, s.borough, kind, s.month) for kind in kinds))
    return run


def breakdown_view(s: Scene) -> object:
    """One breakdown chart (flu uptake 65+ by ethnicity), as the chart studio and the inequality charts draw."""
    return reports.breakdown(s.store, s.snapshot, _first("vaccination"), s.borough, "ethnicity", s.month)


def variation_in(scope: str) -> Callable[[Scene], object]:
    """app_pages/variation.py: practices against the ICS average, for a PCN or for the whole ICS."""
    def run(s: Scene) -> object:
        area = s.pcn if scope == "pcn" else s.nwl
        return variation.practices_against_nwl(s.store, s.snapshot, catalogue().practice_level()[0], area, s.month,
                                               s.names, s.practice_pcns)
    return run


def similar_practices(s: Scene) -> object:
    """app_pages/variation.py's 'similar practices': every practice's profile (an England-wide read)."""
    return variation.practice_profiles(s.store, s.snapshot, s.month)


def pack_data(s: Scene) -> object:
    """A pack build's data: the scorecard and hidden-change checks (pack.gather), then each red metric's trend."""
    data = pack.gather(s.store, s.borough.name, s.month, s.snapshot)
    trends = [exports.studio_trend(s.store, catalogue().metric(m), data.borough,
                                   pack.trend_start(catalogue().metric(m), s.month), s.month, s.snapshot)[0]
              for m in data.card.loc[data.card["rag"] == "red", "metric_id"]]
    return data.card, data.exceptions, data.hidden, data.suppressed, *trends


def chart_studio(s: Scene) -> object:
    """app_pages/chart_studio.py as it opens: a trend of the first catalogue metric over the last 24 months."""
    start = months_before(s.month, 23)
    spec = exports.studio_figure(s.store, "trend", catalogue().metrics[0].id, s.borough, start, s.month, s.snapshot)
    return spec.data


def definitions(s: Scene) -> object:
    """app_pages/definitions.py: what each snapshot holds (a count over every row of every snapshot)."""
    return reports.snapshot_table(s.store)


PRIORITIES = ("phm", "frailty", "diabetes", "mental_health", "vaccination")


def query_set() -> list[Query]:
    """Every query, named page.section; priority pages get headline, trend, PCNs and (if any) breakdowns."""
    queries = [Query("sidebar.filters", "all", sidebar), Query("overview.scorecard", "overview", overview)]
    for priority in PRIORITIES:
        queries += [Query(f"{priority}.headline", priority, headline(priority)),
                    Query(f"{priority}.trend", priority, trend(priority)),
                    Query(f"{priority}.pcns_in_borough", priority, pcns_in_borough(priority))]
        if _first(priority).breakdowns:
            queries.append(Query(f"{priority}.breakdowns", priority, breakdowns(priority)))
    return queries + [
        Query("frailty.practices_in_pcn", "frailty", practices_in_pcn),
        Query("breakdown.ethnicity", "vaccination", breakdown_view),
        Query("variation.pcn", "variation", variation_in("pcn")),
        Query("variation.ics", "variation", variation_in("ics")),
        Query("variation.similar_practices", "variation", similar_practices),
        Query("chart_studio.trend", "chart_studio", chart_studio),
        Query("pack.data", "pack", pack_data),
        Query("definitions.snapshots", "definitions", definitions),
    ]
