"""Streamlit glue shared by every page: the app's one ``Store``, data bootstrap, URL-synced filters, tables.

This package is the only part of ``metrics`` that imports Streamlit or reads the environment: it reads
``$ICP_DATA_ROOT`` (and ``$BROWSER_PATH``) once, keeps one ``Store`` per data root per process in
``st.cache_resource``, and hands it to the library.

Filters and every page control are mirrored in the URL (``metrics.ui.url``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
import os
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics import areas, charts, exports, tables, page_data
from metrics.areas import Area
from metrics.catalogue import Metric
from metrics.charts import COMPARISON_LABELS, ChartSpec
from metrics.demo import generate_demo
from metrics.filters import ViewState, url_problem
from metrics.layout import ROLLUP_FILE, snapshot_folders
from metrics.periods import month_name, month_options
from metrics.provenance import SYNTHETIC_LABEL, provenance
from metrics.settings import DATA_ROOT_ENV, resolve_root
from metrics.store import NoDataError, Store
from metrics.ui import auth, plot, url
from metrics.ui.downloads import chart_downloads

ALL_PCNS = ""
MAX_TABLE_ROWS = 15  # taller tables scroll inside themselves
# Plotly's own "Download plot as PNG" would be a second way out, without the footnote or the suppression of small
# counts: only the Download control under each chart exports.
PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "toImage"]}
REAL_DATA_HINT = ("To use real data instead, start the app with `ICP_DATA_ROOT` set to another, empty folder (or "
                  "an `s3://` / `abfs://` location) and load published files on the Load data page or with "
                  "`python -m metrics ingest` (README, Monthly refresh).")
SMALL_NUMBER_NOTE = ("Counts of 1 to 7 appear on screen for analysis only; they are suppressed in anything "
                     "meant for sharing.")


def data_root() -> Path:
    """The data root the app serves: ``$ICP_DATA_ROOT``, else the project's data/ folder."""
    return resolve_root(os.environ.get(DATA_ROOT_ENV))


@st.cache_resource(show_spinner=False)
def _store(root: str) -> Store:
    exports.use_browser(os.environ.get("BROWSER_PATH"))
    exports.warm_renderer()
    return Store(root)


def app_store() -> Store:
    """The process's one store over the data root (its connection and answers shared by every session), read
    with this session's scope: the SQL of every query filters the practices the reader may not see."""
    return _store(str(data_root())).scoped(auth.scope())


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _answer(name: str, root: str, scope: str, *args):
    return getattr(page_data, name)(app_store(), *args)


def remembered(function: Callable, *args):
    """A page data function's answer for this reader, kept for an hour and shared by every session with the same
    scope: a snapshot never changes, so neither does what is computed from it (the Overview's scorecard and
    since-last-meeting comparison took about 110 ms of CPU on every run)."""
    return _answer(function.__name__, str(data_root()), auth.scope().key, *args)


def audit_view(page: str) -> None:
    """One audit line per view a signed-in reader looks at: the page with its filters and every control it drew
    (e.g. every NWL practice shown, or plain funnel limits), as the URL holds them; not one per widget rerun."""
    params = url.chosen()
    seen = (page, tuple(sorted(params.items())))
    if st.session_state.get("_audited_view") != seen:
        st.session_state["_audited_view"] = seen
        auth.audit(data_root(), "view", page, params)


def outside_access(area: Area) -> bool:
    """True (and says so on the page, and in the audit log) when the practices of a PCN asked for in the URL are
    outside the reader's access; its PCN figure is still shown, as every area figure is."""
    view = current_view()
    pcn = app_store().orgs(view.snapshot, "pcn")
    row = pcn[pcn["org_code"] == area.code]
    borough = row["borough_code"].iloc[0] if len(row) else None
    if app_store().practice_in_scope(view.snapshot, borough, area.code):
        return False
    st.info(f"The practices of {area.name} are {auth.OUTSIDE_ACCESS}: you can see its PCN figures, but its "
            "practices' figures, names and codes are not shown to you.", icon=":material/lock:")
    auth.audit(data_root(), "refused", "practices", view.query_params(), reason=f"practices of {area.code}")
    return True


def ensure_data() -> None:
    """First run with an empty data root: generate the demo snapshots, showing progress and where they go, then
    rerun (the first page shown says again what was written, and how to use real data instead)."""
    if snapshot_folders(data_root()):
        if note := st.session_state.pop("_demo_written", None):
            st.success(note, icon=":material/science:")
        warn_unreadable()
        return
    st.title("Setting up the demo data")
    st.info(f"No metric snapshots were found under `{data_root()}`, so the built-in North West London demo is being "
            f"written there: synthetic numbers on the real practice hierarchy, marked as synthetic everywhere. "
            f"{REAL_DATA_HINT}")
    bar = st.progress(0.0, text="Starting")
    summary = generate_demo(data_root(), progress=lambda fraction, message: bar.progress(min(fraction, 1.0),
                                                                                          text=message))
    st.session_state["_demo_written"] = (
        f"Synthetic demo data written to `{data_root()}`: {summary['rows']:,} rows in "
        f"{len(summary['snapshots'])} snapshots ({summary['seconds']:.1f} s). {REAL_DATA_HINT}")
    st.rerun()


