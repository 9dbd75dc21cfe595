"""End to end: a real Fingertips export ingested on top of the demo shows on the Population health page; the Load
data page renders; a corrupt file in the data root is named and the rest served."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from metrics.__main__ import main
from metrics.demo import generate_demo
from tests.ingest_fixtures import FIXTURES, SMOKING

APP = str(Path(__file__).resolve().parent.parent / "app.py")
INGESTED = "2026-11-01"


@pytest.fixture(scope="module")
def ingested_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_plus_fingertips")
    generate_demo(root)
    code = main(["ingest", "--format", "fingertips", "--snapshot", INGESTED, "--root", str(root),
                 str(FIXTURES / SMOKING)])
    assert code == 0
    return root


def run(root: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None, **params: str) -> AppTest:
    monkeypatch.setenv("ICP_DATA_ROOT", str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


class _HtmlTables(HTMLParser):
    """The rows of every <table> in some HTML, each cell's text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None


def shown_tables(at: AppTest) -> list[pd.DataFrame]:
    """Every table on the page: st.dataframe grids, and HTML tables as text (the short ones, ``ui.ci_table``)."""
    frames = [frame.value for frame in at.dataframe]
    for element in at.get("html"):
        parser = _HtmlTables()
        parser.feed(element.proto.body)
        frames += [pd.DataFrame(rows[1:], columns=rows[0]) for rows in parser.tables if len(rows) > 1]
    return frames


def practice_row(at: AppTest, name: str) -> dict:
    """The practice's row, its counts as numbers (an HTML table shows them as text: '6,466')."""
    for table in shown_tables(at):
        if "Practice" in table.columns and name in set(table["Practice"]):
            row = table.set_index("Practice").loc[name].to_dict()
            return row | {c: int(str(row[c]).replace(",", "")) for c in ("Numerator", "Denominator")}
    raise AssertionError(f"no practice table lists {name}")


def test_ingested_fingertips_values_show_on_the_population_health_page(ingested_root, monkeypatch):
    params = dict(borough="Brent", pcn="U89375", period="2024-03", metric="smoking_prevalence")
    at = run(ingested_root, monkeypatch, "app_pages/population_health.py", snapshot=INGESTED, **params)
    assert not at.exception, [e.value for e in at.exception]
    assert str(at.session_state["_view"].snapshot) == INGESTED
    row = practice_row(at, "Forty Willows Surgery")
    # Fingertips 91547, 2023/24: 753 current smokers of 6,466 patients aged 15+ (then in Brent Central KWH PCN)
    assert (row["Numerator"], row["Denominator"]) == (753, 6466)
    assert row["Value (%)"] == f"{100 * 753 / 6466:.1f}%"  # as the HTML table shows it
    # The demo snapshot is unchanged, and its undated tree has the practice in its April 2024 PCN throughout.
    demo = run(ingested_root, monkeypatch, "app_pages/population_health.py", snapshot="2026-10-05",
               **{**params, "pcn": "U11559"})
    assert practice_row(demo, "Forty Willows Surgery")["Numerator"] != 753


def test_load_data_page_renders(ingested_root, monkeypatch):
    at = run(ingested_root, monkeypatch, "app_pages/load_data.py")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Load data"
    assert [s.value for s in at.selectbox if s.label == "Format"] == ["fingertips"]


def test_a_corrupt_file_does_not_take_the_dashboard_down(ingested_root, monkeypatch, tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for folder in ingested_root.glob("snapshot_date=*"):
        target = root / folder.name
        target.mkdir()
        for file in folder.iterdir():
            (target / file.name).write_bytes(file.read_bytes())
    broken = root / f"snapshot_date={INGESTED}" / "metric_values.parquet"
    broken.write_bytes(broken.read_bytes()[:1000])
    at = run(root, monkeypatch, borough="Harrow")
    assert not at.exception, [e.value for e in at.exception]
    assert any(str(broken) in w.value for w in at.warning)
    assert str(at.session_state["_view"].snapshot) == "2026-10-05"  # the newest readable snapshot is served


def test_a_corrupt_rollup_is_named_with_its_remedy_and_the_snapshot_still_served(ingested_root, monkeypatch, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(ingested_root, root)
    broken = root / f"snapshot_date={INGESTED}" / "area_values.parquet"
    broken.write_bytes(b"not parquet")
    at = run(root, monkeypatch, borough="Brent", period="2024-03", metric="smoking_prevalence")
    assert not at.exception, [e.value for e in at.exception]
    warning = next(w.value for w in at.warning if str(broken) in w.value)
    assert "python -m metrics rollups" in warning
    assert str(at.session_state["_view"].snapshot) == INGESTED  # served, its area sums made from practice rows
