"""The store: every query the dashboard runs, through DuckDB over hive-partitioned parquet.

A ``Store`` is a handle on one data root, made once and passed down to everything that reads data (ibis'
backend pattern): the app keeps one per process (``metrics.ui``), the command line makes one from ``--root``,
tests make one over a fixture. Nothing here reads the environment or knows about Streamlit.

Each handle owns one DuckDB connection; each query takes a fresh ``cursor()`` because a connection is not
thread-safe and Streamlit serves sessions on threads. Answers are memoised per handle (snapshots are immutable;
the memo is emptied when the files under the root change). SQL is always parameterised; the only interpolated
fragments are columns chosen from fixed whitelists and file paths found under the data root. Aggregation up
the hierarchy sums numerators and denominators, never rates.

**Area roll-ups.** Beside each snapshot's ``metric_values.parquet`` its writer puts ``area_values.parquet``:
the same sums for every PCN, borough, place and ICS, made once by ``write_rollup``. Questions at PCN level and
above re-sum those few thousand rows per area instead of joining every practice row to the hierarchy on each
click (sums of sums are the same sums); practice questions, and snapshots whose roll-up is missing or does not
match its values file, are answered from ``metric_values``. ``benchmarks/README.md`` has the measurements.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import posixpath
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from metrics import layout
from metrics.access import Scope
from metrics.catalogue import Level
from metrics.layout import METRIC_VALUES_FILE, ORGS_FILE, ROLLUP_FILE

QUERY_CACHE_ENTRIES = 2048
FOOTER_READERS = 8  # footers read at once from object storage when the views are (re)built
OBJECT_STORE_RELIST_SECONDS = 5.0  # on object storage a listing is a request: at most one per page view or so
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
# Columns older files may lack, and what their absence means (no validity dates = always valid).
_DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "orgs": {"valid_from": "NULL::DATE", "valid_to": "NULL::DATE", "place_code": "NULL::VARCHAR"},
    "metric_values": {"suppressed": "false"},
    "area_values": {},
}


class NoDataError(RuntimeError):
    """The data root holds no snapshots yet."""


def parquet_glob(root: Path | str, table: str) -> str:
    return str(Path(root) / "**" / f"{table}*.parquet")


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


def _rollup_source(values: int, orgs: int) -> bytes:
    """What a roll-up was summed from: the sizes of its snapshot's values and orgs files (a rewritten snapshot
    changes them, and they survive renames, copies and uploads, unlike modification times)."""
    return f"{values}:{orgs}".encode()


def _rollup_matches(path: str, footer: pq.FileMetaData, files: dict[str, layout.FileInfo]) -> bool:
    """True when the roll-up was summed from the values and orgs files now beside it (sizes from the listing)."""
    folder = posixpath.dirname(path)
    values, orgs = (files.get(posixpath.join(folder, name)) for name in (METRIC_VALUES_FILE, ORGS_FILE))
    if values is None or orgs is None:
        return False
    return (footer.metadata or {}).get(_ROLLUP_SOURCE_KEY) == _rollup_source(values.size, orgs.size)


@dataclass(frozen=True)
class _Views:
    """What the connection's views were built from: the listing (files, sizes, times), the files left out as
    unreadable, the snapshots whose area roll-up is served, and each served file's row count (from its footer)."""

    listing: layout.Listing
    unreadable: tuple[tuple[str, str], ...]
    rolled_up: frozenset[date]
    rows: dict[str, int]

    @property
    def signature(self) -> tuple:
        return _signature(self.listing)


def _signature(listing: layout.Listing) -> tuple:
    """The served files and their sizes and times: when it changes, the views are rebuilt."""
    return tuple((p, listing.files[p].size, listing.files[p].modified)
                 for paths in listing.parquet_files().values() for p in paths)


class _Memo:
    """A bounded, thread-safe memo of query answers. Frames are handed out as copies, so a caller that changes
    one cannot change what the next caller gets."""

    def __init__(self, entries: int) -> None:
        self._entries, self._data, self._lock = entries, OrderedDict(), threading.Lock()

    def get(self, key: tuple) -> object:
        with self._lock:
            if key not in self._data:
                return _MISSING
            self._data.move_to_end(key)
            return _copy(self._data[key])

    def put(self, key: tuple, value: object) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_MISSING = object()


