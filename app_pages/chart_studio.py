"""Chart studio: a comms user picks a metric, area, period range and chart type, edits the words, downloads."""

import streamlit as st

from metrics import page_data, ui
from metrics.catalogue import BREAKDOWN_LABEL, catalogue
from metrics.periods import month_name
from metrics.ui import url

view = ui.current_view()
store = ui.app_store()
ui.page_header("Chart studio", "A clean, branded chart for a newsletter, board paper or slide, with the data "
               "behind it.", view)

left, right = st.columns([1, 2])
with left:
    metric = ui.metric_picker(list(catalogue().metrics), view)
    offered = page_data.studio_choices(store, view, metric)
    kinds = list(offered.kinds)
    kind = url.select("Chart type", kinds, "chart", kinds[0], what=f"a chart type for {metric.short_title}",
                      format_func=offered.kinds.get, widget=st.radio)
    area = ui.focus_area(view)
    breakdown = None
    if kind == "breakdown":
        breakdown = url.select("Breakdown", metric.breakdowns, "breakdown", metric.breakdowns[0],
                               what=f"a breakdown of {metric.short_title}", format_func=BREAKDOWN_LABEL.get)
    if kind == "trend":
        start, end = url.month_range("Periods", offered.months, ("start", "end"), (offered.default_start, view.period),
                                     month_name)
    else:
        start = end = view.period
        st.caption(f"Latest period published by {month_name(view.period)} (change the month in the sidebar).")
    title = url.text("Title (blank: the standard title)", "title", max_chars=200)
    subtitle = url.text("Subtitle (blank: the standard subtitle)", "subtitle", max_chars=300)
    url.show_problems()
    st.caption(f"Area: **{area.name}** (change borough or PCN in the sidebar). Source: {metric.data_source}.")

with right:
    try:
        spec = page_data.studio_chart(store, view, metric, kind, start, end, title, subtitle, breakdown)
    except ValueError as problem:
        st.warning(str(problem))
        st.stop()
    ui.show_export_preview(spec, "studio_preview")
    st.caption("The preview is the exported image: the title, a footnote with source and snapshot date, NHS "
               "colours, and counts of 1 to 7 suppressed (the image drops those points; the CSV shows *).")
