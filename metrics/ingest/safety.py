"""Spreadsheet formula injection: a text cell starting with =, +, - or @ (or a tab / carriage return, which some
spreadsheets strip first) is run as a formula when a CSV is opened. Every text field that can end up in an
exported CSV goes through ``neutralise_formula`` (OWASP's advice: prefix a single quote)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: object) -> object:
    """Text made safe to open in a spreadsheet; anything that is not text is returned unchanged.

    >>> neutralise_formula('=HYPERLINK("http://x","click")'), neutralise_formula("-"), neutralise_formula("Harrow")
    ('\\'=HYPERLINK("http://x","click")', "'-", 'Harrow')
    >>> neutralise_formula(12.5)
    12.5
    """
    if isinstance(text, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
