"""Shared helpers for the ingest tests: the real-file fixtures, a small data root, and a one-call load."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from metrics.catalogue import catalogue
from metrics.hierarchy import build_orgs
from metrics.ingest.common import Context
from metrics.ingest.load import Prepared, Source, prepare
from metrics.ingest.model import LoadOptions

FIXTURES = Path(__file__).resolve().parent / "data" / "ingest"
BASE_SNAPSHOT, NEW_SNAPSHOT = date(2026, 10, 5), date(2026, 11, 1)
SMOKING = "fingertips_91547_smoking_cut.csv"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_text(name: str) -> str:
    return fixture_bytes(name).decode("utf-8-sig")


def source(name: str, text: str | None = None) -> Source:
    """A fixture as an input file, optionally with its text changed (for bad-input tests)."""
    return Source(name, fixture_bytes(name) if text is None else text.encode("utf-8"))


@lru_cache(maxsize=1)
def dated_orgs() -> pd.DataFrame:
    return build_orgs(dated=True)


def context(fmt: str = "fingertips", **options) -> Context:
    return Context(catalogue(), dated_orgs().copy(), LoadOptions(format=fmt, snapshot=NEW_SNAPSHOT, **options))


def base_rows() -> pd.DataFrame:
    """A few values in the base snapshot: smoking 2022/23 for E84002 (to be revised) and E84003, flu for E84002."""
    rows = [
        ("smoking_prevalence", date(2022, 4, 1), date(2023, 3, 31), "E84002", "all", "", 700.0, 6300.0),
        ("smoking_prevalence", date(2021, 4, 1), date(2022, 3, 31), "E84003", "all", "", 1000.0, 11000.0),
        ("flu_uptake_65_plus", date(2026, 9, 1), date(2026, 9, 30), "E84002", "all", "", 80.0, 100.0),
    ]
    frame = pd.DataFrame(rows, columns=["metric_id", "period_start", "period_end", "org_code", "breakdown",
                                        "breakdown_value", "numerator", "denominator"])
    return frame.assign(value=100 * frame["numerator"] / frame["denominator"])


def make_root(root: Path, synthetic: bool = False) -> Path:
    """A data root holding one small snapshot (undated April 2024 tree) of real data, as a load of a real file
    would have left it (its manifest names the file), or of synthetic demo data (no manifest, as the first demo
    data roots were)."""
    folder = root / f"snapshot_date={BASE_SNAPSHOT.isoformat()}"
    folder.mkdir(parents=True)
    build_orgs().to_parquet(folder / "orgs.parquet", index=False)
    base_rows().to_parquet(folder / "metric_values.parquet", index=False)
    if not synthetic:
        (folder / "manifest.json").write_text(json.dumps({"files": [{"name": "base_extract.csv", "sha256": "0" * 64}],
                                                          "hierarchy": "undated"}))
    return root


def load(root: Path, fmt: str, *sources: Source, **options) -> Prepared:
    return prepare(LoadOptions(format=fmt, snapshot=options.pop("snapshot", NEW_SNAPSHOT), **options),
                   list(sources), root)


def messages(prepared: Prepared) -> list[str]:
    return [str(p) for o in prepared.outcomes for p in o.parsed.problems]
