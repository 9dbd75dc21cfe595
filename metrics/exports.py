"""Exports meant for sharing: branded chart images (PNG, SVG) and the data behind them (CSV), from a ``ChartSpec``.

Every export takes the chart's spec (``metrics.charts``): the image is the spec drawn by its kind and then
restyled, the CSV is the spec's frame, and the title, footnote and CSV heading come from the spec's own
fields, so nothing is read back out of a figure's layout. Shared output differs from the screen in three
ways, all handled here so every caller gets them:

* **Small numbers.** Counts of 1 to 7 are suppressed (shown as ``*``), and so is anything from which
  such a count could be worked out (see ``suppression_flags`` for the rule). A chart point whose
  value is suppressed in the CSV is left out of the exported image too, so image and CSV agree.
* **Self-explanatory images.** An exported chart carries its title (what, unit, area, period), a
  footnote with the metric, area, period, source and snapshot date, NHS identity colours and a font
  legible on a slide; hover text, selection state and on-screen hints are stripped.
* **Safe CSV.** Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are
  neutralised, and title rows say what the numbers are.

Images are rendered by kaleido in the system Chromium (``$BROWSER_PATH``, default /usr/bin/chromium).
Starting Chromium takes about two seconds, so one renderer is kept open per process and shared by
every caller (and thread); each image then takes a fraction of a second.

No Streamlit here: the pack builder, the command line and tests use this module too.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import csv
import dataclasses
import io
import os
import re
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from metrics import areas, charts, reports
from metrics.areas import Area
from metrics.catalogue import BREAKDOWN_LABEL, Metric, catalogue
from metrics.charts import ChartSpec
from metrics.ingest.safety import neutralise_formula
from metrics.provenance import SYNTHETIC_NOTE, provenance
from metrics.periods import month_end, month_name, month_start, period_label
from metrics.store import Store

SMALL_COUNT_MAX = 7  # counts 1..7 are suppressed in anything shared
SUPPRESSED = "*"
SUPPRESSION_NOTE = ("Counts of 1 to 7, and any figure from which such a count could be worked out, "
                    "are suppressed (shown as *).")
DEFAULT_BROWSER = "/usr/bin/chromium"
EXPORT_WIDTH = 1000  # layout pixels; PNGs are drawn at EXPORT_SCALE, so 2000 px wide
EXPORT_SCALE = 2
MIN_EXPORT_HEIGHT = 560
RENDER_TIMEOUT_S = 60
STARTUP_TIMEOUT_S = 60
SCREEN_ONLY = re.compile(r"\b(hover|hovering|click|clicking|tap|zoom|drag|select)\b", re.IGNORECASE)
StudioKind = Literal["trend", "pcn_comparison", "breakdown"]


class ExportError(RuntimeError):
    """An image could not be rendered (no Chromium, or the renderer failed)."""


@dataclass(frozen=True)
class ChartMeta:
    """What a shared chart shows, taken from its spec's fields; it heads the CSV and footnotes the image."""

    title: str
    subtitle: str | None
    metric_id: str
    area: str
    period: str
    snapshot: date
    source: str
    synthetic: bool = False

    @property
    def metric(self) -> Metric:
        return catalogue().metric(self.metric_id)

    @property
    def file_stem(self) -> str:
        """A file name that says what the file is: metric, area, period, snapshot."""
        words = f"{self.metric_id} {self.area} {self.period} as-at {self.snapshot.isoformat()}"
        return re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")

    @classmethod
    def of(cls, spec: ChartSpec) -> ChartMeta:
        """What a spec says about its chart, in the words its figure shows (the kind's notes included)."""
        return cls(title=spec.title, subtitle=charts.subtitle(spec), metric_id=spec.metric_id, area=spec.area,
                   period=spec.period, snapshot=spec.snapshot, source=spec.source, synthetic=spec.synthetic)


# --- Suppression --------------------------------------------------------------------------------


