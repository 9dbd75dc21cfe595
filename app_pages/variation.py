"""Variation explorer: practices on a funnel plot against the NWL average, for any practice-level metric."""

import streamlit as st

from metrics import charts, page_data, tables, ui, variation
from metrics.ui import url
from metrics.catalogue import catalogue

view = ui.current_view()
ui.page_header("Variation explorer", "Which practices differ from the NWL average by more than chance "
               "would explain?", view, charts=True)

metric = ui.metric_picker(catalogue().practice_level(), view, label="Practice-level metric")
store = ui.app_store()
every_practice = url.toggle("Show every NWL practice", "practices", on="nwl", off="area")
if not every_practice and view.pcn and ui.outside_access(ui.focus_area(view)):
    st.stop()
adjust = url.toggle("Widen the limits for overdispersion (NHS-R FunnelPlotR, as SHMI)", "limits", on="adjusted",
                    off="plain", default=True, help="With large lists, plain funnel limits flag most practices: real "
                   "variation between practices is wider than chance alone. Adjusted limits flag the practices "
                   "worth a closer look.")
shown = page_data.variation_explorer(store, view, metric, every_practice, adjust)
practices, nwl, spread, scope, period = shown.practices, shown.nwl, shown.spread, shown.scope, shown.period
if practices.empty:
    st.info(f"No practice data for {metric.short_title} in {scope.name}.")
    st.stop()

st.subheader("Funnel plot")
ui.show_figure(charts.ChartSpec(
    kind="funnel", metric_id=metric.id, data=practices, area=f"Practices in {scope.name}", period=period,
    snapshot=view.snapshot, title=charts.chart_title(metric, f"practices in {scope.name} against NWL", period),
    benchmark=nwl, benchmark_label="NWL", limits=shown.limits,
    subtitle=f"Each dot is a practice; darker dots lie outside the 99.8% limits. {spread.note}"),
    f"funnel_{metric.id}")
st.html(tables.STYLE)
st.html(tables.funnel_counts(practices["funnel"]))

outliers = shown.outliers
st.subheader(f"Practices outside the 99.8% limits ({len(outliers)})")
if outliers.empty:
    st.success("No practice lies outside the 99.8% limits.")
else:
    ui.ci_table(outliers, metric, name_label="Practice", extra={"pcn_name": "PCN", "funnel_label": "Funnel"})

st.subheader("Ranked, with 95% confidence intervals")
ui.show_figure(charts.ChartSpec(
    kind="caterpillar", metric_id=metric.id, data=practices, area=f"Practices in {scope.name}", period=period,
    snapshot=view.snapshot, title=charts.chart_title(metric, f"practices in {scope.name}, ranked", period),
    benchmark=nwl, benchmark_label="NWL",
    subtitle="Whiskers: 95% confidence interval. Colour: position on the funnel plot."), f"cat_{metric.id}")

st.subheader("Similar practices")
st.caption(f"The {variation.SIMILAR_PRACTICES} NWL practices most like the chosen one in list size, deprivation "
           "(IMD 2019 score) and share of patients aged 65+, compared on this metric.")
peer_names = page_data.peer_choices(store, view, shown)
choices = list(peer_names.choices)
chosen = url.select("Practice", choices, "peer", choices[0], what=f"a practice in {scope.name} with a profile",
                    format_func=lambda c: peer_names.choices.get(c, c))
url.show_problems()
similar = page_data.similar_practices(store, view, shown, peer_names, chosen)
peers = similar.neighbours
if similar.peer_value is not None:
    ui.show_figure(charts.ChartSpec(
        kind="comparison", metric_id=metric.id, data=similar.group,
        area=f"{peer_names.choices[chosen]} and similar practices",
        period=period, snapshot=view.snapshot, benchmark_label="Peer group",
        subtitle="Colour compares each practice with the peer group's pooled value."), f"peers_{metric.id}")
    st.dataframe(peers.assign(share_65_plus=peers["share_65_plus"] * 100)[
        ["org_name", "list_size", "imd_score", "share_65_plus"]].rename(columns={
            "org_name": "Similar practice", "list_size": "List size", "imd_score": "IMD 2019 score",
            "share_65_plus": "Aged 65+ (%)"}), hide_index=True, width="stretch",
        column_config={"Aged 65+ (%)": st.column_config.NumberColumn(format="%.1f"),
                       "List size": st.column_config.NumberColumn(format="%,d")})

st.subheader("All practices")
st.caption("Click a column heading to sort.")
ui.ci_table(practices, metric, name_label="Practice", extra={"pcn_name": "PCN", "funnel_label": "Funnel"},
            sortable=True)
st.caption(f"**Definition.** {metric.definition} Source: {metric.data_source}. Funnel limits: exact binomial "
           "(proportions) or Poisson (rates) limits round the NWL average, as OHID Fingertips.")
