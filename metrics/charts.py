"""Chart builders: each takes a tidy frame and returns a Plotly figure in NHS identity colours.

One small builder per kind of chart (trend, comparison, breakdown, variation), so a page picks a
builder rather than styling a figure itself, and colours agree between charts and tables.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metrics.catalogue import Metric

# NHS identity colour palette (england.nhs.uk/nhsidentity).
NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_GREEN = "#009639"
NHS_WARM_YELLOW = "#FFB81C"
NHS_RED = "#DA291C"
NHS_PURPLE = "#330072"
NHS_AQUA_GREEN = "#00A499"
SERIES_COLOURS = [NHS_BLUE, NHS_DARK_GREY, NHS_AQUA_GREEN, NHS_PURPLE, NHS_LIGHT_BLUE]
RAG_COLOURS = {"green": NHS_GREEN, "amber": NHS_WARM_YELLOW, "red": NHS_RED, "grey": NHS_MID_GREY}
COMPARISON_COLOURS = {
    "better": NHS_GREEN, "similar": NHS_WARM_YELLOW, "worse": NHS_RED,
    "higher": NHS_DARK_BLUE, "lower": NHS_LIGHT_BLUE,
}
COMPARISON_LABELS = {
    "better": "Significantly better", "similar": "Not significantly different", "worse": "Significantly worse",
    "higher": "Significantly higher", "lower": "Significantly lower",
}
FONT = "Arial, Helvetica, sans-serif"


def axis_title(metric: Metric) -> str:
    return metric.units.axis_title


def chart_title(metric: Metric, where: str, when: str) -> str:
    """Titles say what is shown, the unit, the area and the period."""
    return f"{metric.short_title} ({metric.unit_label}), {where}, {when}"


def style(fig: go.Figure, title: str, subtitle: str | None = None, height: int = 420) -> go.Figure:
    """Common layout: NHS font and colours, a left-aligned title and optional subtitle."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 17, "color": NHS_DARK_BLUE},
               "subtitle": {"text": subtitle or "", "font": {"size": 12, "color": NHS_DARK_GREY}}},
        font={"family": FONT, "size": 13, "color": "#231F20"},
        plot_bgcolor="white", paper_bgcolor="white", height=height,
        margin={"l": 10, "r": 10, "t": 80 if subtitle else 60, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(showline=True, linecolor=NHS_MID_GREY, gridcolor=NHS_PALE_GREY)
    fig.update_yaxes(showline=True, linecolor=NHS_MID_GREY, gridcolor=NHS_PALE_GREY, zeroline=False)
    return fig


def _hover(metric: Metric) -> str:
    fmt = metric.units.d3_format
    return (f"%{{customdata[0]}}<br>%{{customdata[1]}}: <b>%{{y:{fmt}}}</b> "
            f"(95% CI %{{customdata[2]:{fmt}}} to %{{customdata[3]:{fmt}}})"
            "<br>%{customdata[4]:,.0f} / %{customdata[5]:,.0f}<extra></extra>")


def _custom(frame: pd.DataFrame, label_col: str, period_col: str = "period_label") -> list:
    return frame[[label_col, period_col, "lower", "upper", "numerator", "denominator"]].to_numpy()


def with_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Insert an empty row where periods are missing (e.g. between flu seasons) so lines break there."""
    starts = rows["period_start"]
    steps = starts.diff()
    if len(rows) < 3:
        return rows
    gaps = steps > steps.median() * 1.5
    if not gaps.any():
        return rows
    blanks = rows.loc[gaps].assign(value=float("nan"), lower=float("nan"), upper=float("nan"),
                                   period_start=starts[gaps] - steps.median())
    return pd.concat([rows, blanks]).sort_values("period_start").reset_index(drop=True)


def trend_chart(frame: pd.DataFrame, metric: Metric, title: str, target: float | None = None,
                subtitle: str | None = None) -> go.Figure:
    """Value over time per area; the first area gets a 95% CI band; a dashed target line if set."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(frame.groupby("area_name", sort=False)):
        rows = with_gaps(rows.sort_values("period_start"))
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        if i == 0:
            # One band per unbroken run of periods, so the band does not bridge a gap between seasons.
            runs = rows["value"].isna().cumsum()
            for j, (_, run) in enumerate(rows.dropna(subset=["value"]).groupby(runs)):
                fig.add_trace(go.Scatter(
                    x=pd.concat([run["period_start"], run["period_start"][::-1]]),
                    y=pd.concat([run["upper"], run["lower"][::-1]]), fill="toself",
                    fillcolor="rgba(0,94,184,0.12)", line={"width": 0}, hoverinfo="skip",
                    name=f"{name} 95% CI", legendgroup="ci", showlegend=j == 0))
        fig.add_trace(go.Scatter(
            x=rows["period_start"], y=rows["value"], name=name, mode="lines+markers",
            line={"color": colour, "width": 3 if i == 0 else 2, "dash": "solid" if i == 0 else "dot"},
            marker={"size": 6 if i == 0 else 4}, customdata=_custom(rows, "area_name"),
            hovertemplate=_hover(metric)))
    if target is not None:
        fig.add_hline(y=target, line={"color": NHS_RED, "dash": "dash", "width": 2},
                      annotation_text=f"Target {metric.format_value(target)}", annotation_position="top left")
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, title, subtitle)