def small_counts(counts: pd.Series) -> pd.Series:
    """True where a count is 1 to 7: the one small-number rule, for exports and for on-screen notes."""
    return counts.round().between(1, SMALL_COUNT_MAX).fillna(False).astype(bool)


def _is_proportion(frame: pd.DataFrame) -> pd.Series:
    """Percent metrics count people with and without the outcome; unknown metrics are treated so too."""
    if "metric_id" not in frame:
        return pd.Series(True, index=frame.index)
    statistics = {m.id: m.statistic for m in catalogue().metrics}
    return frame["metric_id"].map(lambda m: statistics.get(m, "proportion") == "proportion").astype(bool)


def _sibling_groups(frame: pd.DataFrame) -> list[pd.Index]:
    """Rows that are parts of one published whole: same metric, period and breakdown, at one level.

    PCNs of a borough, practices of a PCN and the groups of a breakdown sum to a total published
    elsewhere (the parent's own figure), so one hidden part could be recovered by subtraction.
    """
    keys = [c for c in ("metric_id", "period_start", "breakdown", "level") if c in frame]
    if not keys:
        return [frame.index]
    return [rows for rows in frame.groupby(keys, dropna=False).groups.values() if len(rows) > 1]


def _complementary(hidden: pd.Series, counts: pd.Series, groups: list[pd.Index]) -> pd.Series:
    """Where exactly one part of a whole is hidden, hide the next smallest non-zero part as well."""
    hidden = hidden.copy()
    for rows in groups:
        if hidden[rows].sum() != 1:
            continue
        candidates = counts[rows][~hidden[rows] & (counts[rows] > 0)]
        if len(candidates):
            hidden[candidates.idxmin()] = True
    return hidden


def suppression_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Which numerators, denominators and values (with their CIs) to hide before sharing.

    The rule, applied to each row and then across siblings:

    1. A numerator of 1-7 is hidden. So is a denominator of 1-7.
    2. For percentages, a numerator is also hidden when denominator minus numerator is 1-7: the
       people *without* the outcome are a count too, and it would follow by subtraction.
    3. A value and its 95% CI are hidden whenever its numerator or denominator is: value times
       denominator gives the numerator back, and the CI width gives the denominator back.
    4. Secondary suppression: where the rows are parts of one whole (PCNs in a borough, practices in a
       PCN, groups of a breakdown: same metric, period, breakdown and level) and exactly one part's
       numerator (or denominator) is hidden, the next smallest non-zero part is hidden too, so the
       hidden count cannot be found by subtracting the visible parts from the published total.
    """
    index = frame.index
    num = frame["numerator"].astype(float) if "numerator" in frame else pd.Series(np.nan, index=index)
    den = frame["denominator"].astype(float) if "denominator" in frame else pd.Series(np.nan, index=index)
    groups = _sibling_groups(frame)
    hide_num = small_counts(num) | (_is_proportion(frame) & small_counts(den - num))
    hide_den = small_counts(den)
    hide_num = _complementary(hide_num, num, groups)
    hide_den = _complementary(hide_den, den, groups)
    return pd.DataFrame({"numerator": hide_num, "denominator": hide_den, "value": hide_num | hide_den},
                        index=index)


def suppress(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with hidden cells replaced by ``*`` (columns holding a hidden cell become text)."""
    flags = suppression_flags(frame)
    out = frame.copy()
    targets = {"numerator": ["numerator"], "denominator": ["denominator"],
               "value": ["value", "lower", "upper", "point_type"]}
    for flag, columns in targets.items():
        for column in (c for c in columns if c in out):
            if flags[flag].any():
                out[column] = out[column].astype(object)
                out.loc[flags[flag], column] = SUPPRESSED
    return out


def blank_small_numbers(frame: pd.DataFrame, rows: pd.Series) -> pd.DataFrame:
    """The frame for a screen: in the chosen ``rows``, what ``suppression_flags`` would hide is left empty (NaN:
    charts skip the point, tables show a blank) rather than starred, so columns stay numeric."""
    flags = suppression_flags(frame)
    out = frame.copy()
    for flag, columns in {"numerator": ["numerator"], "denominator": ["denominator"],
                          "value": ["value", "lower", "upper"]}.items():
        for column in (c for c in columns if c in out):
            out.loc[flags[flag] & rows, column] = np.nan
    return out


