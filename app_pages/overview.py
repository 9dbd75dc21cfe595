"""System oversight: one screen per borough and month for the Health & Care Executive."""

from datetime import date

import streamlit as st

from metrics import charts, icons, meeting, narrative, reports, ui
from metrics.ui import downloads, navigation, url
from metrics.catalogue import catalogue
from metrics.periods import month_name

TOP_EXCEPTIONS = 10
ICON_COLUMNS = {
    "Variation": st.column_config.ImageColumn("Variation", width=62, help="Making Data Count variation icon"),
    "Assurance": st.column_config.ImageColumn("Assurance", width=62, help="Making Data Count assurance icon"),
}


def with_display_columns(frame):
    """Formatted value/target and icon images for a scorecard or exceptions frame."""
    metrics = [catalogue().metric(m) for m in frame["metric_id"]]
    return frame.assign(
        Value=[m.format_value(v) for m, v in zip(metrics, frame["value"])],
        CI=[f"{m.format_value(lo)} to {m.format_value(hi)}" for m, lo, hi in zip(metrics, frame["lower"],
                                                                                 frame["upper"])],
        Target=[m.format_value(t) for m, t in zip(metrics, frame["target"])],
        Variation=[icons.variation_icon(v) or icons.BLANK for v in frame["variation"]],
        Assurance=[icons.assurance_icon(a) or icons.BLANK for a in frame["assurance"]],
        RAG=frame["rag_text"],  # what it was judged against, in its own words: "Off track vs same point last season"
    ).rename(columns={"metric": "Metric", "period": "Period", "CI": "95% CI"})


def styled(frame, colours):
    """RAG cells in the same colours as the charts (``colours``: each row's RAG colour)."""
    return frame.style.apply(lambda _: ui.rag_style(list(colours)), subset=["RAG"])


def exception_table(frame) -> None:
    columns = ["RAG", "Metric", "Period", "Value", "95% CI", "Target", "Variation", "Assurance", "Why it is flagged"]
    st.dataframe(styled(frame[columns], frame["rag"]), hide_index=True, width="stretch",
                 height=ui.table_height(len(frame), row=44), row_height=44,
                 column_config=ICON_COLUMNS | {"RAG": st.column_config.TextColumn(width=150)})


view = ui.current_view()
area = ui.focus_area(view)
ui.page_header(f"System oversight: {area.name}", "What is on track, what is off track, and what changed "
               "since last period?", view)

store = ui.app_store()
card = reports.scorecard(store, view.snapshot, area, ui.home_ics(view), view.period)
exceptions = reports.exceptions(card)
shown = ui.for_screen(card, area.code)  # small numbers outside the reader's practices are blanked on screen
card, exceptions = shown, ui.with_values_of(exceptions, shown)
if area.level == "borough":
    downloads.pack_download(store, view.borough, view.period, view.snapshot)

counts = card["rag"].value_counts()
cols = st.columns(4)
for col, colour in zip(cols, ("red", "amber", "green", "grey")):
    col.metric(f"{reports.RAG_LABELS[colour]} ({colour})", int(counts.get(colour, 0)), border=True)

st.subheader(f"Exceptions for discussion ({len(exceptions)})")
st.caption("Highlighted as Model Health System does: a special cause of concern in the SPC chart, a target "
           "that will consistently be failed, or a value significantly worse than NWL at 99.8%.")
if exceptions.empty:
    st.success("No metric is highlighted this month.")
else:
    shown = with_display_columns(exceptions).rename(columns={"why": "Why it is flagged"})
    exception_table(shown.head(TOP_EXCEPTIONS))
    if len(shown) > TOP_EXCEPTIONS:
        with st.expander(f"{len(shown) - TOP_EXCEPTIONS} more highlighted metrics"):
            exception_table(shown.iloc[TOP_EXCEPTIONS:])
    with st.expander("Board-paper summary of the highlighted metrics"):
        for row in card[card["metric_id"].isin(exceptions["metric_id"])].to_dict("records"):
            st.markdown(f"- {narrative.summary_sentence(catalogue().metric(row['metric_id']), row, area.name)}")

