"""Time the query set on one data root: DuckDB warm and cold, the pandas baseline, and check they agree.

Run as ``python -m benchmarks.run_queries --root DIR --out part.json`` (``benchmarks/__main__.py`` does, one
process per data size, so one size's memory never weighs on the next; it also runs ``--prepare SIZE`` first, which
generates the data if the root has none and adds missing roll-ups, and times nothing).

- warm: the process, its DuckDB connection and the operating system's file cache are warm; the store's memo
  of answers is cleared before every run, so every query really runs.
- cold: as warm, and the store's DuckDB connection is closed too (views, parquet footers and DuckDB's caches are
  rebuilt). The operating system's file cache is not dropped: that needs root and would slow everyone
  else on a shared machine; ``benchmarks/README.md`` gives the first-read cost separately.
- baseline: the same library call handed ``baseline.PandasStore`` instead of the store (data already
  loaded), so the ratio is the engine's and nothing else.

By default the store is measured as shipped (area questions answered from the roll-ups; any the root lacks are
built first with ``store.build_missing_rollups``). ``--no-rollups`` measures the same queries on a
``Store(root, use_rollups=False)`` and checks each answer against the shipped store's instead of timing pandas
again (``__main__`` sets the shipped part's pandas times beside it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np

from benchmarks import peak_rss_mb
from benchmarks.baseline import PandasStore
from benchmarks.compare import differences
from benchmarks.queries import Query, Scene, query_set, scene
from metrics import layout
from metrics.store import Store, build_missing_rollups

QUESTIONS = ("snapshots", "orgs", "aggregate", "period_range", "snapshot_summary", "unreadable_files",
             "practice_counts")


def clear_caches(store: Store | PandasStore, cold: bool) -> None:
    """Forget the store's answers; ``cold`` closes its connection too."""
    store.clear_cache()
    if cold and isinstance(store, Store):
        store.close()


def time_runs(run: Callable[[], object], repeats: int, before: Callable[[], None]) -> list[float]:
    """Milliseconds per run, each after ``before()`` (not timed)."""
    samples = []
    for _ in range(repeats):
        before()
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(float(np.percentile(samples, 95, method="higher")), 2)}


@dataclass(frozen=True)
class Call:
    """One question a library function asked the store: what the store's memo answers once per distinct call."""

    function: str
    args: tuple
    kwargs: tuple

    def __call__(self, store: Store | PandasStore) -> object:
        return getattr(store, self.function)(*self.args, **dict(self.kwargs))

    def describe(self) -> str:
        shown = [f"{len(a)} metrics" if isinstance(a, tuple) and len(a) > 3 else str(a) for a in self.args]
        return f"{self.function}({', '.join(shown + [f'{k}={v}' for k, v in self.kwargs])})"


class Recorder:
    """A store that notes each distinct question asked of it (the store's calls to itself are not seen)."""

    def __init__(self, store: Store | PandasStore) -> None:
        self.store, self.calls = store, []

    def __getattr__(self, name: str):
        answer = getattr(self.store, name)
        if name not in QUESTIONS:
            return answer

        def call(*args, **kwargs):
            if (c := Call(name, args, tuple(sorted(kwargs.items())))) not in self.calls:
                self.calls.append(c)
            return answer(*args, **kwargs)
        return call


def record(query: Query, s: Scene) -> list[Call]:
    """The distinct store calls ``query`` makes, in order."""
    recorder = Recorder(s.store)
    clear_caches(s.store, cold=False)
    query.run(dataclasses.replace(s, store=recorder))
    return recorder.calls


def replay(calls: list[Call], store: Store | PandasStore) -> list[object]:
    return [call(store) for call in calls]


