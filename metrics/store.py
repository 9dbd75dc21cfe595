"""The store: every query the dashboard runs, through DuckDB over hive-partitioned parquet.

One connection per process (``st.cache_resource``); each query takes a fresh ``cursor()`` because a
DuckDB connection is not thread-safe and Streamlit serves sessions on threads. Results are cached
with ``st.cache_data`` keyed by the snapshot (snapshots are immutable), with bounded ``max_entries``.
SQL is always parameterised; the only interpolated fragments are columns chosen from fixed whitelists and
file paths found under the data root. Aggregation up the hierarchy sums numerators and denominators, never
rates.

**Area roll-ups.** Beside each snapshot's ``metric_values.parquet`` its writer puts ``area_values.parquet``:
the same sums for every PCN, borough, place and ICS, made once by ``write_rollup``. Questions at PCN level and
above re-sum those few thousand rows per area instead of joining every practice row to the hierarchy on each
click (sums of sums are the same sums); practice questions, and snapshots whose roll-up is missing or does not
match its values file, are answered from ``metric_values``. ``benchmarks/README.md`` has the measurements.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import streamlit as st

from metrics.catalogue import Level

QUERY_CACHE_ENTRIES = 512
METRIC_VALUES_FILE, ORGS_FILE, ROLLUP_FILE = "metric_values.parquet", "orgs.parquet", "area_values.parquet"
ROLLUP_MEMORY = "4GB"
ROLLUP_ROW_GROUP = 250_000  # 20k-row groups were 2.2x slower, 1M slower on scorecards (benchmarks/README.md)
_ROLLUP_SOURCE_KEY = b"icp_rollup_source"  # parquet key-value metadata: what the roll-up was summed from
# The orgs column holding each org's ancestor at the level an area is aggregated to.
_LEVEL_COLUMN: dict[str, str] = {
    "practice": "org_code",
    "pcn": "pcn_code",
    "borough": "borough_code",
    "place": "place_code",  # a group of boroughs (data/reference/places.csv), e.g. the Bi-borough
    "ics": "ics_code",
}
_ANCESTORS = ("borough_code", "place_code", "ics_code")
# The roll-up's grouping sets: the area at each level with the ancestors above it, which `within` filters need.
_ROLLUP_SETS = {"pcn": ("pcn_code", *_ANCESTORS), "borough": _ANCESTORS, "place": _ANCESTORS[1:],
                "ics": _ANCESTORS[2:]}


class NoDataError(RuntimeError):
    """The data root holds no snapshots yet."""


def parquet_glob(root: Path | str, table: str) -> str:
    return str(Path(root) / "**" / f"{table}*.parquet")


def snapshot_dirs(root: Path | str) -> list[Path]:
    return sorted(p for p in Path(root).glob("snapshot_date=*") if (p / METRIC_VALUES_FILE).exists())


def _snapshot_date(folder: Path) -> date:
    return date.fromisoformat(folder.name.split("=", 1)[1])


TABLES = ("metric_values", "orgs", "area_values")
# Columns older files may lack, and what their absence means (no validity dates = always valid).
_DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "orgs": {"valid_from": "NULL::DATE", "valid_to": "NULL::DATE", "place_code": "NULL::VARCHAR"},
    "metric_values": {"suppressed": "false"},
    "area_values": {},
}


@dataclass(frozen=True)
class _Views:
    """What the connection's views were built from: the files' stamps, the files left out as unreadable, and
    the snapshots whose area roll-up is served."""

    signature: tuple
    unreadable: list[tuple[str, str]]
    rolled_up: frozenset[date]


_VIEWS_LOCK = threading.Lock()
_VIEW_STATE: dict[str, _Views] = {}  # data root -> its views


def _parquet_files(root: str) -> dict[str, list[Path]]:
    """Every file the ``<root>/**/<table>*.parquet`` glob matches (hidden folders included, as DuckDB does)."""
    return {table: sorted(Path(root).rglob(f"{table}*.parquet")) for table in TABLES}


def _footer(path: Path) -> pq.FileMetaData | str:
    """The file's parquet footer, or why it cannot be read (truncated, corrupt, empty)."""
    try:
        file = pq.ParquetFile(path)
        file.schema_arrow  # noqa: B018 - reading footer and schema is the check
        return file.metadata
    except Exception as exc:  # noqa: BLE001 - any failure means the file is skipped
        return f"{type(exc).__name__}: {exc}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source(con: duckdb.DuckDBPyConnection, table: str, paths: list[Path], hive: bool = True) -> str:
    """A SELECT over the files with the columns older files may lack filled in. DDL and COPY cannot take
    parameters; the paths are ours (found under the data root or written by us), quoted as SQL literals."""
    files = f"[{', '.join(_literal(str(p)) for p in paths)}]"
    source = f"read_parquet({files}, hive_partitioning = {str(hive).lower()}, union_by_name = true)"
    have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    extra = "".join(f", {sql} AS {col}" for col, sql in _DEFAULT_COLUMNS[table].items() if col not in have)
    return f"SELECT *{extra} FROM {source}"


