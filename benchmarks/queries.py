"""The query set: what each page asks of the data, through its own data functions (``metrics.page_data``).

Every query is a plain function of a ``Scene`` (the view a user has chosen, and the store it is asked of) that calls
the data function the page renders from, with the page's default controls, and returns what it returns: the
benchmark times the page's own question, not a restatement of it. The same function runs on the DuckDB store and,
with the scene's store swapped for ``baseline.PandasStore``, on pandas, and the two answers are compared. The pack
is not a page: its query calls ``pack.gather`` and the chart slides' trends as ``pack.build_pack`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from metrics import areas, exports, pack, page_data
from metrics.catalogue import Metric, catalogue
from metrics.filters import ViewState
from metrics.periods import month_of
from metrics.store import Store

BOROUGH, PCN = "Harrow", "U89806"  # the app's default borough, and its Sphere PCN for the drill-down views
PRIORITIES = ("phm", "frailty", "diabetes", "mental_health", "vaccination")


@dataclass(frozen=True)
class Scene:
    """The views a user looks at (the sidebar's filters), and the store they are asked of."""

    store: Store  # or anything with its methods (baseline.PandasStore, run_queries.Recorder)
    view: ViewState  # Harrow, newest snapshot and month
    pcn_view: ViewState  # the same, drilled down to Harrow's Sphere PCN


@dataclass(frozen=True)
class Query:
    name: str
    page: str
    run: Callable[[Scene], object]


def scene(store: Store) -> Scene:
    """Latest snapshot, latest month, Harrow and its Sphere PCN, read through the store (as the sidebar does)."""
    snapshot = store.snapshots()[-1]
    borough = areas.find_borough(store, snapshot, BOROUGH)
    pcn = areas.pcn(store, snapshot, PCN)
    view = ViewState(snapshot=snapshot, borough=borough.name, borough_code=borough.code,
                     borough_level=borough.level, period=month_of(store.period_range(snapshot)[1]))
    return Scene(store, view, view.model_copy(update={"pcn": pcn.code, "pcn_name": pcn.name}))


def _first(priority: str) -> Metric:
    """The metric a priority page opens on (its metric picker's default)."""
    return catalogue().for_page(priority)[0]


# ------------------------------------------------------------------------------------------- pages
def sidebar(s: Scene) -> object:
    """app.py's global filters (ui.global_filters): snapshots, boroughs and places, the borough's PCNs, months."""
    snapshot = s.view.snapshot
    choices = areas.boroughs_and_places(s.store, snapshot)
    return (s.store.snapshots(), choices, areas.pcns_in(s.store, snapshot, choices[BOROUGH]),
            s.store.period_range(snapshot))


def overview(s: Scene) -> object:
    """app_pages/overview.py: every metric for the borough and month, and the exceptions drawn from it."""
    return page_data.overview(s.store, s.view)


def since_last_meeting(s: Scene) -> object:
    """The Overview's "Since last meeting", against the snapshot before this one (its default)."""
    return page_data.since_last_meeting(s.store, s.view, page_data.overview(s.store, s.view).earlier_snapshots[-1])


def headline(priority: str) -> Callable[[Scene], object]:
    """A priority page's headline tiles: the scorecard of its metrics."""
    def run(s: Scene) -> object:
        return page_data.priority_headline(s.store, s.view, priority)
    return run


def trend(priority: str) -> Callable[[Scene], object]:
    """A priority page's trend section as it opens: the series, and the SPC chart where it is the default tab."""
    def run(s: Scene) -> object:
        shown = page_data.priority_trend(s.store, s.view, _first(priority))
        return shown, page_data.priority_spc(s.store, s.view, shown) if shown.spc_applies else None
    return run


def pcns_in_borough(priority: str) -> Callable[[Scene], object]:
    """A priority page's PCNs compared within the borough."""
    def run(s: Scene) -> object:
        return page_data.priority_comparison(s.store, s.view, _first(priority))
    return run


def practices_in_pcn(s: Scene) -> object:
    """A priority page drilled down to a PCN: its practices compared."""
    return page_data.priority_comparison(s.store, s.pcn_view, _first("frailty"))


def breakdowns(priority: str) -> Callable[[Scene], object]:
    """The inequalities section: every published breakdown of the page's metric, with the 'All' line."""
    def run(s: Scene) -> object:
        return page_data.priority_breakdowns(s.store, s.view, _first(priority))
    return run


def breakdown_view(s: Scene) -> object:
    """One breakdown chart (flu uptake 65+ by ethnicity), as Chart studio draws it."""
    metric = _first("vaccination")
    return page_data.studio_chart(s.store, s.view, metric, "breakdown", s.view.period, s.view.period,
                              breakdown="ethnicity")


def variation_in(scope: str) -> Callable[[Scene], object]:
    """app_pages/variation.py: practices against the NWL average, for a PCN or for every NWL practice."""
    def run(s: Scene) -> object:
        metric = catalogue().practice_level()[0]
        if scope == "pcn":
            return page_data.variation_explorer(s.store, s.pcn_view, metric)
        return page_data.variation_explorer(s.store, s.view, metric, every_practice=True)
    return run


def similar_practices(s: Scene) -> object:
    """The Variation explorer's 'similar practices' for the first practice of the borough: every practice's
    profile (an England-wide read), then the chosen practice's peers against their pooled value."""
    shown = page_data.variation_explorer(s.store, s.view, catalogue().practice_level()[0])
    peers = page_data.peer_choices(s.store, s.view, shown)
    return peers, page_data.similar_practices(s.store, s.view, shown, peers, next(iter(peers.choices)))


def pack_data(s: Scene) -> object:
    """A pack build's data: the scorecard and hidden-change checks (pack.gather), then each red metric's trend."""
    data = pack.gather(s.store, s.view.borough, s.view.period, s.view.snapshot)
    trends = [exports.studio_trend(s.store, catalogue().metric(m), data.borough,
                                   pack.trend_start(catalogue().metric(m), s.view.period), s.view.period,
                                   s.view.snapshot)[0]
              for m in data.card.loc[data.card["rag"] == "red", "metric_id"]]
    return data.card, data.exceptions, data.hidden, data.suppressed, *trends


def chart_studio(s: Scene) -> object:
    """app_pages/chart_studio.py as it opens: a trend of the first catalogue metric from its default start."""
    metric = catalogue().metrics[0]
    offered = page_data.studio_choices(s.store, s.view, metric)
    return page_data.studio_chart(s.store, s.view, metric, "trend", offered.default_start, s.view.period).data


def definitions(s: Scene) -> object:
    """app_pages/definitions.py: what each snapshot holds (a count over every row of every snapshot)."""
    return page_data.definitions(s.store)


def query_set() -> list[Query]:
    """Every query, named page.section; priority pages get headline, trend, PCNs and (if any) breakdowns."""
    queries = [Query("sidebar.filters", "all", sidebar), Query("overview.scorecard", "overview", overview),
               Query("overview.since_last_meeting", "overview", since_last_meeting)]
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

