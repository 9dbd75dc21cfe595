"""System oversight: one screen per borough and month for the Health & Care Executive."""

from datetime import date

import pandas as pd
import streamlit as st

from metrics import narrative, page_data, reports, tables, ui
from metrics.ui import downloads, navigation, url
from metrics.catalogue import catalogue
from metrics.periods import month_name

view = ui.current_view()
area = ui.focus_area(view)
ui.page_header(f"System oversight: {area.name}", "What is on track, what is off track, and what changed "
               "since last period?", view)

store = ui.app_store()
data = ui.remembered(page_data.overview, view)
card = ui.for_screen(data.card, area.code)  # small numbers outside the reader's practices are blanked on screen
exceptions = ui.with_values_of(data.exceptions, card)
if area.level == "borough":
    downloads.pack_download(store, view.borough, view.period, view.snapshot)

st.html(tables.STYLE)
st.html(tables.rag_counts(card))
st.subheader(f"Exceptions for discussion ({len(exceptions)})")
st.caption("Highlighted as Model Health System does: a special cause of concern in the SPC chart, a target "
           "that will consistently be failed, or a value significantly worse than NWL at 99.8%.")
st.html(tables.icon_legend())
if exceptions.empty:
    st.success("No metric is highlighted this month.")
else:
    st.html(tables.table(exceptions, tables.EXCEPTION_COLUMNS))
    with st.expander("Board-paper summary of the highlighted metrics"):
        for row in card[card["metric_id"].isin(exceptions["metric_id"])].to_dict("records"):
            st.markdown(f"- {narrative.summary_sentence(catalogue().metric(row['metric_id']), row, area.name)}")

st.subheader("Since last meeting")
earlier = data.earlier_snapshots
if not earlier:
    st.info("No earlier snapshot is held, so there is no previous meeting's view to compare with.")
else:
    seen = url.select("Last meeting saw the data as at", earlier[::-1], "seen", earlier[-1],
                      what="a snapshot before this one", to_url=date.isoformat,
                      format_func=lambda d: f"{d:%d %b %Y}", help="By default the snapshot before this one: the previous "
                        "monthly extract, which last month's meeting would have used.")
    url.show_problems()
    moved = ui.remembered(page_data.since_last_meeting, view, seen)
    st.caption(f"{month_name(moved.previous_month)} as at {seen:%d %b %Y} against {month_name(view.period)} as at "
               f"{view.snapshot:%d %b %Y}.")
    rag_col, exc_col = st.columns(2)
    with rag_col:
        st.markdown(f"**RAG changed ({len(moved.rag_changes)})**")
        for row in moved.rag_changes.itertuples():
            st.markdown(f"- {row.metric}: {reports.RAG_LABELS[row.rag_before].lower()} ({row.period_before}) → "
                        f"**{reports.RAG_LABELS[row.rag].lower()}** ({row.period})")
    with exc_col:
        st.markdown(f"**New exceptions ({len(moved.new_exceptions)}), resolved ({len(moved.resolved_exceptions)})**")
        for row in moved.new_exceptions.itertuples():
            st.markdown(f"- New: {row.metric} ({row.period}): {row.why}")
        for row in moved.resolved_exceptions.itertuples():
            st.markdown(f"- Resolved: {row.metric} (was flagged for {row.period})")
    fresh = moved.freshness
    st.markdown(f"**New data this month:** {int(fresh['new_data'].sum())} of {len(fresh)} metrics report a period "
                f"last month's view did not have; the rest repeat their latest quarterly or annual figure.")
    with st.expander(f"Figures revised since then ({len(moved.revisions)})"):
        blanked = set(card.loc[card["value"].isna(), "metric_id"])  # small numbers not shown to this reader
        shown = [[catalogue().metric(m).format_value(v) if m not in blanked else "*"
                  for m, v in zip(moved.revisions["metric_id"], moved.revisions[column])]
                 for column in ("value_before", "value")]
        if len(moved.revisions):
            revised = pd.DataFrame({"Metric": moved.revisions["metric"], "Period": moved.revisions["period"],
                                    "Before": shown[0], "Now": shown[1]})
            st.html(tables.plain_table(revised, numeric=("Before", "Now")))
        else:
            st.caption("No figure held in both snapshots has changed.")

st.subheader(f"Scorecard, latest period by {month_name(view.period)}")
st.caption("Each metric's latest published period. RAG is judged against the target where there is one "
           f"(amber = within {reports.AMBER_TOLERANCE:.0%} of it), otherwise against the NWL figure "
           "(95% confidence interval); seasonal vaccination metrics, until their season ends, against the same point "
           "last season (the RAG column says which). Change compares with the previous period, or with the same "
           "month last season for seasonal metrics. Descriptive measures (the WSIC population segments) are shown, "
           "not judged. Values are in each metric's unit, and its CI, target and NWL figure in the same unit. "
           "Variation and assurance icons follow Making Data Count: the legend is under the exceptions, and each "
           "icon says its meaning on hover.")
for priority in catalogue().priorities:
    rows = card[card["priority"] == priority.id]
    if rows.empty:
        continue
    left, right = st.columns([4, 1])
    left.markdown(f"#### {priority.title}")
    right.page_link(navigation.priority_page(priority.id), label="Open page", icon=":material/arrow_forward:",
                    query_params=view.query_params(metric=None))
    st.html(tables.table(rows))
st.caption("Borough-level metrics (BCF, talking therapies, care home admissions) are published for boroughs "
           "only, so they drop out of the scorecard when a PCN is chosen.")
