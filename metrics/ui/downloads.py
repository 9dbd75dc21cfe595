"""Download controls for one chart: PNG and SVG for slides and print, CSV for the data behind it.

Files are made only when a button is clicked (Streamlit runs the callable then, on its own thread),
so a page with many charts does not render images nobody asked for. Everything goes through
``metrics.exports``, so downloads carry titles and footnotes and suppress counts of 1 to 7.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from collections.abc import Callable

from metrics import exports, pack
from metrics.charts import ChartSpec
from metrics.exports import ChartMeta
from metrics.store import Store
from metrics.ui import auth

DOWNLOAD_LABEL = "Download"
PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def chart_downloads(spec: ChartSpec, key: str) -> None:
    """A 'Download' popover with PNG, SVG and CSV buttons for one chart.

    Every file is made from the chart's spec (its frame, with numerator and denominator, and its words);
    ``key`` must be unique on the page (the chart's own key will do).
    """
    stem = ChartMeta.of(spec).file_stem
    images = exports.renderer_available()

    def logged(action: str, make: Callable[[], bytes]) -> Callable[[], bytes]:
        return _audited(action, make, metric=spec.metric_id)

    note = None if images else "Chart images need Chromium on the server (see README, Exports)."
    with st.popover(DOWNLOAD_LABEL, icon=":material/download:"):
        st.download_button(
            "Chart as PNG (for slides)", logged("export-png", lambda: exports.chart_png(spec)),
            file_name=f"{stem}.png", mime="image/png", key=f"{key}_png", on_click="ignore",
            disabled=not images, help=note, icon=":material/image:", width="stretch")
        st.download_button(
            "Chart as SVG (for print)", logged("export-svg", lambda: exports.chart_svg(spec)),
            file_name=f"{stem}.svg", mime="image/svg+xml", key=f"{key}_svg", on_click="ignore",
            disabled=not images, help=note, icon=":material/draw:", width="stretch")
        st.download_button(
            "Data as CSV", logged("export-csv", lambda: exports.to_csv(spec)), file_name=f"{stem}.csv", mime="text/csv",
            key=f"{key}_csv", on_click="ignore", icon=":material/table:", width="stretch")
        st.caption(exports.SUPPRESSION_NOTE)


def pack_download(store: Store, borough: str, period: str, snapshot: date, key: str = "hhace_pack") -> None:
    """A button that builds the borough's HHaCE pack for the month, from this snapshot, when clicked.

    Building takes a few seconds (one chart image per off-track metric), so it happens on click only.
    """
    stem = pack.pack_file_name(borough, period).removesuffix(".pptx")
    st.download_button(
        "Health & Care Executive pack (PowerPoint)",
        _audited("pack", lambda: pack.build_pack(store, borough, period, snapshot), snapshot=snapshot.isoformat()),
        file_name=f"{stem}-as-at-{snapshot.isoformat()}.pptx", mime=PPTX_MIME, key=key, on_click="ignore",
        icon=":material/slideshow:", disabled=not exports.renderer_available(),
        help="The same pack as `python -m metrics pack`: scorecards, exceptions, a chart per off-track metric.")


def _audited(action: str, make: Callable[[], bytes], **detail) -> Callable[[], bytes]:
    """The file maker, writing an audit line (this page and view) when the file is made on click."""
    from metrics import ui  # the glue package imports this module

    page, params = st.session_state.get("_audited_view", ("", ()))
    return auth.audited(ui.data_root(), action, page, dict(params), make, **detail)
