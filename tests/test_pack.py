"""The HHaCE pack: its slides, small-number suppression, the command line, and rebuilding it exactly."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from metrics import pack
from metrics.__main__ import main
from metrics.catalogue import catalogue
from metrics.demo import generate_demo
from metrics.store import Store
from tests.conftest import TINY_ORGS

SNAP = "2026-10-05"
PACK_METRICS = ["cervical_screening_coverage", "emergency_admissions_65_plus", "reablement_at_home_91_days",
                "diabetes_8_care_processes", "talking_therapies_recovery", "flu_uptake_65_plus",
                "mmr1_24_months"]


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pack_demo")
    generate_demo(root, metric_ids=PACK_METRICS)
    return root


@pytest.fixture(scope="module")
def harrow(demo_root) -> tuple[bytes, pd.DataFrame]:
    """The Harrow pack for September 2026 as at 5 October 2026, and the scorecard it was built from."""
    store = Store(demo_root)
    return pack.build_pack(store, "harrow", "2026-09", SNAP), pack.gather(store, "Harrow", "2026-09", SNAP).card


def titles(pptx: bytes) -> list[str]:
    return [texts[0] for texts in pack.slide_texts(pptx)]


def chart_title(row) -> str:
    """A red metric's chart slide title: in-season seasonal metrics are behind last season, not off track."""
    behind = row["rag_basis"] == "same point last season"
    return f"{'Behind the same point last season' if behind else 'Off track'}: {row['metric']}"


CHART_PREFIXES = ("Off track:", "Behind the same point last season:")


def test_slides_in_order(harrow):
    pptx, card = harrow
    got = titles(pptx)
    priorities = [p.title for p in catalogue().priorities if p.id in set(card["priority"])]
    off_track = [chart_title(row) for _, row in card[card["rag"] == "red"].iterrows()]
    assert off_track, "the demo has off-track metrics in Harrow"
    assert got[0] == "Harrow Health & Care Executive"
    assert got[1:1 + len(priorities)] == priorities
    rest = got[1 + len(priorities):]
    assert rest[0] == "Exceptions for discussion"
    assert rest[rest.index("Since last meeting") - 1].startswith("Exceptions for discussion")
    assert [t for t in rest if t.startswith(CHART_PREFIXES)] == off_track
    assert rest[-1] == "Data quality and notes"


def test_scorecard_slides_show_every_metric_with_rag_and_trend(harrow):
    pptx, card = harrow
    slides = pack.slide_texts(pptx)
    table_text = [t for texts in slides[1:1 + card["priority"].nunique()] for t in texts]
    for header in ("Metric", "Value", "95% CI", "Target", "RAG", "Change", "vs NWL"):
        assert header in table_text
    for metric in card["metric"]:
        assert metric in table_text
    spc = "variation" in card and card["variation"].notna().any()
    assert ("Variation" in table_text) == spc, "SPC columns appear once the scorecard has them"


def test_chart_slides_have_wide_pictures_and_notes_with_definition_and_source(harrow):
    pptx, card = harrow
    off_track = card[card["rag"] == "red"]
    sizes = pack.picture_sizes(pptx)
    assert len(sizes) == len(off_track) and all(w >= 1600 for w, _ in sizes)
    notes = {texts[0]: texts[-1] for texts in pack.slide_texts(pptx) if texts[0].startswith(CHART_PREFIXES)}
    for _, row in off_track.iterrows():
        metric = catalogue().metric(row["metric_id"])
        note = notes[chart_title(row)]
        assert f"Definition: {metric.definition}" in note and f"Source: {metric.data_source}" in note


def test_a_september_flu_rating_says_it_is_against_last_season_everywhere(harrow):
    """September is in the flu season: the pack rates flu against the same point last season, says so in the RAG
    cell, never calls it off track against the 75% target, and the data-quality slide says the same."""
    pptx, card = harrow
    flu = card.set_index("metric_id").loc["flu_uptake_65_plus"]
    assert flu["period"] == "Sep 2026" and flu["rag_basis"] == "same point last season"
    slides = pack.slide_texts(pptx)
    cells = [t for texts in slides for t in texts]
    assert f"{pack.reports.RAG_LABELS[flu['rag']]} vs same point last season" in cells
    for texts in slides:
        words = " ".join(texts)
        if "Flu uptake 65+" in words and texts[0].startswith(CHART_PREFIXES):
            assert texts[0] == f"Behind the same point last season: {flu['metric']}" and flu["rag"] == "red"
            assert "RAG: Off track vs same point last season" in words
            assert "Target: 75.0% at season end (February); not judged against it yet" in words
        for i in [i for i, t in enumerate(texts) if t == flu["metric"]]:  # its table rows
            if texts[0] == "Vaccination" or texts[0].startswith("Vaccination ("):   # scorecard: RAG 5 cells on
                assert texts[i + 5] == f"{pack.reports.RAG_LABELS[flu['rag']]} vs same point last season"
            if texts[0].startswith("Exceptions for discussion"):              # exceptions: RAG just before
                assert texts[i - 1].endswith("vs same point last season")
        assert not any("75.0% target" in t or ("Flu" in t and "vs target" in t) for t in texts), texts[0]
    quality = " ".join(slides[-1])
    assert "judged against the same point last season, not against their end-of-season target" in quality


