"""One template for every priority page: headline, trend, PCN comparison, practice drill-down, breakdowns.

Each priority page file just calls ``render("<priority id>")``; the story is the same for all five.
"""

import streamlit as st

from metrics import charts, reports, ui
from metrics.catalogue import BREAKDOWN_LABEL, Metric, catalogue
from metrics.filters import ViewState
from metrics.periods import month_name
from metrics.reports import Area

SHOWN_BREAKDOWNS = ("ethnicity", "imd_quintile")


def headline(view: ViewState, area: Area, metrics: list[Metric]) -> None:
    """Tiles with the latest value of every metric on the page, change and RAG."""
    card = reports.scorecard(view.snapshot, area, ui.NWL, view.period)
    card = card[card["metric_id"].isin([m.id for m in metrics])]
    for start in range(0, len(card), 4):
        cols = st.columns(4)
        for col, row in zip(cols, card.iloc[start:start + 4].itertuples()):
            metric = catalogue().metric(row.metric_id)
            good_up = metric.polarity == "higher_is_better"
            col.metric(
                metric.short_title, metric.format_value(row.value),
                delta=None if row.change != row.change else metric.format_change(row.change),
                delta_description=f"{row.period} vs {row.previous_period}" if row.previous_period else row.period,
                delta_color="normal" if good_up else "inverse" if metric.polarity == "lower_is_better" else "off",
                help=f"{metric.definition} Target: {metric.format_value(row.target)}. "
                     f"RAG {row.rag} (against the {row.rag_basis}).",
                border=True, chart_data=row.sparkline, chart_type="line")


def trend(view: ViewState, area: Area, metric: Metric) -> None:
    areas = [area] + ([Area(view.borough_code, view.borough, "borough")] if area.level == "pcn" else []) + [ui.NWL]
    frame = reports.series(view.snapshot, [metric.id], areas, end=reports.month_end(view.period))
    if frame.empty:
        st.info(f"No {metric.short_title} data for {area.name}.")
        return
    target = reports.target_value(metric, frame[frame["area_code"] == area.code].sort_values("period_start"))
    fig = charts.trend_chart(frame, metric, charts.chart_title(metric, f"{area.name} and NWL", "trend"),
                             target=target, subtitle=f"Shaded band: 95% confidence interval for {area.name}. "
                             f"Source: {metric.data_source}.")
    ui.show_figure(fig, key=f"trend_{metric.id}")


def comparison(view: ViewState, parent: Area, level: str, metric: Metric, names: dict[str, str]) -> None:
    """Areas inside ``parent`` ranked, with CIs, against the parent's own figure."""
    frame = reports.compare_within(view.snapshot, metric, parent, level, view.period, names)
    if frame.empty:
        st.info(f"No {level}-level data for {metric.short_title}.")
        return
    what = "PCNs" if level == "pcn" else "Practices"
    title = charts.chart_title(metric, f"{what} in {parent.name}", frame["period_label"].iloc[0])
    target = reports.target_value(metric, frame) if metric.target and metric.target.value else None
    fig = charts.comparison_chart(frame, metric, title, benchmark_label=parent.name, target=target,
                                  subtitle="Dots: value; whiskers: 95% confidence interval; colour compares "
                                  f"each with the {parent.name} figure.")
    ui.show_figure(fig, key=f"compare_{level}_{metric.id}")
    ui.ci_table(frame, metric, name_label=what[:-1])


def breakdowns(view: ViewState, area: Area, metric: Metric) -> None:
    kinds = [k for k in SHOWN_BREAKDOWNS if k in metric.breakdowns]
    if not kinds:
        return
    st.subheader("Inequalities")
    cols = st.columns(len(kinds))
    overall = reports.scorecard_value(view.snapshot, metric, area, view.period)
    for col, kind in zip(cols, kinds):
        frame = reports.breakdown(view.snapshot, metric, area, kind, view.period)
        if frame.empty:
            continue
        with col:
            title = f"{metric.short_title} by {BREAKDOWN_LABEL[kind].lower()}"
            subtitle = f"{metric.unit_label}, {area.name}, {frame['period_label'].iloc[0]}; whiskers: 95% CI"
            ui.show_figure(charts.breakdown_chart(frame, metric, title, overall=overall, subtitle=subtitle),
                           key=f"bd_{kind}")
    st.caption("Groups whose 95% confidence intervals do not overlap differ significantly. "
               "Other breakdowns (age band, sex) are in the data and the Variation explorer.")


def render(priority_id: str) -> None:
    view = ui.current_view()
    priority = catalogue().priority(priority_id)
    metrics = catalogue().for_page(priority_id)
    area = ui.focus_area(view)
    ui.page_header(priority.title, priority.question, view)
    headline(view, area, metrics)

    metric = ui.metric_picker(metrics, view, label="Explore a metric")
    note = reports.in_season_note(metric, view.period)
    if note:
        st.info(note)
    st.caption(f"**Definition.** {metric.definition} **Numerator:** {metric.numerator} "
               f"**Denominator:** {metric.denominator}")

    st.subheader(f"Trend, {area.name}")
    trend(view, area, metric)

    if metric.lowest_level == "borough":
        st.info(f"{metric.short_title} is published at borough level only, so there is no PCN or practice view.")
        return
    borough = Area(view.borough_code, view.borough, "borough")
    orgs = ui.org_names(view.snapshot)
    if not view.pcn:
        st.subheader(f"PCNs in {view.borough}")
        comparison(view, borough, "pcn", metric, orgs)
        st.markdown("**Drill down to a PCN's practices:**")
        pcns = ui.pcns_of_borough(view.snapshot, view.borough_code)
        cols = st.columns(3)
        for i, (code, name) in enumerate(pcns.items()):
            cols[i % 3].page_link("pages/" + ui.PAGE_FILES[priority_id], label=name, icon=":material/arrow_downward:",
                                  query_params=view.query_params(pcn=code, metric=metric.id))
    else:
        st.subheader(f"Practices in {view.pcn_name}")
        comparison(view, area, "practice", metric, orgs)
        st.page_link("pages/" + ui.PAGE_FILES[priority_id], label=f"Back to all PCNs in {view.borough}",
                     icon=":material/arrow_upward:", query_params=view.query_params(pcn=None, metric=metric.id))
    breakdowns(view, area, metric)
