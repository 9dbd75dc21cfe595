"""Smoke tests: every page runs without raising on the demo data, for several boroughs and a PCN."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.demo import generate_demo

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["app_pages/overview.py", "app_pages/population_health.py", "app_pages/frailty.py", "app_pages/diabetes.py",
         "app_pages/mental_health.py", "app_pages/vaccination.py", "app_pages/variation.py", "app_pages/chart_studio.py",
         "app_pages/definitions.py"]
BOROUGHS = ["Harrow", "Westminster", "Hammersmith & Fulham"]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate_demo(root)
    return root


def run_page(root: Path, page: str, monkeypatch: pytest.MonkeyPatch, **params: str) -> AppTest:
    monkeypatch.setenv("ICP_DATA_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page != PAGES[0]:
        at.switch_page(page).run()
    return at


def open_link(root, page: str, monkeypatch, **params: str) -> AppTest:
    """A session that follows a link to ``page`` with ``params`` (as a pasted URL or a link in an email)."""
    monkeypatch.setenv("ICP_DATA_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.query_params.clear()
    at.query_params.update(params)
    return at.switch_page(page).run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("borough", BOROUGHS)
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_for_borough(demo_root, monkeypatch, page, borough):
    at = run_page(demo_root, page, monkeypatch, borough=borough)
    assert_clean(at)
    assert at.session_state["_view"].borough == borough
    assert at.title, "every page has a title"


def test_overview_scorecard_and_exceptions(demo_root, monkeypatch):
    at = run_page(demo_root, PAGES[0], monkeypatch, borough="Harrow", period="2026-09")
    assert_clean(at)
    assert at.title[0].value == "System oversight: Harrow"
    headers = [h.value for h in at.subheader]
    assert any(h.startswith("Exceptions for discussion") for h in headers)
    html = [h.proto.body for h in at.get("html") if "<table" in h.proto.body]
    tables = [body for body in html if "icp-table" in body and "icp-plain" not in body]
    assert len(tables) >= 6  # exceptions plus one scorecard per priority
    assert "Why it is flagged" in tables[0] and "Trend" in tables[1]
    revised = [body for body in html if "icp-plain" in body]
    assert len(revised) == 1 and ">Before</th>" in revised[0] and ">Now</th>" in revised[0]  # figures revised since last meeting
    assert not at.dataframe  # HTML only: a first visit loads no data grid


@pytest.mark.parametrize("page", ["app_pages/frailty.py", "app_pages/variation.py", "app_pages/vaccination.py"])
def test_pcn_drill_down_view(demo_root, monkeypatch, page):
    at = run_page(demo_root, page, monkeypatch, borough="Harrow", pcn="U89806")
    assert_clean(at)
    assert at.session_state["_view"].pcn_name == "Sphere PCN"
    ci_tables = [h.proto.body for h in at.get("html") if "95% CI lower" in h.proto.body]
    if page.endswith("variation.py"):  # the practices, sortable, whatever their number
        assert at.dataframe and "95% CI lower" in at.dataframe[-1].value.columns
    else:  # the PCN's practices: a short table, HTML, no data grid to load
        assert not at.dataframe and len(ci_tables) == 1 and "Practice</th>" in ci_tables[0]


def test_borough_level_metric_says_so(demo_root, monkeypatch):
    at = run_page(demo_root, "app_pages/frailty.py", monkeypatch, borough="Ealing",
                  metric="discharged_usual_residence")
    assert_clean(at)
    assert any("borough level only" in i.value for i in at.info)


def test_older_snapshot_and_bad_url_values_fall_back(demo_root, monkeypatch):
    at = run_page(demo_root, PAGES[0], monkeypatch, snapshot="2026-08-05", borough="Nowhere", period="1999-01")
    assert_clean(at)
    view = at.session_state["_view"]
    assert str(view.snapshot) == "2026-08-05" and view.borough == "Harrow" and view.period == "2026-07"


def test_first_run_generates_demo_data(tmp_path, monkeypatch):
    at = run_page(tmp_path, PAGES[0], monkeypatch)
    assert_clean(at)
    assert len(list(tmp_path.glob("snapshot_date=*/metric_values.parquet"))) == 3
    assert at.title[0].value.startswith("System oversight")
    note = " ".join(s.value for s in at.success)
    assert f"Synthetic demo data written to `{tmp_path}`" in note and "ICP_DATA_ROOT" in note  # and how to go real


def test_priority_page_has_spc_chart_icons_and_summary(demo_root, monkeypatch):
    at = run_page(demo_root, "app_pages/frailty.py", monkeypatch, borough="Harrow",
                  metric="emergency_admissions_65_plus")
    assert_clean(at)
    assert [t.label for t in at.tabs][:1] == ["SPC chart (Making Data Count)"]
    summary = [m.value for m in at.markdown if "Emergency admissions 65+ in Harrow was" in m.value]
    assert summary and "special-cause" in summary[0]  # the demo's April 2025 step change is found


def test_variation_explorer_lists_funnel_outliers(demo_root, monkeypatch):
    at = run_page(demo_root, "app_pages/variation.py", monkeypatch, borough="Brent",
                  metric="breast_screening_coverage")
    assert_clean(at)
    assert any(h.value.startswith("Practices outside the 99.8% limits") for h in at.subheader)


def test_vaccination_page_reads_the_slope_index(demo_root, monkeypatch):
    at = open_link(demo_root, "app_pages/vaccination.py", monkeypatch, borough="Ealing", metric="flu_uptake_65_plus",
                   breakdown="imd_quintile")
    assert_clean(at)
    assert any(m.value.startswith("**Slope index of inequality.**") for m in at.markdown)
    headings = [h.proto.body for h in at.get("html") if 'role="heading"' in h.proto.body]
    assert len([h for h in headings if "by deprivation" in h]) == 1
    assert not [h for h in headings if "by ethnic group" in h], "closed tabs wait"


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/frailty.py", "app_pages/variation.py",
                                  "app_pages/chart_studio.py"])
def test_bi_borough_place_is_offered_and_renders(demo_root, monkeypatch, page):
    at = run_page(demo_root, page, monkeypatch, borough="Kensington & Chelsea and Westminster (Bi-borough)")
    assert_clean(at)
    view = at.session_state["_view"]
    assert (view.borough_level, view.borough_code) == ("place", "PLACE_BI_BOROUGH")
    if page == "app_pages/overview.py":  # the sidebar filters are in the first run's element tree
        pcn_options = next(s for s in at.selectbox if s.label == "PCN").options
        assert len(pcn_options) == 1 + 9  # all, plus the 5 Kensington & Chelsea and 4 Westminster PCNs


@pytest.mark.parametrize("page", PAGES)
def test_every_page_marks_synthetic_data(demo_root, monkeypatch, page):
    at = run_page(demo_root, page, monkeypatch, borough="Harrow")
    assert any("Synthetic demo data" in w.value for w in at.warning), "the demo is marked on every page"


def test_overview_says_what_moved_since_last_meeting(demo_root, monkeypatch):
    at = run_page(demo_root, PAGES[0], monkeypatch, borough="Harrow", period="2026-09")
    assert_clean(at)
    assert "Since last meeting" in [h.value for h in at.subheader]
    assert at.selectbox(key="seen").value.isoformat() == "2026-09-05"  # the snapshot before
    assert any(m.value.startswith("**New data this month:**") for m in at.markdown)


def test_open_local_mode_says_so(demo_root, monkeypatch):
    at = run_page(demo_root, PAGES[0], monkeypatch, borough="Harrow")
    assert any("Open local mode" in w.value for w in at.sidebar.warning)