# --- CSV ----------------------------------------------------------------------------------------

# The columns a shared CSV may carry, and their headings. Anything else (internal counts such as
# n_orgs, lists, screen-only fields) is left out, so a new column cannot leak a count by accident.
CSV_COLUMNS: dict[str, str] = {
    "area_code": "Area code", "area_name": "Area", "pcn_name": "PCN", "breakdown": "Breakdown",
    "breakdown_value": "Group", "period_label": "Period", "period_start": "Period start",
    "period_end": "Period end", "value": "Value", "lower": "95% CI lower", "upper": "95% CI upper",
    "numerator": "Numerator", "denominator": "Denominator", "benchmark": "Benchmark",
    "vs_benchmark": "Compared with benchmark", "point_type": "SPC point", "mean": "SPC mean",
    "lower_limit": "SPC lower process limit", "upper_limit": "SPC upper process limit",
}
# Derived from every value in a series: with all but one value shown they give the hidden one back.
SERIES_SUMMARY_COLUMNS = ("mean", "lower_limit", "upper_limit")


def _format_cell(column: str, cell: object) -> object:
    if cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NaT:
        return ""
    if isinstance(cell, pd.Timestamp):
        return cell.date().isoformat()
    if isinstance(cell, (float, np.floating)):
        return int(round(cell)) if column in ("numerator", "denominator") else round(float(cell), 3)
    return neutralise_formula(str(cell)) if not isinstance(cell, (int, np.integer)) else int(cell)


def title_rows(meta: ChartMeta) -> list[list[str]]:
    """The heading block of a shared CSV: what, where, when, as at, from where, and the suppression rule."""
    metric = meta.metric
    rows = [["Title", meta.title], ["Subtitle", _screen_free(meta.subtitle)], ["Metric", metric.title],
            ["Metric id", meta.metric_id], ["Unit", metric.unit_label], ["Area", meta.area],
            ["Period", meta.period], ["Data as at (snapshot)", meta.snapshot.isoformat()],
            ["Source", meta.source], ["Small numbers", SUPPRESSION_NOTE]]
    if meta.synthetic:
        rows.insert(0, ["Data", SYNTHETIC_NOTE])
    return [[neutralise_formula(key), neutralise_formula(value)] for key, value in rows]


def csv_frame(data: pd.DataFrame, metric: Metric | None = None) -> pd.DataFrame:
    """The shareable table: known columns only, suppressed, with readable headings."""
    shown = suppress(data)
    if suppression_flags(data)["value"].any():
        shown = shown.drop(columns=[c for c in SERIES_SUMMARY_COLUMNS if c in shown])
    columns = [c for c in CSV_COLUMNS if c in shown]
    headings = dict(CSV_COLUMNS)
    if metric is not None:
        headings["value"] = f"Value ({metric.unit_label})"
    table = shown[columns].copy()
    if "vs_benchmark" in table:
        table["vs_benchmark"] = table["vs_benchmark"].map(lambda v: charts.COMPARISON_LABELS.get(v, v))
    for column in columns:
        table[column] = [_format_cell(column, cell) for cell in table[column]]
    empty = [c for c in columns if (table[c] == "").all()]  # e.g. the group column of an 'all' series
    return table.drop(columns=empty).rename(columns=headings)


