"""The README against the code (as Datasette's tests/test_docs.py): a sub-command, option, ingest format, page or
catalogue field added without a line in the README fails here, and so does a README row for something that is
gone. Also every variation and assurance code the XmR charts can give has an icon and a meaning."""

from __future__ import annotations

import argparse
import ast
import re
import runpy
from functools import lru_cache
from pathlib import Path

import pytest
import streamlit as st

from metrics import icons
from metrics.__main__ import build_parser
from metrics.catalogue import Metric, Priority, Target, catalogue
from metrics.filters import UrlParams
from metrics.ingest.formats import FORMATS
from metrics.stats import xmr

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def first_column(text: str, header: str) -> list[str]:
    """The first cells of the markdown table whose header row starts ``| header |``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(rf"\|\s*{re.escape(header)}\s*\|", line)), None)
    assert start is not None, f"README has no table headed '{header}'"
    cells = []
    for line in lines[start + 2:]:  # after the header and the |---| row
        if not line.startswith("|"):
            break
        cells.append(line.split("|")[1].strip())
    return cells


def subcommands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# --- the command line --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_is_in_the_readme(command):
    assert re.search(rf"python -m metrics {command}\b", README), f"README never shows 'python -m metrics {command}'"


@pytest.mark.parametrize("command, option", [
    (command, option) for command, parser in subcommands().items() for action in parser._actions
    for option in action.option_strings if option.startswith("--") and option != "--help"])
def test_every_option_is_in_the_readme(command, option):
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", README), \
        f"README never mentions {option} (python -m metrics {command})"


# --- ingest formats ----------------------------------------------------------------------------------------------

def readme_formats() -> list[str]:
    return [cell.strip("`") for cell in first_column(section("Ingest"), "format")]


@pytest.mark.parametrize("name", FORMATS)
def test_every_ingest_format_is_in_the_readme_table(name):
    assert name in readme_formats(), f"README's format table has no row for {name}"


def test_the_readme_format_table_lists_only_real_formats():
    assert sorted(set(readme_formats()) - set(FORMATS)) == []


def test_the_command_line_offers_exactly_the_registered_formats():
    ingest = subcommands()["ingest"]
    choices = next(a.choices for a in ingest._actions if "--format" in a.option_strings)
    assert list(choices) == list(FORMATS)


# --- pages -------------------------------------------------------------------------------------------------------

class _Navigated(Exception):
    """Raised by the stand-in st.navigation to stop app.py once it has named its pages."""


@lru_cache(maxsize=1)
def navigation() -> dict[str, str]:
    """Page file -> title, as app.py hands them to ``st.navigation`` (run up to that call, with ``st.Page`` and
    ``st.navigation`` standing in, so nothing is served and no data is touched)."""
    pages: dict[str, str] = {}

    def page(path, title=None, **_):
        pages[Path(path).resolve().relative_to(ROOT).as_posix() if Path(path).is_absolute() else str(path)] = title
        return path

    def navigate(*_, **__):
        raise _Navigated

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(st, "Page", page)
        patch.setattr(st, "navigation", navigate)
        with pytest.raises(_Navigated):
            runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
    return pages


def priority_pages() -> dict[str, str]:
    """Priority id -> the page file that renders it (``render("<id>")``)."""
    found = {}
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "render" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                found[node.args[0].value] = f"app_pages/{path.name}"
    return found


def readme_pages() -> list[str]:
    return [name.strip() for cell in first_column(section("What is in it"), "page") for name in cell.split(",")]


PAGE_FILES = sorted(f"app_pages/{p.name}" for p in (ROOT / "app_pages").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_is_in_the_readme_table(page):
    title = navigation().get(page)
    assert title, f"{page} is not in the app's navigation (or has no title)"
    assert title in readme_pages(), f"README's page table has no row for '{title}' ({page})"


@pytest.mark.parametrize("priority", [p.id for p in catalogue().priorities])
def test_every_priority_has_a_page_in_the_readme_table(priority):
    page = priority_pages().get(priority)
    assert page, f"no page renders priority {priority}"
    title = catalogue().priority(priority).title
    assert navigation().get(page) == title, f"{page}: the app's title differs from the catalogue's '{title}'"
    assert title in readme_pages(), f"README's page table has no row for '{title}'"


def test_the_readme_page_table_lists_only_real_pages():
    assert sorted(set(readme_pages()) - set(navigation().values())) == []


# --- the catalogue -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", [pytest.param(field, id=f"{model.__name__}.{field}")
                                   for model in (Metric, Target, Priority) for field in model.model_fields])
def test_every_catalogue_field_is_in_the_readme(field):
    assert f"`{field}`" in section("Metrics"), f"README's Metrics section does not list the catalogue field {field}"


# --- Making Data Count icons -------------------------------------------------------------------------------------

def xmr_codes() -> tuple[set[str], set[str]]:
    """Every variation and assurance code xmr gives: last point high, low or common cause, target above, below or
    inside the limits (or none), for each improvement direction."""
    base = [1.0, -1.0] * 8
    variation, assurance = set(), set()
    for improvement in ("increase", "decrease", "neutral"):
        for last in ([50.0], [-50.0], []):
            for target in (None, 100.0, -100.0, 0.0):
                result = xmr(base + last, improvement, target)
                variation.add(result.variation)
                assurance.add(result.assurance)
    return variation, assurance - {None}


VARIATION_CODES, ASSURANCE_CODES = xmr_codes()


@pytest.mark.parametrize("code", sorted(VARIATION_CODES))
def test_every_variation_code_has_an_icon_and_a_meaning(code):
    assert icons.variation_icon(code), f"no variation icon for {code}"
    assert icons.variation_meaning(code) != icons.variation_meaning(None), f"no meaning for {code}"


@pytest.mark.parametrize("code", sorted(ASSURANCE_CODES))
def test_every_assurance_code_has_an_icon_and_a_meaning(code):
    assert icons.assurance_icon(code), f"no assurance icon for {code}"
    assert icons.assurance_meaning(code) != icons.assurance_meaning(None), f"no meaning for {code}"


def test_icons_are_drawn_only_for_codes_xmr_gives():
    assert sorted(set(icons.VARIATION) - VARIATION_CODES) == []
    assert sorted(set(icons.ASSURANCE) - ASSURANCE_CODES) == []


@pytest.mark.parametrize("parameter", sorted(UrlParams.model_fields))
def test_every_url_parameter_is_in_the_readme(parameter):
    assert f"`{parameter}`" in README.split("The URL is the state")[1].split("## Data")[0]