def _rollup_source(values: Path, orgs: Path) -> bytes:
    """What a roll-up was summed from: the sizes of its snapshot's values and orgs files (a rewritten snapshot
    changes them, and they survive renames and copies, unlike modification times)."""
    return f"{values.stat().st_size}:{orgs.stat().st_size}".encode()


def _rollup_matches(path: Path, footer: pq.FileMetaData) -> bool:
    """True when the roll-up was summed from the values and orgs files now beside it."""
    folder = path.parent
    try:
        source = _rollup_source(folder / METRIC_VALUES_FILE, folder / ORGS_FILE)
    except OSError:
        return False
    return (footer.metadata or {}).get(_ROLLUP_SOURCE_KEY) == source


def _create_views(con: duckdb.DuckDBPyConnection, root: str, files: dict[str, list[Path]]) -> tuple[list, frozenset]:
    """(Re)create ``metric_values`` and ``area_values`` views and the ``orgs`` table (a few thousand rows per
    snapshot, read on every click) over the readable files only. Returns the unreadable (path, reason) pairs
    and the snapshots with a matching roll-up."""
    skipped, readable = [], {}
    for table, paths in files.items():
        readable[table] = []
        for path in paths:
            footer = _footer(path)
            if isinstance(footer, str):
                skipped.append((str(path), footer))
            elif table != "area_values" or _rollup_matches(path, footer):
                readable[table].append(path)
    for table in ("metric_values", "orgs"):
        if not readable[table]:
            raise NoDataError(f"no readable {table} files under {root}")
    con.execute(f"CREATE OR REPLACE VIEW metric_values AS {_source(con, 'metric_values', readable['metric_values'])}")
    con.execute(f"CREATE OR REPLACE TABLE orgs AS {_source(con, 'orgs', readable['orgs'])}")
    # What the filters and name look-ups list: each organisation once per snapshot, as it is now (a dated
    # hierarchy has one row per membership), made once here rather than on every sidebar query.
    con.execute("""CREATE OR REPLACE TABLE current_orgs AS SELECT * FROM orgs
                   QUALIFY row_number() OVER (PARTITION BY snapshot_date, org_code
                                              ORDER BY valid_from DESC NULLS LAST) = 1
                   ORDER BY snapshot_date, org_name""")
    rollups = readable["area_values"]
    if rollups:
        con.execute(f"CREATE OR REPLACE VIEW area_values AS {_source(con, 'area_values', rollups)}")
    served = {p.parent for p in readable["metric_values"]}
    return skipped, frozenset(_snapshot_date(p.parent) for p in rollups if p.parent in served)


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        info = path.stat()
    except OSError:  # removed since it was listed: the next refresh sees the new state
        return str(path), -1, -1
    return str(path), info.st_size, info.st_mtime_ns