def to_csv(spec: ChartSpec) -> bytes:
    """The spec's frame as CSV bytes (UTF-8 with BOM, so Excel reads the £ and en dashes): title rows, a blank
    row, the suppressed table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(title_rows(ChartMeta.of(spec)))
    writer.writerow([])
    table = csv_frame(spec.data, spec.metric)
    writer.writerow([neutralise_formula(c) for c in table.columns])
    writer.writerows(table.itertuples(index=False, name=None))
    return buffer.getvalue().encode("utf-8-sig")


# --- Export styling -----------------------------------------------------------------------------


def _key(value: object) -> object:
    """A comparable key for a plotted coordinate (timestamps and floats come back in several types)."""
    if isinstance(value, (pd.Timestamp, np.datetime64, date)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (float, np.floating, int, np.integer)):
        return round(float(value), 9)
    return str(value)


def _hidden_labels(data: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(label, period label) of every row whose value the CSV hides; label as the charts put it in customdata."""
    if data is None or data.empty or "period_label" not in data:
        return set()
    hidden = suppression_flags(data)["value"]
    # Rows are told apart by area on trends and comparisons, by group on breakdowns (one area).
    by_area = "area_name" in data and not data.duplicated(["area_name", "period_label"]).any()
    label = "area_name" if by_area or "breakdown_value" not in data else "breakdown_value"
    return {(str(a), str(p)) for a, p in zip(data.loc[hidden, label], data.loc[hidden, "period_label"])}


def _points_to_hide(trace, hidden: set[tuple[str, str]], proportion: bool) -> np.ndarray:
    """Points of a trace carrying ``charts._custom`` data whose value must not be shown."""
    custom = trace.customdata
    if custom is None or len(custom) == 0 or np.ndim(custom) != 2 or np.shape(custom)[1] < 6:
        return np.zeros(0, dtype=bool)
    frame = pd.DataFrame({"numerator": pd.to_numeric(pd.Series(custom[:, 4]), errors="coerce"),
                          "denominator": pd.to_numeric(pd.Series(custom[:, 5]), errors="coerce")})
    own = small_counts(frame["numerator"]) | small_counts(frame["denominator"])
    if proportion:
        own |= small_counts(frame["denominator"] - frame["numerator"])
    listed = np.array([(str(row[0]), str(row[1])) in hidden for row in custom], dtype=bool)
    return own.to_numpy() | listed


def _blank(trace, mask: np.ndarray, value_axis: str | None = None) -> None:
    """Drop the masked points of a trace (value, error bars, text) without reordering the rest.

    The other coordinate goes too when it is a number (a denominator on a funnel or variation chart
    would give the count back); a date or a category name stays, so a suppressed practice is still
    listed on the axis, just without a dot.
    """
    for axis in ("x", "y", "text"):
        values = getattr(trace, axis, None)
        if values is None or isinstance(values, str) or len(values) != len(mask):
            continue
        numeric = all(isinstance(v, (int, float, np.number)) for v in values if v is not None)
        if value_axis is None or axis in (value_axis, "text") or numeric:
            setattr(trace, axis, [None if m else v for v, m in zip(values, mask)])
    for bar in ("error_x", "error_y"):
        error = getattr(trace, bar, None)
        for part in ("array", "arrayminus"):
            values = getattr(error, part, None) if error is not None else None
            if values is not None and len(values) == len(mask):
                setattr(error, part, [None if m else v for v, m in zip(values, mask)])


def _star_categories(fig: go.Figure, trace, mask: np.ndarray, axis: str) -> None:
    """Mark a suppressed row's category label with '*' so an empty row reads as suppressed, not missing."""
    values = getattr(trace, axis)
    if values is None or not all(isinstance(v, str) for v in values):
        return  # dates or numbers: not a category axis
    renamed = {v: f"{v} {SUPPRESSED}" for v, m in zip(values, mask) if m}
    setattr(trace, axis, [renamed.get(v, v) for v in values])
    layout_axis = fig.layout.yaxis if axis == "y" else fig.layout.xaxis
    if layout_axis.categoryarray is not None:
        layout_axis.categoryarray = [renamed.get(v, v) for v in layout_axis.categoryarray]


