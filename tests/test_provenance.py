"""Provenance: where a snapshot's values came from, and the synthetic mark that follows them everywhere."""

from __future__ import annotations

import json
from metrics import exports, pack
from metrics.ingest.load import commit
from metrics.provenance import SYNTHETIC_NOTE, demo_manifest, provenance
from metrics.store import Store
from tests.conftest import SNAP_NEW
from tests.ingest_fixtures import BASE_SNAPSHOT, NEW_SNAPSHOT, load, make_root, source

TIDY = "tidy_smoking_example.csv"


def test_a_snapshot_without_a_manifest_is_the_old_demo_and_synthetic(tiny_root):
    found = provenance(tiny_root, SNAP_NEW)
    assert found.synthetic and "demo generator" in found.sources[0]


def test_a_manifest_that_says_synthetic_is(tmp_path):
    root = make_root(tmp_path)
    folder = root / f"snapshot_date={BASE_SNAPSHOT.isoformat()}"
    (folder / "manifest.json").write_text(json.dumps(demo_manifest("metrics.demo", 7)))
    found = provenance(root, BASE_SNAPSHOT)
    assert found.synthetic and found.sources == ("the synthetic demo generator metrics.demo (seed 7)",)


def test_real_rows_loaded_on_top_of_synthetic_ones_are_marked_synthetic(tmp_path):
    root = make_root(tmp_path)  # a demo-style snapshot with no manifest
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    found = provenance(root, result.snapshot)
    assert found.base_snapshot == BASE_SNAPSHOT and found.synthetic
    assert found.sources[0].startswith(TIDY) and "SHA-256" in found.sources[0]


def test_a_lineage_of_real_loads_is_real(tmp_path):
    root = make_root(tmp_path)
    base = root / f"snapshot_date={BASE_SNAPSHOT.isoformat()}"
    (base / "manifest.json").write_text(json.dumps({"files": [{"name": "real.csv", "sha256": "ab" * 32}]}))
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert result.snapshot == NEW_SNAPSHOT and not provenance(root, result.snapshot).synthetic


def test_exports_and_packs_of_synthetic_data_say_so(tiny_root):
    store = Store(tiny_root)
    spec = exports.studio_figure(store, "trend", "flu_uptake_65_plus", _b1(), "2026-08", "2026-09", SNAP_NEW)
    assert spec.synthetic
    meta = exports.ChartMeta.of(spec)
    assert exports.footnote(meta).startswith(SYNTHETIC_NOTE)
    assert exports.title_rows(meta)[0] == ["Data", SYNTHETIC_NOTE]
    assert SYNTHETIC_NOTE in exports.to_csv(spec).decode("utf-8-sig")
    real = exports.ChartMeta.of(spec.__class__(**{**spec.__dict__, "synthetic": False}))
    assert SYNTHETIC_NOTE not in exports.footnote(real) and all(row[0] != "Data" for row in exports.title_rows(real))
    slides = pack.slide_texts(pack.build_pack(store, "B1", "2026-09", SNAP_NEW))
    assert SYNTHETIC_NOTE in slides[0] and all(any(SYNTHETIC_NOTE in t for t in texts) for texts in slides[1:])


def _b1():
    from metrics.areas import Area

    return Area("B1", "Borough One", "borough")

