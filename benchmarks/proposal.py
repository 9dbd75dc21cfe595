"""A prototype of the store change ``benchmarks/README.md`` proposes, so its effect can be measured.

**Area roll-ups.** Next to each snapshot's ``metric_values.parquet``, an ``area_values.parquet`` holds the sums
the store would otherwise compute on every click: numerators, denominators and published-unit counts per
metric, breakdown value and period, for every PCN, borough, place and ICS, each row carrying the ancestors
(borough, place, ICS) a ``within`` filter asks about. It is built with the store's own rule (each value
counts under the membership valid on its period's first day; a suppressed numerator adds to neither sum),
sorted by (level, breakdown, area, metric, period) so one area's rows sit together and parquet statistics
skip the rest. Queries at PCN level and above read it and re-sum (sums of sums are the same sums);
practice-level queries still read ``metric_values``.

Nothing here is used by the app: ``patched_store`` swaps it in for the benchmark only (``--proposal``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from metrics import store

ROLLUP_FILE = "area_values.parquet"
ROLLUP_ROW_GROUP = 250_000  # 100k and 1M were slower, 20k much slower (benchmarks/README.md)
LEVEL_COLUMNS = {"pcn": "pcn_code", "borough": "borough_code", "place": "place_code", "ics": "ics_code"}
ANCESTORS = ("borough_code", "place_code", "ics_code")
# Grouping sets: the area at each level with the ancestors above it (the rest stay NULL).
_SETS = {"pcn": ("pcn_code", *ANCESTORS), "borough": ANCESTORS, "place": ANCESTORS[1:], "ics": ANCESTORS[2:]}
_KEYS = "v.metric_id, v.breakdown, v.breakdown_value, v.period_start, v.period_end"


def rollup_sql(values: str, orgs: str) -> str:
    """One scan of the snapshot, summed to every level at once (GROUPING SETS), in the file's sort order."""
    sets = ", ".join(f"({_KEYS}, {', '.join('o.' + c for c in columns)})" for columns in _SETS.values())
    level = "CASE " + " ".join(
        f"WHEN grouping(o.pcn_code) = {int('pcn_code' not in cols)} AND grouping(o.borough_code) = "
        f"{int('borough_code' not in cols)} AND grouping(o.place_code) = {int('place_code' not in cols)} "
        f"THEN '{name}'" for name, cols in _SETS.items()) + " END"
    return f"""
        WITH sums AS (
            SELECT {level} AS level, {_KEYS}, o.pcn_code, o.borough_code, o.place_code, o.ics_code,
                   sum(v.numerator) AS numerator,
                   sum(v.denominator) FILTER (WHERE v.numerator IS NOT NULL) AS denominator,
                   count(v.numerator) AS n_orgs
            FROM {values} v JOIN {orgs} o ON o.org_code = v.org_code
              AND (o.valid_from IS NULL OR o.valid_from <= v.period_start)
              AND (o.valid_to IS NULL OR v.period_start <= o.valid_to)
            GROUP BY GROUPING SETS ({sets}))
        SELECT level, CASE level WHEN 'pcn' THEN pcn_code WHEN 'borough' THEN borough_code
                                 WHEN 'place' THEN place_code ELSE ics_code END AS area_code,
               metric_id, breakdown, breakdown_value, period_start, period_end,
               CASE WHEN level = 'pcn' THEN borough_code END AS borough_code,
               CASE WHEN level IN ('pcn', 'borough') THEN place_code END AS place_code,
               CASE WHEN level <> 'ics' THEN ics_code END AS ics_code,
               numerator, denominator, n_orgs
        FROM sums WHERE area_code IS NOT NULL
        ORDER BY level, breakdown, area_code, metric_id, period_start, breakdown_value"""


def build_rollup(folder: Path, threads: int | None = None, row_group_size: int | None = None) -> dict:
    """Write ``area_values.parquet`` for one snapshot folder (staged, then renamed into place)."""
    started = time.perf_counter()
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false; SET enable_progress_bar = false")
    values = f"read_parquet('{folder / 'metric_values.parquet'}')"
    staged = folder / f"{ROLLUP_FILE}.part"
    con.execute(f"COPY ({rollup_sql(values, _orgs_source(con, folder))}) TO '{staged}' "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group_size or ROLLUP_ROW_GROUP})")
    os.replace(staged, folder / ROLLUP_FILE)
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{folder / ROLLUP_FILE}')").fetchone()[0]
    return {"rows": rows, "seconds": round(time.perf_counter() - started, 1),
            "mb": round((folder / ROLLUP_FILE).stat().st_size / 2**20, 1)}