def mask_suppressed(fig: go.Figure, data: pd.DataFrame | None, proportion: bool) -> go.Figure:
    """Remove every plotted point whose value is suppressed, and the same point on lines and CI bands.

    Points are found by the chart builders' customdata (label, period, lower, upper, numerator,
    denominator). Traces without customdata (a line joining the points, a CI band) lose any point that
    sits at a hidden point's x with its value, lower or upper limit as y.
    """
    hidden_xy: set[tuple[object, object]] = set()
    labels = _hidden_labels(data)
    for trace in fig.data:
        mask = _points_to_hide(trace, labels, proportion)
        if not mask.any():
            continue
        value_on_x = getattr(trace, "error_x", None) is not None and trace.error_x.array is not None
        for i in np.flatnonzero(mask):
            position = trace.y[i] if value_on_x else trace.x[i]
            value = trace.x[i] if value_on_x else trace.y[i]
            lower, upper = trace.customdata[i][2], trace.customdata[i][3]
            hidden_xy |= {(_key(position), _key(v)) for v in (value, lower, upper) if v is not None}
        _blank(trace, mask, "x" if value_on_x else "y")
        _star_categories(fig, trace, mask, "y" if value_on_x else "x")
        if mask.all():
            trace.showlegend = False  # nothing of it is drawn, so the legend should not promise it
    if hidden_xy:
        for trace in fig.data:
            if trace.customdata is None and trace.x is not None and trace.y is not None:
                mask = np.array([(_key(x), _key(y)) in hidden_xy for x, y in zip(trace.x, trace.y)], dtype=bool)
                if mask.any():
                    _blank(trace, mask)
    return fig


def _screen_free(text: str | None) -> str:
    """Drop sentences that only make sense on screen ('hover for details', 'click a dot')."""
    sentences = re.split(r"(?<=[.;])\s+", (text or "").strip())
    return " ".join(s for s in sentences if s and not SCREEN_ONLY.search(s)).strip()


def _wrap(text: str, width: int) -> tuple[str, int]:
    lines = textwrap.wrap(text, width) if text else []
    return "<br>".join(lines), len(lines)


def footnote(meta: ChartMeta) -> str:
    """What, where, when, from where and as at when; first of all, if so, that the data are synthetic."""
    metric = meta.metric
    return (f"{SYNTHETIC_NOTE + ' ' if meta.synthetic else ''}{metric.short_title} ({metric.unit_label}) · "
            f"{meta.area} · {meta.period}. Source: {meta.source}. Data as at {meta.snapshot.day} "
            f"{meta.snapshot:%B %Y}. Counts of 1 to 7 are suppressed (*).")


CHAR_WIDTH_PX = 9  # average width of a 16 px Arial character, for sizing the left margin


def _left_margin(fig: go.Figure) -> int:
    """Room for the y tick labels (category names or numbers) and the y axis title."""
    labels: list[str] = []
    for trace in fig.data:
        values = [v for v in (trace.y if trace.y is not None else []) if v is not None]
        if values and all(isinstance(v, str) for v in values):
            labels += values
        elif values:
            numbers = [abs(float(v)) for v in values if isinstance(v, (int, float, np.number))]
            labels.append(f"{max(numbers, default=0):,.1f}")
    widest = max((len(label) for label in labels), default=4)
    title = 34 if fig.layout.yaxis.title.text else 0
    return int(24 + title + CHAR_WIDTH_PX * min(widest, 40))


