"""Shared fixtures: a tiny hand-made store whose sums can be checked by eye."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

SNAP_OLD, SNAP_NEW = date(2026, 9, 5), date(2026, 10, 5)

TINY_ORGS = pd.DataFrame([
    # org_code, org_name, org_type, parent, ics, borough, pcn, list_size
    ("Q1", "Test ICS", "ics", None, "Q1", None, None, 4000),
    ("B1", "Borough One", "borough", "Q1", "Q1", "B1", None, 3000),
    ("B2", "Borough Two", "borough", "Q1", "Q1", "B2", None, 1000),
    ("N1", "PCN One", "pcn", "B1", "Q1", "B1", "N1", 2000),
    ("N2", "PCN Two", "pcn", "B1", "Q1", "B1", "N2", 1000),
    ("N3", "PCN Three", "pcn", "B2", "Q1", "B2", "N3", 1000),
    ("P1", "Practice One", "practice", "N1", "Q1", "B1", "N1", 1000),
    ("P2", "Practice Two", "practice", "N1", "Q1", "B1", "N1", 1000),
    ("P3", "Practice Three", "practice", "N2", "Q1", "B1", "N2", 1000),
    ("P4", "Practice Four", "practice", "N3", "Q1", "B2", "N3", 1000),
], columns=["org_code", "org_name", "org_type", "parent_code", "ics_code", "borough_code", "pcn_code",
            "list_size"]).assign(imd_score=20.0, imd_decile=5)


def _values(snapshot: date) -> pd.DataFrame:
    """Practice-level flu uptake for two months plus a borough-level metric; revised in the new snapshot."""
    revised = 1 if snapshot == SNAP_NEW else 0
    rows = []
    for month, base in ((date(2026, 8, 1), 0), (date(2026, 9, 1), 10)):
        end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
        for org, num, den in (("P1", 80, 100), ("P2", 10, 100), ("P3", 50, 200), ("P4", 30, 50)):
            rows.append(("flu_uptake_65_plus", month, end, org, "all", "", num + base + revised, den))
        for org, num, den in (("B1", 800, 1000), ("B2", 450, 500)):
            rows.append(("discharged_usual_residence", month, end, org, "all", "", num, den))
    for org, sex, num, den in (("P1", "Female", 60, 60), ("P1", "Male", 30, 40), ("P4", "Female", 10, 25)):
        rows.append(("flu_uptake_65_plus", date(2026, 8, 1), date(2026, 8, 31), org, "sex", sex, num, den))
    frame = pd.DataFrame(rows, columns=["metric_id", "period_start", "period_end", "org_code", "breakdown",
                                        "breakdown_value", "numerator", "denominator"])
    frame[["numerator", "denominator"]] = frame[["numerator", "denominator"]].astype(float)
    frame["value"] = 100 * frame["numerator"] / frame["denominator"]
    return frame


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny_store")
    for snap in (SNAP_OLD, SNAP_NEW):
        folder = root / f"snapshot_date={snap.isoformat()}"
        folder.mkdir()
        TINY_ORGS.to_parquet(folder / "orgs.parquet", index=False)
        _values(snap).to_parquet(folder / "metric_values.parquet", index=False)
    return root


@pytest.fixture(scope="session")
def tiny_rollup_root(tiny_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny store with its area roll-ups, as every snapshot writer now leaves it."""
    from metrics import store

    root = tmp_path_factory.mktemp("tiny_rollup") / "data"
    shutil.copytree(tiny_root, root)
    assert set(store.build_missing_rollups(root)) == {f"snapshot_date={s}" for s in (SNAP_OLD, SNAP_NEW)}
    return root
