"""Writing a new snapshot so that nothing already loaded is ever changed or lost.

A new snapshot is a complete extract "as known on that date": it starts as a copy of the newest readable
snapshot (metric values, list sizes, hierarchy), and the loaded rows replace rows with the same (metric, period,
organisation, breakdown) key or are added. Older snapshots are never touched.

On local disk it is built in a staging folder beside the data root (same file system, outside every ``<root>/**`` glob),
checked by reading every file back, and moved into place with one ``rename``: until that rename nobody can see
it, and after it the snapshot is complete. If the data root is a mount point (no sibling folder on the same file
system), staging happens in a hidden folder inside the root with files named ``*.part`` -- DuckDB's ``**`` glob
walks hidden folders, so staged files must not end in ``.parquet`` -- and ``metric_values.parquet`` is renamed
last, so the snapshot only exists once it is whole. Killing the process at any step leaves the previous data as
it was; a later run removes the dead run's staging folder.

For tests, ``TEST_HOOKS`` can make the writer print ``INGEST PAUSED AT <step>`` and sleep at that step (steps:
``staging``, ``metric_values``, ``orgs``, ``verified``, ``published-folder``; on object storage ``uploaded``, after
every file and before the marker) or force the in-root staging used when
the root is a mount point; the command line sets them from ``ICP_INGEST_PAUSE_AT``, ``ICP_INGEST_PAUSE_SECONDS``
and ``ICP_INGEST_STAGE_IN_ROOT=1``, so a test can kill a real ingest process midway.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from metrics import layout
from metrics.hierarchy import ORG_COLUMNS, build_orgs
from metrics.layout import LIST_SIZES_FILE as LIST_SIZES
from metrics.layout import MANIFEST_FILE as MANIFEST
from metrics.layout import METRIC_VALUES_FILE as METRIC_VALUES
from metrics.layout import ORGS_FILE as ORGS
from metrics.layout import ROLLUP_FILE
from metrics.layout import STAGED_SUFFIX as PART
from metrics.provenance import provenance
from metrics.store import write_rollup

PAUSE_ENV, PAUSE_SECONDS_ENV = "ICP_INGEST_PAUSE_AT", "ICP_INGEST_PAUSE_SECONDS"
STAGE_IN_ROOT_ENV = "ICP_INGEST_STAGE_IN_ROOT"
TEST_HOOKS: dict[str, object] = {"pause_at": None, "pause_seconds": 3600.0, "stage_in_root": False}


def set_test_hooks(environ: dict[str, str]) -> None:
    """The test hooks from an environment (the command line passes its own)."""
    TEST_HOOKS.update(pause_at=environ.get(PAUSE_ENV), pause_seconds=float(environ.get(PAUSE_SECONDS_ENV, "3600")),
                      stage_in_root=environ.get(STAGE_IN_ROOT_ENV) == "1")
KEY = ("metric_id", "period_start", "period_end", "org_code", "breakdown", "breakdown_value")
LIST_KEY = ("org_code", "extract_date", "sex", "age_band")
METRIC_SCHEMA = pa.schema([
    ("metric_id", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32()),
    ("org_code", pa.string()), ("breakdown", pa.string()), ("breakdown_value", pa.string()),
    ("numerator", pa.float64()), ("denominator", pa.float64()), ("value", pa.float64()), ("suppressed", pa.bool_()),
])
LIST_SCHEMA = pa.schema([
    ("org_code", pa.string()), ("extract_date", pa.date32()), ("sex", pa.string()), ("age_band", pa.string()),
    ("patients", pa.float64()), ("suppressed", pa.bool_()),
])


class SnapshotError(RuntimeError):
    """The snapshot cannot be written as asked (it exists, or is not newer than the newest one)."""


@dataclass(frozen=True)
class WriteResult:
    snapshot: date
    path: Path | str  # the snapshot's folder: a Path on local disk, a URL on object storage
    base: date | None
    rows: int
    new_rows: int
    revised_rows: int
    synthetic_left_out: date | None = None  # the newest snapshot, not carried over because it is synthetic

    def summary(self) -> str:
        """What the snapshot holds, as the command line and the Load data page both report it."""
        text = (f"{self.rows:,} rows ({self.new_rows:,} new, {self.revised_rows:,} revised, the rest carried over "
                f"from {self.base or 'nothing'})")
        if self.synthetic_left_out:
            text += (f". The newest snapshot before it ({self.synthetic_left_out}) holds synthetic demo data, so "
                     "nothing was carried over from it: this snapshot starts a real-data lineage and holds only "
                     "real rows; the demo snapshots stay as they were, marked synthetic")
        return text


def snapshots(root: layout.Root) -> list[tuple[date, str]]:
    """Complete, readable snapshots under the root, oldest first."""
    return layout.readable_snapshots(root)


def base_snapshot(root: layout.Root) -> tuple[date, str] | None:
    found = snapshots(root)
    return found[-1] if found else None


def real_base_snapshot(root: layout.Root) -> tuple[date, str] | None:
    """The newest snapshot holding real data only: what a new snapshot carries rows over from. Real rows never
    join synthetic ones in a snapshot, so loading real files on top of the demo starts a real-data lineage."""
    for day, folder in reversed(snapshots(root)):
        if not provenance(root, day).synthetic:
            return day, folder
    return None


def base_orgs(root: layout.Root) -> pd.DataFrame:
    """The hierarchy a new snapshot starts from: the newest snapshot's, if it was written by ingest (and so is
    dated), else the dated reference hierarchy (e.g. on top of the demo, whose tree is undated)."""
    files = layout.storage(root)
    base = base_snapshot(files)
    manifest_path = files.join(base[1], MANIFEST) if base is not None else None
    if manifest_path is not None and files.exists(manifest_path):
        manifest = json.loads(files.read_bytes(manifest_path).decode("utf-8"))
        if manifest.get("hierarchy") == "dated":
            return _read_frame(files, files.join(base[1], ORGS))[ORG_COLUMNS]
    return _reference_orgs().copy()


def _read_frame(files: layout.Storage, path: str) -> pd.DataFrame:
    if files.local:
        return pd.read_parquet(path)
    with files.open(path) as handle:
        return pd.read_parquet(handle)


@lru_cache(maxsize=1)
def _reference_orgs() -> pd.DataFrame:
    """The dated reference hierarchy (the reference files do not change while a process runs)."""
    return build_orgs(dated=True)


def _pause(step: str) -> None:
    """Test hook: stop at a named step so a test can kill the process there."""
    if TEST_HOOKS["pause_at"] == step:
        print(f"INGEST PAUSED AT {step}", flush=True)
        sys.stdout.flush()
        time.sleep(float(TEST_HOOKS["pause_seconds"]))


def _staging_prefix(root: Path) -> str:
    return f".{root.name}.ingest-"


def _remove_dead_staging(root: Path) -> None:
    """Staging folders left by a killed run (their process is gone) are removed."""
    for parent in (root.parent, root):
        for path in parent.glob(f"{_staging_prefix(root)}*"):
            try:
                pid = int(path.name[len(_staging_prefix(root)):].split("-", 1)[0])
            except ValueError:
                continue
            if pid != os.getpid() and not layout.pid_alive(pid):
                shutil.rmtree(path, ignore_errors=True)


def _staging_dir(files: layout.Storage) -> tuple[Path, bool]:
    """(staging folder, inside_root). Beside the root when that is the same file system and writable; for object
    storage, a local temporary folder (uploaded when finished)."""
    if not files.local:
        return Path(tempfile.mkdtemp(prefix="icp-ingest-")), False
    root = Path(files.root)
    parent = root.parent
    try:
        beside = os.stat(parent).st_dev == os.stat(root).st_dev and os.access(parent, os.W_OK)
    except OSError:
        beside = False
    if TEST_HOOKS["stage_in_root"]:  # test hook: exercise the mount-point path
        beside = False
    where = parent if beside else root
    return Path(tempfile.mkdtemp(prefix=f"{_staging_prefix(root)}{os.getpid()}-", dir=where)), not beside


def _sql_path(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, path: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_path(path)})").fetchall()}


def _merge(con: duckdb.DuckDBPyConnection, base: str | None, new: pa.Table, key: tuple[str, ...],
           schema: pa.Schema, out: Path, order: str) -> tuple[int, int]:
    """Write base rows not replaced plus the new rows to ``out``; returns (rows written, rows revised)."""
    con.register("new_rows", new)
    names = ", ".join(schema.names)
    selects = [f"SELECT {names} FROM new_rows"]
    revised = 0
    if base is not None:
        have = _columns(con, base)
        cols = ", ".join(n if n in have else f"false AS {n}" if n == "suppressed" else f"NULL AS {n}"
                         for n in schema.names)
        base_rows = f"(SELECT {cols} FROM read_parquet({_sql_path(base)}))"
        using = ", ".join(key)
        revised = con.execute(f"SELECT count(*) FROM new_rows SEMI JOIN {base_rows} b USING ({using})").fetchall()[0][0]
        selects.insert(0, f"SELECT b.* FROM {base_rows} b ANTI JOIN new_rows USING ({using})")
    query = " UNION ALL BY NAME ".join(selects)
    con.execute(f"COPY (SELECT {names} FROM ({query}) ORDER BY {order}) TO {_sql_path(out)} "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)").fetchall()
    con.unregister("new_rows")
    rows = con.execute(f"SELECT count(*) FROM read_parquet({_sql_path(out)})").fetchall()[0][0]
    return rows, revised


def metric_table(rows: pd.DataFrame) -> pa.Table:
    frame = rows.reindex(columns=METRIC_SCHEMA.names)
    frame["breakdown_value"] = frame["breakdown_value"].fillna("")
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    for col in ("numerator", "denominator", "value"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    return pa.Table.from_pandas(frame, schema=METRIC_SCHEMA, preserve_index=False)


def list_table(rows: pd.DataFrame) -> pa.Table:
    frame = rows.reindex(columns=LIST_SCHEMA.names)
    frame["patients"] = pd.to_numeric(frame["patients"], errors="coerce").astype(float)
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    return pa.Table.from_pandas(frame, schema=LIST_SCHEMA, preserve_index=False)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _check_new_snapshot(files: layout.Storage, snapshot: date) -> None:
    target = layout.snapshot_folder(files, snapshot)
    if files.local and Path(target).exists():
        if (Path(target) / METRIC_VALUES).exists():
            raise SnapshotError(f"snapshot {snapshot} already exists under {files.root}; snapshots are never "
                                "overwritten (choose a later date)")
        shutil.rmtree(target)  # a folder without metric values is a killed in-root publish: never visible
    if not files.local:
        listed = layout.listing(files)
        if any(day == snapshot for day, _ in listed.snapshot_folders()):
            raise SnapshotError(f"snapshot {snapshot} already exists under {files.root}; snapshots are never "
                                "overwritten (choose a later date)")
        if target in listed.unpublished_folders():  # abandoned ones were removed before this check
            raise SnapshotError(f"another ingest is writing snapshot {snapshot} under {files.root} "
                                f"({layout.read_claim(files, target)}); try again when it has finished")
    newest = base_snapshot(files)
    if newest is not None and snapshot <= newest[0]:
        raise SnapshotError(f"snapshot {snapshot} is not after the newest snapshot {newest[0]}; a snapshot is the "
                            "data as known on its date, so a new one must be dated after the newest")


def _prepare_root(files: layout.Storage) -> None:
    """Make the root if it is a new local folder, and clear up what killed writers left."""
    if files.local:
        Path(files.root).mkdir(parents=True, exist_ok=True)
        _remove_dead_staging(Path(files.root))
    else:
        layout.remove_abandoned(files)


def write_snapshot(root: layout.Root, snapshot: date, metric_rows: pd.DataFrame | None, orgs: pd.DataFrame,
                   list_sizes: pd.DataFrame | None, manifest: dict) -> WriteResult:
    """Write snapshot ``snapshot`` = newest snapshot + these rows, atomically (see the module docstring)."""
    files = layout.storage(root)
    _prepare_root(files)
    _check_new_snapshot(files, snapshot)
    newest, base = base_snapshot(files), real_base_snapshot(files)
    left_out = newest[0] if newest is not None and newest != base else None
    staging, inside_root = _staging_dir(files)
    suffix = PART if inside_root else ""
    staged = Path(layout.snapshot_folder(str(staging), snapshot))
    staged.mkdir()
    try:
        _pause("staging")
        con = duckdb.connect()
        files.attach(con)
        new = metric_table(metric_rows if metric_rows is not None else pd.DataFrame(columns=METRIC_SCHEMA.names))
        rows, revised = _merge(con, _base_file(files, base, METRIC_VALUES), new, KEY, METRIC_SCHEMA,
                               staged / f"{METRIC_VALUES}{suffix}", "metric_id, breakdown, org_code, period_start, "
                                                                    "breakdown_value")
        _pause("metric_values")
        orgs_path = staged / f"{ORGS}{suffix}"
        pq.write_table(pa.Table.from_pandas(orgs[ORG_COLUMNS], preserve_index=False), orgs_path, compression="zstd")
        _pause("orgs")
        write_rollup(staged / f"{METRIC_VALUES}{suffix}", orgs_path, staged / f"{ROLLUP_FILE}{suffix}")
        base_lists = _base_file(files, base, LIST_SIZES)
        if list_sizes is not None or base_lists is not None:
            lists = list_table(list_sizes if list_sizes is not None else pd.DataFrame(columns=LIST_SCHEMA.names))
            _merge(con, base_lists, lists, LIST_KEY, LIST_SCHEMA, staged / f"{LIST_SIZES}{suffix}",
                   "org_code, extract_date, sex, age_band")
        con.close()
        summary = {**manifest, "snapshot": snapshot.isoformat(), "base_snapshot": base[0].isoformat() if base else None,
                   "synthetic_snapshot_left_out": left_out.isoformat() if left_out else None,
                   "hierarchy": "dated", "rows": rows, "new_rows": new.num_rows - revised, "revised_rows": revised}
        (staged / MANIFEST).write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
        _verify(staged, suffix, rows, len(orgs))
        _pause("verified")
        target = _publish_to(files, staged, snapshot, suffix)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WriteResult(snapshot, target, base[0] if base else None, rows, new.num_rows - revised, revised, left_out)


def _base_file(files: layout.Storage, base: tuple[date, str] | None, name: str) -> str | None:
    """One of the base snapshot's files, if it has it."""
    if base is None:
        return None
    path = files.join(base[1], name)
    return path if files.exists(path) else None


