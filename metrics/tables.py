"""Screen pieces as plain HTML: the Overview's scorecard and exceptions, headline tiles, count chips, chart headings.

What a grid widget or a figure title cannot do: a metric's full name wraps instead of being cut; every value carries its unit; the RAG says in words what it was
judged against, and a descriptive metric has none; each Making Data Count icon has its meaning on hover (and for
screen readers); the trend is a small SVG image; a chart's title wraps on a phone. The icons are defined once per page as CSS classes rather than
repeated as images in every row, which keeps the page light. On a phone the table scrolls sideways under a
visible cue, with the metric column held in place.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

import pandas as pd

from metrics import icons
from metrics.catalogue import catalogue
from metrics.charts import COMPARISON_LABELS, NHS_BLUE, NHS_DARK_BLUE, RAG_COLOURS, subtitle
from metrics.reports import RAG_LABELS
from metrics.variation import FUNNEL_LABELS

SCORECARD_COLUMNS = ("metric", "period", "value", "ci", "target", "nwl", "vs_nwl", "change", "variation",
                     "assurance", "trend")
EXCEPTION_COLUMNS = ("metric", "period", "value", "ci", "target", "variation", "assurance", "why")
HEADS = {"metric": "Metric and RAG", "period": "Period", "value": "Value", "ci": "95% CI", "target": "Target",
         "nwl": "NWL", "vs_nwl": "vs NWL", "change": "Change", "variation": "Variation", "assurance": "Assurance",
         "trend": "Trend", "why": "Why it is flagged"}
SPARK_WIDTH, SPARK_HEIGHT = 90, 24


def _icon_classes() -> str:
    """One CSS class per icon (``mdc-v-<code>``, ``mdc-a-<code>``), each image sent once."""
    rules = [f".mdc-v-{code}{{background-image:url({icons.variation_icon(code)})}}" for code in icons.VARIATION]
    rules += [f".mdc-a-{code}{{background-image:url({icons.assurance_icon(code)})}}" for code in icons.ASSURANCE]
    return "".join(rules)


STYLE = ("<style>"
         ".icp-wrap{overflow-x:auto;margin-bottom:1rem;border:1px solid #d8dde0;border-radius:.5rem}"
         ".icp-table{border-collapse:collapse;width:100%;min-width:860px;font-size:.875rem;line-height:1.3}"
         ".icp-table th{background:#f0f4f5;color:#212b32;text-align:left;font-weight:600;padding:.4rem .5rem;"
         "white-space:nowrap;border-bottom:1px solid #d8dde0}"
         ".icp-table td{padding:.35rem .5rem;border-bottom:1px solid #eef0f1;vertical-align:middle}"
         ".icp-table td.num{text-align:right;white-space:nowrap}.icp-table td.nowrap{white-space:nowrap}"
         ".icp-table td.metric,.icp-table th.metric{position:sticky;left:0;background:#fff;min-width:11rem;"
         "max-width:17rem;box-shadow:1px 0 0 #d8dde0}"
         ".icp-table th.metric{background:#f0f4f5}"
         ".icp-table .unit{color:#4c6272;font-size:.75rem;display:block}.icp-table.icp-plain{min-width:0}"
         ".icp-rag{display:inline-block;border-radius:.25rem;padding:0 .35rem;font-size:.75rem;font-weight:600;"
         "margin-bottom:.15rem}"
         ".icp-rag-none{color:#4c6272;font-weight:400;padding:0}"
         ".mdc{display:inline-block;width:28px;height:28px;background-size:contain;vertical-align:middle}"
         ".icp-legend{display:flex;flex-wrap:wrap;gap:.35rem 1rem;font-size:.8rem;color:#4c6272;margin:.25rem 0 .75rem}"
         ".icp-legend span.item{display:inline-flex;align-items:center;gap:.3rem}"
         ".icp-legend .mdc{width:22px;height:22px}"
         ".icp-counts{display:flex;flex-wrap:wrap;gap:.5rem;margin:.25rem 0 .5rem}"
         ".icp-count{border-radius:.4rem;padding:.35rem .8rem;font-size:1rem}.icp-count b{font-size:1.4rem}"
         ".icp-tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,12.5rem),1fr));gap:.6rem;"
         "margin-bottom:1rem}"
         ".icp-tile{border:1px solid #d8dde0;border-radius:.5rem;padding:.55rem .7rem;display:flex;"
         "flex-direction:column;gap:.15rem}"
         ".icp-tile .label{font-size:.85rem;color:#212b32;line-height:1.25}"
         ".icp-tile .value{font-size:1.7rem;line-height:1.2}.icp-tile .value .unit{display:inline}"
         ".icp-tile .foot{display:flex;justify-content:space-between;align-items:flex-end;margin-top:auto}"
         ".icp-tile .unit{color:#4c6272;font-size:.75rem}"
         ".icp-delta{font-size:.8rem;border-radius:.25rem;padding:0 .3rem;background:#f0f4f5}"
         ".icp-better{color:#006b2b;background:#e6f4ea}.icp-worse{color:#b0200f;background:#fdecea}"
         ".icp-swipe{display:none;font-size:.75rem;color:#4c6272;margin:.1rem 0 .2rem}"
         "@media (max-width:700px){.icp-swipe{display:block}}"
         + _icon_classes() + "</style>")


def _esc(text: object) -> str:
    return html.escape("" if text is None else str(text))


def _rag(row: dict, judged: bool) -> str:
    """The RAG chip in words; a descriptive (neutral) metric gets none."""
    if not judged:
        return '<span class="icp-rag icp-rag-none" title="A descriptive measure: shown, not judged">' \
               "Descriptive, not judged</span>"
    colour = row.get("rag", "grey")
    words = row.get("rag_text") or RAG_LABELS.get(colour, colour)
    ink = "#212b32" if colour == "amber" else "#fff"
    return (f'<span class="icp-rag" style="background:{RAG_COLOURS.get(colour, "#768692")};color:{ink}">'
            f"{_esc(words)}</span>")


def _icon(kind: str, code: str | None) -> str:
    known = icons.VARIATION if kind == "v" else icons.ASSURANCE
    if code not in known:
        return ""
    meaning = icons.variation_meaning(code) if kind == "v" else icons.assurance_meaning(code)
    return f'<span class="mdc mdc-{kind}-{code}" role="img" aria-label="{_esc(meaning)}" title="{_esc(meaning)}">' \
           "</span>"


def sparkline(values: Sequence[float]) -> str:
    """A small SVG line of the last points (blank with fewer than two)."""
    points = [v for v in values if v == v]
    if len(points) < 2:
        return ""
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    step = (SPARK_WIDTH - 4) / (len(points) - 1)
    path = " ".join(f"{2 + i * step:.1f},{SPARK_HEIGHT - 3 - (v - low) / span * (SPARK_HEIGHT - 6):.1f}"
                    for i, v in enumerate(points))
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}">'
           f'<polyline points="{path}" fill="none" stroke="{NHS_BLUE}" stroke-width="1.5"/></svg>')
    # An image, not inline SVG: Streamlit's HTML sanitiser drops inline SVG.
    return (f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}" width="{SPARK_WIDTH}" '
            f'height="{SPARK_HEIGHT}" alt="trend of the last {len(points)} periods">')


def _cells(row: dict) -> dict[str, tuple[str, str]]:
    """Each column's (css class, inner HTML) for one scorecard or exceptions line."""
    metric = catalogue().metric(row["metric_id"])
    unit = "" if metric.statistic == "proportion" else f'<span class="unit">{_esc(metric.unit_label)}</span>'
    change = row.get("change")
    return {
        "metric": ("metric", f"{_rag(row, metric.judged)}<br>{_esc(metric.title)}"),
        "period": ("nowrap", _esc(row["period"])),
        "value": ("num", _esc(metric.format_value(row["value"])) + unit),
        "ci": ("num", f"{_esc(metric.format_value(row['lower']))} to {_esc(metric.format_value(row['upper']))}"),
        "target": ("num", _esc(metric.format_value(row.get("target")))),
        "nwl": ("num", _esc(metric.format_value(row.get("nwl_value")))),
        "vs_nwl": ("", _esc(COMPARISON_LABELS.get(row.get("vs_nwl"), row.get("vs_nwl") or "-"))),
        "change": ("num", "-" if change is None or change != change else
                   f"{_esc(metric.format_change(change))}<span class=\"unit\">{_esc(row.get('direction'))}</span>"),
        "variation": ("", _icon("v", row.get("variation"))),
        "assurance": ("", _icon("a", row.get("assurance"))),
        "trend": ("", sparkline(row.get("sparkline") or [])),
        "why": ("", _esc(row.get("why"))),
    }


