"""The store: every query the dashboard runs, through DuckDB over hive-partitioned parquet.

One connection per process (``st.cache_resource``); each query takes a fresh ``cursor()`` because a
DuckDB connection is not thread-safe and Streamlit serves sessions on threads. Results are cached
with ``st.cache_data`` keyed by the snapshot (snapshots are immutable), with bounded ``max_entries``.
SQL is always parameterised; the only interpolated fragment is an aggregation column chosen from a
fixed whitelist. Aggregation up the hierarchy sums numerators and denominators, never rates.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from metrics.catalogue import Level

QUERY_CACHE_ENTRIES = 512
# The orgs column holding each org's ancestor at the level an area is aggregated to.
_LEVEL_COLUMN: dict[str, str] = {
    "practice": "o.org_code",
    "pcn": "o.pcn_code",
    "borough": "o.borough_code",
    "ics": "o.ics_code",
}


class NoDataError(RuntimeError):
    """The data root holds no snapshots yet."""


def parquet_glob(root: Path | str, table: str) -> str:
    return str(Path(root) / "**" / f"{table}*.parquet")


def snapshot_dirs(root: Path | str) -> list[Path]:
    return sorted(p for p in Path(root).glob("snapshot_date=*") if (p / "metric_values.parquet").exists())


@st.cache_resource(show_spinner=False)
def connection(root: str) -> duckdb.DuckDBPyConnection:
    """The process-wide connection, with ``metric_values`` and ``orgs`` as views over the parquet."""
    if not snapshot_dirs(root):
        raise NoDataError(f"no snapshots under {root}")
    con = duckdb.connect()
    for table in ("metric_values", "orgs"):
        # DDL cannot take parameters; the path is ours (the data root), quoted as a SQL literal.
        glob = parquet_glob(root, table).replace("'", "''")
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true, "
            "union_by_name = true)"
        )
    return con


def _query(root: str, sql: str, params: list | None = None) -> pd.DataFrame:
    cursor = connection(root).cursor()
    try:
        return cursor.execute(sql, params or []).df()
    finally:
        cursor.close()


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False, ttl=60)
def snapshots(root: str) -> list[date]:
    """Snapshot dates, oldest first (listed from the partition folders, cheap, refreshed each minute)."""
    return [date.fromisoformat(p.name.split("=", 1)[1]) for p in snapshot_dirs(root)]


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
    """Organisations in a snapshot, optionally of one type and/or under one parent."""
    return _query(root, """
        SELECT org_code, org_name, org_type, parent_code, borough_code, pcn_code, list_size,
               imd_score, imd_decile
        FROM orgs
        WHERE snapshot_date = ? AND (? IS NULL OR org_type = ?) AND (? IS NULL OR parent_code = ?)
        ORDER BY org_name""", [snapshot, org_type, org_type, parent_code, parent_code])


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def aggregate(root: str, snapshot: date, metric_ids: tuple[str, ...], level: Level,
              area_codes: tuple[str, ...] | None = None, within: tuple[Level, str] | None = None,
              breakdown: str = "all", start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """Numerators and denominators summed to ``level`` for the chosen areas, metrics and periods.

    ``area_codes`` picks areas at ``level``; ``within`` = (level, code) picks every area at ``level``
    inside one ancestor (e.g. all practices within a PCN). Returns one row per metric, area, period and
    breakdown value, with ``n_orgs`` (how many published units were summed).
    """
    column = _LEVEL_COLUMN[level]
    within_column = _LEVEL_COLUMN[within[0]] if within else None
    sql = f"""
        SELECT v.metric_id, {column} AS area_code, v.period_start, v.period_end, v.breakdown_value,
               sum(v.numerator) AS numerator, sum(v.denominator) AS denominator, count(*) AS n_orgs
        FROM metric_values v
        JOIN orgs o ON o.org_code = v.org_code AND o.snapshot_date = v.snapshot_date
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
