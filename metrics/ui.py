"""Streamlit building blocks shared by every page: data bootstrap, URL-synced filters, tables.

Filters are mirrored in the URL by hand rather than with ``bind="query-params"``: in Streamlit 1.67 a
bound widget ignores query parameters that ``st.page_link(..., query_params=...)`` brings in during
in-session navigation, which would break drill-down links. Here the URL wins whenever it changed
since we last wrote it, and the session value wins otherwise (so plain page switches keep filters).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics import store
from metrics.catalogue import Metric
from metrics.charts import COMPARISON_LABELS, RAG_COLOURS
from metrics.demo import generate_demo
from metrics.filters import FILTER_KEYS, ViewState
from metrics.periods import month_name, month_options
from metrics.reports import Area
from metrics.settings import data_root

ALL_PCNS = ""
PAGE_FILES = {
    "phm": "population_health.py", "frailty": "frailty.py", "diabetes": "diabetes.py",
    "mental_health": "mental_health.py", "vaccination": "vaccination.py",
}
NWL = Area("QRV", "NWL", "ics")
SMALL_NUMBER_NOTE = ("Counts of 1 to 7 appear on screen for analysis only; they are suppressed in anything "
                     "meant for sharing.")


def root() -> str:
    return str(data_root())


def ensure_data() -> None:
    """First run with an empty data root: generate the demo snapshots, showing progress, then rerun."""
    if store.snapshot_dirs(root()):
        return
    st.title("Setting up the demo data")
    st.info(f"No metric snapshots were found under `{root()}`. Generating the built-in North West London "
            "demo data (realistic but synthetic numbers on the real practice hierarchy). This happens once.")
    bar = st.progress(0.0, text="Starting")
    summary = generate_demo(data_root(), progress=lambda fraction, message: bar.progress(min(fraction, 1.0),
                                                                                          text=message))
    store.snapshots.clear()
    st.success(f"Generated {summary['rows']:,} rows in {len(summary['snapshots'])} snapshots "
               f"in {summary['seconds']:.1f} s.")
    st.rerun()


def synced_select(label: str, options: Sequence[str], key: str, default: str,
                  format_func: Callable[[str], str] = str, aliases: dict[str, str] | None = None,
                  **kwargs) -> str:
    """A selectbox whose value follows the URL parameter ``key`` when the URL changed."""
    url_value = st.query_params.get(key)
    if url_value is not None and aliases:
        url_value = aliases.get(url_value.lower(), url_value)
    if url_value is not None and url_value != st.session_state.get(f"_url_{key}") and url_value in options:
        st.session_state[key] = url_value
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return st.selectbox(label, options, key=key, format_func=format_func, **kwargs)


def publish(params: dict[str, str]) -> None:
    """Write the current filters to the URL (and remember what we wrote)."""
    for key in FILTER_KEYS:
        value = params.get(key)
        if value:
            if st.query_params.get(key) != value:
                st.query_params[key] = value
        elif key in st.query_params:
            del st.query_params[key]
        st.session_state[f"_url_{key}"] = value


def global_filters() -> ViewState:
    """Sidebar filters shared by every page: snapshot, borough, PCN and month."""
    snaps = [d.isoformat() for d in reversed(store.snapshots(root()))]
    with st.sidebar:
        st.header("Filters")
        snapshot = synced_select("Data as at (snapshot)", snaps, "snapshot", snaps[0],
                                 help="Each snapshot is the data as it was known on that date.")
        snap = date.fromisoformat(snapshot)
        boroughs = store.orgs(root(), snap, "borough")
        names = boroughs["org_name"].tolist()
        aliases = {n.lower(): n for n in names} | {c.lower(): n for c, n in zip(boroughs["org_code"], names)}
        borough = synced_select("Borough", names, "borough", "Harrow" if "Harrow" in names else names[0],
                                aliases=aliases)
        borough_code = boroughs.loc[boroughs["org_name"] == borough, "org_code"].iloc[0]
        pcn_names = pcns_of_borough(snap, borough_code)
        pcn = synced_select("PCN", [ALL_PCNS, *pcn_names], "pcn", ALL_PCNS,
                            format_func=lambda c: pcn_names.get(c, "All PCNs in the borough"))
        first, last = store.period_range(root(), snap)
        months = month_options(first, last)
        period = synced_select("Month", months, "period", months[0], format_func=month_name)
    view = ViewState(snapshot=snap, borough=borough, borough_code=borough_code, pcn=pcn or None,
                     pcn_name=pcn_names.get(pcn), period=period, metric=st.query_params.get("metric"))
    st.session_state["view"] = view
    publish(view.query_params())
    return view


def org_names(snapshot: date) -> dict[str, str]:
    frame = store.orgs(root(), snapshot)
    return dict(zip(frame["org_code"], frame["org_name"]))


def pcns_of_borough(snapshot: date, borough_code: str) -> dict[str, str]:
    frame = store.orgs(root(), snapshot, "pcn", borough_code)
    return dict(zip(frame["org_code"], frame["org_name"]))


def practice_pcn_names(snapshot: date) -> dict[str, str]:
    """Practice code -> its PCN's name (or 'Unallocated')."""
    frame = store.orgs(root(), snapshot, "practice")
    names = org_names(snapshot)
    return {code: names.get(pcn, "Unallocated") for code, pcn in zip(frame["org_code"], frame["pcn_code"])}


