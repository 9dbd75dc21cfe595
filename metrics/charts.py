"""Charts described once: a ``ChartSpec`` says what a chart shows, a registered kind draws it in NHS colours.

The screen, Chart studio, the PNG / SVG / CSV exports and the pack all take the same spec, so a chart's title,
area, period and data are stated once, where it is made, and never read back out of a figure. Each kind of chart
(trend, SPC, comparison, breakdown, funnel, caterpillar) is one small draw function registered under its name, as
Datasette registers facets: adding a kind is adding a function, not editing a switch.

>>> sorted(KINDS)
['breakdown', 'caterpillar', 'comparison', 'funnel', 'spc', 'trend']
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from metrics.catalogue import Metric, catalogue

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
    "higher": NHS_DARK_BLUE, "lower": NHS_LIGHT_BLUE, "not_compared": NHS_MID_GREY,
}
COMPARISON_LABELS = {
    "better": "Significantly better", "similar": "Not significantly different", "worse": "Significantly worse",
    "higher": "Significantly higher", "lower": "Significantly lower",
    "not_compared": "Not compared (missing or suppressed)",
}
FUNNEL_COLOURS = {"better": NHS_GREEN, "worse": NHS_RED, "similar": NHS_MID_GREY,
                  "higher": NHS_DARK_BLUE, "lower": NHS_LIGHT_BLUE, "not_compared": NHS_PALE_GREY}
# Beyond 95% only: the same colour, paler and smaller; beyond 99.8%: full colour, larger (labels say which).
FUNNEL_MARKERS = {"high_998": (1.0, 11), "low_998": (1.0, 11), "high_95": (0.45, 8), "low_95": (0.45, 8)}
FONT = "Frutiger W01, Frutiger, Arial, Helvetica, sans-serif"  # as the app theme (.streamlit/config.toml)

# The columns every kind's hover text reads (charts._custom), so every tidy frame carries its counts.
POINT_COLUMNS = ("value", "lower", "upper", "numerator", "denominator", "period_label")


def axis_title(metric: Metric) -> str:
    return metric.units.axis_title


def chart_title(metric: Metric, where: str, when: str) -> str:
    """Titles say what is shown, the unit, the area and the period."""
    return f"{metric.short_title} ({metric.unit_label}), {where}, {when}"


# --- What a chart shows -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, kw_only=True)
class ChartSpec:
    """One chart, stated once: which kind, which metric, the tidy frame drawn, and the words around it.

    ``data`` is the tidy frame the chart is drawn from, with numerator and denominator (exports suppress
    it, and it is the CSV). ``area`` and ``period`` say where and when, for the title, the CSV heading and
    the image's footnote; ``title`` defaults to the standard ``chart_title``. The options a kind needs are
    checked here, when the spec is made, rather than when it is first drawn: ``target`` (a dashed line),
    ``benchmark`` and ``benchmark_label`` (the average line of funnels and caterpillars; a comparison
    compares with its frame's ``benchmark`` column and names it ``benchmark_label``), ``limits`` (a funnel's
    control limits by denominator) and ``overall`` (the whole area's figure on a breakdown).
    """

    kind: str
    metric_id: str
    data: pd.DataFrame = field(repr=False)
    area: str
    period: str
    snapshot: date
    title: str = ""
    subtitle: str | None = None
    source: str = ""
    target: float | None = None
    benchmark: float | None = None
    benchmark_label: str | None = None
    limits: pd.DataFrame | None = field(default=None, repr=False)
    overall: float | None = None
    synthetic: bool = False  # drawn from synthetic demo data: every export says so

    def __post_init__(self) -> None:
        kind = chart_kind(self.kind)
        missing = [name for name in kind.options if getattr(self, name) is None]
        missing += [column for column in kind.columns if column not in self.data]
        if missing:
            raise ValueError(f"a {self.kind} chart needs {', '.join(missing)}")
        # Defaults filled in place (the spec is frozen once made): the standard title, the catalogue's source.
        object.__setattr__(self, "title", self.title or chart_title(self.metric, self.area, self.period))
        object.__setattr__(self, "source", self.source or self.metric.data_source)

    @property
    def metric(self) -> Metric:
        return catalogue().metric(self.metric_id)

    def edited(self, title: str | None = None, subtitle: str | None = None) -> ChartSpec:
        """The same chart with a user's own title or subtitle (blank keeps the standard words)."""
        return replace(self, title=title or self.title, subtitle=subtitle or self.subtitle)


def _no_notes(spec: ChartSpec) -> str:
    """Most kinds draw everything their spec holds, so add nothing to its subtitle."""
    return ""


@dataclass(frozen=True)
class ChartKind:
    """A registered kind of chart: its name, the frame columns and spec options it draws from, how to draw it."""

    name: str
    draw: Callable[[ChartSpec], go.Figure]
    columns: tuple[str, ...]
    options: tuple[str, ...] = ()
    notes: Callable[[ChartSpec], str] = _no_notes


KINDS: dict[str, ChartKind] = {}


def register(name: str, columns: tuple[str, ...], options: tuple[str, ...] = (),
             notes: Callable[[ChartSpec], str] = _no_notes) -> Callable:
    """Register a draw function as the chart kind ``name`` (a decorator; the function is returned as it is)."""
    def add(draw: Callable[[ChartSpec], go.Figure]) -> Callable[[ChartSpec], go.Figure]:
        KINDS[name] = ChartKind(name, draw, (*POINT_COLUMNS, *columns), options, notes)
        return draw
    return add


def chart_kind(name: str) -> ChartKind:
    """The registered kind called ``name``; a clear error naming the kinds there are otherwise."""
    if name not in KINDS:
        raise ValueError(f"unknown chart kind {name!r}; choose one of {', '.join(KINDS)}")
    return KINDS[name]


def figure(spec: ChartSpec) -> go.Figure:
    """The spec drawn by its kind: the figure shown on screen, and the one exports restyle for sharing."""
    return chart_kind(spec.kind).draw(spec)


# Figures drawn for the screen, remembered by what their spec holds (``drawn``): building a Plotly figure costs
# 15 to 100 ms of a page's run (validation of every property), and a page's rerun, a reload or a borough a user
# comes back to asks for the same figures again (benchmarks/README.md, "In the browser").
DRAWN_MEMO_SIZE = 128
_drawn: OrderedDict[str, go.Figure] = OrderedDict()
_drawn_lock = threading.Lock()


def _frame_digest(frame: pd.DataFrame | None) -> bytes:
    """A digest of a frame's columns, dtypes, index and every value (``pd.util.hash_pandas_object``)."""
    if frame is None:
        return b"none"
    head = repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode()
    try:
        return head + pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()
    except TypeError:  # a column of lists or other unhashable values: their pickled bytes
        return head + pickle.dumps(frame)


def spec_key(spec: ChartSpec) -> str:
    """What a spec holds, as one key: every field, and the frames' values (two specs with the same key draw the
    same figure)."""
    digest = hashlib.blake2b(digest_size=20)
    for name in (f.name for f in fields(spec)):
        value = getattr(spec, name)
        digest.update(name.encode())
        digest.update(_frame_digest(value) if name in ("data", "limits") else repr(value).encode())
    return digest.hexdigest()


def drawn(spec: ChartSpec) -> go.Figure:
    """``figure(spec)`` for the screen, remembered by ``spec_key`` (the last ``DRAWN_MEMO_SIZE``). Its title and
    subtitle are left to the page, which writes them as text above the chart (``tables.chart_heading``): text wraps on a
    phone, where a figure's title runs off its right edge. Callers must not change the figure (exports restyle
    a figure of their own from ``figure``)."""
    key = spec_key(spec)
    with _drawn_lock:
        if key in _drawn:
            _drawn.move_to_end(key)
            return _drawn[key]
    fig = figure(spec).update_layout(title=None, margin={"t": 10})
    with _drawn_lock:
        _drawn[key] = fig
        while len(_drawn) > DRAWN_MEMO_SIZE:
            _drawn.popitem(last=False)
    return fig


def subtitle(spec: ChartSpec) -> str | None:
    """The words under the title as drawn: the spec's subtitle and what its kind adds (an off-scale target).

    Exports head the CSV and the image with these, so they say what the chart says.
    """
    note = chart_kind(spec.kind).notes(spec)
    return f"{spec.subtitle or ''} {note}".strip() if note else spec.subtitle


def style(fig: go.Figure, spec: ChartSpec, height: int = 420) -> go.Figure:
    """Common layout: NHS font and colours, a left-aligned title and optional subtitle."""
    words = subtitle(spec)
    fig.update_layout(
        title={"text": spec.title, "x": 0, "xanchor": "left", "font": {"size": 17, "color": NHS_DARK_BLUE},
               "subtitle": {"text": words or "", "font": {"size": 12, "color": NHS_DARK_GREY}}},
        font={"family": FONT, "size": 13, "color": "#231F20"},
        plot_bgcolor="white", paper_bgcolor="white", height=height,
        margin={"l": 10, "r": 10, "t": 80 if words else 60, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(showline=True, linecolor=NHS_MID_GREY, gridcolor=NHS_PALE_GREY, automargin=True)
    fig.update_yaxes(showline=True, linecolor=NHS_MID_GREY, gridcolor=NHS_PALE_GREY, zeroline=False, automargin=True)
    return fig


# --- The kinds ----------------------------------------------------------------------------------


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


@register("trend", columns=("area_name", "period_start"))
def trend_chart(spec: ChartSpec) -> go.Figure:
    """Value over time per area; the first area gets a 95% CI band; a dashed target line if set."""
    fig = go.Figure()
    for i, (name, rows) in enumerate(spec.data.groupby("area_name", sort=False)):
        rows = with_gaps(rows.sort_values("period_start"))
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        if i == 0:
            # One band per unbroken run of periods, so the band does not bridge a gap between seasons.
            runs = rows["value"].isna().cumsum()
            for j, (_, run) in enumerate(rows.dropna(subset=["value"]).groupby(runs)):
                fig.add_trace(go.Scatter(
                    x=pd.concat([run["period_start"], run["period_start"][::-1]]),
                    y=pd.concat([run["upper"], run["lower"][::-1]]), fill="toself", mode="lines",
                    fillcolor="rgba(0,94,184,0.12)", line={"width": 0}, hoverinfo="skip",
                    name=f"{name} 95% CI", legendgroup="ci", showlegend=j == 0))
        fig.add_trace(go.Scatter(
            x=rows["period_start"], y=rows["value"], name=name, mode="lines+markers",
            line={"color": colour, "width": 3 if i == 0 else 2, "dash": "solid" if i == 0 else "dot"},
            marker={"size": 6 if i == 0 else 4}, customdata=_custom(rows, "area_name"),
            hovertemplate=_hover(spec.metric)))
    if spec.target is not None:
        fig.add_hline(y=spec.target, line={"color": NHS_RED, "dash": "dash", "width": 2},
                      annotation_text=f"Target {spec.metric.format_value(spec.target)}",
                      annotation_position="top left")
    fig.update_yaxes(title=axis_title(spec.metric))
    return style(fig, spec)


def _target_off_scale(spec: ChartSpec) -> bool:
    """A target far beyond the dots and whiskers: drawn, it would squash them against one edge."""
    frame = spec.data
    span = float(frame["upper"].max() - frame["lower"].min())
    return spec.target is not None and not (
        frame["lower"].min() - span <= spec.target <= frame["upper"].max() + span)


def _standardised_note(spec: ChartSpec) -> str:
    """Age-standardised values say so wherever they are drawn (the frame's ``standardisation`` column)."""
    if "standardisation" not in spec.data or spec.data["standardisation"].isna().all():
        return ""
    return f"Rates are {spec.data['standardisation'].dropna().iloc[0]}."


def _off_scale_note(spec: ChartSpec) -> str:
    """A comparison says in words what it does not draw (a target off its scale) and what its values are (an
    age-standardised rate)."""
    off = f"Target {spec.metric.format_value(spec.target)} is off the scale." if _target_off_scale(spec) else ""
    return " ".join(note for note in (_standardised_note(spec), off) if note)


@register("comparison", columns=("area_name", "benchmark", "vs_benchmark"), options=("benchmark_label",),
          notes=_off_scale_note)
def comparison_chart(spec: ChartSpec) -> go.Figure:
    """Areas ranked by value as dots with 95% CI whiskers, coloured by comparison with the benchmark.

    Dots rather than bars: a bar from zero hides the differences and intervals that matter here.
    """
    metric, frame = spec.metric, spec.data.sort_values("value")
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
                  annotation_text=f"{spec.benchmark_label} {metric.format_value(benchmark)}",
                  annotation_position="bottom right")
    if spec.target is not None and not _target_off_scale(spec):
        fig.add_vline(x=spec.target, line={"color": NHS_RED, "dash": "dash", "width": 2},
                      annotation_text=f"Target {metric.format_value(spec.target)}", annotation_position="top left")
    fig.update_yaxes(categoryorder="array", categoryarray=list(frame["area_name"]), title=None, type="category")
    fig.update_xaxes(title=axis_title(metric))
    return style(fig, spec, height=max(320, 150 + 28 * len(frame)))


def _group_sizes(frame: pd.DataFrame) -> list[str]:
    """Each group's size (its denominator) written on its bar; blank where it is suppressed (exports blank a
    hidden bar's text with its value)."""
    return [f"n = {size:,.0f}" if size == size else "" for size in frame["denominator"]]


def _breakdown_note(spec: ChartSpec) -> str:
    """What the colours of a breakdown mean: each group against the area's overall value."""
    if "vs_benchmark" not in spec.data:
        return ""
    return f"Colour: each group against {spec.area} overall (95% CI); n: the group's size."


@register("breakdown", columns=("breakdown_value",), notes=_breakdown_note)
def breakdown_chart(spec: ChartSpec) -> go.Figure:
    """One bar per group (ethnicity, IMD quintile, ...) with 95% CI and its size, coloured as Fingertips colours
    subgroups against the area's overall value (the line). Bars are named as a reader would ('IMD quintile 1
    (most deprived)', the frame's ``group``); the hover's first field stays the group's code, which exports use to
    find suppressed bars."""
    metric, frame = spec.metric, spec.data
    names = frame["group"] if "group" in frame else frame["breakdown_value"]
    verdicts = frame["vs_benchmark"] if "vs_benchmark" in frame else pd.Series("", index=frame.index)
    hover = _hover(metric).replace("%{customdata[0]}", "%{x}").replace(
        "<extra>", "<br>Group size (denominator): %{customdata[5]:,.0f}<extra>")
    fig = go.Figure()
    for verdict, rows in frame.groupby(verdicts, sort=False):
        fig.add_trace(go.Bar(
            x=names[rows.index], y=rows["value"], text=_group_sizes(rows), textposition="inside",
            insidetextanchor="start", textfont={"color": "white", "size": 11},
            marker={"color": COMPARISON_COLOURS.get(verdict, NHS_BLUE)},
            error_y={"type": "data", "symmetric": False, "array": rows["upper"] - rows["value"],
                     "arrayminus": rows["value"] - rows["lower"], "color": NHS_DARK_GREY},
            customdata=_custom(rows, "breakdown_value"), hovertemplate=hover,
            name=COMPARISON_LABELS.get(verdict, metric.short_title), showlegend=bool(verdict)))
    if spec.overall is not None:
        fig.add_hline(y=spec.overall, line={"color": NHS_DARK_BLUE, "dash": "dot", "width": 2},
                      annotation_text=f"All {metric.format_value(spec.overall)}", annotation_position="top left")
    fig.update_xaxes(title=None, type="category", categoryorder="array", categoryarray=list(names))
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, spec, height=380)


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


@register("spc", columns=("area_name", "period_start", "mean", "lower_limit", "upper_limit", "point_type"))
def spc_chart(spec: ChartSpec) -> go.Figure:
    """A Making Data Count XmR chart: values, mean, process limits, target, special-cause points.

    The frame is one area's series with the XmR columns mean, lower_limit, upper_limit and point_type.
    """
    metric, frame = spec.metric, spec.data
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
    if spec.target is not None:
        fig.add_trace(go.Scatter(x=frame["period_start"], y=[spec.target] * len(frame), mode="lines",
                                 name=f"Target {metric.format_value(spec.target)}", hoverinfo="skip",
                                 line={"color": NHS_RED, "dash": "dot", "width": 2}))
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, spec)


