"""The Overview's HTML tables: full names, units with values, RAG in words (none when descriptive), icons
that say their meaning, sparklines, every exception."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from metrics import icons, tables
from metrics.catalogue import catalogue


def line(metric_id: str, **fields) -> dict:
    metric = catalogue().metric(metric_id)
    return {"metric_id": metric_id, "metric": metric.short_title, "period": "Sep 2026", "value": 1443.94,
            "lower": 1400.0, "upper": 1490.0, "target": None, "nwl_value": 1500.0, "vs_nwl": "better",
            "change": -12.0, "direction": "improving", "rag": "green", "rag_text": "On track vs NWL",
            "variation": "improvement_low", "assurance": None, "sparkline": [1.0, 3.0, 2.0], "why": None} | fields


def test_a_rate_carries_its_unit_and_full_name():
    html = tables.table(pd.DataFrame([line("emergency_admissions_65_plus")]))
    metric = catalogue().metric("emergency_admissions_65_plus")
    assert metric.title in html and "1,443.9" in html
    assert f'<span class="unit">{metric.unit_label}</span>' in html
    assert "On track vs NWL" in html and "Significantly better" in html


def test_a_descriptive_metric_has_no_rag():
    html = tables.table(pd.DataFrame([line("wsic_stable", rag="grey", rag_text="No judgement (neutral)")]))
    assert "Descriptive, not judged" in html and "No judgement" not in html
    assert not catalogue().metric("wsic_well").judged  # the WSIC segments describe the population's mix


def test_icons_say_their_meaning_on_hover_and_the_legend_lists_every_code():
    html = tables.table(pd.DataFrame([line("emergency_admissions_65_plus", assurance="consistent_fail")]))
    assert f'title="{icons.variation_meaning("improvement_low")}"' in html
    assert f'title="{icons.assurance_meaning("consistent_fail")}"' in html
    legend = tables.icon_legend()
    assert len(re.findall(r'class="mdc mdc-[va]-', legend)) == len(icons.VARIATION) + len(icons.ASSURANCE)
    for code in [*icons.VARIATION, *icons.ASSURANCE]:
        assert f".mdc-{'v' if code in icons.VARIATION else 'a'}-{code}{{" in tables.STYLE


def test_sparkline_needs_two_points_and_ignores_gaps():
    assert tables.sparkline([5.0]) == "" and tables.sparkline([np.nan, 2.0]) == ""
    assert tables.sparkline([1.0, np.nan, 2.0]).startswith("<img ")


def test_every_exception_is_a_row_with_its_reason():
    rows = pd.DataFrame([line("falls_admissions_65_plus", rag="red", rag_text="Off track vs NWL",
                              why=f"reason {i}") for i in range(14)])
    html = tables.table(rows, tables.EXCEPTION_COLUMNS)
    assert html.count("<tr>") == 15 and all(f"reason {i}<" in html for i in range(14))
    assert "Trend" not in html


def test_rag_counts_add_up():
    card = pd.DataFrame({"rag": ["red", "red", "amber", "grey"]})
    counts = re.findall(r"<b>(\d+)</b> ([a-z ]+)<", tables.rag_counts(card))
    assert counts == [("2", "off track"), ("1", "near"), ("0", "on track"), ("1", "no judgement")]


def test_tiles_wrap_full_names_and_colour_change_by_polarity():
    rows = pd.DataFrame([line("emergency_admissions_65_plus", change=-12.0, previous_period="Aug 2026"),
                         line("flu_uptake_65_plus", change=-1.0, previous_period="Aug 2026")])
    html = tables.tiles(rows)
    assert html.count('class="icp-tile"') == 2
    assert "Emergency admissions 65+" in html and "per 100,000" in html
    assert 'icp-delta icp-better">↓' in html, "fewer admissions is better"
    assert 'icp-delta icp-worse">↓' in html, "lower flu uptake is worse"
    assert "Sep 2026 vs Aug 2026" in html


def test_funnel_counts_cover_every_practice():
    funnel = pd.Series(["high_998", "not_significant", "not_significant", "low_95", "not_compared"])
    counts = dict((words, int(n)) for n, words in re.findall(r"<b>(\d+)</b> ([^<]+)<", tables.funnel_counts(funnel)))
    assert counts == {"above the 99.8% limit": 1, "above the 95% limit": 0, "within the limits": 2,
                      "below the 95% limit": 1, "below the 99.8% limit": 0}