def _copy(value: object) -> object:
    return value.copy() if isinstance(value, pd.DataFrame) else value


def _memoised(method: Callable) -> Callable:
    """Answer a repeated question from the memo. The key is the question, its arguments and whatever of the
    handle changes the answer (roll-ups on or off, the reader's scope); snapshots are immutable."""
    @functools.wraps(method)
    def call(self: "Store", *args, **kwargs):
        key = (method.__name__, self.use_rollups, self.scope_key, args, tuple(sorted(kwargs.items())))
        found = self._engine.memo.get(key)
        if found is not _MISSING:
            return found
        value = method(self, *args, **kwargs)
        self._engine.memo.put(key, value)
        return _copy(value)
    return call


class _Engine:
    """One data root's DuckDB connection, the views over its readable files and the memo of answers, shared by
    every handle on that root (one per signed-in reader's scope).

    The root is listed again before a query at most every ``relist_seconds`` (0 on local disk: every query, as a
    directory read is cheap; a few seconds on object storage, where a listing is a request)."""

    def __init__(self, storage: layout.Storage, cache_entries: int, relist_seconds: float | None = None) -> None:
        self.storage = storage
        self.memo = _Memo(cache_entries)
        self.lock = threading.Lock()
        self.con: duckdb.DuckDBPyConnection | None = None
        self.views: _Views | None = None
        self.relist_seconds = relist_seconds if relist_seconds is not None else (
            0.0 if storage.local else OBJECT_STORE_RELIST_SECONDS)
        self._listed: tuple[float, layout.Listing] | None = None
        self.reader = None  # object storage: the filesystem DuckDB reads through, told each listing's files

    def listing(self) -> layout.Listing:
        """The root's files, listed afresh unless the last listing is younger than ``relist_seconds``."""
        now = time.monotonic()
        listed = self._listed
        if listed is None or now - listed[0] >= self.relist_seconds:
            listed = self._listed = (now, layout.listing(self.storage))
            if self.reader is not None:
                self.reader.remember(listed[1].files)
        return listed[1]

    def connection(self) -> duckdb.DuckDBPyConnection:
        with self.lock:
            if self.con is None:
                if not self.listing().snapshot_folders():
                    raise NoDataError(f"no snapshots under {self.storage.root}")
                con = duckdb.connect()
                self.reader = self.storage.attach(con)
                if self.reader is not None and self._listed is not None:
                    self.reader.remember(self._listed[1].files)
                # Parquet footers cached: every query would otherwise re-read every snapshot file's footer.
                con.execute("SET parquet_metadata_cache = true")
                self.con, self.views = con, None
            return self.con

    def refresh(self) -> _Views:
        """Rebuild the views when files were added, replaced or removed since they were built (a new snapshot
        appears without a restart; a file corrupted later is left out); the memo goes with them."""
        con = self.connection()
        listing = self.listing()
        with self.lock:
            if self.views is None or self.views.signature != _signature(listing):
                self.views = _Views(listing, *_create_views(con, self.storage, listing))
                self.memo.clear()
            elif self.views.listing is not listing:  # the same files: keep the views, note the newer listing
                self.views = dataclasses.replace(self.views, listing=listing)
            return self.views

    def close(self) -> None:
        with self.lock:
            if self.con is not None:
                self.con.close()
            self.con, self.views, self._listed, self.reader = None, None, None, None
        self.memo.clear()


