"""Exports: small-number suppression, CSV title rows and formula safety, export styling, real images.

Images are rendered by the one shared kaleido Chromium (``exports`` keeps it open for the session).
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics import areas, charts, exports, reports
from metrics.areas import Area
from metrics.catalogue import catalogue
from metrics.charts import ChartSpec
from metrics.demo import generate_demo
from metrics.store import Store

SNAP = date(2026, 10, 5)
HARROW = Area("E09000015", "Harrow", "borough")
SPHERE = Area("U89806", "Sphere PCN", "pcn")
# Metrics whose Sphere PCN practices have small counts in the demo data: small numerators (falls),
# small complements (MMR1: most children vaccinated) and both; plus a trend and a breakdown metric.
SMALL_COUNT_METRICS = ["falls_admissions_65_plus", "mmr1_24_months", "flu_uptake_pregnant",
                       "ld_annual_health_checks", "emergency_admissions_65_plus", "flu_uptake_65_plus"]
STANDALONE_SMALL_INT = re.compile(r"(?<![\d.,])[1-7](?![\d.,%])")


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exports_demo")
    generate_demo(root, metric_ids=SMALL_COUNT_METRICS)
    return root


@pytest.fixture(scope="module")
def demo(demo_root) -> Store:
    return Store(demo_root)


def practices(demo: Store, metric_id: str) -> pd.DataFrame:
    names = areas.org_names(demo, SNAP)
    return reports.compare_within(demo, SNAP, catalogue().metric(metric_id), SPHERE, "practice", "2026-09", names)


def spec_for(metric_id: str, data: pd.DataFrame, kind: str = "trend", title: str = "A title",
             area: str = "Sphere PCN practices", **options) -> ChartSpec:
    return ChartSpec(kind=kind, metric_id=metric_id, data=data, title=title,
                     subtitle="Dots: value. Hover for numerator and denominator.", area=area, period="Sep 2026",
                     snapshot=SNAP, **options)


def read_csv(blob: bytes) -> tuple[dict[str, str], pd.DataFrame]:
    """Title rows (key -> value) and the table below the blank row."""
    rows = list(csv.reader(io.StringIO(blob.decode("utf-8-sig"))))
    blank = rows.index([])
    titles = {row[0]: row[1] for row in rows[:blank]}
    return titles, pd.DataFrame(rows[blank + 2:], columns=rows[blank + 1])


def assert_no_recoverable_small_count(table: pd.DataFrame, percent: bool) -> None:
    """No count 1-7 shown, and none recoverable from a shown value with its shown denominator."""
    counts = {}
    for column in ("Numerator", "Denominator"):
        shown = pd.to_numeric(table[column].replace(exports.SUPPRESSED, np.nan))
        assert not shown.between(1, 7).any(), f"{column} shows a count of 1-7"
        counts[column] = shown
    value_col = next(c for c in table if c.startswith("Value"))
    value = pd.to_numeric(table[value_col].replace(exports.SUPPRESSED, np.nan))
    multiplier = 100 if percent else 100_000
    implied = (value * counts["Denominator"] / multiplier).round()
    assert not implied.between(1, 7).any(), "a shown value and denominator give back a small numerator"
    if percent:
        assert not (counts["Denominator"] - implied).between(1, 7).any(), "the complement count is small"


# --- Suppression rule ---------------------------------------------------------------------------


def frame(rows, metric_id="flu_uptake_65_plus", **extra) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["area_name", "numerator", "denominator"]).assign(
        metric_id=metric_id, period_start=pd.Timestamp("2026-09-01"), period_label="Sep 2026", **extra)
    return reports.with_ci(out)


def test_small_numerator_hides_numerator_value_and_ci_but_not_denominator():
    flags = exports.suppression_flags(frame([("A", 3, 500), ("B", 0, 400)], level=["practice", "pcn"]))
    assert flags["numerator"].tolist() == [True, False]  # zero is not a small count
    assert flags["value"].tolist() == [True, False]
    assert flags["denominator"].tolist() == [False, False]


def test_complement_of_a_percentage_is_a_count_but_not_for_rates():
    rows = [("A", 95, 100)]
    assert exports.suppression_flags(frame(rows))["value"].all()
    assert not exports.suppression_flags(frame(rows, metric_id="emergency_admissions_65_plus"))["value"].any()


def test_small_denominator_hides_value_too():
    flags = exports.suppression_flags(frame([("A", 0, 6)], metric_id="emergency_admissions_65_plus"))
    assert flags["denominator"].all() and flags["value"].all() and not flags["numerator"].any()
    # For a percentage, 0 of 6 also means 6 people without the outcome: a count, hidden too.
    assert exports.suppression_flags(frame([("A", 0, 6)]))["numerator"].all()


def test_one_hidden_sibling_hides_the_next_smallest_so_subtraction_cannot_recover_it():
    siblings = frame([("A", 5, 100), ("B", 0, 90), ("C", 40, 200), ("D", 30, 300)])
    flags = exports.suppression_flags(siblings)
    # A is small; B (zero) protects nothing, so D (30, the next smallest non-zero) goes too.
    assert flags["numerator"].tolist() == [True, False, False, True]


def test_areas_at_different_levels_are_not_siblings():
    nested = frame([("PCN", 5, 100), ("Borough", 400, 2000), ("NWL", 9000, 40000)],
                   level=["pcn", "borough", "ics"])
    assert exports.suppression_flags(nested)["numerator"].tolist() == [True, False, False]


def test_two_hidden_siblings_need_no_more():
    flags = exports.suppression_flags(frame([("A", 5, 100), ("B", 2, 90), ("C", 40, 200)]))
    assert flags["numerator"].tolist() == [True, True, False]


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_has_title_rows_and_suppresses_demo_small_counts(demo):
    for metric_id in ("falls_admissions_65_plus", "mmr1_24_months", "ld_annual_health_checks"):
        data = practices(demo, metric_id)
        metric = catalogue().metric(metric_id)
        raw_small = data["numerator"].between(1, 7) | (
            (data["denominator"] - data["numerator"]).between(1, 7) if metric.unit == "percent" else False)
        assert raw_small.any(), f"the demo data should hold small counts for {metric_id}"
        titles, table = read_csv(exports.to_csv(spec_for(metric_id, data, "comparison", benchmark_label="PCN")))
        assert titles["Metric id"] == metric_id and titles["Metric"] == metric.title
        assert titles["Area"] == "Sphere PCN practices" and titles["Period"] == "Sep 2026"
        assert titles["Data as at (snapshot)"] == "2026-10-05" and titles["Unit"] == metric.unit_label
        assert (table["Numerator"] == exports.SUPPRESSED).sum() >= raw_small.sum()
        assert_no_recoverable_small_count(table, metric.unit == "percent")
        assert "n_orgs" not in table and len(table) == len(data)


def test_csv_neutralises_formulas_in_text_cells():
    data = frame([("=HYPERLINK(\"http://x\")", 40, 100), ("+SUM(A1)", 50, 100), ("@cmd", 60, 100)],
                 level="practice")
    spec = ChartSpec(kind="trend", title="-2+3", metric_id="flu_uptake_65_plus", data=data, area="=Harrow",
                     period="Sep 2026", snapshot=SNAP, source="s")
    titles, table = read_csv(exports.to_csv(spec))
    assert titles["Title"] == "'-2+3" and titles["Area"] == "'=Harrow"
    assert table["Area"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+SUM(A1)", "'@cmd"]
    assert table["Numerator"].tolist() == ["40", "50", "60"]  # numbers are left as numbers


def test_series_summaries_are_dropped_when_a_value_is_hidden():
    data = frame([("A", 5, 100), ("A", 50, 100)], level="practice").assign(
        mean=30.0, upper_limit=60.0, lower_limit=0.0, period_start=pd.to_datetime(["2026-08-01", "2026-09-01"]))
    _, table = read_csv(exports.to_csv(spec_for("flu_uptake_65_plus", data)))
    assert "SPC mean" not in table and table["Value (%)"].iloc[0] == exports.SUPPRESSED


# --- Export styling and images ------------------------------------------------------------------


def comparison(demo: Store, metric_id: str) -> ChartSpec:
    """Sphere PCN's practices compared, with the standard title (metric, unit, area, period)."""
    return ChartSpec(kind="comparison", metric_id=metric_id, data=practices(demo, metric_id),
                     area="Practices in Sphere PCN", period="Sep 2026", snapshot=SNAP, benchmark_label="Sphere PCN")


