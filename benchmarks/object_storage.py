"""Evidence for a data root on S3: that DuckDB still prunes partitions and pushes filters down through the fsspec
filesystem (EXPLAIN ANALYZE of two page queries), and what fsspec's read-ahead cache would cost (bytes fetched for
the same query with block caching off, as the store reads, and with s3fs's default read-ahead).

Run against an S3 data root, with the AWS environment pointing at it::

    python -m benchmarks.object_storage --root s3://bench/nwl

and, to set the page queries' times on S3 against the same data on local disk (two ``benchmarks.run_queries``
outputs)::

    python -m benchmarks.object_storage --compare local.json s3.json

``benchmarks/README.md`` ("Data on object storage") has a run against moto's S3 server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb

from metrics import layout
from metrics.store import Store

# One practice's values for one metric (the Variation explorer and drill-downs read practice rows), and one
# borough's series from the roll-up (what most page questions read).
PRACTICE_SQL = ("SELECT period_start, sum(numerator) FROM metric_values WHERE snapshot_date = ? "
                "AND metric_id = 'flu_uptake_65_plus' AND org_code = 'E84002' GROUP BY ALL")
ROLLUP_SQL = ("SELECT period_start, sum(numerator) FROM area_values WHERE snapshot_date = ? AND level = 'borough' "
              "AND breakdown = 'all' AND area_code = 'E09000015' AND metric_id = 'flu_uptake_65_plus' GROUP BY ALL")
PLAN_LINES = re.compile(r"Total Time|Data Read|File Filters|snapshot_date =|Scanning Files|Total Files Read|"
                        r"Row Groups Scanned|Filters:|metric_id =|org_code =|area_code =")


def explain(store: Store, sql: str, snapshot: date) -> list[str]:
    """The lines of EXPLAIN ANALYZE that show pruning and pushdown."""
    plan = store._connection().execute(f"EXPLAIN ANALYZE {sql}", [snapshot]).fetchall()[0][1]
    return [line.strip(" │╭╰─┤├") for line in plan.splitlines() if PLAN_LINES.search(line)]


@contextmanager
def counted_fetches() -> Iterator[dict[str, int]]:
    """Count the ranged GETs s3fs makes and the bytes they return, while the block is running."""
    from s3fs.core import S3File

    counts = {"requests": 0, "bytes": 0}
    original = S3File._fetch_range

    def fetch(self, start: int, end: int) -> bytes:
        data = original(self, start, end)
        counts["requests"] += 1
        counts["bytes"] += len(data)
        return data

    S3File._fetch_range = fetch
    try:
        yield counts
    finally:
        S3File._fetch_range = original


def fetched(root: str, sql: str, snapshot: date, cache_type: str) -> dict[str, int]:
    """Requests and bytes one cold query fetches from S3 through a plain connection over ``root``'s files, with the
    given fsspec cache type for every file opened."""
    import fsspec

    files = layout.storage(root)
    listing = layout.listing(files)
    fs = fsspec.filesystem("s3", default_cache_type=cache_type, use_listings_cache=False, skip_instance_cache=True)
    reader = layout.listed_filesystem(fs)
    reader.remember(listing.files)
    reader_open = reader.open
    reader.open = lambda path, mode="rb", **kw: reader_open(path, mode, **{"cache_type": cache_type, **kw})
    table = "metric_values" if "metric_values" in sql else "area_values"
    paths = ", ".join(f"'{p}'" for p in listing.parquet_files()[table])
    with duckdb.connect() as con, counted_fetches() as counts:
        con.register_filesystem(reader)
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
        con.execute(sql, [snapshot]).fetchall()
    return counts


def compare(local: dict, remote: dict) -> list[str]:
    """Each query's warm and cold medians on local disk and object storage, and their ratios (remote / local)."""
    rows = [f"{'query':30s} {'local ms':>9s} {'s3 ms':>9s} {'ratio':>6s}   {'cold local':>10s} {'cold s3':>9s} "
            f"{'ratio':>6s}"]
    ratios, cold_ratios = [], []
    theirs = {q["name"]: q for q in remote["queries"]}
    for ours in local["queries"]:
        other = theirs[ours["name"]]
        ratio = other["median_ms"] / ours["median_ms"]
        cold = other["cold_median_ms"] / ours["cold_median_ms"]
        ratios.append(ratio)
        cold_ratios.append(cold)
        rows.append(f"{ours['name']:30s} {ours['median_ms']:9.1f} {other['median_ms']:9.1f} {ratio:6.2f}   "
                    f"{ours['cold_median_ms']:10.1f} {other['cold_median_ms']:9.1f} {cold:6.2f}")
    rows.append(f"warm ratio: median {statistics.median(ratios):.2f}, max {max(ratios):.2f}; "
                f"cold ratio: median {statistics.median(cold_ratios):.2f}, max {max(cold_ratios):.2f}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.object_storage")
    parser.add_argument("--root", help="an s3:// data root: EXPLAIN ANALYZE and bytes fetched")
    parser.add_argument("--compare", nargs=2, metavar=("LOCAL", "REMOTE"),
                        help="two python -m benchmarks.run_queries outputs: the same data on local disk and on S3")
    args = parser.parse_args(argv)
    if args.compare:
        local, remote = (json.loads(Path(name).read_text()) for name in args.compare)
        print("\n".join(compare(local, remote)))
        return 0
    if not args.root:
        parser.error("give --root or --compare")
    store = Store(args.root)
    snapshot = store.snapshots()[-1]
    for name, sql in (("practice values", PRACTICE_SQL), ("borough roll-up", ROLLUP_SQL)):
        print(f"{name}: EXPLAIN ANALYZE")
        for line in explain(store, sql, snapshot):
            print(f"    {line}")
        for cache_type in ("none", "readahead"):
            counts = fetched(args.root, sql, snapshot, cache_type)
            print(f"  cold, cache_type={cache_type!r}: {counts['requests']} ranged GETs, {counts['bytes']:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
