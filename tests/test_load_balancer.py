"""Two app processes behind HAProxy (``deploy/``), as the README's "Deployment: several processes" runs them.

``deploy.serve.cluster`` starts two ``streamlit run app.py`` processes over the demo data and HAProxy in front
(Debian's ``haproxy``; ``.ci/run`` installs it). Three browser sessions (Chromium contexts, each with its own
cookies, kept open so the balancer's least-connections choice spreads them) each load a PCN's frailty page
through the balancer and download a chart's CSV: the file is made by the process holding the session's websocket
and served from its memory under ``/media/``, so the download works only if the balancer sent the websocket and
the download to the same process. Each session draws a different metric, so no two made the same file (media
names are content hashes). The same ``/media/`` address is then asked for with each process's cookie: the
session's own process answers 200, the other 404, which is why stickiness is required.
"""

from __future__ import annotations

import gzip
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from benchmarks.server import free_port
from deploy.serve import COOKIE, Cluster, cluster, haproxy_binary
from metrics.demo import generate_demo
from tests.test_browser import DOWNLOAD_CONTROL, RUN_TIMEOUT_MS, assert_no_exception, open_downloads, settle
from tests.test_browser import browser  # noqa: F401 (the shared Chromium fixture)

METRICS = ("falls_admissions_65_plus", "frail_mdt_care_plan", "emergency_admissions_65_plus")  # practice-level
PAGE = "/frailty?borough=Harrow&pcn=U89806&period=2026-09&metric={metric}"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    haproxy_binary()  # fails (does not skip) without HAProxy: .ci/run installs it
    root = tmp_path_factory.mktemp("balancer_demo")
    generate_demo(root)
    with cluster(2, free_port(), backend_port=free_port(), root=str(root)) as running:
        yield running


def status_with_cookie(url: str, backend: str) -> int:
    """The HTTP status of ``url`` through the balancer, sent as if the browser were stuck to ``backend``."""
    request = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={backend}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_javascript_is_gzipped_and_the_chart_bundle_kept(deployment):
    """Through the balancer: Streamlit's JavaScript and the chart bundle arrive gzipped (less than half their size),
    and the chart bundle, versioned by name, may be cached for a year."""
    from metrics.ui.plot import PLOTLY_JS

    with urllib.request.urlopen(deployment.url + "/", timeout=30) as response:
        script = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', response.read().decode()).group(1)
    for path in (script, f"app/static/{PLOTLY_JS}"):
        plain = urllib.request.urlopen(f"{deployment.url}/{path}", timeout=30)
        zipped = urllib.request.urlopen(urllib.request.Request(f"{deployment.url}/{path}",
                                                               headers={"Accept-Encoding": "gzip"}), timeout=30)
        assert plain.headers.get("Content-Encoding") is None and zipped.headers["Content-Encoding"] == "gzip"
        body, whole = zipped.read(), plain.read()
        assert gzip.decompress(body) == whole and len(body) < len(whole) / 2
        if path != script:
            assert zipped.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def download_csv(context: BrowserContext, base: str, metric: str, folder: Path) -> tuple[str, Path]:
    """Load the page through the balancer, open the chart's Download control, take the CSV: its URL and file."""
    page = context.new_page()
    page.goto(base + PAGE.format(metric=metric))
    expect(page.locator("h1").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    settle(page)
    assert_no_exception(page)
    open_downloads(page, DOWNLOAD_CONTROL)
    button = page.get_by_test_id("stPopoverBody").get_by_role("button", name="Data as CSV")
    expect(button).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        button.click()
    path = folder / f"{metric}.csv"
    info.value.save_as(path)
    return info.value.url, path


def test_pages_and_downloads_through_the_balancer(deployment, browser, tmp_path):
    backends = [f"app{number}" for number in range(1, len(deployment.apps) + 1)]
    contexts, seen = [], {}
    try:
        for metric in METRICS:
            context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
            contexts.append(context)  # kept open: its websocket counts towards its process's connections
            url, csv_file = download_csv(context, deployment.url, metric, tmp_path)
            backend = next(c["value"] for c in context.cookies() if c["name"] == COOKIE)
            assert backend in backends
            assert url.startswith(f"{deployment.url}/media/")
            text = csv_file.read_text(encoding="utf-8")
            assert "practice" in text.lower() and len(text.splitlines()) > 5, text[:500]
            assert status_with_cookie(url, backend) == 200
            for other in set(backends) - {backend}:
                assert status_with_cookie(url, other) == 404, f"{other} served {backend}'s download"
            seen[metric] = backend
    finally:
        for context in contexts:
            context.close()
    assert set(seen.values()) == set(backends), f"the balancer used only {seen}"