st.subheader("Since last meeting")
earlier = [d for d in store.snapshots() if d < view.snapshot]
if not earlier:
    st.info("No earlier snapshot is held, so there is no previous meeting's view to compare with.")
else:
    seen = url.select("Last meeting saw the data as at", earlier[::-1], "seen", earlier[-1],
                      what="a snapshot before this one", to_url=date.isoformat,
                      format_func=lambda d: f"{d:%d %b %Y}", help="By default the snapshot before this one: the previous "
                        "monthly extract, which last month's meeting would have used.")
    url.show_problems()
    moved = meeting.since_last_meeting(store, area, ui.home_ics(view), view.period, view.snapshot, seen)
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
        st.dataframe(moved.revisions.assign(
            Before=[catalogue().metric(m).format_value(v) if m not in blanked else "*"
                    for m, v in zip(moved.revisions["metric_id"], moved.revisions["value_before"])],
            Now=[catalogue().metric(m).format_value(v) if m not in blanked else "*"
                 for m, v in zip(moved.revisions["metric_id"], moved.revisions["value"])],
        ).rename(columns={"metric": "Metric", "period": "Period"})[["Metric", "Period", "Before", "Now"]]
            if len(moved.revisions) else moved.revisions, hide_index=True, width="stretch")

st.subheader(f"Scorecard, latest period by {month_name(view.period)}")
st.caption("Each metric's latest published period. RAG is judged against the target where there is one "
           f"(amber = within {reports.AMBER_TOLERANCE:.0%} of it), otherwise against the NWL figure "
           "(95% confidence interval); seasonal vaccination metrics, until their season ends, against the same point "
           "last season (the RAG column says which). Change compares with the previous period, or with the same "
           "month last season for seasonal metrics. Variation and assurance icons follow Making Data "
           "Count; hover for their meaning on the priority pages.")
for priority in catalogue().priorities:
    rows = card[card["priority"] == priority.id]
    if rows.empty:
        continue
    left, right = st.columns([4, 1])
    left.markdown(f"#### {priority.title}")
    right.page_link(navigation.priority_page(priority.id), label="Open page", icon=":material/arrow_forward:",
                    query_params=view.query_params(metric=None))
    metrics = [catalogue().metric(m) for m in rows["metric_id"]]
    table = with_display_columns(rows).assign(
        NWL=[m.format_value(v) for m, v in zip(metrics, rows["nwl_value"])],
        Change=[f"{m.format_change(c)} ({d})" if c == c else "-"
                for m, c, d in zip(metrics, rows["change"], rows["direction"])],
    ).rename(columns={"vs_nwl": "vs NWL", "sparkline": "Trend"})
    shown = table[["RAG", "Metric", "Period", "Value", "95% CI", "Target", "NWL", "vs NWL", "Change",
                   "Variation", "Assurance", "Trend"]]
    st.dataframe(
        styled(shown, rows["rag"]), hide_index=True, width="stretch", row_height=40,
        column_config=ICON_COLUMNS | {
            "Trend": st.column_config.LineChartColumn("Trend", width=90, color=charts.NHS_BLUE),
            "RAG": st.column_config.TextColumn(width=150), "Metric": st.column_config.TextColumn(width=172),
            "Period": st.column_config.TextColumn(width=82), "Value": st.column_config.TextColumn(width=68),
            "95% CI": st.column_config.TextColumn(width=115), "Target": st.column_config.TextColumn(width=60),
            "NWL": st.column_config.TextColumn(width=62), "vs NWL": st.column_config.TextColumn(width=62),
            "Change": st.column_config.TextColumn(width=112)},
        height=ui.table_height(len(shown), row=40), key=f"scorecard_{priority.id}")
st.caption("Borough-level metrics (BCF, talking therapies, care home admissions) are published for boroughs "
           "only, so they drop out of the scorecard when a PCN is chosen.")