def export_figure(spec: ChartSpec) -> go.Figure:
    """The spec drawn by its kind, then styled for sharing: titled and footnoted from the spec's own fields,
    large type, no screen-only parts, and no point that the spec's suppressed frame hides."""
    meta, out = ChartMeta.of(spec), charts.figure(spec)
    mask_suppressed(out, spec.data, proportion=spec.metric.statistic == "proportion")
    out.update_traces(hoverinfo="skip", hovertemplate=None, customdata=None, selectedpoints=None)
    title, title_lines = _wrap(meta.title, 80)
    subtitle, subtitle_lines = _wrap(_screen_free(meta.subtitle), 120)
    note, note_lines = _wrap(footnote(meta), 150)
    top = 40 + 32 * title_lines + 22 * subtitle_lines + 34  # title, subtitle, one legend row
    x_title = 30 if out.layout.xaxis.title.text else 0
    bottom = 52 + x_title + 18 * note_lines + 12  # tick labels, axis title, footnote, padding
    height = max(MIN_EXPORT_HEIGHT, int(out.layout.height or 420) + 140)
    single_bar = len(out.data) == 1 and out.data[0].type == "bar"
    out.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 1 - 14 / height, "yanchor": "top",
               "font": {"size": 24, "color": charts.NHS_DARK_BLUE, "family": charts.FONT},
               "subtitle": {"text": subtitle, "font": {"size": 15, "color": charts.NHS_DARK_GREY}}},
        font={"family": charts.FONT, "size": 16, "color": "#231F20"},
        width=EXPORT_WIDTH, height=height, hovermode=False, dragmode=False, selections=[],
        margin={"l": 24, "r": 40, "t": top, "b": bottom, "autoexpand": False},
        showlegend=not single_bar,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
                "font": {"size": 14}},
    )
    # Margins are set, not automatic, so the footnote can be placed at the image's left edge and a
    # known distance below the plot (annotations are positioned relative to the plot area).
    # (The legend is placed the same way: with xref="container" plotly.js misplaces the y axis title.)
    left = _left_margin(out)
    plot_height, plot_width = height - top - bottom, EXPORT_WIDTH - left - 40
    image_left = -(left - 14) / plot_width
    out.update_layout(margin={"l": left}, legend={"x": image_left})
    out.update_yaxes(automargin=False)
    out.update_xaxes(automargin=False)
    out.add_annotation(text=note, xref="paper", yref="paper", x=image_left,
                       y=-(bottom - 10) / plot_height,
                       xanchor="left", yanchor="bottom", showarrow=False, align="left",
                       font={"size": 12, "color": charts.NHS_DARK_GREY})
    out.update_annotations(selector=lambda a: a.text != note, font={"size": 14})
    return out


# --- Rendering ----------------------------------------------------------------------------------


_browser = {"path": DEFAULT_BROWSER}


def use_browser(path: str | None) -> None:
    """Choose the Chromium kaleido drives (the app and command line pass ``$BROWSER_PATH``); None: Debian's."""
    _browser["path"] = path or DEFAULT_BROWSER


def browser_path() -> str:
    return _browser["path"]


def renderer_available() -> bool:
    return Path(browser_path()).is_file()


class _Renderer:
    """One kaleido Chromium on a private event loop; any thread may submit figures, each with a timeout."""

    def __init__(self) -> None:
        import kaleido  # imported late: it starts nothing, but its import is slow-ish and optional for CSV

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kaleido-renderer", daemon=True)
        self._thread.start()
        os.environ["BROWSER_PATH"] = browser_path()  # how kaleido's browser launcher is told which Chromium
        self._kaleido = kaleido.Kaleido(n=1, mathjax=False, timeout=RENDER_TIMEOUT_S)
        self._run(self._kaleido.open(), STARTUP_TIMEOUT_S)

    def _run(self, coroutine, timeout: float):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def render(self, fig: dict, fmt: str, height: int) -> bytes:
        opts = {"format": fmt, "width": EXPORT_WIDTH, "height": height,
                "scale": EXPORT_SCALE if fmt == "png" else 1}
        return self._run(self._kaleido.calc_fig(fig, opts=opts), RENDER_TIMEOUT_S)

    def close(self) -> None:
        try:
            self._run(self._kaleido.close(), 30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)


_renderer: _Renderer | None = None
_renderer_lock = threading.Lock()


def _get_renderer() -> _Renderer:
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            if not renderer_available():
                raise ExportError(f"Chart images need Chromium: none at BROWSER_PATH={browser_path()!r} "
                                  "(apt-get install chromium, or set BROWSER_PATH).")
            _renderer = _Renderer()
        return _renderer


