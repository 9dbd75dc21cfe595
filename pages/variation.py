"""Variation explorer: every practice on one chart against the NWL average, for any practice-level metric."""

import streamlit as st

from metrics import charts, reports, ui
from metrics.catalogue import catalogue
from metrics.reports import Area

view = ui.current_view()
ui.page_header("Variation explorer", "Which practices differ from the NWL average by more than chance "
               "would explain?", view)

metric = ui.metric_picker(catalogue().practice_level(), view, label="Practice-level metric")
scope = Area(view.pcn, view.pcn_name, "pcn") if view.pcn else Area(view.borough_code, view.borough, "borough")
names = ui.org_names(view.snapshot)

practices = reports.compare_within(view.snapshot, metric, scope, "practice", view.period, names)
nwl = reports.scorecard_value(view.snapshot, metric, ui.NWL, view.period)
if practices.empty or nwl is None:
    st.info(f"No practice data for {metric.short_title} in {scope.name}.")
    st.stop()
practices = reports.against_benchmark(practices, metric, nwl)
practices["pcn_name"] = practices["area_code"].map(ui.practice_pcn_names(view.snapshot))

period = practices["period_label"].iloc[0]
title = charts.chart_title(metric, f"practices in {scope.name} against NWL", period)
fig = charts.variation_chart(practices, metric, title, benchmark_label="NWL",
                             subtitle="Each dot is a practice, with its 95% confidence interval; colour compares "
                             "it with the NWL average. Larger practices sit further right.")
ui.show_figure(fig, key=f"variation_{metric.id}")

counts = practices["vs_benchmark"].value_counts()
cols = st.columns(3)
for col, verdict in zip(cols, ("worse", "similar", "better") if metric.polarity != "neutral"
                        else ("higher", "similar", "lower")):
    col.metric(charts.COMPARISON_LABELS[verdict] + (" from NWL" if verdict == "similar" else " than NWL"), int(counts.get(verdict, 0)), border=True)

st.subheader("All practices")
st.caption("Click a column heading to sort.")
ui.ci_table(practices, metric, name_label="Practice", extra={"pcn_name": "PCN"})
st.caption(f"**Definition.** {metric.definition} Source: {metric.data_source}.")
