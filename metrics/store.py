"""The store: every query the dashboard runs, through DuckDB over hive-partitioned parquet.

One connection per process (``st.cache_resource``); each query takes a fresh ``cursor()`` because a
DuckDB connection is not thread-safe and Streamlit serves sessions on threads. Results are cached
with ``st.cache_data`` keyed by the snapshot (snapshots are immutable), with bounded ``max_entries``.
SQL is always parameterised; the only interpolated fragment is an aggregation column chosen from a
fixed whitelist. Aggregation up the hierarchy sums numerators and denominators, never rates.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from metrics.catalogue import Level

QUERY_CACHE_ENTRIES = 512
# The orgs column holding each org's ancestor at the level an area is aggregated to.
_LEVEL_COLUMN: dict[str, str] = {
    "practice": "o.org_code",
    "pcn": "o.pcn_code",
    "borough": "o.borough_code",
    "place": "o.place_code",  # a group of boroughs (data/reference/places.csv), e.g. the Bi-borough
    "ics": "o.ics_code",
}


class NoDataError(RuntimeError):
    """The data root holds no snapshots yet."""


def parquet_glob(root: Path | str, table: str) -> str:
    return str(Path(root) / "**" / f"{table}*.parquet")


def snapshot_dirs(root: Path | str) -> list[Path]:
    return sorted(p for p in Path(root).glob("snapshot_date=*") if (p / "metric_values.parquet").exists())


TABLES = ("metric_values", "orgs")
# Columns older files may lack, and what their absence means (no validity dates = always valid).
_DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "orgs": {"valid_from": "NULL::DATE", "valid_to": "NULL::DATE", "place_code": "NULL::VARCHAR"},
    "metric_values": {"suppressed": "false"},
}
_VIEWS_LOCK = threading.Lock()
_VIEW_STATE: dict[str, tuple[tuple, list[tuple[str, str]]]] = {}  # root -> (file signature, unreadable files)


def _parquet_files(root: str) -> dict[str, list[Path]]:
    """Every file the ``<root>/**/<table>*.parquet`` glob matches (hidden folders included, as DuckDB does)."""
    return {table: sorted(Path(root).rglob(f"{table}*.parquet")) for table in TABLES}


def _unreadable(path: Path) -> str | None:
    """Why a parquet file cannot be read (None if its footer and schema read): truncated, corrupt, empty."""
    try:
        pq.ParquetFile(path).schema_arrow  # noqa: B018 - reading footer and schema is the check
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means the file is skipped
        return f"{type(exc).__name__}: {exc}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_views(con: duckdb.DuckDBPyConnection, root: str, files: dict[str, list[Path]]) -> list[tuple[str, str]]:
    """(Re)create the views over the readable files only; returns the unreadable (path, reason) pairs."""
    skipped = []
    for table, paths in files.items():
        readable = []
        for path in paths:
            reason = _unreadable(path)
            if reason is None:
                readable.append(path)
            else:
                skipped.append((str(path), reason))
        if not readable:
            raise NoDataError(f"no readable {table} files under {root}")
        # DDL cannot take parameters; the paths are ours (found under the data root), quoted as SQL literals.
        source = (f"read_parquet([{', '.join(_literal(str(p)) for p in readable)}], hive_partitioning = true, "
                  "union_by_name = true)")
        have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        extra = "".join(f", {sql} AS {col}" for col, sql in _DEFAULT_COLUMNS[table].items() if col not in have)
        con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT *{extra} FROM {source}")
    return skipped


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        info = path.stat()
    except OSError:  # removed since it was listed: the next refresh sees the new state
        return str(path), -1, -1
    return str(path), info.st_size, info.st_mtime_ns


def _refresh_views(root: str, con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Rebuild the views when files were added, replaced or removed since they were built (a new snapshot
    appears without a restart; a file corrupted later is left out). Returns the unreadable files."""
    files = _parquet_files(root)
    signature = tuple(_stamp(p) for paths in files.values() for p in paths)
    with _VIEWS_LOCK:
        state = _VIEW_STATE.get(root)
        if state is None or state[0] != signature:
            _VIEW_STATE[root] = (signature, _create_views(con, root, files))
        return _VIEW_STATE[root][1]


@st.cache_resource(show_spinner=False)
def connection(root: str) -> duckdb.DuckDBPyConnection:
    """The process-wide connection, with ``metric_values`` and ``orgs`` as views over the readable parquet.

    A corrupt or truncated file is left out of the views (``unreadable_files`` says which), so the rest is served.
    """
    if not snapshot_dirs(root):
        raise NoDataError(f"no snapshots under {root}")
    con = duckdb.connect()
    with _VIEWS_LOCK:
        _VIEW_STATE.pop(root, None)
    _refresh_views(root, con)
    return con