def comparison_chart(frame: pd.DataFrame, metric: Metric, title: str, benchmark_label: str,
                     subtitle: str | None = None, target: float | None = None) -> go.Figure:
    """Areas ranked by value as dots with 95% CI whiskers, coloured by comparison with the benchmark.

    Dots rather than bars: a bar from zero hides the differences and intervals that matter here.
    """
    frame = frame.sort_values("value")
    fig = go.Figure()
    for verdict, rows in frame.groupby("vs_benchmark", sort=False):
        fig.add_trace(go.Scatter(
            y=rows["area_name"], x=rows["value"], mode="markers", name=COMPARISON_LABELS[verdict],
            marker={"color": COMPARISON_COLOURS[verdict], "size": 12, "line": {"width": 1, "color": "white"}},
            error_x={"type": "data", "symmetric": False, "array": rows["upper"] - rows["value"],
                     "arrayminus": rows["value"] - rows["lower"], "color": NHS_DARK_GREY, "thickness": 1.5},
            customdata=_custom(rows, "area_name"),
            hovertemplate=_hover(metric).replace("%{y", "%{x")))
    benchmark = float(frame["benchmark"].iloc[0])
    fig.add_vline(x=benchmark, line={"color": NHS_DARK_BLUE, "width": 2},
                  annotation_text=f"{benchmark_label} {metric.format_value(benchmark)}",
                  annotation_position="bottom right")
    span = float(frame["upper"].max() - frame["lower"].min())
    if target is not None and frame["lower"].min() - span <= target <= frame["upper"].max() + span:
        fig.add_vline(x=target, line={"color": NHS_RED, "dash": "dash", "width": 2},
                      annotation_text=f"Target {metric.format_value(target)}", annotation_position="top left")
    elif target is not None:  # far off the scale: say so rather than squash the dots against one edge
        subtitle = f"{subtitle or ''} Target {metric.format_value(target)} is off the scale.".strip()
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["area_name"]), title=None, type="category")
    fig.update_xaxes(title=axis_title(metric))
    return style(fig, title, subtitle, height=max(320, 150 + 28 * len(frame)))


def breakdown_chart(frame: pd.DataFrame, metric: Metric, title: str, overall: float | None = None,
                    subtitle: str | None = None) -> go.Figure:
    """One bar per group (ethnicity, IMD quintile, ...) with 95% CI, and the overall figure as a line."""
    fig = go.Figure(go.Bar(
        x=frame["breakdown_value"], y=frame["value"], marker={"color": NHS_BLUE},
        error_y={"type": "data", "symmetric": False, "array": frame["upper"] - frame["value"],
                 "arrayminus": frame["value"] - frame["lower"], "color": NHS_DARK_GREY},
        customdata=_custom(frame, "breakdown_value"), hovertemplate=_hover(metric), name=metric.short_title))
    if overall is not None:
        fig.add_hline(y=overall, line={"color": NHS_DARK_BLUE, "dash": "dot", "width": 2},
                      annotation_text=f"All {metric.format_value(overall)}", annotation_position="top left")
    fig.update_xaxes(title=None, type="category")
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, title, subtitle, height=360)


# Making Data Count colours, as NHSRplotthedots uses them.
SPC_COLOURS = {
    "common_cause": "#7B7D7D",
    "special_cause_improvement": "#289DE0",
    "special_cause_concern": "#FAB428",
    "special_cause_neutral_high": "#361475",
    "special_cause_neutral_low": "#361475",
}
SPC_LABELS = {
    "common_cause": "Common cause variation",
    "special_cause_improvement": "Special cause: improvement",
    "special_cause_concern": "Special cause: concern",
    "special_cause_neutral_high": "Special cause: neither (high)",
    "special_cause_neutral_low": "Special cause: neither (low)",
}