class Store:
    """A handle on one data root: the snapshots under it and every question the dashboard asks of them.

    ``scope`` is the reader's access (``metrics.access.Scope``; None: everything, for the command line and open
    local mode). Practice rows, names and codes outside it never leave a query: every question that can return a
    practice puts the scope in its SQL. Area figures (PCN, borough, place, ICS) are answered for any scope that
    has access at all. ``scoped`` makes another reader's handle on the same connection and memo.

    ``use_rollups=False`` answers area questions from practice rows even where a roll-up exists (the benchmark
    measures the store without them; answers are the same).

    ``root`` is a folder or an object-storage URL (``s3://bucket/prefix``, ``abfs://container/prefix``; see
    ``metrics.layout``). ``storage_options`` (credentials, endpoint) or ``filesystem`` (an fsspec filesystem) are
    passed on when the caller has them; without them the object store's SDK finds its own. ``relist_seconds``: how
    old a listing of the root may be before a query lists it again (default: 0 on disk, 5 s on object storage).
    """

    def __init__(self, root: layout.Root, *, use_rollups: bool = True, scope: Scope | None = None,
                 cache_entries: int = QUERY_CACHE_ENTRIES, storage_options: dict | None = None,
                 filesystem: object = None, relist_seconds: float | None = None,
                 _engine: _Engine | None = None) -> None:
        if _engine is None:
            files = layout.storage(root, storage_options, filesystem)
            _engine = _Engine(files, cache_entries, relist_seconds)
        self.root = _engine.storage.root if isinstance(root, layout.Storage) else str(root)
        self.use_rollups = use_rollups
        self.scope = scope
        self._engine = _engine

    def __repr__(self) -> str:
        return (f"Store({self.root!r}{'' if self.use_rollups else ', use_rollups=False'}"
                f"{'' if self.scope is None else f', scope={self.scope.key!r}'})")

    def scoped(self, scope: Scope | None) -> "Store":
        """The same data, read with another reader's scope (sharing this handle's connection and memo)."""
        return Store(self.root, use_rollups=self.use_rollups, scope=scope, _engine=self._engine)

    @property
    def storage(self) -> layout.Storage:
        """Where the root's files are (local disk or object storage)."""
        return self._engine.storage

    @property
    def scope_key(self) -> str:
        return "all" if self.scope is None else self.scope.key

    # ------------------------------------------------------------------------------------- connection
    def _connection(self) -> duckdb.DuckDBPyConnection:
        return self._engine.connection()

    def _refresh(self) -> _Views:
        return self._engine.refresh()

    def _query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        con = self._connection()
        self._refresh()
        cursor = con.cursor()
        try:
            return cursor.execute(sql, params or []).df()
        finally:
            cursor.close()

    def clear_cache(self) -> None:
        """Forget memoised answers (the next question runs its query)."""
        self._engine.memo.clear()

    def close(self) -> None:
        """Close the connection and forget everything; the next question starts cold (views, footers)."""
        self._engine.close()

    # ------------------------------------------------------------------------------------------- scope
    @_memoised
    def _scope_filter(self, snapshot: date) -> list:
        """The parameters of ``_IN_SCOPE``: every practice, else the codes of the boroughs the scope names (as
        this snapshot spells them) and its PCN codes. No access at all gives no practice and no area."""
        if self.scope is None or self.scope.all_practices:
            return [True, True, [], []]
        boroughs = self._query("SELECT org_code, org_name FROM current_orgs WHERE snapshot_date = ? AND "
                               "org_type = 'borough'", [snapshot])
        names = self.scope.matching_boroughs(boroughs["org_name"])
        codes = boroughs.loc[boroughs["org_name"].isin(names), "org_code"].tolist()
        return [self.scope.has_access, False, codes, sorted(self.scope.pcns)]

    @_memoised
    def own_areas(self, snapshot: date) -> frozenset[str] | None:
        """The areas whose every practice the reader may see (their boroughs, their PCNs and those boroughs'
        PCNs), and those practices: where small numbers may be shown on screen. None: everything."""
        has_access, everything, boroughs, pcns = self._scope_filter(snapshot)
        if everything:
            return None
        inside = self._query("""
            SELECT org_code FROM current_orgs WHERE snapshot_date = ? AND ? AND org_type IN ('pcn', 'practice')
              AND (list_contains(?::VARCHAR[], borough_code) OR list_contains(?::VARCHAR[], pcn_code)
                   OR list_contains(?::VARCHAR[], org_code))""", [snapshot, has_access, boroughs, pcns, pcns])
        return frozenset([*boroughs, *inside["org_code"]])

    @_memoised
    def practice_counts(self, snapshot: date, metric_id: str, ics_code: str, start: date, end: date) -> pd.DataFrame:
        """Every practice's numerator and denominator in an ICS, whoever reads, without names or codes: what a
        funnel's overdispersion is estimated from (the reference population, the same for every reader) and
        what may be drawn anonymously. Practice rows outside the reader's scope leave only as these counts."""
        if not self._scope_filter(snapshot)[0]:
            return pd.DataFrame(columns=["period_start", "numerator", "denominator"])
        return self._query(f"""
            SELECT period_start, numerator, denominator FROM ({_VALUES_AGGREGATE.format(
                area="org_code", filters=_FILTERS.format(within="ics_code"))})
            ORDER BY period_start, numerator, denominator""",
            [snapshot, "all", [metric_id], None, None, ics_code, ics_code, start, start, end, end])

    @_memoised
    def practice_expected_counts(self, snapshot: date, metric_id: str, ics_code: str, start: date,
                                 end: date) -> pd.DataFrame:
        """Every practice's observed events, registered population and events expected at the ICS's own
        age-specific rates (its ``age_band`` rows), without names or codes: what an age-standardised funnel's
        overdispersion is estimated from. As ``practice_counts``: the same for every reader with access, and
        practice rows leave only as these counts. A suppressed band (numerator null) adds neither observed nor
        expected events, as ``aggregate`` adds it to neither numerator nor denominator."""
        if not self._scope_filter(snapshot)[0]:
            return pd.DataFrame(columns=["period_start", "numerator", "denominator", "expected"])
        return self._query(f"""
            WITH bands AS ({_VALUES_AGGREGATE.format(area="org_code", filters=_FILTERS.format(within="ics_code"))}),
            reference AS (
                SELECT period_start, breakdown_value, sum(numerator) / sum(denominator) AS rate
                FROM bands GROUP BY ALL HAVING sum(denominator) > 0)
            SELECT period_start, sum(numerator) AS numerator, sum(denominator) AS denominator,
                   sum(denominator * rate) AS expected
            FROM bands JOIN reference USING (period_start, breakdown_value)
            GROUP BY period_start, area_code
            ORDER BY period_start, numerator, denominator, expected""",
            [snapshot, "age_band", [metric_id], None, None, ics_code, ics_code, start, start, end, end])

    def practice_in_scope(self, snapshot: date, borough_code: str | None, pcn_code: str | None) -> bool:
        """Whether a practice of this borough and PCN may be shown at practice level (for messages; the SQL
        filters regardless)."""
        _, everything, boroughs, pcns = self._scope_filter(snapshot)
        return everything or borough_code in boroughs or pcn_code in pcns

    # ---------------------------------------------------------------------------------------- snapshots
    def unreadable_files(self) -> list[tuple[str, str]]:
        """(path, reason) of each parquet file under the root that could not be read and is not being served."""
        return list(self._refresh().unreadable)

    def has_rollup(self, snapshot: date) -> bool:
        """True when area questions about this snapshot are answered from its roll-up."""
        return self.use_rollups and snapshot in self._refresh().rolled_up

    def snapshot_folders(self) -> dict[date, str]:
        """The served snapshots and their folders, oldest first; a snapshot with an unreadable values or orgs
        file is left out (an unreadable roll-up only makes it slower). Listed afresh (on object storage at most
        every ``relist_seconds``), so a new snapshot shows up on the next page view."""
        if not self._engine.listing().snapshot_folders():
            return {}
        views = self._refresh()
        broken = {posixpath.dirname(path) for path, _ in views.unreadable if posixpath.basename(path) != ROLLUP_FILE}
        return {day: folder for day, folder in views.listing.snapshot_folders() if folder not in broken}

    def snapshots(self) -> list[date]:
        """Served snapshot dates, oldest first."""
        return list(self.snapshot_folders())

    @_memoised
    def snapshot_summary(self, snapshot: date) -> dict:
        """Row and metric counts, the span of periods and when it was written, for one snapshot: rows from the
        parquet footer, the rest from the roll-up's ICS rows (every value belongs to an ICS), so nothing is
        scanned."""
        views = self._refresh()
        values = self.storage.join(layout.snapshot_folder(self.storage, snapshot), METRIC_VALUES_FILE)
        table, where = ("area_values", "AND level = 'ics'") if self.has_rollup(snapshot) else ("metric_values", "")
        frame = self._query(f"""
            SELECT count(DISTINCT metric_id) AS metrics, min(period_start) AS first_period,
                   max(period_end) AS last_period_end
            FROM {table} WHERE snapshot_date = ? {where}""", [snapshot])
        written = pd.Timestamp(views.listing.files[values].modified, unit="s")
        return {"rows": views.rows[values], **frame.iloc[0].to_dict(), "written": written}

    # --------------------------------------------------------------------------------------- questions
    @_memoised
    def orgs(self, snapshot: date, org_type: str | None = None, parent_code: str | None = None) -> pd.DataFrame:
        """Organisations in a snapshot, optionally of one type and/or under one parent (each once, its newest
        membership). ``org_type='place'`` lists the places (groups of boroughs such as the Bi-borough)."""
        return self._query(f"""
            SELECT org_code, org_name, org_type, parent_code, borough_code, pcn_code, place_code, list_size,
                   imd_score, imd_decile
            FROM current_orgs
            WHERE snapshot_date = ? AND (? IS NULL OR org_type = ?) AND (? IS NULL OR parent_code = ?)
              {_IN_SCOPE.format(level="org_type")}
            ORDER BY org_name""", [snapshot, org_type, org_type, parent_code, parent_code,
                                   *self._scope_filter(snapshot)])

    @_memoised
    def aggregate(self, snapshot: date, metric_ids: tuple[str, ...], level: Level,
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
        from_rollup = level != "practice" and self.has_rollup(snapshot)
        filters = _FILTERS.format(within=_LEVEL_COLUMN[within[0]] if within else "NULL")
        scope = _AREAS_IN_SCOPE if from_rollup else _IN_SCOPE.format(level=_literal(level))
        sql = (_ROLLUP_AGGREGATE if from_rollup else _VALUES_AGGREGATE).format(area=_LEVEL_COLUMN[level],
                                                                                filters=filters + scope)
        codes = list(area_codes) if area_codes is not None else None
        within_code = within[1] if within else None
        allowed = self._scope_filter(snapshot)
        params = [snapshot, breakdown, *([level] if from_rollup else []), list(metric_ids), codes, codes,
                  within_code, within_code, start, start, end, end, *(allowed[:1] if from_rollup else allowed)]
        return self._query(sql, params)

    @_memoised
    def period_range(self, snapshot: date) -> tuple[date, date]:
        """First period start and last period end of the monthly metrics in a snapshot, or of every metric when it
        holds no monthly one (a load of annual figures only). From the ICS totals when the snapshot has a roll-up:
        a few thousand rows instead of every practice's."""
        table, where = ("area_values", "AND level = 'ics'") if self.has_rollup(snapshot) else ("metric_values", "")
        frame = self._query(f"""
            SELECT coalesce(min(period_start) FILTER (WHERE monthly), min(period_start)) AS first,
                   coalesce(max(period_end) FILTER (WHERE monthly), max(period_end)) AS last
            FROM (SELECT period_start, period_end, period_end = last_day(period_start) AS monthly FROM {table}
                  WHERE snapshot_date = ? AND breakdown = 'all' {where})""", [snapshot])
        return frame.at[0, "first"].date(), frame.at[0, "last"].date()


def _readable_files(store: layout.Storage, listing: layout.Listing
                    ) -> tuple[dict[str, list[str]], list[tuple[str, str]], dict[str, int]]:
    """Each table's files whose footer reads (roll-ups only where they match their values), the unreadable
    (path, reason) pairs, and each readable file's row count."""
    tables = listing.parquet_files()
    footers = _footers(store, listing, [path for paths in tables.values() for path in paths])
    skipped, readable, rows = [], {}, {}
    for table, paths in tables.items():
        readable[table] = []
        for path in paths:
            footer = footers[path]
            if isinstance(footer, str):
                skipped.append((path, footer))
                continue
            rows[path] = footer.num_rows
            if table != "area_values" or _rollup_matches(path, footer, listing.files):
                readable[table].append(path)
    return readable, skipped, rows


def _footers(store: layout.Storage, listing: layout.Listing, paths: list[str]) -> dict[str, pq.FileMetaData | str]:
    """Every file's footer (or why it is unreadable); on object storage read a few at a time, as each is a
    request or two of a few milliseconds whose wait, not work, is the cost."""
    if store.local:
        return {path: store.footer(path) for path in paths}
    with ThreadPoolExecutor(max_workers=FOOTER_READERS) as pool:
        return dict(zip(paths, pool.map(lambda p: store.footer(p, listing.files[p].size), paths)))


def _create_views(con: duckdb.DuckDBPyConnection, store: layout.Storage,
                  listing: layout.Listing) -> tuple[tuple, frozenset, dict[str, int]]:
    """(Re)create ``metric_values`` and ``area_values`` views and the ``orgs`` table (a few thousand rows per
    snapshot, read on every click) over the readable files only. Returns the unreadable (path, reason) pairs,
    the snapshots with a matching roll-up and the files' row counts."""
    readable, skipped, rows = _readable_files(store, listing)
    for table in ("metric_values", "orgs"):
        if not readable[table]:
            raise NoDataError(f"no readable {table} files under {store.root}")
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
    served = {posixpath.dirname(p) for p in readable["metric_values"]}
    rolled_up = frozenset(layout.snapshot_date(posixpath.dirname(p)) for p in rollups if posixpath.dirname(p) in served)
    return tuple(skipped), rolled_up, rows


_FILTERS = """
          AND list_contains(?, metric_id)
          AND (? IS NULL OR list_contains(?, area_code))
          AND (? IS NULL OR {within} = ?)
          AND (? IS NULL OR period_start >= ?)
          AND (? IS NULL OR period_end <= ?)"""

# The reader's scope, in every query that can return practices (parameters from Store._scope_filter): any access
# at all, then every practice, or a practice row (at ``{level}``) whose borough or PCN the scope names. Area rows
# pass for any reader with access. In the values sum the borough and PCN are the membership of the period.
_IN_SCOPE = """
          AND ? AND (? OR {level} <> 'practice' OR list_contains(?::VARCHAR[], borough_code)
                     OR list_contains(?::VARCHAR[], pcn_code))"""
_AREAS_IN_SCOPE = """
          AND ?"""
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


def write_rollup(values: str | Path, orgs: str | Path, out: str | Path, root: layout.Root | None = None) -> int:
    """Write the area roll-up of one snapshot's (possibly staged) values and orgs files to the local file ``out``;
    returns its row count. ``values`` and ``orgs`` are read from ``root``'s storage (default: local disk).
    Snapshot writers call this before publishing, so a roll-up appears with its snapshot; the file records what
    it was summed from, and the store ignores it if the values beside it are ever different."""
    files = layout.storage(root if root is not None else str(values))
    values, orgs = str(values), str(orgs)
    with tempfile.TemporaryDirectory(prefix="icp-rollup-") as spill, duckdb.connect() as con:
        files.attach(con)
        # Bounded memory: England took 7 GB unbounded; DuckDB spills the grouping to disk past the limit.
        con.execute(f"SET memory_limit = '{ROLLUP_MEMORY}'; SET temp_directory = {_literal(spill)}; "
                    "SET preserve_insertion_order = false; SET enable_progress_bar = false")
        source = _rollup_source(files.info(values).size, files.info(orgs).size).decode()
        sql = _rollup_sql(_source(con, "metric_values", [values], hive=False), _source(con, "orgs", [orgs], hive=False))
        con.execute(f"COPY ({sql}) TO {_literal(str(out))} (FORMAT parquet, COMPRESSION zstd, "
                    f"ROW_GROUP_SIZE {ROLLUP_ROW_GROUP}, KV_METADATA {{icp_rollup_source: {_literal(source)}}})")
    return pq.ParquetFile(out).metadata.num_rows


def build_missing_rollups(root: layout.Root) -> dict[str, int]:
    """Roll-ups for the snapshots under ``root`` that have none or a stale one (data written before roll-ups
    existed), each written to a local file first and then renamed (local disk) or uploaded as one object (object
    storage) into place. Returns rows written per snapshot folder."""
    files = layout.storage(root)
    listing = layout.listing(files)
    written = {}
    for _, folder in listing.snapshot_folders():
        target = files.join(folder, ROLLUP_FILE)
        footer = files.footer(target) if target in listing.files else None
        if footer is not None and not isinstance(footer, str) and _rollup_matches(target, footer, listing.files):
            continue
        name = posixpath.basename(folder)
        values, orgs = files.join(folder, METRIC_VALUES_FILE), files.join(folder, ORGS_FILE)
        if files.local:
            staged = files.join(folder, f".{ROLLUP_FILE}{layout.STAGED_SUFFIX}")
            written[name] = write_rollup(values, orgs, staged, files)
            os.replace(staged, target)
            continue
        with tempfile.TemporaryDirectory(prefix="icp-rollup-out-") as spare:
            staged = Path(spare) / ROLLUP_FILE
            written[name] = write_rollup(values, orgs, staged, files)
            files.upload(staged, target)
    return written
