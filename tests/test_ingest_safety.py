"""Text bound for exported CSVs cannot run as a spreadsheet formula."""

from __future__ import annotations

import pytest

from metrics.ingest import neutralise_formula


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-5", "@SUM(A1)", "\t=cmd", "\r=cmd",
                                  '=HYPERLINK("http://evil","x")'])
def test_formula_starts_are_prefixed(text):
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize("value", ["Harrow", "Brent Central KWH PCN", "", " =not first", 12, 3.5, None])
def test_everything_else_is_unchanged(value):
    assert neutralise_formula(value) == value
