"""Chart kinds: titles, NHS colours, CIs as whiskers, categorical axes, gaps between seasons; specs checked."""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from metrics import charts, tables
from metrics.catalogue import catalogue

FLU = catalogue().metric("flu_uptake_65_plus")


def draw(kind: str, frame: pd.DataFrame, title: str = "t", **options) -> go.Figure:
    """A chart of flu uptake drawn from a spec of ``kind`` over ``frame``."""
    return charts.figure(charts.ChartSpec(kind=kind, metric_id=FLU.id, data=frame, area="Harrow", period="Sep 2026",
                                          snapshot=date(2026, 10, 5), title=title, **options))


def _frame(names, values, verdicts=None) -> pd.DataFrame:
    frame = pd.DataFrame({"area_name": names, "value": values})
    frame = frame.assign(lower=frame.value - 1, upper=frame.value + 1, numerator=10.0, denominator=20.0,
                         period_label="Sep 2026", benchmark=50.0)
    if verdicts:
        frame["vs_benchmark"] = verdicts
    return frame


def test_chart_title_says_unit_area_and_period():
    assert charts.chart_title(FLU, "Harrow", "Sep 2026") == "Flu uptake 65+ (%), Harrow, Sep 2026"


def test_comparison_colours_follow_significance():
    fig = draw("comparison", _frame(["A", "B", "C"], [40, 50, 60], ["worse", "similar", "better"]),
               benchmark_label="Borough")
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {"Significantly worse": charts.NHS_RED, "Not significantly different": charts.NHS_WARM_YELLOW,
                       "Significantly better": charts.NHS_GREEN}
    assert all(t.error_x.array is not None for t in fig.data)


def test_far_target_moves_to_subtitle():
    fig = draw("comparison", _frame(["A", "B"], [8, 9], ["similar", "similar"]), benchmark_label="Borough",
               target=75)
    assert "off the scale" in fig.layout.title.subtitle.text
    assert not any("Target" in (a.text or "") for a in fig.layout.annotations)


def test_breakdown_axis_is_categorical_so_numeric_labels_survive():
    frame = _frame(["x"] * 3, [1, 2, 3]).assign(breakdown_value=["1 (most deprived)", "2", "5 (least deprived)"])
    fig = draw("breakdown", frame)
    assert fig.layout.xaxis.type == "category"


def test_trend_breaks_between_seasons():
    starts = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-09-01", "2025-10-01"])
    frame = _frame(["Harrow"] * 4, [60, 70, 10, 40]).assign(period_start=starts)
    fig = draw("trend", frame, target=75)
    line = next(t for t in fig.data if t.name == "Harrow")
    assert any(isinstance(v, float) and math.isnan(v) for v in line.y)
    assert fig.layout.title.text == "t"


def test_seasonal_gaps_break_the_ci_band_into_shaded_segments_without_dots():
    months = ["2024-09", "2024-10", "2024-11", "2024-12", "2025-09", "2025-10", "2025-11", "2025-12"]
    frame = _frame(["Harrow"] * 8, [50, 60, 65, 70, 52, 61, 66, 71]).assign(period_start=pd.to_datetime(months))
    bands = [t for t in draw("trend", frame).data if t.fill == "toself"]
    assert len(bands) == 2, "one band per season"
    assert all(band.mode == "lines" for band in bands), "a band is a shaded area, never markers"
    assert [{str(x)[:4] for x in band.x} for band in bands] == [{"2024"}, {"2025"}]


def test_a_spec_names_what_its_kind_lacks_when_it_is_made():
    with pytest.raises(ValueError, match="a funnel chart needs benchmark, benchmark_label, limits, pcn_name"):
        draw("funnel", _frame(["A"], [40], ["similar"]))
    with pytest.raises(ValueError, match="unknown chart kind 'pie'"):
        draw("pie", _frame(["A"], [40]))


def test_the_standard_title_source_and_an_edit():
    spec = charts.ChartSpec(kind="breakdown", metric_id=FLU.id, data=_frame(["x"], [1]).assign(breakdown_value="A"),
                            area="Harrow", period="Sep 2026", snapshot=date(2026, 10, 5))
    assert spec.title == "Flu uptake 65+ (%), Harrow, Sep 2026" and spec.source == FLU.data_source
    edited = spec.edited(title="", subtitle="For the newsletter")
    assert edited.title == spec.title and edited.subtitle == "For the newsletter" and spec.subtitle is None


def test_the_off_scale_note_is_part_of_the_subtitle_exports_read():
    spec = charts.ChartSpec(kind="comparison", metric_id=FLU.id, data=_frame(["A", "B"], [8, 9], ["similar"] * 2),
                            area="Harrow", period="Sep 2026", snapshot=date(2026, 10, 5), subtitle="Dots.",
                            benchmark_label="Borough", target=75)
    assert charts.subtitle(spec) == "Dots. Target 75.0% is off the scale."
    assert charts.figure(spec).layout.title.subtitle.text == charts.subtitle(spec)