def test_data_quality_slide_says_what_the_pack_rests_on(harrow):
    pptx, _ = harrow
    text = " ".join(pack.slide_texts(pptx)[-1])
    assert f"snapshot {SNAP}" in text and "--snapshot 2026-10-05" in text
    assert "Published for boroughs only" in text and "At home 91 days after reablement" in text
    assert "2025/26: " in text  # annual metrics lag the month, and the slide says which period they show
    assert "Suppressed in this pack: none" in text


def _add_newer_snapshot(root: Path, day: str) -> None:
    """A later snapshot of the same periods with different numbers (every numerator revised down)."""
    source, target = root / f"snapshot_date={SNAP}", root / f"snapshot_date={day}"
    shutil.copytree(source, target)
    values = pd.read_parquet(target / "metric_values.parquet")
    values["numerator"] = (values["numerator"] * 0.8).round()
    values["value"] = values["numerator"] / values["denominator"]
    values.to_parquet(target / "metric_values.parquet", index=False)


def test_rebuilding_from_the_same_snapshot_gives_the_same_slides(demo_root, harrow, tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(demo_root, root)
    store = Store(root)
    _add_newer_snapshot(root, "2026-11-05")
    again = pack.build_pack(store, "Harrow", "2026-09", SNAP)
    assert pack.slide_texts(again) == pack.slide_texts(harrow[0])
    latest = pack.build_pack(store, "Harrow", "2026-09")  # defaults to the newest snapshot, whose numbers differ
    assert "Data as at 5 November 2026" in " ".join(pack.slide_texts(latest)[0])
    changed = [a for a, b in zip(pack.slide_texts(latest)[1], pack.slide_texts(again)[1]) if a != b]
    assert any("%" in cell for cell in changed), "the newer snapshot's values differ on the scorecard"


# --- Small numbers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Borough Two (one practice, P4) has 5 of 50 people vaccinated in September: a count to suppress (against 40
    of 50 in September 2025, the same point last season, which September is judged against)."""
    root = tmp_path_factory.mktemp("pack_small")
    folder = root / f"snapshot_date={SNAP}"
    folder.mkdir()
    TINY_ORGS.to_parquet(folder / "orgs.parquet", index=False)
    rows = []
    for month, counts in ((date(2025, 9, 1), {"P1": 70, "P2": 60, "P3": 120, "P4": 40}),
                          (date(2026, 8, 1), {"P1": 70, "P2": 60, "P3": 120, "P4": 30}),
                          (date(2026, 9, 1), {"P1": 80, "P2": 70, "P3": 130, "P4": 5})):
        end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
        for org, num in counts.items():
            den = 200 if org == "P3" else (50 if org == "P4" else 100)
            rows.append(("flu_uptake_65_plus", month, end, org, "all", "", float(num), float(den), 100 * num / den))
    pd.DataFrame(rows, columns=["metric_id", "period_start", "period_end", "org_code", "breakdown",
                                "breakdown_value", "numerator", "denominator", "value"]).to_parquet(
        folder / "metric_values.parquet", index=False)
    return root


def test_small_counts_are_suppressed_on_every_slide(small_root, monkeypatch):
    slides = pack.slide_texts(pack.build_pack(Store(small_root), "Borough Two", "2026-09"))
    text = [t for texts in slides for t in texts]
    assert "10.0%" not in " ".join(text), "5 of 50 would show as 10.0%"
    vaccination = next(texts for texts in slides if texts[0] == "Vaccination")
    row = vaccination[vaccination.index("Flu uptake 65+"):]
    assert row[2:4] == ["*", "*"], "value and CI are suppressed"
    assert row[6] == "*", "the change (from a shown August value) would give September back"
    chart = next(texts for texts in slides if texts[0] == "Behind the same point last season: Flu uptake 65+")
    assert "Sep 2026: *" in chart[3]
    assert "Suppressed in this pack: Flu uptake 65+ (Sep 2026)" in " ".join(slides[-1])


def test_unsuppressed_borough_shows_its_value(small_root, monkeypatch):
    slides = pack.slide_texts(pack.build_pack(Store(small_root), "B1", "2026-09"))  # by code: 280 of 400
    assert "70.0%" in [t for texts in slides for t in texts]


# --- Command line -------------------------------------------------------------------------------


def test_command_line_writes_the_pack(small_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ICP_DATA_ROOT", str(small_root))
    out = tmp_path / "b2.pptx"
    assert main(["pack", "--borough", "borough two", "--period", "2026-09", "--snapshot", SNAP,
                 "--out", str(out)]) == 0
    assert titles(out.read_bytes())[0] == "Borough Two Health & Care Executive"
    assert not list(tmp_path.glob("*.part"))
    assert "Wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--borough", "Nowhere", "--period", "2026-09"], "unknown borough 'Nowhere'; choose one of: Borough One"),
    (["--borough", "B1", "--period", "2026-9"], "must be a month as YYYY-MM"),
    (["--borough", "B1", "--period", "2026-09", "--snapshot", "2026-10-06"],
     "no snapshot 2026-10-06; held: 2026-10-05"),
    (["--borough", "B1", "--period", "2019-01"], "no data for Borough One by January 2019"),
])
def test_command_line_explains_bad_requests(small_root, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.setenv("ICP_DATA_ROOT", str(small_root))
    assert main(["pack", *args, "--out", str(tmp_path / "x.pptx")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.pptx").exists()


def test_since_last_meeting_slide_compares_with_the_snapshot_before(harrow):
    slide = next(texts for texts in pack.slide_texts(harrow[0]) if texts[0] == "Since last meeting")
    text = " ".join(slide)
    assert "August 2026 as at 5 September 2026 against September 2026 as at 5 October 2026" in text
    assert "New data:" in text
