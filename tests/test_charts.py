"""Chart builders: titles, NHS colours, CIs as whiskers, categorical axes, gaps between seasons."""

from __future__ import annotations

import math

import pandas as pd

from metrics import charts
from metrics.catalogue import catalogue

FLU = catalogue().metric("flu_uptake_65_plus")


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
    fig = charts.comparison_chart(_frame(["A", "B", "C"], [40, 50, 60], ["worse", "similar", "better"]),
                                  FLU, "t", "Borough")
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours == {"Significantly worse": charts.NHS_RED, "Not significantly different": charts.NHS_WARM_YELLOW,
                       "Significantly better": charts.NHS_GREEN}
    assert all(t.error_x.array is not None for t in fig.data)


def test_far_target_moves_to_subtitle():
    fig = charts.comparison_chart(_frame(["A", "B"], [8, 9], ["similar", "similar"]), FLU, "t", "Borough",
                                  target=75)
    assert "off the scale" in fig.layout.title.subtitle.text
    assert not any("Target" in (a.text or "") for a in fig.layout.annotations)


def test_breakdown_axis_is_categorical_so_numeric_labels_survive():
    frame = _frame(["x"] * 3, [1, 2, 3]).assign(breakdown_value=["1 (most deprived)", "2", "5 (least deprived)"])
    fig = charts.breakdown_chart(frame, FLU, "t")
    assert fig.layout.xaxis.type == "category"


def test_trend_breaks_between_seasons():
    starts = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-09-01", "2025-10-01"])
    frame = _frame(["Harrow"] * 4, [60, 70, 10, 40]).assign(period_start=starts)
    fig = charts.trend_chart(frame, FLU, "t", target=75)
    line = next(t for t in fig.data if t.name == "Harrow")
    assert any(isinstance(v, float) and math.isnan(v) for v in line.y)
    assert fig.layout.title.text == "t"
