"""The Health & Care Executive (HHaCE) pack: one PowerPoint per borough and month, rebuilt from a snapshot.

Slides: a title slide, a scorecard per priority, the exceptions, what moved since last meeting, one chart per
off-track metric (with the definition and source in the speaker notes) and a data-quality slide. Everything on a
slide is derived from one snapshot, so the same command with the same ``--snapshot`` gives the same numbers
however many snapshots are added later; the one exception, "since last meeting", compares with the snapshot
before this one, which later snapshots do not change. Nothing on a slide mentions the clock.
Counts of 1 to 7, and values from which they could be recovered, are suppressed (``*``).
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Inches, Pt

from metrics import areas, charts, exports, meeting, reports
from metrics.areas import Area
from metrics.catalogue import Metric, catalogue
from metrics.periods import MONTH_PATTERN, month_end, month_name, month_start, months_before
from metrics.provenance import SYNTHETIC_NOTE, provenance
from metrics.store import Store

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
ROWS_PER_SLIDE = 12
TEXT = RGBColor(0x23, 0x1F, 0x20)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
PRODUCER = "NWL ICP metrics dashboard"
TREND_MONTHS = 36  # chart slides show three years of a monthly metric, the whole series otherwise


class PackError(ValueError):
    """The pack cannot be built as asked (unknown borough, bad period, missing snapshot)."""


def rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#"))


# --- What goes in the pack ----------------------------------------------------------------------


@dataclass
class PackData:
    """Everything the slides show, read once from one snapshot (the store makes the chart slides' trends)."""

    store: Store
    borough: Area
    period: str
    snapshot: date
    card: pd.DataFrame
    exceptions: pd.DataFrame
    hidden: pd.DataFrame  # per scorecard row: value / change suppressed
    suppressed: list[str] = field(default_factory=list)
    synthetic: bool = False  # every slide says so
    moved: meeting.SinceLastMeeting | None = None  # against the snapshot before this one


def resolve_borough(store: Store, name_or_code: str, snapshot: date) -> Area:
    """A borough by name (any case) or ONS code, from the snapshot's own organisations."""
    found = areas.find_borough(store, snapshot, name_or_code)
    if found is None or found.level != "borough":
        names = [name for name, area in areas.boroughs_and_places(store, snapshot).items() if area.level == "borough"]
        raise PackError(f"unknown borough {name_or_code!r}; choose one of: {', '.join(names)}")
    return found


def resolve_snapshot(store: Store, snapshot: date | str | None) -> date:
    """The requested snapshot (must exist), or the latest one."""
    held = store.snapshots()
    if not held:
        raise PackError(f"no snapshots under {store.root}")
    if snapshot is None:
        return held[-1]
    try:
        wanted = snapshot if isinstance(snapshot, date) else date.fromisoformat(str(snapshot))
    except ValueError as error:
        raise PackError(f"snapshot {snapshot!r} is not a date (YYYY-MM-DD)") from error
    if wanted not in held:
        raise PackError(f"no snapshot {wanted.isoformat()}; held: {', '.join(d.isoformat() for d in held)}")
    return wanted


def check_period(period: str) -> str:
    if not re.fullmatch(MONTH_PATTERN, period or ""):
        raise PackError(f"period {period!r} must be a month as YYYY-MM, e.g. 2026-09")
    return period


def _hidden_changes(store: Store, snapshot: date, area: Area, card: pd.DataFrame, month: str) -> pd.Series:
    """A change is hidden when the value it starts from was suppressed (change + value gives it back)."""
    history = reports.series(store, snapshot, list(card["metric_id"]), [area], end=month_end(month))
    flags = exports.suppression_flags(history)["value"]
    hidden_points = set(zip(history.loc[flags, "metric_id"], history.loc[flags, "period_label"]))
    return pd.Series([(m, p) in hidden_points for m, p in zip(card["metric_id"], card["previous_period"])],
                     index=card.index)


def gather(store: Store, borough: str, period: str, snapshot: date | str | None = None) -> PackData:
    """Read the scorecard and exceptions for a borough and month from one snapshot."""
    period = check_period(period)
    snap = resolve_snapshot(store, snapshot)
    area = resolve_borough(store, borough, snap)
    card = reports.scorecard(store, snap, area, areas.home_ics(store, snap), period)
    if card.empty:
        raise PackError(f"no data for {area.name} by {month_name(period)} in snapshot {snap.isoformat()}")
    card = card.reset_index(drop=True)
    value_hidden = exports.suppression_flags(card)["value"]
    hidden = pd.DataFrame({"value": value_hidden,
                           "change": value_hidden | _hidden_changes(store, snap, area, card, period)})
    suppressed = [f"{row.metric} ({row.period})" for row in card[value_hidden].itertuples()]
    return PackData(store, area, period, snap, card, reports.exceptions(card), hidden, suppressed,
                    synthetic=provenance(store.storage, snap).synthetic,
                    moved=meeting.since_last_meeting(store, area, areas.home_ics(store, snap), period, snap))


# --- Slide furniture ----------------------------------------------------------------------------


def _text(slide, left, top, width, height, text: str | Sequence[str], size: int = 14, colour=TEXT,
          bold: bool = False, align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP):
    """A text box; a sequence gives one paragraph per item."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    lines = [text] if isinstance(text, str) else list(text)
    for i, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align
        paragraph.space_after = Pt(6)
        run = paragraph.add_run()
        run.text = line
        run.font.size, run.font.bold, run.font.color.rgb, run.font.name = Pt(size), bold, colour, "Arial"
    return box


def _rectangle(slide, left, top, width, height, colour: str):
    from pptx.enum.shapes import MSO_SHAPE

    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
    shape.fill.solid()
    shape.fill.fore_color.rgb = rgb(colour)
    shape.line.fill.background()
    shape.shadow.inherit = False
    return shape


def _slide(prs, pack: PackData, title: str, subtitle: str | None = None):
    """A content slide: NHS blue title bar, optional subtitle, footer saying what and as at when."""
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _rectangle(slide, 0, 0, SLIDE_WIDTH, Inches(0.95), charts.NHS_BLUE)
    _text(slide, MARGIN, Inches(0.12), SLIDE_WIDTH - 2 * MARGIN, Inches(0.75), title, size=26, colour=WHITE,
          bold=True, anchor=MSO_ANCHOR.MIDDLE)
    if subtitle:
        _text(slide, MARGIN, Inches(1.0), SLIDE_WIDTH - 2 * MARGIN, Inches(0.45), subtitle, size=13,
              colour=rgb(charts.NHS_DARK_GREY))
    footer = (f"{SYNTHETIC_NOTE + ' · ' if pack.synthetic else ''}{pack.borough.name} Health & Care Executive · "
              f"{month_name(pack.period)} · data as at {_long_date(pack.snapshot)} · counts of 1 to 7 suppressed (*)")
    _text(slide, MARGIN, SLIDE_HEIGHT - Inches(0.45), SLIDE_WIDTH - 2 * MARGIN, Inches(0.35), footer, size=10,
          colour=rgb(charts.NHS_MID_GREY))
    return slide


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _table(slide, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float],
           top=Inches(1.5), fills: dict[tuple[int, int], str] | None = None, size: int = 12):
    """A plain table: NHS blue header, white body, optional cell fills (RAG), widths in inches."""
    width = Inches(sum(widths))
    shape = slide.shapes.add_table(len(rows) + 1, len(header), MARGIN, top, width, Inches(0.4) * (len(rows) + 1))
    table = shape.table
    table.first_row, table.horz_banding = True, False
    for i, w in enumerate(widths):
        table.columns[i].width = Inches(w)
    for r, values in enumerate([header, *rows]):
        table.rows[r].height = Inches(0.4)
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            fill = charts.NHS_BLUE if r == 0 else (fills or {}).get((r - 1, c), "#FFFFFF")
            cell.fill.solid()
            cell.fill.fore_color.rgb = rgb(fill)
            paragraph = cell.text_frame.paragraphs[0]
            run = paragraph.add_run()
            run.text = str(value)
            dark = fill in ("#FFFFFF", charts.NHS_WARM_YELLOW, charts.NHS_PALE_GREY)
            run.font.size, run.font.name = Pt(size), "Arial"
            run.font.bold = r == 0
            run.font.color.rgb = TEXT if dark and r else WHITE
    return table


def _chunks(frame: pd.DataFrame, size: int = ROWS_PER_SLIDE) -> Iterable[tuple[int, pd.DataFrame]]:
    for start in range(0, max(len(frame), 1), size):
        yield start // size, frame.iloc[start:start + size]


# --- Slides -------------------------------------------------------------------------------------


def title_slide(prs, pack: PackData) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _rectangle(slide, 0, 0, SLIDE_WIDTH, SLIDE_HEIGHT, charts.NHS_BLUE)
    _text(slide, Inches(0.8), Inches(1.6), Inches(11.5), Inches(1.4),
          f"{pack.borough.name} Health & Care Executive", size=40, colour=WHITE, bold=True)
    _text(slide, Inches(0.8), Inches(2.9), Inches(11.5), Inches(0.8),
          f"System metrics pack: {month_name(pack.period)}", size=26, colour=WHITE)
    counts = pack.card["rag"].value_counts()
    summary = " · ".join(f"{int(counts.get(c, 0))} {reports.RAG_LABELS[c].lower()}" for c in ("red", "amber", "green", "grey"))
    _text(slide, Inches(0.8), Inches(4.1), Inches(11.5), Inches(1.6), [
        f"{len(pack.card)} metrics: {summary}",
        f"{len(pack.exceptions)} exceptions for discussion",
        f"Data as at {_long_date(pack.snapshot)} (snapshot {pack.snapshot.isoformat()})",
    ], size=18, colour=WHITE)
    _text(slide, Inches(0.8), Inches(6.5), Inches(11.5), Inches(0.5),
          f"North West London ICP · {PRODUCER} · counts of 1 to 7 suppressed", size=12, colour=WHITE)
    if pack.synthetic:
        _rectangle(slide, Inches(0.8), Inches(0.5), Inches(11.7), Inches(0.8), charts.RAG_COLOURS["amber"])
        _text(slide, Inches(1.0), Inches(0.55), Inches(11.3), Inches(0.7), SYNTHETIC_NOTE, size=22, bold=True,
              anchor=MSO_ANCHOR.MIDDLE)


def _humanise(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return str(value).replace("_", " ").capitalize()


def _value(metric: Metric, value: float, hidden: bool) -> str:
    return exports.SUPPRESSED if hidden else metric.format_value(value)


def _rag_cell(row) -> str:
    """The RAG in words with what it was judged against ("Off track vs same point last season")."""
    text = row["rag_text"] if "rag_text" in row else None
    return text if isinstance(text, str) else reports.RAG_LABELS.get(row["rag"], row["rag"])


def scorecard_rows(pack: PackData, rows: pd.DataFrame) -> tuple[list[str], list[list[str]], list[float]]:
    """Header, cells and column widths of a scorecard table; SPC columns only once the scorecard has them."""
    spc = [c for c in ("variation", "assurance") if c in rows and rows[c].notna().any()]
    header = ["Metric", "Period", "Value", "95% CI", "Target", "RAG", "Change", "vs NWL",
              *[c.capitalize() for c in spc]]
    # Inches; the table spans the slide. The RAG cell says what it was judged against, so it is wide.
    widths = [3.0, 1.15, 1.0, 1.7, 0.9, 1.9, 1.65, 1.03]
    if spc:
        widths = [2.3, 0.9, 0.8, 1.3, 0.7, 1.55, 1.3, 0.8] + ([1.4, 1.28] if len(spc) == 2 else [2.68])
    cells = []
    for i, row in rows.iterrows():
        metric = catalogue().metric(row["metric_id"])
        hidden, change_hidden = bool(pack.hidden.at[i, "value"]), bool(pack.hidden.at[i, "change"])
        ci = exports.SUPPRESSED if hidden else \
            f"{metric.format_value(row['lower'])} to {metric.format_value(row['upper'])}"
        change = exports.SUPPRESSED if change_hidden else (
            f"{metric.format_change(row['change'])} {row['direction']}" if row["change"] == row["change"] else "-")
        cells.append([row["metric"], row["period"], _value(metric, row["value"], hidden), ci,
                      metric.format_value(row["target"]), _rag_cell(row), change,
                      _humanise(row["vs_nwl"]), *[_humanise(row[c]) for c in spc]])
    return header, cells, widths


def scorecard_slides(prs, pack: PackData) -> None:
    for priority in catalogue().priorities:
        rows = pack.card[pack.card["priority"] == priority.id]
        if rows.empty:
            continue
        for part, chunk in _chunks(rows):
            header, cells, widths = scorecard_rows(pack, chunk)
            title = f"{priority.title}" + (" (continued)" if part else "")
            slide = _slide(prs, pack, title, priority.question)
            rag_col = header.index("RAG")
            fills = {(r, rag_col): charts.RAG_COLOURS[row["rag"]] for r, (_, row) in enumerate(chunk.iterrows())
                     if row["rag"] in charts.RAG_COLOURS}
            _table(slide, header, cells, widths, fills=fills, size=11 if len(header) > 8 else 12)


def exception_slides(prs, pack: PackData) -> None:
    frame = pack.exceptions
    if frame.empty:
        slide = _slide(prs, pack, "Exceptions for discussion")
        _text(slide, MARGIN, Inches(1.6), Inches(12), Inches(1), "Nothing is flagged this month.", size=20)
        return
    hidden = dict(zip(pack.card["metric_id"], pack.hidden["value"]))
    for part, chunk in _chunks(frame):
        slide = _slide(prs, pack, "Exceptions for discussion" + (" (continued)" if part else ""),
                       f"{len(frame)} metrics flagged, most serious first.")
        rows, fills = [], {}
        for r, row in enumerate(chunk.itertuples()):
            metric = catalogue().metric(row.metric_id)
            rows.append([_rag_cell(row._asdict()), row.metric, row.period,
                         _value(metric, row.value, hidden.get(row.metric_id, False)),
                         metric.format_value(row.target), row.why])
            fills[(r, 0)] = charts.RAG_COLOURS.get(row.rag, "#FFFFFF")
        _table(slide, ["RAG", "Metric", "Period", "Value", "Target", "Why it is flagged"], rows,
               [1.9, 3.0, 1.1, 1.0, 0.9, 4.4], fills=fills)


MEETING_LINES = 16  # lines that fit the slide at 14 pt


def meeting_lines(pack: PackData) -> list[str]:
    """What moved since the last meeting, most decisive first: RAG changes, new and resolved exceptions, new
    data, revisions (values hidden where this month's are)."""
    moved = pack.moved
    hidden = {m for m, h in zip(pack.card["metric_id"], pack.hidden["value"]) if h}
    lines = [f"RAG changed: {row.metric}, {reports.RAG_LABELS[row.rag_before].lower()} ({row.period_before}) → "
             f"{reports.RAG_LABELS[row.rag].lower()} ({row.period})" for row in moved.rag_changes.itertuples()]
    lines += [f"New exception: {row.metric} ({row.period}): {row.why}" for row in moved.new_exceptions.itertuples()]
    lines += [f"Resolved: {row.metric} (flagged for {row.period} last time)"
              for row in moved.resolved_exceptions.itertuples()]
    fresh = moved.freshness
    lines.append(f"New data: {int(fresh['new_data'].sum())} of {len(fresh)} metrics report a new period; the rest "
                 "repeat their latest quarterly or annual figure.")
    for row in moved.revisions.itertuples():
        metric = catalogue().metric(row.metric_id)
        before, now = ((exports.SUPPRESSED, exports.SUPPRESSED) if row.metric_id in hidden
                       else (metric.format_value(row.value_before), metric.format_value(row.value)))
        lines.append(f"Revised: {row.metric} {row.period}, {before} then, {now} now")
    if len(lines) > MEETING_LINES:
        lines = lines[:MEETING_LINES - 1] + [f"... and {len(lines) - MEETING_LINES + 1} more (the Overview lists all)"]
    return lines


def meeting_slide(prs, pack: PackData) -> None:
    """Since last meeting, against the snapshot before this one (fixed once this one exists, so a rebuilt pack
    shows the same slide)."""
    moved = pack.moved
    if moved is None or moved.empty:
        return
    slide = _slide(prs, pack, "Since last meeting",
                   f"{month_name(moved.previous_month)} as at {_long_date(moved.previous_snapshot)} against "
                   f"{month_name(pack.period)} as at {_long_date(pack.snapshot)}.")
    _text(slide, MARGIN, Inches(1.55), SLIDE_WIDTH - 2 * MARGIN, Inches(5.4), meeting_lines(pack), size=14)


def trend_start(metric: Metric, period: str) -> str:
    if metric.frequency != "monthly":
        return "2000-01"
    return months_before(period, TREND_MONTHS - 1)


def chart_slide(prs, pack: PackData, row: pd.Series, hidden: bool, change_hidden: bool) -> None:
    """One off-track metric: its trend against target and NWL, key facts, definition in the notes."""
    metric = catalogue().metric(row["metric_id"])
    spec = exports.studio_figure(pack.store, "trend", metric.id, pack.borough, trend_start(metric, pack.period),
                                 pack.period, pack.snapshot)
    png = exports.chart_png(spec)
    in_season = row["rag_basis"] == reports.SAME_POINT_LAST_SEASON
    heading = f"Behind the same point last season: {metric.short_title}" if in_season else \
        f"Off track: {metric.short_title}"
    slide = _slide(prs, pack, heading, metric.title)
    slide.shapes.add_picture(io.BytesIO(png), MARGIN, Inches(1.45), width=Inches(9.4))
    has_target = row["target"] == row["target"] and row["target"] is not None
    target = f"Target: {metric.format_value(row['target'])}" if has_target else "No target: judged against NWL"
    if has_target and in_season:
        target += f" at season end ({calendar.month_name[metric.season_months[-1]]}); not judged against it yet"
    facts = [
        f"{row['period']}: {_value(metric, row['value'], hidden)}",
        target,
        f"NWL: {metric.format_value(row['nwl_value'])} ({_humanise(row['vs_nwl']).lower()})",
        f"RAG: {_rag_cell(row)}",
        f"Change since {row['previous_period']}: " + (exports.SUPPRESSED if change_hidden else
                                                       f"{metric.format_change(row['change'])} ({row['direction']})")
        if row["previous_period"] else "No earlier period to compare",
    ]
    if "variation" in row and isinstance(row["variation"], str):
        facts.append(f"SPC: {_humanise(row['variation'])}; {_humanise(row.get('assurance'))}")
    _text(slide, Inches(10.1), Inches(1.6), Inches(2.9), Inches(5.0), facts, size=15)
    notes = slide.notes_slide.notes_text_frame
    notes.text = "\n".join([
        f"Definition: {metric.definition}", f"Numerator: {metric.numerator}",
        f"Denominator: {metric.denominator}",
        f"Target source: {metric.target.source}" if metric.target else "No target: RAG compares with NWL.",
        f"95% confidence intervals: {metric.ci_method}.", f"Source: {metric.data_source}.",
        f"Data as at {_long_date(pack.snapshot)} (snapshot {pack.snapshot.isoformat()}).",
    ])


def chart_slides(prs, pack: PackData) -> None:
    for i, row in pack.card[pack.card["rag"] == "red"].iterrows():
        chart_slide(prs, pack, row, bool(pack.hidden.at[i, "value"]), bool(pack.hidden.at[i, "change"]))


def _behind(pack: PackData) -> pd.DataFrame:
    """Scorecard rows whose latest period starts before the month (quarterly and annual returns lag)."""
    return pack.card[pack.card["period_start"] < month_start(pack.period)]


def _latest_periods(pack: PackData) -> list[str]:
    """Metrics whose latest period is earlier than the month, grouped by that period, newest first."""
    behind = _behind(pack)
    groups = behind.groupby("period", sort=False)["metric"].apply(list)
    order = behind.drop_duplicates("period").sort_values("period_start", ascending=False)["period"]
    return [f"{period}: {', '.join(groups[period])}" for period in order]


def data_quality_slide(prs, pack: PackData) -> None:
    slide = _slide(prs, pack, "Data quality and notes", "What the numbers in this pack rest on.")
    held = set(pack.card["metric_id"])
    missing = [m.short_title for m in catalogue().metrics if m.id not in held]
    borough_only = [m.short_title for m in catalogue().metrics if m.lowest_level == "borough"]
    seasonal = [m.short_title for m in catalogue().metrics if m.season_months]
    lines = [
        f"Data as at {_long_date(pack.snapshot)}: every figure comes from snapshot {pack.snapshot.isoformat()}. "
        f"Rebuild exactly with: python -m metrics pack --borough \"{pack.borough.name}\" --period {pack.period} "
        f"--snapshot {pack.snapshot.isoformat()}",
        f"Latest period by {month_name(pack.period)}: {len(pack.card) - len(_behind(pack))} metrics "
        "report that month; the rest report earlier periods (quarterly and annual returns lag):",
        *[f"    {line}" for line in _latest_periods(pack)],
        "The newest periods in a snapshot are provisional and may be revised in later snapshots.",
        f"Published for boroughs only: {', '.join(borough_only)}.",
        f"Seasonal (cumulative September to February): {', '.join(seasonal)}. Until the season ends they are "
        "judged against the same point last season, not against their end-of-season target (the RAG column and "
        "the chart slides say which).",
        "Small numbers: counts of 1 to 7, and any value from which such a count could be worked out, are "
        f"suppressed (*). Suppressed in this pack: {', '.join(pack.suppressed) if pack.suppressed else 'none'}.",
    ]
    if missing:
        lines.append(f"No data for {pack.borough.name} by {month_name(pack.period)}: {', '.join(missing)}.")
    _text(slide, MARGIN, Inches(1.5), SLIDE_WIDTH - 2 * MARGIN, Inches(5.4), lines, size=13)


# --- The pack -----------------------------------------------------------------------------------


def _presentation(pack: PackData) -> Presentation:
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    props = prs.core_properties
    props.title = f"{pack.borough.name} Health & Care Executive, {month_name(pack.period)}"
    props.author = props.last_modified_by = PRODUCER
    props.subject = f"Data as at {pack.snapshot.isoformat()}"
    # Dated by the snapshot, not the clock, so rebuilding gives the same document properties too.
    props.created = props.modified = datetime.combine(pack.snapshot, datetime.min.time())
    props.revision = 1
    return prs


def build_pack(store: Store, borough: str, period: str, snapshot: date | str | None = None) -> bytes:
    """The pack as .pptx bytes for a borough (name or code), month (YYYY-MM) and snapshot (default latest)."""
    pack = gather(store, borough, period, snapshot)
    prs = _presentation(pack)
    title_slide(prs, pack)
    scorecard_slides(prs, pack)
    exception_slides(prs, pack)
    meeting_slide(prs, pack)
    chart_slides(prs, pack)
    data_quality_slide(prs, pack)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def pack_file_name(borough: str, period: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{borough} {period}".lower()).strip("-") + ".pptx"


def slide_texts(pptx: bytes) -> list[list[str]]:
    """Every piece of text a reader sees, slide by slide: text boxes, table cells, speaker notes."""
    prs = Presentation(io.BytesIO(pptx))
    slides = []
    for slide in prs.slides:
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text)
        slides.append(texts)
    return slides


def picture_sizes(pptx: bytes) -> list[tuple[int, int]]:
    """(width, height) in pixels of every picture in the pack, for checks."""
    prs = Presentation(io.BytesIO(pptx))
    return [exports.png_size(shape.image.blob) for slide in prs.slides for shape in slide.shapes
            if shape.shape_type == 13]