def table(frame: pd.DataFrame, columns: Sequence[str] = SCORECARD_COLUMNS) -> str:
    """An HTML table of scorecard (or exceptions) lines, with a sideways-scroll cue for phones."""
    head = "".join(f'<th class="{"metric" if c == "metric" else ""}">{HEADS[c]}</th>' for c in columns)
    body = []
    for row in frame.to_dict("records"):
        cells = _cells(row)
        body.append("<tr>" + "".join(f'<td class="{cells[c][0]}">{cells[c][1]}</td>' for c in columns) + "</tr>")
    return _framed(head, "".join(body), wide=True)


def _framed(head: str, body: str, wide: bool) -> str:
    """The table markup around a head row and body rows: a wide table scrolls sideways on a phone, under a cue."""
    table = (f'<div class="icp-wrap"><table class="icp-table{"" if wide else " icp-plain"}"><thead><tr>{head}</tr>'
             f"</thead><tbody>{body}</tbody></table></div>")
    return f'<div class="icp-swipe">Swipe sideways for more columns →</div>{table}' if wide else table


def plain_table(frame: pd.DataFrame, numeric: Sequence[str] = (), wide: bool = False) -> str:
    """A short list as an HTML table, headed by the frame's column names, its values as they are. ``wide``: as
    wide as the scorecard, its first column held in place while a phone scrolls the rest sideways.

    For lists too short to need sorting: ``st.dataframe`` would make a first visit load its grid and Arrow code
    (1.7 MB of JavaScript) before the page settles, even inside a closed expander.

    >>> plain_table(pd.DataFrame({"Metric": ["A & B"], "Now": ["1.0%"]}), numeric=["Now"])[-90:]
    '<tbody><tr><td class="">A &amp; B</td><td class="num">1.0%</td></tr></tbody></table></div>'
    """
    classes = ["num" if c in numeric else "" for c in frame.columns]
    if wide:
        classes[0] = "metric"
    head = "".join(f'<th class="{cls}">{_esc(c)}</th>' for cls, c in zip(classes, frame.columns))
    body = "".join("<tr>" + "".join(f'<td class="{cls}">{_esc(v)}</td>' for cls, v in zip(classes, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    return _framed(head, body, wide)


def icon_legend() -> str:
    """Every Making Data Count icon with its meaning (also on hover)."""
    items = [(_icon("v", code), icons.variation_meaning(code)) for code in icons.VARIATION]
    items += [(_icon("a", code), icons.assurance_meaning(code)) for code in icons.ASSURANCE]
    return '<div class="icp-legend">' + "".join(
        f'<span class="item">{icon}{_esc(meaning.replace("Special cause variation: ", "Special cause: "))}</span>'
        for icon, meaning in items) + "</div>"


def chart_heading(spec) -> str:
    """A chart's title and subtitle as text above it (the screen's figure leaves them out: ``charts.drawn``),
    in the NHS colours the exported image uses."""
    words = subtitle(spec)
    title = f'<div style="color:#003087;font-size:1.05rem;font-weight:600;line-height:1.3">{_esc(spec.title)}</div>'
    sub = f'<div style="color:#425563;font-size:.8rem;line-height:1.35">{_esc(words)}</div>' if words else ""
    return f'<div role="heading" aria-level="4">{title}{sub}</div>'


def chips(items: Sequence[tuple[int, str, str]]) -> str:
    """Counts as one line of coloured chips, (count, words, background colour) each; wraps on a phone where a
    row of tiles would stack into a screenful."""
    out = []
    for count, words, colour in items:
        ink = "#212b32" if colour in (RAG_COLOURS["amber"], "#E8EDEE") else "#fff"
        out.append(f'<span class="icp-count" style="background:{colour};color:{ink}"><b>{count}</b> '
                   f"{_esc(words)}</span>")
    return f'<div class="icp-counts">{"".join(out)}</div>'


def rag_counts(card: pd.DataFrame) -> str:
    """How many metrics are off track, near, on track and not judged."""
    counts = card["rag"].value_counts()
    return chips([(int(counts.get(colour, 0)), RAG_LABELS[colour].lower(), RAG_COLOURS[colour])
                  for colour in ("red", "amber", "green", "grey")])


def funnel_counts(funnel: pd.Series) -> str:
    """How many practices lie beyond each funnel limit (darker: beyond 99.8%)."""
    counts = funnel.value_counts()
    shades = {"high_998": NHS_DARK_BLUE, "high_95": NHS_BLUE, "not_significant": "#E8EDEE", "low_95": NHS_BLUE,
              "low_998": NHS_DARK_BLUE}
    return chips([(int(counts.get(code, 0)), FUNNEL_LABELS[code].lower(), colour) for code, colour in shades.items()])


def _tile(row: dict) -> str:
    metric = catalogue().metric(row["metric_id"])
    unit = "" if metric.statistic == "proportion" else f' <span class="unit">{_esc(metric.unit_label)}</span>'
    change, verdict = row.get("change"), None
    if change is not None and change == change:
        verdict = metric.judge(change)
        arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
        since = f"{row['period']} vs {row['previous_period']}" if row.get("previous_period") else row["period"]
        delta = (f'<span class="icp-delta icp-{verdict or "neutral"}">{arrow} {_esc(metric.format_change(change))}'
                 f'</span> <span class="unit">{_esc(since)}</span>')
    else:
        delta = f'<span class="unit">{_esc(row["period"])}</span>'
    about = (f"{metric.definition} 95% CI {metric.format_value(row['lower'])} to {metric.format_value(row['upper'])}."
             f" Target: {metric.format_value(row.get('target'))}. {row.get('rag_text') or ''}")
    return (f'<div class="icp-tile" title="{_esc(about)}"><div class="label">{_esc(metric.short_title)}</div>'
            f'<div class="value">{_esc(metric.format_value(row["value"]))}{unit}</div><div>{delta}</div>'
            f'<div class="foot">{_rag(row, metric.judged)}{sparkline(row.get("sparkline") or [])}</div></div>')


def tiles(card: pd.DataFrame) -> str:
    """The headline tiles of a priority page: each metric's latest value with its unit, change (coloured better
    or worse), RAG in words and a sparkline; the full definition, CI and target on hover. They wrap onto as many
    rows as the screen needs, one or two to a row on a phone."""
    return f'<div class="icp-tiles">{"".join(_tile(row) for row in card.to_dict("records"))}</div>'
