"""Chart studio: a comms user picks a metric, area, period range and chart type, edits the words, downloads."""

import streamlit as st

from metrics import exports, ui
from metrics.catalogue import BREAKDOWN_LABEL, catalogue
from metrics.periods import month_name, month_options

view = ui.current_view()
store = ui.app_store()
ui.page_header("Chart studio", "A clean, branded chart for a newsletter, board paper or slide, with the data "
               "behind it.", view)

left, right = st.columns([1, 2])
with left:
    metric = ui.metric_picker(list(catalogue().metrics), view)
    kinds = [k for k in exports.STUDIO_KINDS if k != "breakdown" or metric.breakdowns]
    kind = st.radio("Chart type", kinds, format_func=exports.STUDIO_KINDS.get, key="studio_kind")
    area = ui.focus_area(view)
    breakdown = None
    if kind == "breakdown":
        breakdown = st.selectbox("Breakdown", metric.breakdowns, format_func=BREAKDOWN_LABEL.get,
                                 key="studio_breakdown")
    first, last = store.period_range(view.snapshot)
    months = month_options(first, last)[::-1]
    if kind == "trend":
        start, end = st.select_slider("Periods", months, value=(months[max(0, len(months) - 24)], view.period),
                                      format_func=month_name, key="studio_range")
    else:
        start = end = view.period
        st.caption(f"Latest period published by {month_name(view.period)} (change the month in the sidebar).")
    title = st.text_input("Title (blank: the standard title)", key="studio_title")
    subtitle = st.text_input("Subtitle (blank: the standard subtitle)", key="studio_subtitle")
    st.caption(f"Area: **{area.name}** (change borough or PCN in the sidebar). Source: {metric.data_source}.")

with right:
    try:
        spec = exports.studio_figure(store, kind, metric.id, area, start, end, view.snapshot, title=title or None,
                                     subtitle=subtitle or None, breakdown=breakdown)
    except ValueError as problem:
        st.warning(str(problem))
        st.stop()
    ui.show_export_preview(spec, "studio_preview")
    st.caption("The preview is the exported image: the title, a footnote with source and snapshot date, NHS "
               "colours, and counts of 1 to 7 suppressed (the image drops those points; the CSV shows *).")