def warm_renderer() -> None:
    """Start the shared Chromium in the background, so the first PNG a server draws (Chart studio's preview, a
    download) does not wait the 1 to 2 s Chromium takes to start. A failure is left for that first use to
    report."""
    def start() -> None:
        with contextlib.suppress(Exception):
            _get_renderer()

    if renderer_available():
        threading.Thread(target=start, name="kaleido-warm-up", daemon=True).start()


def close_renderer() -> None:
    """Close the shared Chromium (at exit, or after a failure so the next call starts a fresh one)."""
    global _renderer
    with _renderer_lock:
        renderer, _renderer = _renderer, None
    if renderer is not None:
        try:
            renderer.close()
        except Exception:  # noqa: BLE001 - closing a broken browser may fail; it is discarded either way
            pass


atexit.register(close_renderer)


def render_image(fig: go.Figure, fmt: Literal["png", "svg"]) -> bytes:
    """PNG or SVG bytes of an (already export-styled) figure, from the shared renderer."""
    height = int(fig.layout.height or MIN_EXPORT_HEIGHT)
    try:
        return _get_renderer().render(fig.to_dict(), fmt, height)
    except ExportError:
        raise
    except Exception as error:  # the browser died or timed out: start afresh next time
        close_renderer()
        raise ExportError(f"Rendering a {fmt.upper()} failed: {error!r}") from error


def chart_png(spec: ChartSpec) -> bytes:
    """A shareable PNG of the chart, 2000 px wide (for slides)."""
    return render_image(export_figure(spec), "png")


def chart_svg(spec: ChartSpec) -> bytes:
    """A shareable SVG of the chart (for print)."""
    return render_image(export_figure(spec), "svg")


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# --- Chart studio -------------------------------------------------------------------------------


def period_span(start: str, end: str) -> str:
    return month_name(end) if start == end else f"{month_name(start)} to {month_name(end)}"


def studio_trend(store: Store, metric: Metric, area: Area, start: str, end: str, snapshot: date):
    """The area's and NWL's series of one metric. Asked for every metric, as the Overview scorecard and the pack
    ask, so that a pack's trend slides and each further Chart studio metric reuse that one cached query."""
    shown = [area, areas.home_ics(store, snapshot)]
    frame = reports.series(store, snapshot, [m.id for m in catalogue().metrics], shown, end=month_end(end))
    keep = (frame["metric_id"] == metric.id) & (frame["period_start"] >= month_start(start))
    frame = frame[keep].reset_index(drop=True)
    if frame.empty:
        return frame, None, ""
    mine = frame[frame["area_code"] == area.code].sort_values("period_start")
    first, last = frame["period_start"].min(), frame["period_start"].max()
    when = f"{period_label(metric.frequency, first)} to {period_label(metric.frequency, last)}"
    return frame, reports.target_value(metric, mine), when


def _data_period(data: pd.DataFrame) -> str:
    """The periods a chart's frame covers, first to last, as its CSV heading and image footnote say them."""
    labels = list(dict.fromkeys(data.sort_values("period_start")["period_label"]))
    return labels[0] if len(labels) == 1 else f"{labels[0]} to {labels[-1]}"


def _studio_trend(store: Store, metric: Metric, area: Area, start: str, end: str, snapshot: date,
                  breakdown: str | None) -> ChartSpec:
    """The area and NWL from ``start`` to ``end`` (YYYY-MM), with the area's target."""
    frame, target, when = studio_trend(store, metric, area, start, end, snapshot)
    _require(frame, metric, area, period_span(start, end))
    return ChartSpec(kind="trend", metric_id=metric.id, data=frame, area=area.name, period=_data_period(frame),
                     snapshot=snapshot, title=charts.chart_title(metric, f"{area.name} and NWL", when),
                     subtitle="Shaded band: 95% confidence interval.", target=target)


