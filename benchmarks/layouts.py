"""Compare parquet layouts of the same snapshot: the page queries replayed on each, round-robin.

``python -m benchmarks.layouts --source DIR --out layouts.json`` rewrites the newest snapshot of ``--source``
once per candidate layout (sort order and row-group size, with DuckDB's ``COPY ... ORDER BY``) into
``--work`` (default: next to the source), then replays the store calls of the whole query set on every
candidate in turn, repetition by repetition, so a busy machine slows all candidates alike. What it
printed when the layout was chosen is in ``benchmarks/README.md``.

The store is measured as shipped: a rewritten ``metric_values.parquet`` no longer matches the roll-up summed
from the source (the store checks the file sizes recorded in the roll-up), so each candidate gets its own
(``store.build_missing_rollups``, via ``run_queries.prepare_rollups``) before timing. ``--no-rollups`` times the
candidates with the roll-ups off.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import duckdb

from benchmarks.queries import query_set, scene
from benchmarks.run_queries import clear_caches, prepare_rollups, record
from metrics.layout import METRIC_VALUES_FILE, ORGS_FILE, ROLLUP_FILE, snapshot_folders
from metrics.store import Store

# name -> (ORDER BY, row-group size); "as_written" is the source file untouched (the generators write the demo's
# order, metric_id, breakdown, org_code, period_start, breakdown_value, in their own row-group size).
CANDIDATES: dict[str, tuple[str | None, int | None]] = {
    "as_written": (None, None),
    "metric_org": ("breakdown, metric_id, org_code, period_start, breakdown_value", 100_000),
    "metric_period": ("breakdown, metric_id, period_start, org_code, breakdown_value", 100_000),
    "metric_period_25k": ("breakdown, metric_id, period_start, org_code, breakdown_value", 25_000),
    "org_major_25k": ("breakdown, org_code, metric_id, period_start, breakdown_value", 25_000),
    "demo_order_250k": ("metric_id, breakdown, org_code, period_start, breakdown_value", 250_000),
    "demo_order_1m": ("metric_id, breakdown, org_code, period_start, breakdown_value", 1_000_000),
}


def write_layout(source: Path, target: Path, order: str, row_group_size: int) -> float:
    """One snapshot folder rewritten in ``order``; returns the seconds it took."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / ORGS_FILE, target / ORGS_FILE)
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{target.parent.parent / 'duckdb-tmp'}'; SET enable_progress_bar = false")
    started = time.perf_counter()
    con.execute(f"COPY (SELECT * FROM read_parquet('{source / METRIC_VALUES_FILE}') ORDER BY {order}) "
                f"TO '{target / METRIC_VALUES_FILE}' (FORMAT parquet, COMPRESSION zstd, "
                f"ROW_GROUP_SIZE {row_group_size})")
    return round(time.perf_counter() - started, 1)


def prepare(source: Path, work: Path, names: list[str]) -> dict[str, str]:
    """A data root per candidate holding the newest snapshot only (made once, reused)."""
    newest = Path(snapshot_folders(source)[-1][1])
    roots = {}
    for name in names:
        order, size = CANDIDATES[name]
        root = work / name
        folder = root / newest.name
        if not (folder / METRIC_VALUES_FILE).exists():
            if order is None:  # the source's files as they are, its roll-up too (it matches them)
                folder.mkdir(parents=True, exist_ok=True)
                for file in (ORGS_FILE, METRIC_VALUES_FILE, ROLLUP_FILE):
                    if (newest / file).exists():
                        os.link(newest / file, folder / file)
            else:
                print(f"  writing {name}: {write_layout(newest, folder, order, size)} s", flush=True)
        roots[name] = str(root)
    return roots


def compare(roots: dict[str, str], repeats: int, settings: dict[str, list[str]] | None = None,
            with_rollups: bool = True) -> dict:
    """Median ms per query per candidate, every candidate timed once per repetition in turn. ``settings``
    gives DuckDB ``SET`` statements per candidate name (run on its connection before timing)."""
    stores = {name: Store(root, use_rollups=with_rollups) for name, root in roots.items()}
    first = next(iter(stores.values()))
    plans = {q.name: record(q, scene(first)) for q in query_set()}
    samples = {name: {q: [] for q in plans} for name in roots}
    for _ in range(repeats):
        for name, store in stores.items():
            for statement in (settings or {}).get(name, []):
                store._connection().execute(statement)
            for query, calls in plans.items():
                clear_caches(store, cold=False)
                started = time.perf_counter()
                for call in calls:
                    call(store)
                samples[name][query].append((time.perf_counter() - started) * 1000)
    result = {name: {q: round(statistics.median(v), 1) for q, v in by_query.items()}
              for name, by_query in samples.items()}
    for name, by_query in result.items():
        by_query["TOTAL"] = round(sum(by_query.values()), 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layouts")
    parser.add_argument("--source", required=True, help="a data root (its newest snapshot is used)")
    parser.add_argument("--work", help="where candidate layouts go (default: <source>-layouts)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--no-rollups", action="store_true", help="area sums from practice rows (roll-ups off)")
    parser.add_argument("--roots", nargs="*", help="name=path data roots to compare instead of --candidates")
    parser.add_argument("--setting", action="append", help="a DuckDB SET statement to compare with and without")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if args.roots:  # already prepared data roots, e.g. the same data with roll-ups of different row groups
        roots = dict(item.split("=", 1) for item in args.roots)
    else:
        roots = prepare(source, Path(args.work or f"{source}-layouts"), args.candidates)
    settings = {}
    if args.setting:  # the same data, with and without the setting, side by side
        for name in list(roots):
            alias = Path(roots[name]).with_name(f"{Path(roots[name]).name}+settings")
            if not alias.exists():
                alias.symlink_to(roots[name])
            roots[f"{name}+settings"] = str(alias)
            settings[f"{name}+settings"] = args.setting
    if not args.no_rollups:  # a re-sorted values file needs a roll-up of its own (the old one no longer matches)
        for name, root in roots.items():
            if (built := prepare_rollups(root))["rows"]:
                print(f"  roll-up for {name}: {built}", flush=True)
    result = compare(roots, args.repeats, settings, with_rollups=not args.no_rollups)
    Path(args.out).write_text(json.dumps(result, indent=1))
    names = list(result)
    print(f"  {'query':32s}" + "".join(f"{n:>18s}" for n in names))
    for query in result[names[0]]:
        print(f"  {query:32s}" + "".join(f"{result[n][query]:18.1f}" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
