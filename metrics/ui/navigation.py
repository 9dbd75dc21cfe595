"""The app's navigation: fixed pages, and one page per catalogue priority (its title, icon and address come from
the catalogue, so adding a priority is a catalogue entry and a one-line page file)."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from metrics.catalogue import catalogue


class PageSpec(NamedTuple):
    path: str
    title: str
    icon: str  # a Material Symbols name
    url_path: str | None = None  # None: the default page, at /


def page_specs() -> dict[str, list[PageSpec]]:
    """Sections and their pages, in the order the sidebar lists them."""
    return {
        "System oversight": [PageSpec("app_pages/overview.py", "Overview", "dashboard")],
        "Priorities": [PageSpec(p.page_file, p.title, p.icon, p.url_path) for p in catalogue().priorities],
        "Explore": [
            PageSpec("app_pages/variation.py", "Variation explorer", "scatter_plot", "variation"),
            PageSpec("app_pages/chart_studio.py", "Chart studio", "palette", "chart-studio"),
            PageSpec("app_pages/definitions.py", "Data & definitions", "menu_book", "definitions"),
            PageSpec("app_pages/load_data.py", "Load data", "upload_file", "load-data"),
        ],
    }


def pages() -> dict[str, list[st.Page]]:
    """The specs as Streamlit pages, for ``st.navigation``."""
    return {section: [st.Page(spec.path, title=spec.title, icon=f":material/{spec.icon}:",
                              **({"url_path": spec.url_path} if spec.url_path else {"default": True}))
                      for spec in specs] for section, specs in page_specs().items()}


def priority_page(priority_id: str) -> str:
    """The page a priority's links go to (``st.page_link`` takes its script path)."""
    return catalogue().priority(priority_id).page_file
