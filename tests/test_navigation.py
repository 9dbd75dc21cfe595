"""Navigation comes from the catalogue, and no pages/ folder invites Streamlit to list pages on its own."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from metrics.catalogue import catalogue

PROJECT = Path(__file__).resolve().parent.parent


def test_every_priority_has_a_page_file_calling_the_template_with_its_id():
    for priority in catalogue().priorities:
        source = (PROJECT / priority.page_file).read_text()
        assert re.search(rf'render\("{priority.id}"\)', source), priority.page_file


def test_every_page_file_is_in_the_navigation():
    from metrics.ui.navigation import page_specs

    listed = {(PROJECT / spec.path).resolve() for section in page_specs().values() for spec in section}
    files = {p.resolve() for p in (PROJECT / "app_pages").glob("*.py") if not p.name.startswith("_")}
    assert files == listed


def test_no_pages_folder_beside_app_py():
    """Streamlit 1.67 runs its legacy multipage mode for the first request after a start when a folder named
    pages/ sits beside the main script: it sends that folder's page list to the browser before app.py runs, so
    before sign-in is asked for (and the list flashes in the sidebar). The pages live in app_pages/ instead."""
    from streamlit.runtime.scriptrunner import script_runner

    assert not (PROJECT / "pages").exists()
    assert '/ "pages"' in inspect.getsource(script_runner._mpa_v1), "Streamlit changed: revisit this folder name"
