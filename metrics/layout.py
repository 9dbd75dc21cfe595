"""The snapshot layout: folder and file names under a data root, and which snapshots are complete and readable.

One module knows the layout, so the store that reads it, the ingest writer and the demo generators that write
it, and the benchmark cannot drift apart::

    <root>/snapshot_date=2026-10-05/metric_values.parquet   the values (hive partition: snapshot_date)
    <root>/snapshot_date=2026-10-05/orgs.parquet            the hierarchy as at that snapshot
    <root>/snapshot_date=2026-10-05/area_values.parquet     the area roll-up (derived, written with it)
    <root>/snapshot_date=2026-10-05/list_sizes.parquet      registered list sizes (ingest only)
    <root>/snapshot_date=2026-10-05/manifest.json           what went in (ingest only)

Writers stage files with ``STAGED_SUFFIX`` and rename them into place: DuckDB's ``**`` glob walks hidden folders
too, so a staged file must not end in ``.parquet``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

SNAPSHOT_PREFIX = "snapshot_date="
METRIC_VALUES_FILE = "metric_values.parquet"
ORGS_FILE = "orgs.parquet"
ROLLUP_FILE = "area_values.parquet"
LIST_SIZES_FILE = "list_sizes.parquet"
MANIFEST_FILE = "manifest.json"
STAGED_SUFFIX = ".part"
# The tables the store serves, each read from every ``<table>*.parquet`` under the root.
TABLE_FILES = {"metric_values": METRIC_VALUES_FILE, "orgs": ORGS_FILE, "area_values": ROLLUP_FILE}


def snapshot_folder(root: Path | str, snapshot: date) -> Path:
    """The folder of one snapshot."""
    return Path(root) / f"{SNAPSHOT_PREFIX}{snapshot.isoformat()}"


def snapshot_date(folder: Path) -> date | None:
    """The snapshot date a folder is named for, or None when the name is not a snapshot's."""
    if not folder.name.startswith(SNAPSHOT_PREFIX):
        return None
    try:
        return date.fromisoformat(folder.name.removeprefix(SNAPSHOT_PREFIX))
    except ValueError:
        return None


def snapshot_folders(root: Path | str) -> list[tuple[date, Path]]:
    """Every snapshot folder holding a values file, oldest first (readable or not: see ``readable_snapshots``)."""
    found = []
    for folder in Path(root).glob(f"{SNAPSHOT_PREFIX}*"):
        day = snapshot_date(folder)
        if day is not None and (folder / METRIC_VALUES_FILE).exists():
            found.append((day, folder))
    return sorted(found)


def parquet_files(root: Path | str) -> dict[str, list[Path]]:
    """Every file each table's ``<root>/**/<table>*.parquet`` glob matches (hidden folders included, as DuckDB)."""
    return {table: sorted(Path(root).rglob(f"{table}*.parquet")) for table in TABLE_FILES}


def footer(path: Path) -> pq.FileMetaData | str:
    """A parquet file's footer, or why it cannot be read (truncated, corrupt, empty, missing)."""
    try:
        file = pq.ParquetFile(path)
        file.schema_arrow  # noqa: B018 - reading footer and schema is the check
        return file.metadata
    except Exception as exc:  # noqa: BLE001 - any failure means the file is left out
        return f"{type(exc).__name__}: {exc}"


def readable(path: Path) -> bool:
    return not isinstance(footer(path), str)


def readable_snapshots(root: Path | str) -> list[tuple[date, Path]]:
    """Complete snapshots (values and orgs both readable), oldest first: what a new snapshot may build on."""
    return [(day, folder) for day, folder in snapshot_folders(root)
            if readable(folder / METRIC_VALUES_FILE) and readable(folder / ORGS_FILE)]