def _average_line(fig: go.Figure, spec: ChartSpec) -> None:
    """The benchmark average (NWL, a peer group) as a solid line across a funnel or caterpillar."""
    fig.add_hline(y=spec.benchmark, line={"color": NHS_DARK_BLUE, "width": 2},
                  annotation_text=f"{spec.benchmark_label} {spec.metric.format_value(spec.benchmark)}",
                  annotation_position="top left")


@register("funnel", columns=("area_name", "pcn_name", "funnel_label", "funnel_verdict"),
          options=("benchmark", "benchmark_label", "limits"))
def funnel_chart(spec: ChartSpec) -> go.Figure:
    """Funnel plot: each unit's value against its denominator, with 95% and 99.8% limits round the average.

    The frame has a ``funnel_label`` and ``funnel_verdict`` per unit; ``spec.limits`` has denominator and
    lower_95, upper_95, lower_998, upper_998; ``spec.benchmark`` is the average.
    """
    metric, frame, limits = spec.metric, spec.data, spec.limits
    fig = go.Figure()
    for column, dash, name in (("upper_998", "dash", "99.8% limits"), ("lower_998", "dash", "99.8% limits"),
                               ("upper_95", "dot", "95% limits"), ("lower_95", "dot", "95% limits")):
        fig.add_trace(go.Scatter(x=limits["denominator"], y=limits[column], mode="lines", name=name,
                                 legendgroup=name, showlegend=column.startswith("upper"), hoverinfo="skip",
                                 line={"color": NHS_DARK_GREY if "998" in column else NHS_MID_GREY,
                                       "dash": dash, "width": 1.5}))
    _average_line(fig, spec)
    hover = _hover(metric).replace("%{customdata[0]}", "%{customdata[0]} (%{customdata[6]})")
    for label, rows in frame.groupby("funnel_label", sort=False):
        colour = FUNNEL_COLOURS[rows["funnel_verdict"].iloc[0]]
        opacity, size = FUNNEL_MARKERS.get(rows["funnel"].iloc[0], (1.0, 8)) if "funnel" in rows else (1.0, 9)
        fig.add_trace(go.Scatter(
            x=rows["funnel_x"] if "funnel_x" in rows else rows["denominator"], y=rows["value"], mode="markers",
            name=label,
            marker={"color": colour, "size": size, "opacity": opacity, "line": {"width": 0.5, "color": "white"}},
            customdata=frame.loc[rows.index, ["area_name", "period_label", "lower", "upper", "numerator",
                                              "denominator", "pcn_name"]].to_numpy(),
            hovertemplate=hover))
    denominator = metric.denominator.rstrip(".").lower()
    if "expected" in frame:  # age-standardised: dots stand where a population with NWL's age mix would
        denominator += ", at NWL's age mix (the practice's expected events)"
    fig.update_xaxes(title=f"Denominator ({denominator})", tickformat=",.0f")
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, spec, height=480)


@register("caterpillar", columns=("area_name", "funnel_label", "funnel_verdict"),
          options=("benchmark", "benchmark_label"))
def caterpillar_chart(spec: ChartSpec) -> go.Figure:
    """Units ranked by value with 95% CI whiskers against the average, coloured as on the funnel."""
    metric, frame = spec.metric, spec.data.sort_values("value").reset_index(drop=True)
    fig = go.Figure()
    for label, rows in frame.groupby("funnel_label", sort=False):
        fig.add_trace(go.Scatter(
            x=rows.index + 1, y=rows["value"], mode="markers", name=label,
            marker={"color": FUNNEL_COLOURS[rows["funnel_verdict"].iloc[0]], "size": 7},
            error_y={"type": "data", "symmetric": False, "array": rows["upper"] - rows["value"],
                     "arrayminus": rows["value"] - rows["lower"], "color": NHS_MID_GREY, "thickness": 1},
            customdata=_custom(rows, "area_name"), hovertemplate=_hover(metric)))
    _average_line(fig, spec)
    fig.update_xaxes(title="Rank", showticklabels=False)
    fig.update_yaxes(title=axis_title(metric))
    return style(fig, spec, height=420)