def warn_unreadable() -> None:
    """A corrupt or truncated file in the data root is named and left out; the rest is served."""
    store = app_store()
    try:
        skipped = store.unreadable_files()
        usable = store.snapshots()
    except NoDataError as error:
        skipped, usable = [], []
        st.error(f"No readable data under `{store.root}` ({error}). Restore the damaged files or load the data again.")
    if skipped:
        names = "\n".join(f"- `{path}`: {reason}" for path, reason in skipped)
        rollups = any(Path(path).name == ROLLUP_FILE for path, _ in skipped)
        hint = ("\n\nArea roll-ups are derived from the values (area figures are summed from practice rows "
                "meanwhile, more slowly): `python -m metrics rollups` rebuilds them.") if rollups else ""
        st.warning(f"These files in the data root could not be read and are left out; everything else is "
                   f"shown:\n{names}{hint}", icon=":material/warning:")
    if not usable:
        st.stop()


def global_filters() -> ViewState:
    """Sidebar filters shared by every page: snapshot, borough, PCN and month (each kept in the URL)."""
    current = url.begin_run()
    store = app_store()
    snaps = store.snapshots()[::-1]
    with st.sidebar:
        st.header("Filters")
        snap = url.select("Data as at (snapshot)", snaps, "snapshot", snaps[0], what="a snapshot held here",
                          to_url=date.isoformat, format_func=lambda d: f"{d:%d %b %Y}",
                          help="Each snapshot is the data as it was known on that date.")
        choices = areas.boroughs_and_places(store, snap)
        names = list(choices)
        aliases = {n.lower(): n for n in names} | {a.code.lower(): n for n, a in choices.items()}
        borough = url.select("Borough or place", names, "borough", "Harrow" if "Harrow" in names else names[0],
                             what="a borough or place of NWL", aliases=aliases, help="Places group boroughs "
                             "that work together, e.g. the Bi-borough of Kensington & Chelsea and Westminster.")
        chosen = choices[borough]
        pcn_names = areas.pcns_in(store, snap, chosen)
        pcn = url.select("PCN", [ALL_PCNS, *pcn_names], "pcn", ALL_PCNS, what=f"a PCN in {borough}",
                         format_func=lambda c: pcn_names.get(c, f"All PCNs in {borough}"))
        first, last = store.period_range(snap)
        months = month_options(first, last)
        period = url.select("Month", months, "period", months[0], what="a month with data in this snapshot",
                            format_func=month_name)
    url.show_problems()
    metric = current.get("metric") if not url_problem("metric", current.get("metric", "")) else None
    url.remember("metric", metric)  # kept for the pages that pick one, until one of them does
    view = ViewState(snapshot=snap, borough=borough, borough_code=chosen.code, borough_level=chosen.level,
                     pcn=pcn or None, pcn_name=pcn_names.get(pcn), period=period, metric=metric)
    st.session_state["_view"] = view
    return view


def current_view() -> ViewState:
    """The filters app.py set for this run (app.py always runs first: pages are declared with st.navigation)."""
    return st.session_state["_view"]


def metric_picker(metrics: list[Metric], view: ViewState, label: str = "Metric") -> Metric:
    """Pick one metric; the choice lives in the URL as ``metric=<catalogue id>``."""
    by_id = {m.id: m for m in metrics}
    chosen = url.select(label, list(by_id), "metric", metrics[0].id, what="a metric shown on this page",
                        format_func=lambda i: by_id[i].title)
    url.show_problems()
    return by_id[chosen]


def focus_area(view: ViewState) -> Area:
    """The area a page is about: the chosen PCN, else the borough or place (``page_data.focus_area``)."""
    return page_data.focus_area(view)


@st.cache_data(ttl=60, show_spinner=False)
def _synthetic(root: str, snapshot: date) -> bool:
    return provenance(app_store().storage, snapshot).synthetic


def synthetic(view: ViewState | None = None) -> bool:
    """Whether the snapshot on screen holds synthetic values (its manifest's lineage, ``metrics.provenance``)."""
    return _synthetic(str(data_root()), (view or current_view()).snapshot)


def page_header(title: str, question: str, view: ViewState, charts: bool = False) -> None:
    """The page's title, the synthetic-data mark and what is shown; on a page with ``charts``, the chart bundle
    starts loading in the browser at once (``plot.preload``)."""
    if charts:
        plot.preload()
    st.title(title)
    if synthetic(view):
        st.warning(f"**{SYNTHETIC_LABEL}.** Every figure on this page comes from the built-in demo generator, "
                   "not from NHS data; downloads and packs say so too. Data & definitions shows each snapshot's "
                   "sources.", icon=":material/science:")
    where = f"{view.pcn_name}, {view.borough}" if view.pcn else view.borough
    mode = "" if auth.sign_in_configured() else " · :material/lock_open: open local mode, no sign-in"
    st.caption(f"{question}  \n**{where}** · {month_name(view.period)} · data as at {view.snapshot:%d %b %Y}{mode}")