def test_export_figure_is_titled_footnoted_and_has_no_screen_only_parts(demo):
    spec = comparison(demo, "falls_admissions_65_plus")
    meta = exports.ChartMeta.of(spec)
    out = exports.export_figure(spec)
    assert out.layout.title.text.startswith("Falls admissions 65+ (per 100,000), Practices in Sphere PCN")
    notes = [a.text for a in out.layout.annotations if "Source:" in a.text]
    assert len(notes) == 1 and meta.source in notes[0]
    assert "Data as at 5 October 2026" in notes[0].replace("<br>", " ")
    assert out.layout.hovermode is False and out.layout.width == exports.EXPORT_WIDTH
    assert out.layout.font.size >= 14 and out.layout.title.font.color == charts.NHS_DARK_BLUE
    for trace in out.data:
        assert trace.customdata is None and trace.hovertemplate is None and trace.hoverinfo == "skip"
    screen = exports.export_figure(spec_for("falls_admissions_65_plus", spec.data, "comparison",
                                            benchmark_label="Sphere PCN"))
    assert "Hover" not in screen.layout.title.subtitle.text and "Dots: value." in screen.layout.title.subtitle.text


def test_exported_chart_leaves_out_every_point_the_csv_hides(demo):
    for metric_id in ("falls_admissions_65_plus", "mmr1_24_months"):
        spec = comparison(demo, metric_id)
        data = spec.data
        hidden = set(data.loc[exports.suppression_flags(data)["value"], "area_name"])
        assert hidden, "the test needs hidden practices"
        out = exports.export_figure(spec)
        plotted = {y for trace in out.data if trace.type == "scatter" and trace.y is not None
                   for x, y in zip(trace.x, trace.y) if x is not None}
        listed = {y for trace in out.data if trace.type == "scatter" for y in trace.y}
        assert not plotted & hidden
        assert plotted == set(data["area_name"]) - hidden
        assert {f"{name} *" for name in hidden} <= listed, "a suppressed practice stays on the axis, starred"
        for trace in out.data:
            kept = [e for e, x in zip(trace.error_x.array, trace.x) if x is None]
            assert all(e is None for e in kept), "no whisker is left for a hidden dot"