def _refresh_views(root: str, con: duckdb.DuckDBPyConnection) -> _Views:
    """Rebuild the views when files were added, replaced or removed since they were built (a new snapshot
    appears without a restart; a file corrupted later is left out)."""
    files = _parquet_files(root)
    signature = tuple(_stamp(p) for paths in files.values() for p in paths)
    with _VIEWS_LOCK:
        state = _VIEW_STATE.get(root)
        if state is None or state.signature != signature:
            _VIEW_STATE[root] = state = _Views(signature, *_create_views(con, root, files))
        return state


@st.cache_resource(show_spinner=False)
def connection(root: str) -> duckdb.DuckDBPyConnection:
    """The process-wide connection, with ``metric_values``, ``area_values`` and ``orgs`` over the readable parquet.

    A corrupt or truncated file is left out (``unreadable_files`` says which), so the rest is served. Parquet
    footers are cached: every query would otherwise re-read the footers of every snapshot's file.
    """
    if not snapshot_dirs(root):
        raise NoDataError(f"no snapshots under {root}")
    con = duckdb.connect()
    con.execute("SET parquet_metadata_cache = true")
    with _VIEWS_LOCK:
        _VIEW_STATE.pop(root, None)
    _refresh_views(root, con)
    return con


def unreadable_files(root: str) -> list[tuple[str, str]]:
    """(path, reason) of each parquet file under the root that could not be read and is not being served."""
    return list(_refresh_views(root, connection(root)).unreadable)


def has_rollup(root: str, snapshot: date) -> bool:
    """True when area questions about this snapshot are answered from its roll-up."""
    return snapshot in _refresh_views(root, connection(root)).rolled_up


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
    with an unreadable values or orgs file is left out (an unreadable roll-up only makes it slower)."""
    dirs = snapshot_dirs(root)
    unreadable = [Path(path) for path, _ in unreadable_files(root)] if dirs else []
    broken = {path.parent for path in unreadable if path.name != ROLLUP_FILE}
    return [_snapshot_date(p) for p in dirs if p not in broken]


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def snapshot_summary(root: str, snapshot: date) -> dict:
    """Row and metric counts and the span of periods in one snapshot: the rows from the parquet footer, the
    rest from the roll-up's ICS rows (every value belongs to an ICS), so nothing is scanned."""
    folder = Path(root) / f"snapshot_date={snapshot.isoformat()}"
    rows = pq.ParquetFile(folder / METRIC_VALUES_FILE).metadata.num_rows
    source = ("area_values", "AND level = 'ics'") if has_rollup(root, snapshot) else ("metric_values", "")
    frame = _query(root, f"""
        SELECT count(DISTINCT metric_id) AS metrics, min(period_start) AS first_period,
               max(period_end) AS last_period_end
        FROM {source[0]} WHERE snapshot_date = ? {source[1]}""", [snapshot])
    return {"rows": rows, **frame.iloc[0].to_dict()}


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def orgs(root: str, snapshot: date, org_type: str | None = None, parent_code: str | None = None) -> pd.DataFrame:
    """Organisations in a snapshot, optionally of one type and/or under one parent (each once, its newest
    membership). ``org_type='place'`` lists the places (groups of boroughs such as the Bi-borough)."""
    return _query(root, """
        SELECT org_code, org_name, org_type, parent_code, borough_code, pcn_code, place_code, list_size,
               imd_score, imd_decile
        FROM current_orgs
        WHERE snapshot_date = ? AND (? IS NULL OR org_type = ?) AND (? IS NULL OR parent_code = ?)
        ORDER BY org_name""", [snapshot, org_type, org_type, parent_code, parent_code])


