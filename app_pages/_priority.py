"""One template for every priority page: headline, trend, PCN comparison, practice drill-down, breakdowns.

Each priority page file just calls ``render("<priority id>")``; the story is the same for all five.
"""

import streamlit as st

from metrics import charts, narrative, page_data, reports, tables, ui
from metrics.ui import navigation, url
from metrics import icons as icon_lib
from metrics.catalogue import BREAKDOWN_LABEL, Metric, catalogue
from metrics.filters import ViewState
from metrics.periods import month_name
from metrics.areas import Area


def icons(row: dict) -> None:
    """The Making Data Count variation and assurance icons with their meaning."""
    for uri, meaning in ((icon_lib.variation_icon(row["variation"]), icon_lib.variation_meaning(row["variation"])),
                         (icon_lib.assurance_icon(row["assurance"]), icon_lib.assurance_meaning(row["assurance"]))):
        if uri:
            st.markdown(f'<img src="{uri}" width="52" alt="{meaning}" title="{meaning}">', unsafe_allow_html=True)
        st.caption(meaning)


def recalculation_label(choice: str, declared: list) -> str:
    if choice == "auto":
        return "As the service changed: " + (", ".join(f"{d:%b %Y}" for d in declared) or "no change declared")
    return "Never: one set of limits" if choice == "none" else f"From {month_name(choice)}"


def spc_section(view: ViewState, trend: page_data.Trend, row: dict) -> dict:
    """The XmR chart with its icons and a choice of where limits are recalculated (kept in the URL as
    ``recalc``); returns the scorecard line with the variation and assurance of the phases shown."""
    area, metric, target, service_changes = trend.area, trend.metric, trend.target, trend.service_changes
    declared = [change.date for change in service_changes]
    choice = url.select("Recalculate the limits", ["auto", "none", *trend.recalculation_months], "recalc", "auto",
                        what="a month of this series", format_func=lambda c: recalculation_label(c, declared),
                        help="Making Data Count: when a service changes, the new process gets its own mean and "
                        "limits. By default the limits are recalculated where the catalogue records a change.")
    url.show_problems()
    chart_data = page_data.priority_spc(ui.app_store(), view, trend, choice)
    spc_rows, spc, phases = chart_data.rows, chart_data.result, chart_data.phases
    if spc is None:
        st.info("SPC is not applied here: " + ("seasonal uptake is cumulative within a season, so its points "
                "are not comparable month to month." if metric.season_months else
                f"fewer than {reports.MIN_SPC_POINTS} periods."))
        return row
    row = row | {"variation": spc.variation, "assurance": spc.assurance}
    chart, side = st.columns([6, 1])
    with chart:
        span = f"{spc_rows['period_label'].iloc[0]} to {spc_rows['period_label'].iloc[-1]}"
        ui.show_figure(charts.ChartSpec(
            kind="spc", metric_id=metric.id, data=spc_rows, area=area.name, period=span,
            snapshot=view.snapshot, target=target, subtitle="XmR chart: mean ± 2.66 × mean moving range; "
            f"{phases}."), f"spc_{metric.id}")
    with side:
        icons(row)
    for change in service_changes if choice == "auto" else ():
        st.caption(f"Limits recalculated from {change.date:%b %Y}: {change.reason}")
    if spc.short_group_warning:
        st.caption(f"Only {len(spc_rows)} points: treat the limits with caution (at least 15 are advised).")
    return row


def trend(view: ViewState, area: Area, metric: Metric, row: dict) -> None:
    """A plain-English summary, then the XmR (SPC) chart of the area's series or the same series beside its
    borough and NWL: one tab drawn at a time, the open one kept in the URL as ``view``."""
    data = page_data.priority_trend(ui.app_store(), view, metric)
    areas, frame, mine, target = data.areas, data.series, data.mine, data.target
    if mine.empty:
        st.info(f"No {metric.short_title} data for {area.name}.")
        return
    summary = st.container()
    labels = ["SPC chart (Making Data Count)", "Compared with " + ", ".join(a.name for a in areas[1:])]
    default = labels[0] if data.spc_applies else labels[1]
    tabs = url.tabs(labels, "view", ["spc", "compared"], default)
    if tabs[labels[0]].open:
        with tabs[labels[0]]:
            row = spc_section(view, data, row)
    if tabs[labels[1]].open:
        with tabs[labels[1]]:
            where = " vs ".join(a.name for a in areas)
            span = f"{frame['period_label'].iloc[0]} to {frame['period_label'].iloc[-1]}"
            ui.show_figure(charts.ChartSpec(
                kind="trend", metric_id=metric.id, data=frame, area=where, period=span, snapshot=view.snapshot,
                target=target, subtitle=f"Shaded band: 95% confidence interval for {area.name}. "
                f"Source: {metric.data_source}."), f"trend_{metric.id}")
    summary.markdown(f"> {narrative.summary_sentence(metric, row, area.name)}")