def _publish_to(files: layout.Storage, staged: Path, snapshot: date, suffix: str) -> Path | str:
    """Local disk: renames; object storage: upload under a claim, ``_COMPLETE`` last. Returns the folder."""
    if files.local:
        target = Path(layout.snapshot_folder(files, snapshot))
        _publish(staged, target, suffix)
        return target
    return layout.publish(files, staged, snapshot, after_upload=lambda: _pause("uploaded"))


def _verify(staged: Path, suffix: str, rows: int, orgs: int) -> None:
    """Read every staged file back in full before it can be published."""
    for path in staged.iterdir():
        if path.name.endswith(f".parquet{suffix}"):
            pq.read_table(path)  # raises on any corrupt page
            _fsync(path)
    if pq.ParquetFile(staged / f"{METRIC_VALUES}{suffix}").metadata.num_rows != rows:
        raise SnapshotError("staged metric values did not read back whole; nothing was published")
    if pq.ParquetFile(staged / f"{ORGS}{suffix}").metadata.num_rows != orgs:
        raise SnapshotError("staged orgs did not read back whole; nothing was published")


def _publish(staged: Path, target: Path, suffix: str) -> None:
    """One rename of the finished folder; inside the root, then the .part files with metric values last."""
    os.rename(staged, target)
    if not suffix:
        return
    _pause("published-folder")
    parts = sorted(target.glob(f"*{suffix}"), key=lambda p: p.name.startswith("metric_values"))
    for part in parts:
        os.rename(part, target / part.name[: -len(suffix)])
