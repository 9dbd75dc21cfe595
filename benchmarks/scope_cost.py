"""What row-level access costs: the query set's store calls on an unscoped store and on scoped ones, interleaved.

``python -m benchmarks.scope_cost --root DIR --out scope.json [--repeats 15]`` records every query's store calls
once (as ``run_queries`` does), then times each query's calls on the open store (everything, as ICS.All and open
local mode read) and on a borough's and a PCN's scope, round-robin within each repetition so a busy machine slows
all three alike, with the memo of answers cleared before every run (every query really runs). The scope is a
parameter in the SQL of every practice question and a few parameters on the area questions
(``Store._scope_filter``); this shows what that adds per query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.queries import query_set, scene
from benchmarks.run_queries import record
from metrics.access import Scope
from metrics.store import Store

SCOPES = {"open": None, "borough": ["Borough.Harrow"], "pcn": ["PCN.U89806"]}


def measure(root: str, repeats: int) -> dict:
    """Median milliseconds per query per scope, and the scoped minus open difference."""
    base = Store(root)
    stores = {name: base.scoped(None if roles is None else Scope.from_roles(roles)) for name, roles in SCOPES.items()}
    plans = {q.name: record(q, scene(base)) for q in query_set()}
    samples: dict[str, dict[str, list[float]]] = {name: {q: [] for q in plans} for name in stores}
    for _ in range(repeats):
        for query, calls in plans.items():
            for name, store in stores.items():
                store.clear_cache()
                started = time.perf_counter()
                for call in calls:
                    call(store)
                samples[name][query].append((time.perf_counter() - started) * 1000)
    medians = {name: {q: round(statistics.median(v), 2) for q, v in by_query.items()}
               for name, by_query in samples.items()}
    extra = {name: {q: round(medians[name][q] - medians["open"][q], 2) for q in plans} for name in SCOPES if name != "open"}
    return {"root": root, "repeats": repeats, "median_ms": medians, "scoped_minus_open_ms": extra,
            "worst_extra_ms": {name: max(by_query.values()) for name, by_query in extra.items()},
            "median_extra_ms": {name: statistics.median(by_query.values()) for name, by_query in extra.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scope_cost")
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    result = measure(args.root, args.repeats)
    Path(args.out).write_text(json.dumps(result, indent=1))
    for name in result["worst_extra_ms"]:
        print(f"  {name}: median extra {result['median_extra_ms'][name]:.2f} ms per query, "
              f"worst {result['worst_extra_ms'][name]:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