def spc_chart(frame: pd.DataFrame, metric: Metric, title: str, target: float | None = None,
              subtitle: str | None = None) -> go.Figure:
    """A Making Data Count XmR chart: values, mean, process limits, target, special-cause points.

    ``frame`` has one area's series with period_start, value, lower, upper, numerator, denominator,
    period_label, area_name and the XmR columns mean, lower_limit, upper_limit, point_type.
    """
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["period_start"], y=frame["value"], mode="lines", hoverinfo="skip",
                             line={"color": SPC_COLOURS["common_cause"], "width": 2}, showlegend=False))
    for column, name, dash in (("mean", "Mean", "solid"), ("upper_limit", "Process limits", "dash"),
                               ("lower_limit", "Process limits", "dash")):
        fig.add_trace(go.Scatter(x=frame["period_start"], y=frame[column], mode="lines", name=name,
                                 line={"color": NHS_DARK_GREY, "width": 1.5 if column == "mean" else 1, "dash": dash},
                                 hoverinfo="skip", showlegend=column != "lower_limit", legendgroup=name))
    for kind, rows in frame.groupby("point_type", sort=False):
        fig.add_trace(go.Scatter(
            x=rows["period_start"], y=rows["value"], mode="markers", name=SPC_LABELS[kind],
            marker={"color": SPC_COLOURS[kind], "size": 9 if kind == "common_cause" else 11,
                    "line": {"width": 1, "color": "white"}},
            customdata=_custom(rows, "area_name"), hovertemplate=_hover(metric)))
    if target is not None:
        fig.add_trace(go.Scatter(x=frame["period_start"], y=[target] * len(frame), mode="lines",
                                 name=f"Target {metric.format_value(target)}", hoverinfo="skip",
                                 line={"color": NHS_RED, "dash": "dot", "width": 2}))
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, title, subtitle)


def funnel_chart(frame: pd.DataFrame, limits: pd.DataFrame, metric: Metric, title: str, average: float,
                 benchmark_label: str, subtitle: str | None = None) -> go.Figure:
    """Funnel plot: each unit's value against its denominator, with 95% and 99.8% limits round the average.

    ``frame`` has area_name, pcn_name, denominator, value, lower, upper and a ``funnel`` label
    (high_998 ... low_998); ``limits`` has denominator and lower_95, upper_95, lower_998, upper_998.
    """
    fig = go.Figure()
    for column, dash, name in (("upper_998", "dash", "99.8% limits"), ("lower_998", "dash", "99.8% limits"),
                               ("upper_95", "dot", "95% limits"), ("lower_95", "dot", "95% limits")):
        fig.add_trace(go.Scatter(x=limits["denominator"], y=limits[column], mode="lines", name=name,
                                 legendgroup=name, showlegend=column.startswith("upper"), hoverinfo="skip",
                                 line={"color": NHS_DARK_GREY if "998" in column else NHS_MID_GREY,
                                       "dash": dash, "width": 1.5}))
    fig.add_hline(y=average, line={"color": NHS_DARK_BLUE, "width": 2},
                  annotation_text=f"{benchmark_label} {metric.format_value(average)}", annotation_position="top left")
    hover = _hover(metric).replace("%{customdata[0]}", "%{customdata[0]} (%{customdata[6]})")
    for label, rows in frame.groupby("funnel_label", sort=False):
        colour = FUNNEL_COLOURS[rows["funnel_verdict"].iloc[0]]
        fig.add_trace(go.Scatter(
            x=rows["denominator"], y=rows["value"], mode="markers", name=label,
            marker={"color": colour, "size": 9, "line": {"width": 0.5, "color": "white"}},
            customdata=frame.loc[rows.index, ["area_name", "period_label", "lower", "upper", "numerator",
                                              "denominator", "pcn_name"]].to_numpy(),
            hovertemplate=hover))
    fig.update_xaxes(title=f"Denominator ({metric.denominator.rstrip('.').lower()})", tickformat=",.0f")
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, title, subtitle, height=480)


FUNNEL_COLOURS = {"better": NHS_GREEN, "worse": NHS_RED, "similar": NHS_MID_GREY,
                  "higher": NHS_DARK_BLUE, "lower": NHS_LIGHT_BLUE}


def caterpillar_chart(frame: pd.DataFrame, metric: Metric, title: str, average: float, benchmark_label: str,
                      subtitle: str | None = None) -> go.Figure:
    """Units ranked by value with 95% CI whiskers against the average, coloured as on the funnel."""
    frame = frame.sort_values("value").reset_index(drop=True)
    fig = go.Figure()
    for label, rows in frame.groupby("funnel_label", sort=False):
        fig.add_trace(go.Scatter(
            x=rows.index + 1, y=rows["value"], mode="markers", name=label,
            marker={"color": FUNNEL_COLOURS[rows["funnel_verdict"].iloc[0]], "size": 7},
            error_y={"type": "data", "symmetric": False, "array": rows["upper"] - rows["value"],
                     "arrayminus": rows["value"] - rows["lower"], "color": NHS_MID_GREY, "thickness": 1},
            customdata=_custom(rows, "area_name"), hovertemplate=_hover(metric)))
    fig.add_hline(y=average, line={"color": NHS_DARK_BLUE, "width": 2},
                  annotation_text=f"{benchmark_label} {metric.format_value(average)}", annotation_position="top left")
    fig.update_xaxes(title="Rank", showticklabels=False)
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, title, subtitle, height=420)
