"""Data & definitions: the metric catalogue, the snapshots held and when data was refreshed."""

import pandas as pd
import streamlit as st

from metrics import reports, ui
from metrics.ui import url
from metrics.catalogue import BREAKDOWN_LABEL, catalogue

view = ui.current_view()
ui.page_header("Data & definitions", "What does each metric mean, where does it come from, and how fresh "
               "is it?", view)

st.subheader("Metric catalogue")
query = url.text("Search metrics", "q", max_chars=100, placeholder="e.g. flu, screening, 65+, QOF")
rows = [{
    "Priority": catalogue().priority(m.priority).title, "Metric": m.title, "Definition": m.definition,
    "Numerator": m.numerator, "Denominator": m.denominator, "Unit": m.unit_label,
    "Better when": m.better_when,
    "Target": (m.format_value(m.target.value) if m.target and m.target.value is not None
               else f"below {m.target.baseline_period_start:%Y}/{(m.target.baseline_period_start.year + 1) % 100:02d} "
               "baseline" if m.target else "none"),
    "Target source": m.target.source if m.target else "",
    "Frequency": m.frequency, "Lowest level": m.lowest_level, "CI method": m.ci_method,
    "Breakdowns": ", ".join(BREAKDOWN_LABEL[b] for b in m.breakdowns), "Data source": m.data_source, "Id": m.id,
} for m in catalogue().metrics]
table = pd.DataFrame(rows)
if query:
    mask = table.apply(lambda col: col.astype(str).str.contains(query, case=False, regex=False)).any(axis=1)
    table = table[mask]
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"Definition": st.column_config.TextColumn(width="large")})
st.caption(f"{len(table)} of {len(rows)} metrics.")

st.subheader("Snapshots held")
st.dataframe(reports.snapshot_table(ui.app_store()), hide_index=True, width="stretch",
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