def test_breakdown_groups_are_coloured_against_the_area_and_show_their_size():
    frame = pd.DataFrame({"breakdown_value": ["1 (most deprived)", "2", "5 (least deprived)"],
                          "group": ["IMD quintile 1 (most deprived)", "IMD quintile 2", "IMD quintile 5 (least deprived)"],
                          "value": [60.0, 70.0, 80.0], "lower": [58.0, 66.0, 77.0], "upper": [62.0, 74.0, 83.0],
                          "numerator": [600.0, 70.0, 800.0], "denominator": [1000.0, float("nan"), 1000.0],
                          "period_label": "Sep 2026", "vs_benchmark": ["worse", "similar", "better"]})
    spec = charts.ChartSpec(kind="breakdown", metric_id=FLU.id, data=frame, area="Harrow", period="Sep 2026",
                            snapshot=date(2026, 10, 5), overall=70.0)
    fig = charts.figure(spec)
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {"Significantly worse": charts.NHS_RED, "Not significantly different": charts.NHS_WARM_YELLOW,
                       "Significantly better": charts.NHS_GREEN}
    assert [x for t in fig.data for x in t.x] == list(frame["group"])
    assert [x for t in fig.data for x in t.text] == ["n = 1,000", "", "n = 1,000"]  # a suppressed size is not shown
    assert [c[0] for t in fig.data for c in t.customdata] == list(frame["breakdown_value"])  # what exports match
    assert "against Harrow overall" in charts.subtitle(spec)


def test_a_not_compared_area_has_its_own_colour_and_words():
    fig = draw("comparison", _frame(["A", "B"], [40, 50], ["not_compared", "similar"]), benchmark_label="Borough")
    assert {t.name: t.marker.color for t in fig.data}["Not compared (missing or suppressed)"] == charts.NHS_MID_GREY


def test_standardised_comparisons_say_so():
    frame = _frame(["A", "B"], [40, 50], ["worse", "similar"]).assign(standardisation="age-standardised (indirect)")
    spec = charts.ChartSpec(kind="comparison", metric_id="emergency_admissions_65_plus", data=frame, area="Harrow",
                            period="Sep 2026", snapshot=date(2026, 10, 5), benchmark_label="Harrow")
    assert charts.subtitle(spec) == "Rates are age-standardised (indirect)."


def _comparison_spec(values, **options) -> charts.ChartSpec:
    return charts.ChartSpec(kind="comparison", metric_id=FLU.id, data=_frame(["A", "B"], values, ["better", "worse"]),
                            area="Harrow", period="Sep 2026", snapshot=date(2026, 10, 5), benchmark_label="NWL",
                            **options)


def test_the_screen_reuses_a_drawn_figure_only_for_the_same_spec():
    spec = _comparison_spec([40.0, 60.0])
    again = _comparison_spec([40.0, 60.0])  # another spec object holding the same
    shown = charts.drawn(spec)
    assert charts.drawn(again) is shown
    # what the one renderer draws, less the words the page writes above it
    assert shown.to_json() == charts.figure(spec).update_layout(title=None, margin={"t": 10}).to_json()
    # Any change to what the chart shows draws it again: a value, a word, the synthetic mark, the frame's columns.
    for other in (_comparison_spec([40.0, 60.5]), _comparison_spec([40.0, 60.0], subtitle="s"),
                  _comparison_spec([40.0, 60.0], synthetic=True),
                  charts.ChartSpec(kind="comparison", metric_id=FLU.id, area="Harrow", period="Sep 2026",
                                   snapshot=date(2026, 10, 5), benchmark_label="NWL",
                                   data=_frame(["A", "B"], [40.0, 60.0], ["better", "worse"]).assign(extra=1))):
        assert charts.spec_key(other) != charts.spec_key(spec)
        assert charts.drawn(other) is not shown


def test_the_memo_of_drawn_figures_is_bounded(monkeypatch):
    monkeypatch.setattr(charts, "DRAWN_MEMO_SIZE", 2)
    first = charts.drawn(_comparison_spec([1.0, 2.0]))
    charts.drawn(_comparison_spec([3.0, 4.0]))
    charts.drawn(_comparison_spec([5.0, 6.0]))
    assert len(charts._drawn) <= 2
    assert charts.drawn(_comparison_spec([1.0, 2.0])) is not first  # the oldest was let go, so drawn afresh


def test_the_screen_figure_leaves_its_words_to_the_page_and_exports_keep_them():
    spec = dataclasses.replace(_comparison_spec([1.0, 2.0]), subtitle="Dots: value. Whiskers: 95% CI.")
    assert not charts.drawn(spec).layout.title.text
    assert charts.figure(spec).layout.title.text == spec.title
    heading = tables.chart_heading(spec)
    assert spec.title in heading and "Dots: value. Whiskers: 95% CI." in heading
