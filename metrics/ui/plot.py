"""Plotly figures on screen, drawn with plotly.js's *basic* bundle (scatter and bar, all our charts use).

``st.plotly_chart`` makes the browser fetch and compile Streamlit's full Plotly build, a 4.7 MB chunk, before the
first chart of a visit appears: most of a first visit to a chart page (benchmarks/README.md, "In the browser").
This component draws the same figure JSON with ``static/plotly-basic-<version>.min.js`` (1.2 MB, 0.4 MB
gzipped; the npm package ``plotly.js-basic-dist-min`` at the plotly.js version the ``plotly`` package pins,
checked by ``tests/test_plot.py``), served by Streamlit's static file serving (``server.enableStaticServing``)
and kept by the browser between visits. The component is Streamlit's own v2 custom component: no iframe, its
element in the page like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

PLOTLY_JS_VERSION = "4.1.1"
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
PLOTLY_JS = f"plotly-basic-{PLOTLY_JS_VERSION}.min.js"
BASIC_TRACE_TYPES = frozenset({"scatter", "bar", "pie"})  # what the basic bundle registers
PLOT_CLASS = "icp-plot"  # the element Plotly draws in (benchmarks and browser tests look for it)

# Loads the bundle once per page (a <script> tag: it sets window.Plotly) and draws with Plotly.react, which
# updates a plot in place when a rerun brings a new figure for the same chart.
_DRAW_JS = """
function plotly(src) {
  if (!window.__icpPlotly) {
    window.__icpPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => { window.__icpPlotly = undefined; reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }
  return window.__icpPlotly;
}

export default function ({ data, parentElement }) {
  if (!data.figure) {  // preload(): fetch and compile the bundle while the server is still running the page
    plotly(data.src).catch(() => {});
    return;
  }
  let plot = parentElement.querySelector(".%(plot_class)s");
  if (!plot) {
    plot = document.createElement("div");
    plot.className = "%(plot_class)s";
    plot.style.width = "100%%";
    parentElement.appendChild(plot);
  }
  const figure = data.figure;  // draws run in call order: the last figure sent is the one left drawn
  plot.style.height = (figure.layout.height || 450) + "px";  // its room held while the bundle loads: no jump
  plotly(data.src)
    .then((Plotly) => Plotly.react(plot, figure.data, figure.layout, data.config))
    .catch((error) => { plot.textContent = "The chart could not be drawn: " + error.message; });
  return () => { if (window.Plotly) window.Plotly.purge(plot); };
}
""" % {"plot_class": PLOT_CLASS}

PRELOAD_KEY = "icp_plot_preload"
_plot_component = st.components.v2.component(
    "icp_plot", js=_DRAW_JS, isolate_styles=False,
    css=f".st-key-{PRELOAD_KEY}{{display:none}}")  # the preloader takes no room (nor the gap around an element)


def plotly_js_url(base_url_path: str) -> str:
    """Where the browser fetches the bundle: Streamlit serves ``static/`` at ``<server.baseUrlPath>/app/static/``.

    >>> plotly_js_url("/dashboards/icp/") == f"/dashboards/icp/app/static/{PLOTLY_JS}"
    True
    """
    base = base_url_path.strip("/")
    return f"/{base}/app/static/{PLOTLY_JS}" if base else f"/app/static/{PLOTLY_JS}"


def undrawable_traces(fig: go.Figure) -> set[str]:
    """The figure's trace types the basic bundle does not have (it would leave them out without a word).

    >>> sorted(undrawable_traces(go.Figure([go.Scatter(), go.Bar(), go.Heatmap()])))
    ['heatmap']
    """
    return {trace.type for trace in fig.data} - BASIC_TRACE_TYPES


def preload() -> None:
    """At the top of a page with charts: the browser starts fetching and compiling the bundle now, while the
    server runs the page's queries, instead of when the first chart arrives (a first visit's draw waited for it)."""
    _plot_component(key=PRELOAD_KEY, data={"figure": None, "src": _bundle_url()}, width="content", height="content")


def _bundle_url() -> str:
    return plotly_js_url(str(st.get_option("server.baseUrlPath") or ""))


def show(fig: go.Figure, key: str, config: dict[str, Any]) -> None:
    """Draw ``fig`` full width, as ``st.plotly_chart(fig, config=config)`` would, from the basic bundle."""
    if missing := undrawable_traces(fig):
        raise ValueError(f"plotly.js's basic bundle cannot draw {', '.join(sorted(missing))} traces: use scatter "
                         f"or bar, or serve a larger bundle (metrics/ui/plot.py)")
    _plot_component(key=key, data={"figure": json.loads(fig.to_json()), "src": _bundle_url(),
                                   "config": {**config, "responsive": True}}, width="stretch", height="content")