_FILTERS = """
          AND list_contains(?, metric_id)
          AND (? IS NULL OR list_contains(?, area_code))
          AND (? IS NULL OR {within} = ?)
          AND (? IS NULL OR period_start >= ?)
          AND (? IS NULL OR period_end <= ?)"""


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
    from_rollup = level != "practice" and has_rollup(root, snapshot)
    filters = _FILTERS.format(within=_LEVEL_COLUMN[within[0]] if within else "NULL")
    sql = (_ROLLUP_AGGREGATE if from_rollup else _VALUES_AGGREGATE).format(area=_LEVEL_COLUMN[level], filters=filters)
    codes = list(area_codes) if area_codes is not None else None
    within_code = within[1] if within else None
    params = [snapshot, breakdown, *([level] if from_rollup else []), list(metric_ids), codes, codes,
              within_code, within_code, start, start, end, end]
    return _query(root, sql, params)


_ORDER = "ORDER BY metric_id, area_code, period_start, breakdown_value"
# Today's sums from every published unit, joined to the membership valid on the period's first day.
_VALUES_AGGREGATE = f"""
    WITH v AS (
        SELECT v.metric_id, o.{{area}} AS area_code, o.pcn_code, o.borough_code, o.place_code, o.ics_code,
               v.org_code, v.period_start, v.period_end, v.breakdown_value, v.numerator, v.denominator
        FROM metric_values v
        JOIN orgs o ON o.org_code = v.org_code AND o.snapshot_date = v.snapshot_date
          AND (o.valid_from IS NULL OR o.valid_from <= v.period_start)
          AND (o.valid_to IS NULL OR v.period_start <= o.valid_to)
        WHERE v.snapshot_date = ? AND v.breakdown = ?)
    SELECT metric_id, area_code, period_start, period_end, breakdown_value,
           sum(numerator) AS numerator,
           sum(denominator) FILTER (WHERE numerator IS NOT NULL) AS denominator,
           count(numerator) AS n_orgs
    FROM v WHERE area_code IS NOT NULL {{filters}}
    GROUP BY ALL {_ORDER}"""
# The same sums from the roll-up: re-summed, as a place's or ICS's rows come once per grouping set path.
_ROLLUP_AGGREGATE = f"""
    SELECT metric_id, area_code, period_start, period_end, breakdown_value,
           sum(numerator) AS numerator, sum(denominator) AS denominator, sum(n_orgs)::BIGINT AS n_orgs
    FROM area_values
    WHERE snapshot_date = ? AND breakdown = ? AND level = ? {{filters}}
    GROUP BY ALL {_ORDER}"""


@st.cache_data(max_entries=QUERY_CACHE_ENTRIES, show_spinner=False)
def period_range(root: str, snapshot: date) -> tuple[date, date]:
    """First period start and last period end of the monthly metrics in a snapshot (from the ICS totals when
    the snapshot has a roll-up: a few thousand rows instead of every practice's)."""
    source = ("area_values", "AND level = 'ics'") if has_rollup(root, snapshot) else ("metric_values", "")
    frame = _query(root, f"""
        SELECT min(period_start) AS first, max(period_end) AS last FROM {source[0]}
        WHERE snapshot_date = ? AND breakdown = 'all' {source[1]}
          AND period_end = last_day(period_start)""", [snapshot])
    return frame.at[0, "first"].date(), frame.at[0, "last"].date()


