"""Navigation comes from the catalogue, and the one Streamlit internal the app leans on is still there."""

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
    files = {p.resolve() for p in (PROJECT / "pages").glob("*.py") if not p.name.startswith("_")}
    assert files == listed


def test_the_legacy_pages_switch_the_app_turns_off_still_exists():
    """ui.current_view sets PagesManager.uses_pages_directory = False when Streamlit ran a pages/ file on its own
    (its first request after start, with a pages/ folder beside app.py). If Streamlit renames or drops the switch,
    this fails and the workaround must be revisited."""
    from streamlit.runtime import pages_manager
    from streamlit.runtime.scriptrunner import script_runner

    assert "uses_pages_directory" in vars(pages_manager.PagesManager)
    assert '/ "pages"' in inspect.getsource(script_runner._mpa_v1)