def comparison(view: ViewState, compared: page_data.Comparison, metric: Metric) -> None:
    """Areas inside the parent ranked, with CIs, against the parent's own figure."""
    parent, level, frame, target = compared.parent, compared.level, compared.frame, compared.target
    if frame.empty:
        st.info(f"No {level}-level data for {metric.short_title}.")
        return
    what = "PCNs" if level == "pcn" else "Practices"
    ui.show_figure(charts.ChartSpec(
        kind="comparison", metric_id=metric.id, data=frame, area=f"{what} in {parent.name}",
        period=frame["period_label"].iloc[0], snapshot=view.snapshot, benchmark_label=parent.name, target=target,
        subtitle=f"Dots: value; whiskers: 95% confidence interval; colour compares each with the {parent.name} "
        "figure."), f"compare_{level}_{metric.id}")
    ui.ci_table(frame, metric, name_label=what[:-1])


def breakdowns(view: ViewState, area: Area, metric: Metric) -> None:
    """Every published breakdown of the metric, one tab each (the open one kept in the URL as ``breakdown`` and
    the only one drawn), full width so group names and the chart's words fit; the slope index of inequality under
    deprivation."""
    if not metric.breakdowns:
        return
    st.subheader("Inequalities")
    kinds = page_data.breakdown_kinds(metric)
    labels = [BREAKDOWN_LABEL[kind] for kind in kinds]
    tabs = url.tabs(labels, "breakdown", kinds, labels[0])
    for kind, label in zip(kinds, labels):
        if not tabs[label].open:
            continue
        with tabs[label]:
            shown = page_data.priority_breakdown(ui.app_store(), view, metric, kind)
            frame = shown.frame
            if frame.empty:
                st.info(f"No {label.lower()} breakdown of {metric.short_title} for {area.name}.")
                continue
            when = frame["period_label"].iloc[0]
            ui.show_figure(charts.ChartSpec(
                kind="breakdown", metric_id=metric.id, data=frame, area=area.name, period=when,
                snapshot=view.snapshot, title=f"{metric.short_title} by {label[0].lower()}{label[1:]}",
                subtitle=f"{metric.unit_label}, {area.name}, {when}; whiskers: 95% CI.", overall=shown.overall),
                f"bd_{kind}")
            if kind == "imd_quintile":
                sii = shown.sii
                if sii is not None:
                    st.markdown("**Slope index of inequality.** " + narrative.sii_sentence(
                        metric, area.name, sii.sii, sii.sii_lower, sii.sii_upper))
    st.caption("Groups whose 95% confidence intervals do not overlap differ significantly. The slope index of "
               "inequality (OHID method) is the modelled gap between the most and least deprived ends, using all "
               "five quintiles weighted by their size.")


def render(priority_id: str) -> None:
    view = ui.current_view()
    priority = catalogue().priority(priority_id)
    area = ui.focus_area(view)
    ui.page_header(priority.title, priority.question, view, charts=True)
    headline = page_data.priority_headline(ui.app_store(), view, priority_id)
    metrics, card = headline.metrics, headline.card
    st.html(tables.STYLE)
    st.html(tables.tiles(ui.for_screen(card, area.code)))

    metric = ui.metric_picker(metrics, view, label="Explore a metric")
    rows = card[card["metric_id"] == metric.id]
    note = reports.in_season_note(metric, view.period)
    if note:
        st.info(note)
    st.caption(f"**Definition.** {metric.definition} **Numerator:** {metric.numerator} "
               f"**Denominator:** {metric.denominator}")

    st.subheader(f"Trend, {area.name}")
    if not rows.empty:
        trend(view, area, metric, rows.iloc[0].to_dict())
    else:
        st.info(f"No {metric.short_title} data for {area.name} by {month_name(view.period)}.")

    if metric.lowest_level == "borough":
        st.info(f"{metric.short_title} is published at borough level only, so there is no PCN or practice view.")
        return
    if not view.pcn:
        st.subheader(f"PCNs in {view.borough}")
        compared = page_data.priority_comparison(ui.app_store(), view, metric)
        comparison(view, compared, metric)
        st.markdown("**Drill down to a PCN's practices:**")
        pcns = compared.pcns
        cols = st.columns(3)
        for i, (code, name) in enumerate(pcns.items()):
            cols[i % 3].page_link(navigation.priority_page(priority_id), label=name, icon=":material/arrow_downward:",
                                  query_params=view.query_params(pcn=code, metric=metric.id))
    else:
        st.subheader(f"Practices in {view.pcn_name}")
        if not ui.outside_access(area):
            comparison(view, page_data.priority_comparison(ui.app_store(), view, metric), metric)
        st.page_link(navigation.priority_page(priority_id), label=f"Back to all PCNs in {view.borough}",
                     icon=":material/arrow_upward:", query_params=view.query_params(pcn=None, metric=metric.id))
    breakdowns(view, area, metric)
