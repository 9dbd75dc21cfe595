"""Data & definitions: the metric catalogue, the snapshots held and when data was refreshed."""

import streamlit as st

from metrics import page_data, reports, ui
from metrics.ui import url

view = ui.current_view()
ui.page_header("Data & definitions", "What does each metric mean, where does it come from, and how fresh "
               "is it?", view)

st.subheader("Metric catalogue")
query = url.text("Search metrics", "q", max_chars=100, placeholder="e.g. flu, screening, 65+, QOF")
data = page_data.definitions(ui.app_store(), query)
st.dataframe(data.catalogue, hide_index=True, width="stretch",
             column_config={"Definition": st.column_config.TextColumn(width="large")})
st.caption(f"{len(data.catalogue)} of {data.metrics} metrics.")

st.subheader("Snapshots held")
st.dataframe(data.snapshots, hide_index=True, width="stretch",
             column_config={"Rows": st.column_config.NumberColumn(format="%,d")})
st.caption("A snapshot is one monthly extract: the numbers as they were known on that date. Snapshots are never "
           "overwritten, so a past meeting's view can be rebuilt exactly (choose it under 'Data as at').")

st.subheader("Methods")
st.markdown(f"""
- **Aggregation.** PCN, borough and NWL figures sum numerators and denominators of the units below them;
  percentages are never averaged.
- **Confidence intervals.** 95% intervals: Wilson score for percentages, exact Poisson (fewer than 10 events)
  or Byar's method for rates, as OHID Fingertips.
- **Compared with a benchmark.** Significantly better or worse when the 95% interval excludes the benchmark.
- **RAG.** Against the target where there is one: green if met, amber if within
  {reports.AMBER_TOLERANCE:.0%} of it, red otherwise. Without a target, against the NWL figure: green
  significantly better, amber not significantly different, red significantly worse. Seasonal vaccination
  metrics are cumulative from 1 September, so until the season's last month they are judged against the
  same point last season rather than the end-of-season target.
- **Small numbers.** {ui.SMALL_NUMBER_NOTE}
- **Demo data.** The organisations are the real NWL practices, PCNs and boroughs (NHS Digital / QOF mapping,
  OGL v3); the metric values are synthetic, generated with a fixed seed.
""")