def test_trend_masks_points_on_lines_and_ci_band_too(demo):
    data = reports.series(demo, SNAP, ["falls_admissions_65_plus"], [SPHERE], end=date(2026, 9, 30))
    data = data.assign(numerator=data["numerator"].where(data.index != 5, 4.0))  # one small month
    data = reports.with_ci(data)
    metric = catalogue().metric("falls_admissions_65_plus")
    start, lower, upper = data.at[5, "period_start"], data.at[5, "lower"], data.at[5, "upper"]
    out = exports.export_figure(spec_for(metric.id, data, "trend", title="t"))
    for trace in out.data:
        points = [(pd.Timestamp(x), y) for x, y in zip(trace.x, trace.y) if x is not None and y is not None]
        assert all(x != start for x, _ in points if trace.fill != "toself"), trace.name
        assert (start, lower) not in points and (start, upper) not in points, trace.name


SVG = "{http://www.w3.org/2000/svg}"


def test_breakdown_bar_of_a_small_group_is_dropped_and_its_label_starred():
    groups = pd.DataFrame({"breakdown_value": ["Asian", "Black", "Mixed"], "numerator": [300.0, 3.0, 90.0],
                           "denominator": [1000.0, 40.0, 400.0]}).assign(
        metric_id="flu_uptake_65_plus", period_start=pd.Timestamp("2026-09-01"), period_label="Sep 2026")
    groups = reports.with_ci(groups)
    metric = catalogue().metric("flu_uptake_65_plus")
    out = exports.export_figure(spec_for(metric.id, groups, "breakdown", title="t"))
    bars = out.data[0]
    # Black (3) is hidden; with one group hidden the next smallest (Mixed, 90) goes too.
    assert list(bars.x) == ["Asian", "Black *", "Mixed *"]
    assert bars.y[0] == pytest.approx(30.0) and bars.y[1] is None and bars.y[2] is None
    assert bars.error_y.array[1] is None


def svg_texts(svg: bytes) -> tuple[list[str], list[str]]:
    """(label texts, numeric tick texts) of a plotly SVG; category axis ticks count as labels."""
    root = ET.fromstring(svg)
    parents = {child: parent for parent in root.iter() for child in parent}
    labels, numeric_ticks = [], []
    for text in root.iter(f"{SVG}text"):
        content = " ".join(part.strip() for part in text.itertext() if part.strip())
        if not content:
            continue
        tick = parents[text].get("class") in ("xtick", "ytick")
        (numeric_ticks if tick and re.fullmatch(r"[\d,.\-−]+", content) else labels).append(content)
    return labels, numeric_ticks


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def test_svg_chart_labels_hold_no_small_counts(demo):
    spec = comparison(demo, "falls_admissions_65_plus")
    data, meta = spec.data, exports.ChartMeta.of(spec)
    labels, ticks = svg_texts(exports.chart_svg(spec))
    assert ticks, "the value axis has numeric ticks"
    named = {label.removesuffix(" *") for label in labels}
    assert set(data["area_name"]) <= named, "every practice is named on the category axis"
    # The title and footnote are the meta's own words (checked above); the footnote states the rule
    # ("Counts of 1 to 7") and the date. Everything else drawn must not carry a count of 1-7.
    fixed = squeeze(exports.footnote(meta)) + squeeze(meta.title)
    checked = [t for t in labels if squeeze(t) not in fixed]
    offending = [t for t in checked if STANDALONE_SMALL_INT.search(t)]
    assert checked and not offending, offending


