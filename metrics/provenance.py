"""Where a snapshot's values came from, and whether any of them are synthetic.

Every snapshot writer records it in the snapshot's ``manifest.json``: the demo generators say they are synthetic
(generator and seed), an ingest lists each file (name and SHA-256) or API request (URL, time, SHA-256) it loaded.
A snapshot that carries rows over from a synthetic one is synthetic too, however real the rows it added: the
marks on screen and on everything exported follow this, so a synthetic figure can never pass for a real one.
Snapshots written before manifests existed (the first demo data roots) have none and are taken as synthetic,
because only the demo generator wrote snapshots without one.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from metrics import layout
from metrics.layout import MANIFEST_FILE

SYNTHETIC_LABEL = "Synthetic demo data"
SYNTHETIC_NOTE = "SYNTHETIC DEMO DATA: not real NHS figures."
GENERATOR = "metrics.demo"  # the manifest's generator for the built-in demo
MAX_BASES = 400  # a lineage longer than this is a loop in hand-edited manifests


class Provenance(BaseModel):
    """One snapshot's sources, in words, and whether any value in it is synthetic."""

    model_config = ConfigDict(frozen=True)

    snapshot: date
    synthetic: bool
    sources: tuple[str, ...]
    base_snapshot: date | None = None  # the snapshot this one carried rows over from


def demo_manifest(generator: str, seed: int, **extra: Any) -> dict[str, Any]:
    """What a synthetic snapshot's manifest says about it (the demo and England-scale generators)."""
    return {"synthetic": True, "generator": generator, "seed": seed, **extra}


def read_manifest(root: layout.Root, snapshot: date) -> dict[str, Any] | None:
    """The snapshot's manifest, or None when it has none (or it cannot be read as JSON)."""
    files = layout.storage(root)
    path = files.join(layout.snapshot_folder(files, snapshot), MANIFEST_FILE)
    try:
        return json.loads(files.read_bytes(path).decode("utf-8")) if files.exists(path) else None
    except (OSError, ValueError):
        return None


def _sources(manifest: dict[str, Any] | None) -> tuple[str, ...]:
    if manifest is None:
        return ("the synthetic demo generator (written before manifests were kept)",)
    if manifest.get("synthetic"):
        return (f"the synthetic demo generator {manifest.get('generator', GENERATOR)} "
                f"(seed {manifest.get('seed', 'unknown')})",)
    described = []
    for entry in manifest.get("files", []):
        where = entry.get("url") or entry.get("name", "a file")
        digest = entry.get("sha256")
        described.append(f"{where}" + (f" (SHA-256 {digest[:12]}...)" if digest else ""))
    return tuple(described) or ("a load with no files recorded",)


def provenance(root: layout.Root, snapshot: date) -> Provenance:
    """The snapshot's provenance, following the rows it carried over back to where they came from."""
    manifest = read_manifest(root, snapshot)
    base = manifest.get("base_snapshot") if manifest else None
    base_day = date.fromisoformat(base) if base else None
    synthetic = manifest is None or bool(manifest.get("synthetic"))
    seen, day = {snapshot}, base_day
    while not synthetic and day is not None and day not in seen and len(seen) < MAX_BASES:
        seen.add(day)
        earlier = read_manifest(root, day)
        synthetic = earlier is None or bool(earlier.get("synthetic"))
        later = earlier.get("base_snapshot") if earlier else None
        day = date.fromisoformat(later) if later else None
    return Provenance(snapshot=snapshot, synthetic=synthetic, sources=_sources(manifest), base_snapshot=base_day)