def unreadable_files(root: str) -> list[tuple[str, str]]:
    """(path, reason) of each parquet file under the root that could not be read and is not being served."""
    return list(_refresh_views(root, connection(root)))


def _query(root: str, sql: str, params: list | None = None) -> pd.DataFrame:
    con = connection(root)
    _refresh_views(root, con)
    cursor = con.cursor()
    try:
        return cursor.execute(sql, params or []).df()
    finally:
        cursor.close()


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False, ttl=60)
def snapshots(root: str) -> list[date]:
    """Snapshot dates, oldest first (listed from the partition folders, cheap, refreshed each minute); a snapshot
    with an unreadable file is left out."""
    dirs = snapshot_dirs(root)
    broken = {Path(path).parent for path, _ in unreadable_files(root)} if dirs else set()
    return [date.fromisoformat(p.name.split("=", 1)[1]) for p in dirs if p not in broken]


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def snapshot_summary(root: str, snapshot: date) -> dict:
    """Row and metric counts and the span of periods in one snapshot."""
    frame = _query(root, """
        SELECT count(*) AS rows, count(DISTINCT metric_id) AS metrics,
               min(period_start) AS first_period, max(period_end) AS last_period_end
        FROM metric_values WHERE snapshot_date = ?""", [snapshot])
    return frame.iloc[0].to_dict()


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def orgs(root: str, snapshot: date, org_type: str | None = None, parent_code: str | None = None) -> pd.DataFrame:
    """Organisations in a snapshot, optionally of one type and/or under one parent (each once, its newest
    membership). ``org_type='place'`` lists the places (groups of boroughs such as the Bi-borough)."""
    return _query(root, """
        SELECT org_code, org_name, org_type, parent_code, borough_code, pcn_code, place_code, list_size,
               imd_score, imd_decile
        FROM orgs
        WHERE snapshot_date = ? AND (? IS NULL OR org_type = ?) AND (? IS NULL OR parent_code = ?)
        -- a dated hierarchy has one row per membership: list each organisation once, as it is now
        QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY valid_from DESC NULLS LAST) = 1
        ORDER BY org_name""", [snapshot, org_type, org_type, parent_code, parent_code])


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def aggregate(root: str, snapshot: date, metric_ids: tuple[str, ...], level: Level,
              area_codes: tuple[str, ...] | None = None, within: tuple[Level, str] | None = None,
              breakdown: str = "all", start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Numerators and denominators summed to ``level`` for the chosen areas, metrics and periods.

    ``area_codes`` picks areas at ``level``; ``within`` = (level, code) picks every area at ``level``
    inside one ancestor (e.g. all practices within a PCN). Returns one row per metric, area, period and
    breakdown value, with ``n_orgs`` (how many published units were summed).

    Each value counts under the hierarchy membership valid on its period's first day (a practice that moved
    PCN counts under its old PCN for earlier periods). Suppressed rows (numerator null) add to neither the
    numerator nor the denominator, so a suppressed count never acts as a zero.
    """
    column = _LEVEL_COLUMN[level]
    within_column = _LEVEL_COLUMN[within[0]] if within else None
    sql = f"""
        SELECT v.metric_id, {column} AS area_code, v.period_start, v.period_end, v.breakdown_value,
               sum(v.numerator) AS numerator,
               sum(v.denominator) FILTER (WHERE v.numerator IS NOT NULL) AS denominator,
               count(v.numerator) AS n_orgs
        FROM metric_values v
        JOIN orgs o ON o.org_code = v.org_code AND o.snapshot_date = v.snapshot_date
          AND (o.valid_from IS NULL OR o.valid_from <= v.period_start)
          AND (o.valid_to IS NULL OR v.period_start <= o.valid_to)
        WHERE v.snapshot_date = ? AND v.breakdown = ?
          AND list_contains(?, v.metric_id)
          AND {column} IS NOT NULL
          AND (? IS NULL OR list_contains(?, {column}))
          AND (? IS NULL OR {within_column or 'NULL'} = ?)
          AND (? IS NULL OR v.period_start >= ?)
          AND (? IS NULL OR v.period_end <= ?)
        GROUP BY ALL
        ORDER BY v.metric_id, area_code, v.period_start, v.breakdown_value"""
    codes = list(area_codes) if area_codes is not None else None
    within_code = within[1] if within else None
    params = [snapshot, breakdown, list(metric_ids), codes, codes, within_code, within_code,
              start, start, end, end]
    return _query(root, sql, params)


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def period_range(root: str, snapshot: date) -> tuple[date, date]:
    """First period start and last period end of the monthly metrics in a snapshot."""
    frame = _query(root, """
        SELECT min(period_start) AS first, max(period_end) AS last FROM metric_values
        WHERE snapshot_date = ? AND breakdown = 'all'
          AND period_end = last_day(period_start)""", [snapshot])
    return frame.at[0, "first"].date(), frame.at[0, "last"].date()
