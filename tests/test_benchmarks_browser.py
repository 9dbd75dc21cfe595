"""The browser benchmark (``benchmarks/browser.py``) at a tiny scale: ``streamlit run`` over a small demo root,
Debian's Chromium, one warm visit per view. Checks the figures are there and plausible (times positive, bytes
sent, the same number of charts and sparklines as the page's own run under AppTest draws), and that
bench.json and its report carry them. No timings are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from benchmarks.__main__ import compose, markdown
from benchmarks.browser import CHROMIUM, CHANGE_VIEW, OTHER_BOROUGH, measure, view_paths
from benchmarks.pages import APP, BOROUGH, VIEWS
from metrics.catalogue import catalogue
from metrics.demo import generate_demo
from metrics.ui.plot import PRELOAD_KEY

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
MEASURED = ["overview", "frailty"]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data for a few metrics: the Frailty page's and one other priority's, so the Overview has rows."""
    root = tmp_path_factory.mktemp("bench_browser")
    frailty = [m.id for m in catalogue().for_page("frailty")][:2]
    generate_demo(root, metric_ids={*frailty, catalogue().for_page("diabetes")[0].id})
    return root


@pytest.fixture(scope="module")
def measured(demo_root) -> dict:
    return measure(str(demo_root), repeats=1, views=MEASURED, options={"server.fileWatcherType": "none"},
                   profile_repeats=1)