def _orgs_source(con: duckdb.DuckDBPyConnection, folder: Path) -> str:
    """The orgs file with the columns older files may lack (no validity dates = always valid), as the store."""
    path = f"read_parquet('{folder / 'orgs.parquet'}')"
    have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {path}").fetchall()}
    extra = "".join(f", NULL::{kind} AS {column}" for column, kind in
                    (("valid_from", "DATE"), ("valid_to", "DATE"), ("place_code", "VARCHAR")) if column not in have)
    return f"(SELECT *{extra} FROM {path})"


# ------------------------------------------------------------------------------------------- store
def build_missing(root: str, row_group_size: int | None = None) -> dict[str, dict]:
    """Roll-ups for every snapshot under ``root`` that has none, or an older one (what each took)."""
    return {folder.name: build_rollup(folder, row_group_size=row_group_size) for folder in store.snapshot_dirs(root)
            if not _fresh(folder)}


def _fresh(folder: Path) -> bool:
    """A roll-up newer than the snapshot's files (a regenerated snapshot needs a new one)."""
    rollup = folder / ROLLUP_FILE
    return rollup.exists() and all(rollup.stat().st_mtime >= (folder / name).stat().st_mtime
                                   for name in ("metric_values.parquet", "orgs.parquet"))


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.proposal --root DIR [--row-group-size N]``: build the missing roll-ups."""
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.proposal")
    parser.add_argument("--root", required=True)
    parser.add_argument("--row-group-size", type=int)
    args = parser.parse_args(argv)
    print(json.dumps(build_missing(args.root, args.row_group_size), indent=1))
    return 0


def _prepared(root: str) -> bool:
    """On the store's connection: parquet footers cached, the ``area_values`` view, and ``orgs`` materialised as
    ``orgs_table`` (a few thousand rows). False (use today's store) unless every snapshot has its roll-up.

    A real store would rebuild ``orgs_table`` where it rebuilds its views (when the files change)."""
    folders = store.snapshot_dirs(root)
    if not folders or not all(_fresh(f) for f in folders):
        return False
    con = store.connection(root)
    if not con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'area_values'").fetchone()[0]:
        con.execute("SET parquet_metadata_cache = true")
        con.execute(f"CREATE OR REPLACE VIEW area_values AS SELECT * FROM read_parquet("
                    f"'{Path(root) / '**' / ROLLUP_FILE}', hive_partitioning = true)")
        con.execute("CREATE OR REPLACE TABLE orgs_table AS SELECT * FROM orgs")
    return True


def aggregate(root: str, snapshot: date, metric_ids: tuple[str, ...], level: str,
              area_codes: tuple[str, ...] | None = None, within: tuple[str, str] | None = None,
              breakdown: str = "all", start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """``store.aggregate`` answered from the roll-up at PCN level and above (same columns, same order)."""
    if level == "practice" or not _prepared(root):
        return _original["aggregate"](root, snapshot, metric_ids, level, area_codes, within, breakdown, start, end)
    within_column = LEVEL_COLUMNS[within[0]] if within else "NULL"
    sql = f"""
        SELECT metric_id, area_code, period_start, period_end, breakdown_value,
               sum(numerator) AS numerator, sum(denominator) AS denominator, sum(n_orgs)::BIGINT AS n_orgs
        FROM area_values
        WHERE snapshot_date = ? AND level = ? AND breakdown = ? AND list_contains(?, metric_id)
          AND (? IS NULL OR list_contains(?, area_code))
          AND (? IS NULL OR {within_column} = ?)
          AND (? IS NULL OR period_start >= ?) AND (? IS NULL OR period_end <= ?)
        GROUP BY ALL
        ORDER BY metric_id, area_code, period_start, breakdown_value"""
    codes = list(area_codes) if area_codes is not None else None
    within_code = within[1] if within else None
    return store._query(root, sql, [snapshot, level, breakdown, list(metric_ids), codes, codes, within_code,
                                    within_code, start, start, end, end])


def period_range(root: str, snapshot: date) -> tuple[date, date]:
    """The monthly span from the ICS rows of the roll-up (a few thousand rows, not every practice's)."""
    if not _prepared(root):
        return _original["period_range"](root, snapshot)
    frame = store._query(root, """
        SELECT min(period_start) AS first, max(period_end) AS last FROM area_values
        WHERE snapshot_date = ? AND level = 'ics' AND breakdown = 'all'
          AND period_end = last_day(period_start)""", [snapshot])
    return frame.at[0, "first"].date(), frame.at[0, "last"].date()


def snapshot_summary(root: str, snapshot: date) -> dict:
    """Rows from the parquet footer; metrics and the period span from the ICS rows of the roll-up (every value
    belongs to some ICS): no scan of the values at all."""
    if not _prepared(root):
        return _original["snapshot_summary"](root, snapshot)
    path = str(Path(root) / f"snapshot_date={snapshot.isoformat()}" / "metric_values.parquet")
    frame = store._query(root, """
        SELECT (SELECT sum(num_rows) FROM parquet_file_metadata(?))::BIGINT AS rows,
               count(DISTINCT metric_id) AS metrics, min(period_start) AS first_period,
               max(period_end) AS last_period_end
        FROM area_values WHERE snapshot_date = ? AND level = 'ics'""", [path, snapshot])
    return frame.iloc[0].to_dict()


def orgs(root: str, snapshot: date, org_type: str | None = None, parent_code: str | None = None) -> pd.DataFrame:
    """``store.orgs`` from the materialised table (same SQL otherwise)."""
    if not _prepared(root):
        return _original["orgs"](root, snapshot, org_type, parent_code)
    return store._query(root, """
        SELECT org_code, org_name, org_type, parent_code, borough_code, pcn_code, place_code, list_size,
               imd_score, imd_decile
        FROM orgs_table
        WHERE snapshot_date = ? AND (? IS NULL OR org_type = ?) AND (? IS NULL OR parent_code = ?)
        QUALIFY row_number() OVER (PARTITION BY org_code ORDER BY valid_from DESC NULLS LAST) = 1
        ORDER BY org_name""", [snapshot, org_type, org_type, parent_code, parent_code])


def practice_profiles(snapshot: date, month: str) -> pd.DataFrame:
    """``variation.practice_profiles`` reading one period (the latest, found from the ICS totals), not all sixty
    for every practice in the country."""
    from metrics import variation
    from metrics.periods import month_end
    from metrics.settings import store_root

    root = store_root()
    totals = store.aggregate(root, snapshot, (variation.AGE_PROFILE_METRIC,), "ics", end=month_end(month))
    start = totals["period_start"].max().date() if len(totals) else None
    profiles = store.orgs(root, snapshot, "practice")[["org_code", "org_name", "list_size", "imd_score"]]
    age = store.aggregate(root, snapshot, (variation.AGE_PROFILE_METRIC,), "practice", start=start,
                          end=month_end(month))
    latest = age[age["period_start"] == age["period_start"].max()].set_index("area_code")["denominator"]
    profiles = profiles.assign(registered_65_plus=profiles["org_code"].map(latest))
    profiles["share_65_plus"] = profiles["registered_65_plus"] / profiles["list_size"]
    return profiles.dropna(subset=["imd_score", "share_65_plus"]).reset_index(drop=True)


_STORE_FUNCTIONS = {"aggregate": aggregate, "period_range": period_range, "snapshot_summary": snapshot_summary,
                    "orgs": orgs}
_original: dict[str, object] = {}


def _swap(functions: dict[str, object]) -> dict[str, object]:
    """Put ``functions`` in place (store functions by name, 'variation.practice_profiles'); return what was there."""
    from metrics import variation

    before = {}
    for name, function in functions.items():
        module, attr = (variation, "practice_profiles") if name == "practice_profiles" else (store, name)
        before[name] = getattr(module, attr)
        setattr(module, attr, function)
    return before


@contextlib.contextmanager
def patched_store() -> Iterator[None]:
    """Swap the prototype in: store functions cached with ``st.cache_data`` as the store's are, and the
    variation module's practice profiles."""
    import streamlit as st

    cached = {name: st.cache_data(max_entries=store.QUERY_CACHE_ENTRIES, show_spinner=False)(function)
              for name, function in _STORE_FUNCTIONS.items()}
    _original.update(_swap({**cached, "practice_profiles": practice_profiles}))
    try:
        yield
    finally:
        _swap(_original)


@contextlib.contextmanager
def original_store() -> Iterator[None]:
    """Inside ``patched_store``: everything as it is today, to check the prototype gives the same answers."""
    patched = _swap(_original)
    try:
        yield
    finally:
        _swap(patched)


if __name__ == "__main__":
    raise SystemExit(main())
