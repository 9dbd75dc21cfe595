"""Provenance: where a snapshot's values came from, and the synthetic mark that follows them everywhere."""

from __future__ import annotations

import json

from metrics import exports, pack
from metrics.areas import Area
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
    root = make_root(tmp_path, synthetic=True)
    folder = root / f"snapshot_date={BASE_SNAPSHOT.isoformat()}"
    (folder / "manifest.json").write_text(json.dumps(demo_manifest("metrics.demo", 7)))
    found = provenance(root, BASE_SNAPSHOT)
    assert found.synthetic and found.sources == ("the synthetic demo generator metrics.demo (seed 7)",)


def test_real_files_loaded_on_the_demo_start_a_real_only_lineage(tmp_path):
    root = make_root(tmp_path, synthetic=True)
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert result.base is None and result.synthetic_left_out == BASE_SNAPSHOT
    assert result.rows == result.new_rows == 5  # the file's five rows only: nothing synthetic carried over
    assert "starts a real-data lineage" in result.summary()
    found = provenance(root, result.snapshot)
    assert not found.synthetic and found.sources[0].startswith(TIDY) and "SHA-256" in found.sources[0]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["synthetic_snapshot_left_out"] == BASE_SNAPSHOT.isoformat()
    assert provenance(root, BASE_SNAPSHOT).synthetic  # the demo snapshot stays as it was


def test_a_snapshot_that_carried_synthetic_rows_over_is_synthetic(tmp_path):
    """Snapshots written before real-only lineages (an ingest on top of the demo) keep their mark."""
    root = make_root(tmp_path, synthetic=True)
    later = root / f"snapshot_date={NEW_SNAPSHOT.isoformat()}"
    later.mkdir()
    (later / "manifest.json").write_text(json.dumps({"files": [{"name": TIDY}],
                                                     "base_snapshot": BASE_SNAPSHOT.isoformat()}))
    assert provenance(root, NEW_SNAPSHOT).synthetic


def test_a_lineage_of_real_loads_carries_rows_over_and_is_real(tmp_path):
    root = make_root(tmp_path)
    result, _ = commit(load(root, "tidy", source(TIDY)), root)
    assert result.base == BASE_SNAPSHOT and result.synthetic_left_out is None and result.rows > 5
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


def _b1() -> Area:
    return Area("B1", "Borough One", "borough")