def _measure(query: Query, s: Scene, reference: Store | PandasStore, repeats: int, baseline_repeats: int) -> dict:
    """Time one query's store calls (warm, cold) and its library call; check the answers against
    ``reference`` (pandas, timed too; or the shipped store with its roll-ups, for the measurement without them)."""
    store = s.store
    calls = record(query, s)
    ours = replay(calls, store)  # warm-up: connection, footers and file cache as a user's next click finds them
    warm = summary(time_runs(lambda: replay(calls, store), repeats, lambda: clear_caches(store, cold=False)))
    cold = summary(time_runs(lambda: replay(calls, store), max(3, repeats // 3), lambda: clear_caches(store, cold=True)))
    section = summary(time_runs(lambda: query.run(s), max(3, repeats // 3), lambda: clear_caches(store, cold=False)))
    section_ours = query.run(s)
    on_reference = dataclasses.replace(s, store=reference)
    timings = {**warm, "cold_median_ms": cold["median_ms"], "cold_p95_ms": cold["p95_ms"],
               "section_median_ms": section["median_ms"], "section_p95_ms": section["p95_ms"]}
    described = {"store_calls": [c.describe() for c in calls]}
    if isinstance(reference, Store):  # without roll-ups: checked against the shipped store (itself against pandas)
        theirs, section_theirs = replay(calls, reference), query.run(on_reference)
        diffs = differences(ours, theirs, "store calls") + differences(section_ours, section_theirs, "library")
        return {"name": query.name, "page": query.page, **timings, "same_answer": not diffs,
                "differences": diffs[:5], **described}
    reference.clear_cache()
    theirs = replay(calls, reference)
    baseline = summary(time_runs(lambda: replay(calls, reference), baseline_repeats, reference.clear_cache))
    reference.clear_cache()
    section_theirs = query.run(on_reference)
    diffs = differences(ours, theirs, "store calls") + differences(section_ours, section_theirs, "library")
    return {"name": query.name, "page": query.page, **timings,
            "baseline_median_ms": baseline["median_ms"], "baseline_p95_ms": baseline["p95_ms"],
            "speedup": round(baseline["median_ms"] / warm["median_ms"], 1),
            "same_answer": not diffs, "differences": diffs[:5], **described}


def ensure_data(root: str, size: str) -> dict | None:
    """Generate a size's snapshots (nwl, quarter, england) if the root has none: what it took, else None."""
    if layout.snapshot_folders(root):
        return None
    print(f"Generating {size} data under {root} ...", flush=True)
    if size == "nwl":
        from metrics.demo import generate_demo

        return generate_demo(root)
    from metrics.demo_england import SCALES, generate_england

    return generate_england(root, SCALES[size])


def prepare_rollups(root: str) -> dict:
    """Add the roll-ups data written before them lacks (``store.build_missing_rollups``: rows per snapshot
    folder, and how long it took), then check every snapshot is served from one, so "shipped" means shipped."""
    started = time.perf_counter()
    written = build_missing_rollups(root)
    seconds = round(time.perf_counter() - started, 1)
    store = Store(root)
    missing = [snap.isoformat() for snap in store.snapshots() if not store.has_rollup(snap)]
    if missing:
        raise RuntimeError(f"{root}: no usable area roll-up for snapshot(s) {', '.join(missing)}")
    return {"rows": written, "seconds": seconds if written else 0.0}


ENGINES = {True: "store as shipped (area roll-ups)", False: "store without area roll-ups (summed from practice rows)"}


def run(root: str, repeats: int, baseline_repeats: int, only: list[str] | None = None,
        with_rollups: bool = True) -> dict:
    """Every query on one root: the store as shipped against pandas, or (``with_rollups=False``) the store with
    its roll-ups switched off against the shipped store."""
    built = prepare_rollups(root)
    store = Store(root, use_rollups=with_rollups)
    reference = PandasStore(root) if with_rollups else Store(root)
    result = _run(store, reference, repeats, baseline_repeats, only)
    return {**result, "engine": ENGINES[with_rollups], "rollups": with_rollups, "rollups_built": built}


def _run(store: Store, reference: Store | PandasStore, repeats: int, baseline_repeats: int,
         only: list[str] | None) -> dict:
    s = scene(store)
    rows = sum(int(store.snapshot_summary(snap)["rows"]) for snap in store.snapshots())
    results = []
    for query in query_set():
        if only and query.name not in only:
            continue
        result = _measure(query, s, reference, repeats, baseline_repeats)
        results.append(result)
        if "speedup" not in result:
            print(f"  {query.name:30s} {result['median_ms']:8.1f} ms (p95 {result['p95_ms']:7.1f}, cold "
                  f"{result['cold_median_ms']:7.1f}) section {result['section_median_ms']:7.1f} ms  "
                  f"{'same as with roll-ups' if result['same_answer'] else 'DIFFERENT: ' + result['differences'][0]}",
                  flush=True)
            continue
        print(f"  {query.name:30s} {result['median_ms']:8.1f} ms (p95 {result['p95_ms']:7.1f}, cold "
              f"{result['cold_median_ms']:7.1f})  pandas {result['baseline_median_ms']:8.1f} ms  "
              f"x{result['speedup']:<6} section {result['section_median_ms']:7.1f} ms  "
              f"{'same' if result['same_answer'] else 'DIFFERENT: ' + result['differences'][0]}", flush=True)
    return {"root": store.root, "rows": rows, "snapshot": s.view.snapshot.isoformat(), "month": s.view.period,
            "orgs": store.orgs(s.view.snapshot)["org_type"].value_counts().to_dict(),
            "queries": results, "baseline_load_seconds": getattr(reference, "load_seconds", {}),
            "query_process_peak_rss_mb": peak_rss_mb(),
            "duckdb_version": duckdb.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_queries")
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--baseline-repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="query names to run (default: all)")
    parser.add_argument("--no-rollups", action="store_true",
                        help="area sums from practice rows (roll-ups off), answers checked against the shipped store")
    parser.add_argument("--prepare", metavar="SIZE", choices=("nwl", "quarter", "england"),
                        help="only make the data (if missing) and its roll-ups; write what that took, time nothing")
    args = parser.parse_args(argv)
    if args.prepare:
        generated = ensure_data(args.root, args.prepare)
        result = {"generated": generated, "rollups_built": prepare_rollups(args.root)}
        print(f"  {args.root}: generated {generated}, roll-ups built {result['rollups_built']}", flush=True)
    else:
        result = run(args.root, args.repeats, args.baseline_repeats, args.only, with_rollups=not args.no_rollups)
    with open(args.out, "w") as out:
        json.dump(result, out, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
