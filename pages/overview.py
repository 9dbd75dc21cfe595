"""System oversight: one screen per borough and month for the Health & Care Executive."""

import streamlit as st

from metrics import reports, ui
from metrics.catalogue import catalogue
from metrics.charts import RAG_COLOURS
from metrics.periods import month_name

RAG_LABEL = {"green": "On track", "amber": "Near", "red": "Off track", "grey": "No judgement"}

view = ui.current_view()
area = ui.focus_area(view)
ui.page_header(f"System oversight: {area.name}", "What is on track, what is off track, and what changed "
               "since last period?", view)

card = reports.scorecard(view.snapshot, area, ui.NWL, view.period)
exceptions = reports.exceptions(card)

counts = card["rag"].value_counts()
cols = st.columns(4)
for col, colour in zip(cols, ("red", "amber", "green", "grey")):
    col.metric(f"{RAG_LABEL[colour]} ({colour})", int(counts.get(colour, 0)), border=True)

st.subheader(f"Exceptions for discussion ({len(exceptions)})")
st.caption("Off target (or, where there is no target, significantly worse than the NWL figure at 95%), "
           "and worsening amber or red metrics. Most serious first.")
if exceptions.empty:
    st.success("Nothing is off track this month.")
else:
    shown = exceptions.assign(
        Value=[catalogue().metric(m).format_value(v) for m, v in zip(exceptions["metric_id"], exceptions["value"])],
        Target=[catalogue().metric(m).format_value(t) for m, t in zip(exceptions["metric_id"], exceptions["target"])],
    ).rename(columns={"metric": "Metric", "period": "Period", "rag": "RAG", "why": "Why it is flagged"})
    st.dataframe(shown[["RAG", "Metric", "Period", "Value", "Target", "Why it is flagged"]]
                 .style.apply(ui.rag_style, subset=["RAG"]), hide_index=True, width="stretch")

st.subheader(f"Scorecard, latest period by {month_name(view.period)}")
st.caption("Each metric's latest published period. RAG is judged against the target where there is one "
           f"(amber = within {reports.AMBER_TOLERANCE:.0%} of it), otherwise against the NWL figure "
           "(95% confidence interval). Change compares with the previous period, or with the same month "
           "last season for seasonal vaccination metrics.")
for priority in catalogue().priorities:
    rows = card[card["priority"] == priority.id]
    if rows.empty:
        continue
    left, right = st.columns([4, 1])
    left.markdown(f"#### {priority.title}")
    right.page_link("pages/" + ui.PAGE_FILES[priority.id], label="Open page", icon=":material/arrow_forward:",
                    query_params=view.query_params(metric=None))
    metrics = [catalogue().metric(m) for m in rows["metric_id"]]
    table = rows.assign(
        Value=[m.format_value(v) for m, v in zip(metrics, rows["value"])],
        CI=[f"{m.format_value(lo)} to {m.format_value(hi)}" for m, lo, hi in zip(metrics, rows["lower"], rows["upper"])],
        Target=[m.format_value(t) for m, t in zip(metrics, rows["target"])],
        NWL=[m.format_value(v) for m, v in zip(metrics, rows["nwl_value"])],
        Change=[f"{c:+.1f} ({d})" if c == c else "-" for c, d in zip(rows["change"], rows["direction"])],
    ).rename(columns={"metric": "Metric", "period": "Period", "rag": "RAG", "vs_nwl": "vs NWL",
                      "CI": "95% CI", "sparkline": "Trend", "unit": "Unit"})
    shown = table[["RAG", "Metric", "Period", "Value", "95% CI", "Target", "NWL", "vs NWL", "Change", "Trend"]]
    st.dataframe(
        shown.style.apply(ui.rag_style, subset=["RAG"]), hide_index=True, width="stretch",
        column_config={"Trend": st.column_config.LineChartColumn("Trend (last 13 periods)", width="medium"),
                       "Metric": st.column_config.TextColumn(width="large")},
        key=f"scorecard_{priority.id}")
st.caption(f"RAG colours: " + ", ".join(f"{RAG_LABEL[k]} {v}" for k, v in RAG_COLOURS.items()) +
           ". Borough-level metrics (BCF, talking therapies) are published for boroughs only.")