# ------------------------------------------------------------------------------------------- roll-ups
def _rollup_sql(values: str, orgs: str) -> str:
    """A snapshot summed to every level under the same rules as ``aggregate``: first within each full chain of
    ancestors (one pass over the values, and the only join), then to PCN, borough, place and ICS at once
    (GROUPING SETS over those far fewer rows). Written in (level, breakdown, area, metric, period) order so one
    area's rows sit together and parquet statistics skip the rest."""
    keys = "metric_id, breakdown, breakdown_value, period_start, period_end"
    chain = "pcn_code, borough_code, place_code, ics_code"
    sets = ", ".join(f"({keys}, {', '.join(columns)})" for columns in _ROLLUP_SETS.values())
    level = "CASE " + " ".join(
        "WHEN " + " AND ".join(f"grouping({c}) = {int(c not in columns)}" for c in ("pcn_code", *_ANCESTORS[:2]))
        + f" THEN '{name}'" for name, columns in _ROLLUP_SETS.items()) + " END"
    return f"""
        WITH chains AS (
            SELECT v.metric_id, v.breakdown, v.breakdown_value, v.period_start, v.period_end,
                   o.pcn_code, o.borough_code, o.place_code, o.ics_code,
                   sum(v.numerator) AS numerator,
                   sum(v.denominator) FILTER (WHERE v.numerator IS NOT NULL) AS denominator,
                   count(v.numerator) AS n_orgs
            FROM ({values}) v JOIN ({orgs}) o ON o.org_code = v.org_code
              AND (o.valid_from IS NULL OR o.valid_from <= v.period_start)
              AND (o.valid_to IS NULL OR v.period_start <= o.valid_to)
            GROUP BY ALL),
        sums AS (
            SELECT {level} AS level, {keys}, {chain},
                   sum(numerator) AS numerator, sum(denominator) AS denominator, sum(n_orgs)::BIGINT AS n_orgs
            FROM chains GROUP BY GROUPING SETS ({sets}))
        SELECT level, CASE level WHEN 'pcn' THEN pcn_code WHEN 'borough' THEN borough_code
                                 WHEN 'place' THEN place_code ELSE ics_code END AS area_code,
               metric_id, breakdown, breakdown_value, period_start, period_end,
               CASE WHEN level = 'pcn' THEN borough_code END AS borough_code,
               CASE WHEN level IN ('pcn', 'borough') THEN place_code END AS place_code,
               CASE WHEN level <> 'ics' THEN ics_code END AS ics_code,
               numerator, denominator, n_orgs
        FROM sums WHERE area_code IS NOT NULL
        ORDER BY level, breakdown, area_code, metric_id, period_start, breakdown_value"""


def write_rollup(values: Path, orgs: Path, out: Path) -> int:
    """Write the area roll-up of one snapshot's (possibly staged) values and orgs files to ``out``; returns its
    row count. Snapshot writers call this before publishing, so a roll-up appears with its snapshot; the file
    records what it was summed from, and the store ignores it if the values beside it are ever different."""
    with tempfile.TemporaryDirectory(prefix="icp-rollup-") as spill, duckdb.connect() as con:
        # Bounded memory: England took 7 GB unbounded; DuckDB spills the grouping to disk past the limit.
        con.execute(f"SET memory_limit = '{ROLLUP_MEMORY}'; SET temp_directory = {_literal(spill)}; "
                    "SET preserve_insertion_order = false; SET enable_progress_bar = false")
        source = _rollup_source(values, orgs).decode()
        sql = _rollup_sql(_source(con, "metric_values", [values], hive=False), _source(con, "orgs", [orgs], hive=False))
        con.execute(f"COPY ({sql}) TO {_literal(str(out))} (FORMAT parquet, COMPRESSION zstd, "
                    f"ROW_GROUP_SIZE {ROLLUP_ROW_GROUP}, KV_METADATA {{icp_rollup_source: {_literal(source)}}})")
    return pq.ParquetFile(out).metadata.num_rows


def build_missing_rollups(root: Path | str) -> dict[str, int]:
    """Roll-ups for the snapshots under ``root`` that have none or a stale one (data written before roll-ups
    existed), each staged and renamed into place. Returns rows written per snapshot folder."""
    written = {}
    for folder in snapshot_dirs(root):
        target = folder / ROLLUP_FILE
        footer = _footer(target) if target.exists() else None
        if footer is not None and not isinstance(footer, str) and _rollup_matches(target, footer):
            continue
        staged = folder / f".{ROLLUP_FILE}.part"
        written[folder.name] = write_rollup(folder / METRIC_VALUES_FILE, folder / ORGS_FILE, staged)
        os.replace(staged, target)
    return written