def _studio_pcns(store: Store, metric: Metric, area: Area, start: str, end: str, snapshot: date,
                 breakdown: str | None) -> ChartSpec:
    """The PCNs of the area's borough at the latest period by ``end``, each compared with the borough."""
    borough = areas.borough_of(store, snapshot, area)
    names = areas.org_names(store, snapshot)
    frame = (reports.compare_within(store, snapshot, metric, borough, "pcn", end, names)
             if metric.lowest_level == "practice" else pd.DataFrame())
    _require(frame, metric, borough, month_name(end))
    where = f"PCNs in {borough.name}"
    return ChartSpec(kind="comparison", metric_id=metric.id, data=frame, area=where, period=_data_period(frame),
                     snapshot=snapshot, title=charts.chart_title(metric, where, frame["period_label"].iloc[0]),
                     subtitle="Dots: value; whiskers: 95% confidence interval; colour compares each PCN with "
                     f"{borough.name}.", benchmark_label=borough.name,
                     target=metric.target.value if metric.target else None)


def _studio_breakdown(store: Store, metric: Metric, area: Area, start: str, end: str, snapshot: date,
                      breakdown: str | None) -> ChartSpec:
    """The area by ``breakdown`` (default the metric's first) at the latest period by ``end``."""
    kind_name = breakdown or (metric.breakdowns[0] if metric.breakdowns else None)
    if kind_name is None or kind_name not in metric.breakdowns:
        raise ValueError(f"{metric.short_title} has no {kind_name or 'breakdowns'} breakdown.")
    frame = reports.breakdown(store, snapshot, metric, area, kind_name, end)
    _require(frame, metric, area, month_name(end))
    overall = reports.scorecard_value(store, snapshot, metric, area, end)
    frame = frame.assign(area_name=area.name)
    where = f"{area.name} by {BREAKDOWN_LABEL[kind_name].lower()}"
    return ChartSpec(kind="breakdown", metric_id=metric.id, data=frame, area=area.name, period=_data_period(frame),
                     snapshot=snapshot, title=charts.chart_title(metric, where, frame["period_label"].iloc[0]),
                     subtitle="Whiskers: 95% confidence interval; dotted line: the whole area.", overall=overall)


@dataclass(frozen=True)
class StudioChoice:
    """A Chart studio chart type: its label on the page, and how it makes a spec from the page's choices."""

    label: str
    make: Callable[[Store, Metric, Area, str, str, date, str | None], ChartSpec]


STUDIO: dict[str, StudioChoice] = {
    "trend": StudioChoice("Trend over time", _studio_trend),
    "pcn_comparison": StudioChoice("PCNs compared", _studio_pcns),
    "breakdown": StudioChoice("Breakdown (inequalities)", _studio_breakdown),
}
STUDIO_KINDS: dict[str, str] = {name: choice.label for name, choice in STUDIO.items()}


def studio_figure(store: Store, kind: StudioKind, metric_id: str, area: Area, start: str, end: str, snapshot: date,
                  title: str | None = None, subtitle: str | None = None,
                  breakdown: str | None = None) -> ChartSpec:
    """The spec of a Chart studio chart (its figure, downloads and a pack's chart slides all come from it).

    ``kind``: 'trend' (the area and NWL from ``start`` to ``end``, YYYY-MM), 'pcn_comparison' (the PCNs
    of the area's borough at the latest period by ``end``), or 'breakdown' (the area by ``breakdown``,
    default the metric's first, at the latest period by ``end``). ``title``/``subtitle`` replace the
    defaults (a blank title keeps the default). Raises ValueError when the choice has no data.
    """
    if kind not in STUDIO:
        raise ValueError(f"unknown chart kind {kind!r}; choose one of {', '.join(STUDIO)}")
    spec = STUDIO[kind].make(store, catalogue().metric(metric_id), area, start, end, snapshot, breakdown)
    synthetic = provenance(store.storage, snapshot).synthetic
    return dataclasses.replace(spec.edited(title, subtitle), synthetic=synthetic)


def _require(frame: pd.DataFrame, metric: Metric, area: Area, when: str) -> None:
    if frame is None or frame.empty:
        raise ValueError(f"No {metric.short_title} data for {area.name}, {when}.")