def for_screen(frame: pd.DataFrame, area_code: str | None = None) -> pd.DataFrame:
    """The frame as this reader may see it on screen: small numbers (and what gives them back) are blanked in
    rows for areas outside the reader's own practices; inside them, and in open local mode, they are shown for
    analysis. ``area_code`` names the area of a frame without an ``area_code`` column (a scorecard)."""
    own = app_store().own_areas(current_view().snapshot)
    if own is None or frame.empty:
        return frame
    codes = frame["area_code"] if "area_code" in frame else pd.Series(area_code, index=frame.index)
    return exports.blank_small_numbers(frame, ~codes.isin(own))


def with_values_of(rows: pd.DataFrame, card: pd.DataFrame) -> pd.DataFrame:
    """Scorecard-derived rows (the exceptions) with the value and CI the screen shows for each metric."""
    shown = card.set_index("metric_id")
    columns = ["value", "lower", "upper"]
    return rows.assign(**{c: rows["metric_id"].map(shown[c]) for c in columns}) if len(rows) else rows


def show_figure(spec: ChartSpec, key: str) -> None:
    """A chart drawn from its spec, with PNG / SVG / CSV downloads of the same spec (titled, small counts
    suppressed), so what is shared is what is on screen. The figure is drawn once per spec and reused by reruns
    and other sessions (``charts.drawn``)."""
    spec = dataclasses.replace(spec, synthetic=synthetic())
    on_screen = dataclasses.replace(spec, data=for_screen(spec.data))
    st.html(tables.chart_heading(on_screen))
    plot.show(charts.drawn(on_screen), key=key, config=PLOTLY_CONFIG)
    chart_downloads(spec, key=f"{key}_download")


def show_export_preview(spec: ChartSpec, key: str) -> None:
    """Chart studio's preview: the PNG the Download control gives (small counts gone, title and footnote as
    shared), so what a comms officer sees is exactly what they take away. Without Chromium on the server, the
    figure the image would be drawn from."""
    if exports.renderer_available():
        st.image(exports.chart_png(spec), width="stretch")
    else:
        plot.show(exports.export_figure(spec), key=key, config=PLOTLY_CONFIG)
    chart_downloads(spec, key=f"{key}_download")


def ci_table(frame: pd.DataFrame, metric: Metric, name_label: str = "Area",
             extra: dict[str, str] | None = None, sortable: bool = False) -> None:
    """Values with their 95% CI, numerator and denominator, significance in words: an HTML table when every row
    fits (up to ``MAX_TABLE_ROWS``) and it need not be ``sortable``, else a sortable, scrolling ``st.dataframe``."""
    frame = for_screen(frame)
    standardised = "standardisation" in frame and frame["standardisation"].notna().any()
    columns = {"area_name": name_label, **(extra or {}),
               "value": f"{'Age-standardised value' if standardised else 'Value'} ({metric.unit_label})",
               "lower": "95% CI lower", "upper": "95% CI upper", "numerator": "Numerator",
               "denominator": "Denominator"}
    if "vs_benchmark" in frame:
        columns["vs_benchmark"] = "Compared with benchmark"
    table = frame[list(columns)].rename(columns=columns)
    if "Compared with benchmark" in table:
        table["Compared with benchmark"] = table["Compared with benchmark"].map(COMPARISON_LABELS)
    figures = [columns["value"], "95% CI lower", "95% CI upper"]
    if len(table) <= MAX_TABLE_ROWS and not sortable:  # every row in view, ranked as its chart: no grid to load
        shown = table.assign(**{c: table[c].map(metric.format_value) for c in figures},
                             **{c: table[c].map(lambda n: "-" if pd.isna(n) else f"{n:,.0f}")
                                for c in ("Numerator", "Denominator")})
        st.html(tables.plain_table(shown, numeric=[*figures, "Numerator", "Denominator"], wide=True))
    else:
        config = {c: st.column_config.NumberColumn(format=metric.units.printf_format) for c in figures}
        config |= {c: st.column_config.NumberColumn(format="%,d") for c in ("Numerator", "Denominator")}
        st.dataframe(table, hide_index=True, width="stretch", column_config=config,
                     height=table_height(min(len(table), MAX_TABLE_ROWS)))
    if exports.small_counts(frame["numerator"]).any():
        st.caption(SMALL_NUMBER_NOTE)


def table_height(rows: int, row: int = 35) -> int:
    """Pixel height that shows every row of a dataframe without an inner scrollbar."""
    return 38 + row * rows
