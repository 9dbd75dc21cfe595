"""Variation explorer: practices on a funnel plot against the NWL average, for any practice-level metric."""

import streamlit as st

from metrics import charts, reports, tables, ui, variation
from metrics.ui import url
from metrics.catalogue import catalogue

view = ui.current_view()
ui.page_header("Variation explorer", "Which practices differ from the NWL average by more than chance "
               "would explain?", view)

metric = ui.metric_picker(catalogue().practice_level(), view, label="Practice-level metric")
store = ui.app_store()
scope = ui.focus_area(view)
if url.toggle("Show every NWL practice", "practices", on="nwl", off="area"):
    scope = ui.home_ics(view)
elif scope.level == "pcn" and ui.outside_access(scope):
    st.stop()
adjust = url.toggle("Widen the limits for overdispersion (NHS-R FunnelPlotR, as SHMI)", "limits", on="adjusted",
                    off="plain", default=True, help="With large lists, plain funnel limits flag most practices: real "
                   "variation between practices is wider than chance alone. Adjusted limits flag the practices "
                   "worth a closer look.")
names = ui.org_names(view.snapshot)
practices, nwl, spread = variation.practices_against_nwl(store, view.snapshot, metric, scope, view.period, names,
                                                         ui.practice_pcn_names(view.snapshot), adjust=adjust)
if practices.empty:
    st.info(f"No practice data for {metric.short_title} in {scope.name}.")
    st.stop()
period = practices["period_label"].iloc[0]

st.subheader("Funnel plot")
ui.show_figure(charts.ChartSpec(
    kind="funnel", metric_id=metric.id, data=practices, area=f"Practices in {scope.name}", period=period,
    snapshot=view.snapshot, title=charts.chart_title(metric, f"practices in {scope.name} against NWL", period),
    benchmark=nwl, benchmark_label="NWL", limits=variation.funnel_curve(practices, metric, nwl, spread),
    subtitle=f"Each dot is a practice; darker dots lie outside the 99.8% limits. {spread.note}"),
    f"funnel_{metric.id}")
st.html(tables.STYLE)
st.html(tables.funnel_counts(practices["funnel"]))

outliers = practices[practices["funnel"].isin(["high_998", "low_998"])]
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
profiles = variation.practice_profiles(store, view.snapshot, view.period)
choices = [c for c in practices.sort_values("area_name")["area_code"] if c in set(profiles["org_code"])]
chosen = url.select("Practice", choices, "peer", choices[0], what=f"a practice in {scope.name} with a profile",
                    format_func=lambda c: names.get(c, c))
url.show_problems()
peers = variation.nearest_neighbours(profiles, chosen)
group = variation.practices_against_nwl(store, view.snapshot, metric, ui.home_ics(view), view.period, names,
                                        ui.practice_pcn_names(view.snapshot), adjust=adjust)[0]
group = group[group["area_code"].isin([chosen, *peers["org_code"]])]
if len(group) > 1:
    peer_value = float(group["numerator"].sum() / group["denominator"].sum() * metric.multiplier)
    group = reports.against_benchmark(group, metric, peer_value)
    ui.show_figure(charts.ChartSpec(
        kind="comparison", metric_id=metric.id, data=group, area=f"{names.get(chosen)} and similar practices",
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
ui.ci_table(practices, metric, name_label="Practice", extra={"pcn_name": "PCN", "funnel_label": "Funnel"})
st.caption(f"**Definition.** {metric.definition} Source: {metric.data_source}. Funnel limits: exact binomial "
           "(proportions) or Poisson (rates) limits round the NWL average, as OHID Fingertips.")