def test_png_is_wide_enough_for_slides_and_the_renderer_is_reused(demo):
    spec = comparison(demo, "mmr1_24_months")
    png = exports.chart_png(spec)
    renderer = exports._renderer
    width, height = exports.png_size(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and width >= 1600 and height > 600
    exports.chart_png(spec)
    assert exports._renderer is renderer, "one Chromium serves every image"


def test_missing_browser_is_a_clear_error(monkeypatch, demo):
    spec = comparison(demo, "mmr1_24_months")
    monkeypatch.setattr(exports, "_renderer", None)
    monkeypatch.setitem(exports._browser, "path", "/nonexistent/chromium")
    with pytest.raises(exports.ExportError, match="BROWSER_PATH='/nonexistent/chromium'"):
        exports.chart_png(spec)


# --- Chart studio -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(exports.STUDIO_KINDS))
def test_studio_figure_builds_each_kind_with_matching_data(demo, kind):
    spec = exports.studio_figure(demo, kind, "flu_uptake_65_plus", HARROW, "2025-04", "2026-09", SNAP)
    fig, data = charts.figure(spec), spec.data
    assert len(fig.data) and not data.empty and {"numerator", "denominator", "value"} <= set(data)
    meta = exports.ChartMeta.of(spec)
    assert meta.title == fig.layout.title.text and meta.snapshot == SNAP
    assert ("PCNs in Harrow" if kind == "pcn_comparison" else "Harrow") == meta.area
    if kind == "trend":
        assert data["period_start"].min() >= pd.Timestamp("2025-04-01")
        assert set(data["area_name"]) == {"Harrow", "NWL"}
    if kind == "pcn_comparison":
        assert set(data["area_code"]) == set(demo.orgs(SNAP, "pcn", HARROW.code)["org_code"])


def test_studio_title_and_subtitle_can_be_edited(demo):
    fig = charts.figure(exports.studio_figure(demo, "trend", "falls_admissions_65_plus", SPHERE, "2026-01", "2026-09",
                                              SNAP, title="Falls are down", subtitle="For the newsletter"))
    assert fig.layout.title.text == "Falls are down" and fig.layout.title.subtitle.text == "For the newsletter"


def test_studio_rejects_what_it_cannot_draw(demo):
    with pytest.raises(ValueError, match="no breakdowns|no ethnicity"):
        exports.studio_figure(demo, "breakdown", "falls_admissions_65_plus", HARROW, "2026-09", "2026-09", SNAP,
                              breakdown="ethnicity")
    with pytest.raises(ValueError, match="unknown chart kind"):
        exports.studio_figure(demo, "pie", "flu_uptake_65_plus", HARROW, "2026-09", "2026-09", SNAP)  # type: ignore[arg-type]


def test_file_stem_says_what_the_file_is():
    meta = exports.ChartMeta.of(spec_for("flu_uptake_65_plus", frame([("A", 40, 100)]), area="Harrow & Brent"))
    assert meta.file_stem == "flu-uptake-65-plus-harrow-brent-sep-2026-as-at-2026-10-05"


def test_screen_blanking_hides_what_sharing_would_only_in_the_rows_chosen():
    data = frame([("N1", 5, 100), ("N2", 50, 100), ("N3", 60, 200)])  # N1's 5 also makes the next smallest go
    outside = pd.Series([True, True, False], index=data.index)
    shown = exports.blank_small_numbers(data, outside)
    assert shown.loc[0, ["numerator", "value", "lower", "upper"]].isna().all()
    assert shown.loc[0, "denominator"] == 100
    assert shown.loc[1, "numerator"] != shown.loc[1, "numerator"]  # secondary suppression, as in exports
    assert shown.loc[2, "numerator"] == 60  # inside the reader's own practices: shown
    assert shown["numerator"].dtype.kind == "f"  # still numbers, for charts
    assert exports.blank_small_numbers(data, ~outside).loc[0, "numerator"] == 5