def current_view() -> ViewState:
    return st.session_state["view"]


def metric_picker(metrics: list[Metric], view: ViewState, label: str = "Metric") -> Metric:
    """Pick one metric; the choice lives in the URL as ``metric=<catalogue id>``."""
    by_id = {m.id: m for m in metrics}
    chosen = synced_select(label, list(by_id), "metric", metrics[0].id, format_func=lambda i: by_id[i].title)
    publish(view.query_params(metric=chosen))
    return by_id[chosen]


def focus_area(view: ViewState) -> Area:
    """The area a page is about: the chosen PCN, else the borough."""
    if view.pcn:
        return Area(view.pcn, view.pcn_name or view.pcn, "pcn")
    return Area(view.borough_code, view.borough, "borough")


def page_header(title: str, question: str, view: ViewState) -> None:
    st.title(title)
    where = f"{view.pcn_name}, {view.borough}" if view.pcn else view.borough
    st.caption(f"{question}  \n**{where}** · {month_name(view.period)} · data as at {view.snapshot:%d %b %Y}")


def show_figure(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, width="stretch",
                    config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]})


def ci_table(frame: pd.DataFrame, metric: Metric, name_label: str = "Area",
             extra: dict[str, str] | None = None) -> None:
    """Values with their 95% CI, numerator and denominator; sortable; significance in words."""
    columns = {"area_name": name_label, **(extra or {}), "value": f"Value ({metric.unit_label})",
               "lower": "95% CI lower", "upper": "95% CI upper", "numerator": "Numerator",
               "denominator": "Denominator"}
    if "vs_benchmark" in frame:
        columns["vs_benchmark"] = "Compared with benchmark"
    table = frame[list(columns)].rename(columns=columns)
    if "Compared with benchmark" in table:
        table["Compared with benchmark"] = table["Compared with benchmark"].map(COMPARISON_LABELS)
    number = "%.1f" if metric.unit == "percent" else "%,.1f"
    config = {c: st.column_config.NumberColumn(format=number) for c in
              (f"Value ({metric.unit_label})", "95% CI lower", "95% CI upper")}
    config |= {c: st.column_config.NumberColumn(format="%,d") for c in ("Numerator", "Denominator")}
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    if frame["numerator"].between(1, 7).any():
        st.caption(SMALL_NUMBER_NOTE)


def rag_style(column: pd.Series) -> list[str]:
    """Cell colours for a RAG column, the same colours the charts use."""
    return [f"background-color: {RAG_COLOURS.get(v, '#FFFFFF')}; color: {'#231F20' if v == 'amber' else 'white'}"
            for v in column]
