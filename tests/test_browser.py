"""The dashboard in a real browser: Playwright driving the system Chromium against the app on localhost.

The test starts ``streamlit run`` itself (on a free port, over demo data in a temporary data root),
then does what a person would: open the Overview, change the borough, drill down to a PCN, and
download a chart's PNG and CSV, checking the files.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from benchmarks.server import free_port, stop, wait_until_serving
from metrics import exports, pack
from metrics.demo import generate_demo
from metrics.ui.plot import PLOTLY_JS as PLOT_JS
from tests.oidc_support import CHROMIUM, CHROMIUM_ARGS

PROJECT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_MS = 90_000
# The download test: the practice comparison on a PCN's frailty page (chart 0 is the SPC chart, the open tab;
# the closed trend tab is not drawn); falls among Sphere PCN's practices include counts of 1-7, so suppression
# must show.
DOWNLOAD_PATH = "/frailty?borough=Harrow&pcn=U89806&period=2026-09&metric=falls_admissions_65_plus"
DOWNLOAD_CONTROL = 1
VARIATION_PATH = "/variation?borough=Harrow&period=2026-09&metric=diabetes_8_care_processes"


def start_streamlit(script: Path, data_root: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run`` in its own process group; returns once the server answers its health check."""
    port = free_port()
    env = {**os.environ, "ICP_DATA_ROOT": str(data_root), "PYTHONPATH": str(PROJECT),
           "BROWSER_PATH": os.environ.get("BROWSER_PATH", CHROMIUM)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=script.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(process, base, lambda: process.stdout.read().decode(errors="replace")
                       if process.poll() is not None else "")
    return process, base


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser_demo")
    generate_demo(root)
    return root


@pytest.fixture(scope="module")
def app_url(demo_root) -> Iterator[str]:
    """The dashboard (app.py) on a free localhost port, stopped at the end."""
    process, url = start_streamlit(PROJECT / "app.py", demo_root)
    yield url
    stop(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished running the script (its status widget is gone)."""
    page.wait_for_selector("[data-testid=stMain]", timeout=RUN_TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=RUN_TIMEOUT_MS)


def assert_no_exception(page: Page) -> None:
    errors = page.locator("[data-testid=stException]")
    assert errors.count() == 0, errors.all_inner_texts()


def test_overview_then_another_borough(page, app_url):
    page.goto(f"{app_url}/?borough=Harrow&period=2026-09")
    expect(page.locator("h1").first).to_contain_text("System oversight: Harrow", timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert_no_exception(page)
    expect(page.locator("table.icp-table").first).to_be_visible(timeout=RUN_TIMEOUT_MS)  # the exceptions table

    borough = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Borough")
    borough.click()
    page.keyboard.type("Westminster")  # filters the list: the last option may be outside a short dropdown
    page.get_by_role("option", name="Westminster", exact=True).click()
    expect(page.locator("h1").first).to_contain_text("System oversight: Westminster", timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert_no_exception(page)
    assert "borough=Westminster" in page.url


def test_drill_down_to_a_pcn(page, app_url):
    page.goto(f"{app_url}/frailty?borough=Harrow&period=2026-09")
    settle(page)
    link = page.get_by_test_id("stPageLink").filter(has_text="Sphere PCN")
    expect(link).to_have_count(1, timeout=RUN_TIMEOUT_MS)
    link.click()
    expect(page.get_by_text("Practices in Sphere PCN").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert_no_exception(page)
    assert "pcn=U89806" in page.url


def outliers_heading(page: Page) -> str:
    return page.get_by_role("heading").filter(has_text="Practices outside the 99.8% limits").first.inner_text()


def flip(page: Page, label: str) -> None:
    page.get_by_test_id("stCheckbox").filter(has_text=label).locator("label").first.click()
    settle(page)


def test_a_link_reproduces_the_view_and_back_steps_through_views(page, browser, app_url):
    page.goto(app_url + VARIATION_PATH)
    settle(page)
    flip(page, "Show every NWL practice")
    expect(page).to_have_url(re.compile("practices=nwl"), timeout=RUN_TIMEOUT_MS)
    adjusted = outliers_heading(page)
    flip(page, "Widen the limits")
    expect(page).to_have_url(re.compile("limits=plain"), timeout=RUN_TIMEOUT_MS)
    plain = outliers_heading(page)
    assert adjusted != plain, "plain limits flag a different number of practices"

    fresh = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()  # a colleague's browser
    fresh.goto(page.url)
    settle(fresh)
    assert outliers_heading(fresh) == plain and "limits=plain" in fresh.url
    fresh.context.close()

    page.go_back()
    expect(page).to_have_url(re.compile("limits=adjusted"), timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert outliers_heading(page) == adjusted
    page.go_forward()
    expect(page).to_have_url(re.compile("limits=plain"), timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert outliers_heading(page) == plain
    assert_no_exception(page)


PLOTS_JS = """() => [...document.querySelectorAll('.icp-plot')].map((plot) => ({
    traces: plot.data.length, drawn: plot._fullData.filter((trace) => trace._module).length,
    points: plot.querySelectorAll('.scatterlayer .point').length}))"""


def test_charts_are_drawn_by_the_basic_plotly_bundle_and_redrawn_in_place(page, app_url):
    """The Variation explorer's three charts are drawn by plotly.js's basic bundle (``static/``, one fetch), which
    knows every trace type they use; Streamlit's full Plotly chunk is never fetched. Hovering a practice names
    it, and a rerun with more practices redraws the funnel in place."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(app_url + VARIATION_PATH)
    settle(page)
    expect(page.locator(".icp-plot .main-svg").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function("document.querySelectorAll('.icp-plot .main-svg').length >= 3", timeout=RUN_TIMEOUT_MS)
    plots = page.evaluate(PLOTS_JS)
    assert len(plots) == 3 and all(p["traces"] and p["drawn"] == p["traces"] for p in plots), plots
    assert [u for u in fetched if "plotly-basic" in u] == [f"{app_url}/app/static/{PLOT_JS}"]
    assert not [u for u in fetched if "PlotlyChart" in u]

    page.locator(".icp-plot").first.locator(".scatterlayer .point").last.hover(force=True)
    expect(page.locator(".icp-plot .hoverlayer .hovertext").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    area_only = plots[0]["points"]
    flip(page, "Show every NWL practice")
    page.wait_for_function(f"document.querySelector('.icp-plot').querySelectorAll('.scatterlayer .point').length"
                           f" > {area_only}", timeout=RUN_TIMEOUT_MS)
    assert len(page.evaluate(PLOTS_JS)) == 3
    assert_no_exception(page)


def test_a_mistyped_link_is_named_and_corrected(page, app_url):
    page.goto(f"{app_url}/frailty?borough=Hamersmith&metric=foo&period=2026-09")
    settle(page)
    expect(page.get_by_text("borough=Hamersmith").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_text("metric=foo").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(page).to_have_url(re.compile("borough=Harrow"), timeout=RUN_TIMEOUT_MS)
    assert "metric=foo" not in page.url


def open_downloads(page: Page, control: int) -> None:
    """Open the chart's Download popover, its button in the middle of the screen as a reader would have it: a
    button at the bottom edge opens the popover below the fold, and scrolling to it closes it again."""
    trigger = page.get_by_test_id("stPopover").nth(control).locator("button").first
    expect(trigger).to_be_visible(timeout=RUN_TIMEOUT_MS)  # charts stream in after the run's first elements
    trigger.evaluate("button => button.scrollIntoView({block: 'center'})")
    trigger.click()


def download(page: Page, control: int, label: str, folder: Path) -> Path:
    """Open the chart's Download popover (if closed), click one of its buttons, save the file."""
    body = page.get_by_test_id("stPopoverBody")
    if not body.is_visible():
        open_downloads(page, control)
    button = body.get_by_role("button", name=label)
    expect(button).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        button.click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_download_chart_png_and_csv(page, app_url, tmp_path):
    control = DOWNLOAD_CONTROL
    page.goto(app_url + DOWNLOAD_PATH)
    settle(page)
    expect(page.get_by_test_id("stPopover").nth(control)).to_be_visible(timeout=RUN_TIMEOUT_MS)

    csv_file = download(page, control, "Data as CSV", tmp_path)
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    titles = {row[0]: row[1] for row in rows[:rows.index([])]}
    assert {"Title", "Metric", "Area", "Period", "Data as at (snapshot)", "Source"} <= set(titles)
    header, body = rows[rows.index([]) + 1], rows[rows.index([]) + 2:]
    assert body, "the CSV holds the chart's data"
    for column in ("Numerator", "Denominator"):
        cells = [row[header.index(column)] for row in body]
        shown = [float(c) for c in cells if c not in (exports.SUPPRESSED, "")]
        assert not [c for c in shown if 1 <= c <= 7], f"{column} shows a count of 1-7"
    assert exports.SUPPRESSED in [row[header.index("Numerator")] for row in body], "Sphere falls has small counts"

    png_file = download(page, control, "Chart as PNG (for slides)", tmp_path)
    png = png_file.read_bytes()
    assert png_file.suffix == ".png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert exports.png_size(png)[0] >= 1600


def test_download_the_hhace_pack(page, app_url, tmp_path):
    page.goto(f"{app_url}/?borough=Harrow&period=2026-09")
    settle(page)
    button = page.get_by_role("button", name="Health & Care Executive pack (PowerPoint)")
    expect(button).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        button.click()
    assert info.value.suggested_filename == "harrow-2026-09-as-at-2026-10-05.pptx"
    file = tmp_path / info.value.suggested_filename
    info.value.save_as(file)
    slides = pack.slide_texts(file.read_bytes())
    assert slides[0][0] == "Harrow Health & Care Executive" and slides[-1][0] == "Data quality and notes"