def drawn_by_the_app(root: Path, view: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """Charts (the plot component) and metric sparklines the view's script run draws (AppTest, the same data root)."""
    _, page, params = next(v for v in VIEWS if v[0] == view)
    monkeypatch.setenv("ICP_DATA_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"borough": BOROUGH, **params})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    charts = [e for e in at.get("bidi_component") if not e.proto.id.endswith(PRELOAD_KEY)]  # not the preloader
    return len(charts), sum(1 for m in at.metric if m.proto.chart_data)


def assert_visit(visit: dict) -> None:
    """One timed action: a positive time split into boot, run and draw, and bytes to the browser."""
    assert visit["ms"] > 0
    split = [visit[k] for k in ("boot_ms", "run_ms", "draw_ms")]
    assert None not in split and min(split) >= 0 and sum(split) == pytest.approx(visit["ms"], abs=1.0)
    assert visit["ws_bytes"] > 0 and visit["bytes_to_browser"] == visit["ws_bytes"] + visit["http_bytes"]
    assert sum(visit["ws_bytes_by_kind"].values()) == visit["ws_bytes"]
    assert "script_finished" in visit["ws_bytes_by_kind"]
    assert visit["wire_run_ms"] > 0 and visit["server_cpu_ms"] >= 0 and visit["probe_ms"] > 0
    assert 0 <= visit["busy_ms"] <= visit["ms"] and visit["long_tasks"] >= (visit["busy_ms"] > 0)


def test_every_view_is_timed_with_its_bytes_and_charts(measured, demo_root, monkeypatch):
    assert list(measured["pages"]) == MEASURED
    assert measured["server_first_load_ms"] > 0 and measured["server_peak_rss_mb"] > 50
    assert measured["server_idle_cpu_ms_per_s"] >= 0
    assert all(len(measured["load_average"][when]) == 3 for when in ("start", "end"))
    assert measured["streamlit_options"] == {"server.fileWatcherType": "none"}
    for name, row in measured["pages"].items():
        first = row["first"]
        assert row["path"] == view_paths([name])[name] and "borough=Harrow" in row["path"]
        assert_visit(first)
        assert first["http_bytes"] > 100_000  # the app's JavaScript, into an empty browser cache
        assert row["warm_median_ms"] > 0 and row["warm_p95_ms"] >= row["warm_median_ms"]
        assert len(row["warm_samples_ms"]) == measured["repeats"] == 1
        assert 0 < row["warm_median_bytes_to_browser"] < first["bytes_to_browser"]  # JavaScript now cached
        charts, sparklines = drawn_by_the_app(demo_root, name, monkeypatch)
        assert first["charts"] == row["warm_charts"] == charts
        assert first["sparklines"] == row["warm_sparklines"] == sparklines
        returning = row["first_returning"]  # another borough's first visit, the JavaScript in the browser's cache
        assert_visit(returning)
        assert "borough=Hillingdon" in returning["path"] and returning["charts"] == charts
        assert returning["http_bytes"] < first["http_bytes"] / 10
        switch = row["switch"]  # the sidebar's link to the page, in a session that has shown it
        assert len(switch["warm_samples_ms"]) == 1 and switch["warm_charts"] == charts
        assert switch["warm_median_http_bytes"] == 0  # nothing reloaded: the websocket alone
        assert switch["warm_median_boot_ms"] is not None and switch["warm_median_ws_bytes"] > 0
    overview, frailty = measured["pages"]["overview"], measured["pages"]["frailty"]
    assert overview["first"]["charts"] == 0 and overview["first"]["tables"] == 0  # HTML tables, no data grid
    assert frailty["first"]["charts"] >= 2  # sparklines, if any, are counted as the app draws them (above)
    assert frailty["first"]["ws_bytes_by_kind"]["bidi_component"] > 0  # the figures, to the plot component
    assert "bidi_component" not in overview["first"]["ws_bytes_by_kind"]
    assert frailty["first"]["busy_ms"] > 0  # parsing the JavaScript and drawing the charts into an empty cache


def test_the_javascript_profile_charges_the_basic_plotly_bundle_on_a_chart_page_only(measured):
    profiles = measured["js_profile_ms_per_load"]
    assert list(profiles) == MEASURED and measured["js_profile_repeats"] == 1
    assert profiles["frailty"].get("plotly-basic", 0) > 0 and "plotly-basic" not in profiles["overview"]
    assert not any("PlotlyChart" in profile for profile in profiles.values())  # Streamlit's full Plotly: unused
    assert all(ms >= 0 for profile in profiles.values() for ms in profile.values())


def test_a_borough_change_and_the_phone_overview_are_timed(measured):
    change = measured["borough_change"]
    assert (change["view"], change["from"], change["to"]) == (CHANGE_VIEW, BOROUGH, OTHER_BOROUGH)
    assert_visit(change["first"])
    assert change["first"]["http_bytes"] == 0  # a rerun over the websocket, no page load
    assert change["warm_median_ms"] > 0 and change["warm_charts"] == measured["pages"]["frailty"]["warm_charts"]
    phone = measured["phone_overview"]
    assert phone["viewport"]["width"] == 390
    assert_visit(phone["first"])
    assert phone["warm_median_ms"] > 0 and phone["warm_charts"] == 0


def test_bench_json_and_the_report_carry_the_browser_figures(measured):
    part = {"size": "nwl", "generated": None, "rollups_built": {"rows": {}, "seconds": 0.0}, "browser": measured}
    result = compose([part], started=0.0)  # as --browser-only writes it
    assert result["scale"] == "nwl" and result["sizes"][0]["browser"] is measured
    report = markdown(result)
    assert "| overview |" in report and "| frailty |" in report and "first visit, returning browser" in report
    assert f"borough change ({CHANGE_VIEW}: {BOROUGH} to {OTHER_BOROUGH}" in report
    assert "overview on a phone (390x844)" in report
    assert "streamlit run --server.fileWatcherType none" in report


def test_two_versions_side_by_side_are_paired_view_by_view(demo_root):
    """The same tree as both versions: every view, the borough change and first visits measured on each, paired."""
    from benchmarks.browser_pair import measure_pair

    tree = str(Path(APP).parent)
    pair = measure_pair(str(demo_root), {"before": tree, "after": tree}, repeats=1, views=["frailty"])
    assert list(pair["views"]) == ["frailty", "borough_change", "first_visit_frailty"]
    assert pair["trees"]["after"] == tree
    assert pair["views"]["first_visit_frailty"]["after"]["bytes_to_browser"] > 1_000_000  # into an empty cache
    for row in pair["views"].values():
        assert row["before"]["ms"] > 0 and row["after"]["ms"] > 0
        assert row["before"]["charts"] == row["after"]["charts"] >= 2
        assert row["paired_median_saving_ms"] == pytest.approx(row["before"]["ms"] - row["after"]["ms"], abs=0.2)


def test_streamlit_floor_times_a_one_line_app_cold_and_warm():
    from benchmarks.streamlit_floor import measure as measure_floor

    floor = measure_floor(visits=1)
    assert floor["first_http_bytes"] > 1_000_000  # Streamlit's JavaScript into an empty cache
    assert 0 < floor["warm_median_ms"] and 0 < floor["first_median_ms"] == floor["first_samples_ms"][0]
