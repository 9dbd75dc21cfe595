"""The URL is the state: every page control comes from a link and goes back into the URL; bad values are named,
replaced and corrected. (Back and forward in a real browser: tests/test_browser.py.)"""

from __future__ import annotations

import re

import pytest

from metrics.filters import UrlParams, url_problem
from streamlit.testing.v1 import AppTest

from tests.test_pages import PAGES, assert_clean, demo_root, open_link, run_page  # noqa: F401 (fixture)

VARIATION = "app_pages/variation.py"
STUDIO = "app_pages/chart_studio.py"


def param(at: AppTest, key: str) -> str | None:
    """One query parameter's value as the app last wrote it."""
    value = at.query_params.get(key)
    return value[0] if isinstance(value, list) else value


def warnings(at) -> str:
    return " ".join(w.value for w in at.warning)


@pytest.mark.parametrize("key, value", [("period", "2026-13"), ("view", "table"), ("snapshot", "yesterday"),
                                         ("pcn", "u89806!"), ("limits", "wide"), ("title", "x" * 201)])
def test_url_model_rejects_malformed_values(key, value):
    assert url_problem(key, value) is not None
    assert key in UrlParams.model_fields


def test_url_model_accepts_what_the_app_writes():
    good = {"snapshot": "2026-10-05", "borough": "Hammersmith & Fulham", "pcn": "U89806", "period": "2026-09",
            "metric": "flu_uptake_65_plus", "view": "compared", "recalc": "2025-04", "practices": "nwl",
            "limits": "plain", "peer": "E84005", "chart": "trend", "start": "2024-04", "end": "2026-09"}
    assert {key: url_problem(key, value) for key, value in good.items()} == dict.fromkeys(good)
    assert url_problem("colour", "blue") == "`colour` is not a setting this dashboard knows"


def test_mistyped_link_says_what_was_used_and_corrects_the_url(demo_root, monkeypatch):
    at = open_link(demo_root, "app_pages/frailty.py", monkeypatch, borough="Hamersmith", metric="foo",
                   period="2026-09")
    assert_clean(at)
    said = warnings(at)
    assert "`borough=Hamersmith`" in said and "**Harrow**" in said
    assert "`metric=foo`" in said
    assert param(at, "borough") == "Harrow"
    assert param(at, "metric") not in ("foo", None)
    at.run()  # the corrected URL is now ours: no complaint on the next run
    assert "Hamersmith" not in warnings(at)


def test_borough_name_in_any_case_is_understood(demo_root, monkeypatch):
    at = run_page(demo_root, PAGES[0], monkeypatch, borough="harrow")
    assert at.session_state["_view"].borough == "Harrow" and "harrow" not in warnings(at)


def test_variation_controls_come_from_the_link_and_change_the_view(demo_root, monkeypatch):
    plain = open_link(demo_root, VARIATION, monkeypatch, borough="Harrow", period="2026-09", practices="nwl",
                     limits="plain", metric="diabetes_8_care_processes")
    assert_clean(plain)
    assert plain.toggle(key="practices").value is True and plain.toggle(key="limits").value is False
    assert param(plain, "practices") == "nwl" and param(plain, "limits") == "plain"
    adjusted = open_link(demo_root, VARIATION, monkeypatch, borough="Harrow", period="2026-09", practices="nwl",
                        limits="adjusted", metric="diabetes_8_care_processes")
    outside = [beyond_998(at) for at in (plain, adjusted)]
    assert outside[0] > outside[1], "plain limits flag more practices than adjusted ones"


def beyond_998(at: AppTest) -> int:
    """Practices above or below the 99.8% limits, as the page's count chips say."""
    chips = next(h.proto.body for h in at.get("html") if "icp-counts" in h.proto.body)
    return sum(int(n) for n in re.findall(r"<b>(\d+)</b> (?:above|below) the 99.8% limit", chips))


def test_peer_choice_travels_in_the_link(demo_root, monkeypatch):
    first = open_link(demo_root, VARIATION, monkeypatch, borough="Harrow", period="2026-09")
    picker = first.selectbox(key="peer")
    assert param(first, "peer") == picker.value
    first = picker.select_index(3).run()
    other = first.selectbox(key="peer").value
    assert param(first, "peer") == other and other != picker.value
    again = open_link(demo_root, VARIATION, monkeypatch, borough="Harrow", period="2026-09", peer=other)
    assert again.selectbox(key="peer").value == other


def test_chart_studio_state_is_in_the_url(demo_root, monkeypatch):
    at = open_link(demo_root, STUDIO, monkeypatch, borough="Harrow", period="2026-09",
                  metric="emergency_admissions_65_plus", chart="trend", start="2025-04", end="2026-06",
                  title="Fewer emergency admissions")
    assert_clean(at)
    assert at.radio(key="chart").value == "trend"
    assert at.session_state["start_end"] == ("2025-04", "2026-06")
    assert at.text_input(key="title").value == "Fewer emergency admissions"
    params = {k: param(at, k) for k in at.query_params}
    assert params | {"start": "2025-04", "end": "2026-06", "chart": "trend"} == params
    assert params["title"] == "Fewer emergency admissions"
    at.text_input(key="title").set_value("").run()
    assert "title" not in at.query_params


def test_chart_studio_default_range_starts_in_april(demo_root, monkeypatch):
    at = open_link(demo_root, STUDIO, monkeypatch, borough="Harrow", period="2026-09",
                  metric="emergency_admissions_65_plus", chart="trend")
    start, end = at.session_state["start_end"]
    assert start.endswith("-04") and end == "2026-09"


def test_priority_page_tab_and_recalculation_point(demo_root, monkeypatch):
    at = open_link(demo_root, "app_pages/frailty.py", monkeypatch, borough="Harrow", period="2026-09",
                  metric="emergency_admissions_65_plus", view="compared")
    assert_clean(at)
    assert param(at, "view") == "compared"
    assert "recalc" not in at.query_params  # the SPC tab is closed, so its control is not drawn
    spc = open_link(demo_root, "app_pages/frailty.py", monkeypatch, borough="Harrow", period="2026-09",
                   metric="emergency_admissions_65_plus", view="spc", recalc="2025-04")
    assert_clean(spc)
    assert spc.selectbox(key="recalc").value == "2025-04"
    assert param(spc, "recalc") == "2025-04"
    headings = " ".join(h.proto.body for h in spc.get("html") if 'role="heading"' in h.proto.body)
    assert "limits recalculated from Apr 2025 (chosen)" in headings
