"""System oversight: one screen per borough and month for the Health & Care Executive."""

import streamlit as st

from metrics import charts, reports, ui
from metrics.catalogue import catalogue
from metrics.periods import month_name

TOP_EXCEPTIONS = 10
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
    shown = shown[["RAG", "Metric", "Period", "Value", "Target", "Why it is flagged"]]
    top, rest = shown.head(TOP_EXCEPTIONS), shown.iloc[TOP_EXCEPTIONS:]
    st.dataframe(top.style.apply(ui.rag_style, subset=["RAG"]), hide_index=True, width="stretch",
                 height=ui.table_height(len(top)))
    if len(rest):
        with st.expander(f"{len(rest)} more flagged metrics"):
            st.dataframe(rest.style.apply(ui.rag_style, subset=["RAG"]), hide_index=True, width="stretch",
                         height=ui.table_height(len(rest)))

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
        Change=[f"{m.format_change(c)} ({d})" if c == c else "-"
                for m, c, d in zip(metrics, rows["change"], rows["direction"])],
    ).rename(columns={"metric": "Metric", "period": "Period", "rag": "RAG", "vs_nwl": "vs NWL",
                      "CI": "95% CI", "sparkline": "Trend", "unit": "Unit"})
    shown = table[["RAG", "Metric", "Period", "Value", "95% CI", "Target", "NWL", "vs NWL", "Change", "Trend"]]
    st.dataframe(
        shown.style.apply(ui.rag_style, subset=["RAG"]), hide_index=True, width="stretch",
        column_config={"Trend": st.column_config.LineChartColumn("Trend", width=110,
                                                                       color=charts.NHS_BLUE),
                       "RAG": st.column_config.TextColumn(width=58), "Metric": st.column_config.TextColumn(width=215),
                       "Period": st.column_config.TextColumn(width=85), "Value": st.column_config.TextColumn(width=70),
                       "95% CI": st.column_config.TextColumn(width=125), "Target": st.column_config.TextColumn(width=62),
                       "NWL": st.column_config.TextColumn(width=66), "vs NWL": st.column_config.TextColumn(width=64),
                       "Change": st.column_config.TextColumn(width=150)},
        height=ui.table_height(len(shown)), key=f"scorecard_{priority.id}")
st.caption("Borough-level metrics (BCF, talking therapies, care home admissions) are published for boroughs "
           "only, so they drop out of the scorecard when a PCN is chosen.")
