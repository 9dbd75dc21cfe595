"""The plot component's bundle: plotly.js's basic build at the version the ``plotly`` package writes figures for,
served from ``static/``; figures it could not draw are refused rather than left out. The browser test
(``tests/test_browser.py``) draws, hovers and redraws with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest

from metrics.ui import plot

PROJECT = Path(__file__).resolve().parent.parent


def test_the_bundle_is_the_plotly_js_the_plotly_package_writes_figures_for():
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    written_for = re.search(r"plotly\.js v([\d.]+)", full.read_text()[:400]).group(1)
    bundle = (plot.STATIC_DIR / plot.PLOTLY_JS).read_text()
    assert plot.PLOTLY_JS_VERSION == written_for
    assert f"plotly.js (basic - minified) v{written_for}" in bundle[:400]
    assert "window.Plotly = Plotly" in bundle[-200:]  # the loader waits for this global


def test_streamlit_serves_the_static_folder_the_bundle_is_in():
    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableStaticServing"] is True
    assert plot.STATIC_DIR == PROJECT / "static"


@pytest.mark.parametrize(("base", "url"),
                         [("", "/app/static/"), ("icp", "/icp/app/static/"), ("/a/b/", "/a/b/app/static/")])
def test_the_bundle_url_follows_the_base_url_path(base, url):
    assert plot.plotly_js_url(base) == url + plot.PLOTLY_JS


def test_a_trace_type_the_bundle_lacks_is_refused_with_its_name():
    with pytest.raises(ValueError, match="cannot draw heatmap traces"):
        plot.show(go.Figure([go.Scatter(y=[1]), go.Heatmap(z=[[1]])]), key="k", config={})
