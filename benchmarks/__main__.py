"""``python -m benchmarks --scale england --out bench.json``: the whole benchmark, one command.

For each data size up to ``--scale`` (NWL, a quarter of England, England) it makes the data if it is not there
yet, then runs, each in a fresh process: the query set on today's store against the pandas baseline
(``run_queries``), the same on the area roll-ups the README proposes (``--proposal``, on by default), and
full page renders with the app's peak memory (``pages``), with and without the proposal. ``bench.json``
holds the largest size at the top level (``rows``, ``queries`` with ``name``, ``median_ms``, ``p95_ms``,
``baseline_median_ms``, ``speedup``; ``page_render_median_ms``; ``peak_rss_mb``), the proposal's figures
under ``proposal``, and every size under ``sizes`` so growth with rows can be read off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

SIZES = ("nwl", "quarter", "england")
TARGETS = {"query_median_ms": 150.0, "page_render_median_ms": 1000.0, "speedup": 10.0, "peak_rss_mb": 2048.0}
PROJECT = Path(__file__).resolve().parent.parent


def data_root(data_dir: Path, size: str) -> Path:
    return data_dir / f"icp-{size}"


def ensure_data(root: Path, size: str) -> dict | None:
    """Generate a size's snapshots if its root has none (what it took), else None."""
    if list(root.glob("snapshot_date=*/metric_values.parquet")):
        return None
    print(f"Generating {size} data under {root} ...", flush=True)
    if size == "nwl":
        from metrics.demo import generate_demo

        return generate_demo(root)
    from metrics.demo_england import SCALES, generate_england

    return generate_england(root, SCALES[size])


def _run_part(module: str, root: Path, *extra: str) -> dict:
    """One benchmark part in its own Python process; its JSON result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [sys.executable, "-m", f"benchmarks.{module}", "--root", str(root), "--out", str(out), *extra]
    print(f"$ {' '.join(command[2:])}", flush=True)
    subprocess.run(command, check=True, cwd=PROJECT, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    result = json.loads(out.read_text())
    out.unlink()
    return result


def run_size(size: str, root: Path, args: argparse.Namespace) -> dict:
    generated = ensure_data(root, size)
    repeats = ["--repeats", str(args.repeats), "--baseline-repeats", str(args.baseline_repeats)]
    part = {"size": size, "generated": generated, "queries": _run_part("run_queries", root, *repeats)}
    if not args.no_proposal:
        part["proposal_queries"] = _run_part("run_queries", root, *repeats, "--proposal")
    if not args.no_pages:
        part["pages"] = _run_part("pages", root, "--repeats", str(args.page_repeats))
        if not args.no_proposal:
            part["proposal_pages"] = _run_part("pages", root, "--repeats", str(args.page_repeats), "--proposal")
    return part


def _targets(queries: list[dict], pages: dict | None) -> dict:
    """Each target, met or not, and what misses it."""
    slow = [q["name"] for q in queries if q["median_ms"] >= TARGETS["query_median_ms"]]
    out = {"query_median_under_150ms": {"met": not slow, "missed_by": slow}}
    if "speedup" in (queries[0] if queries else {}):
        behind = [q["name"] for q in queries if q["speedup"] < TARGETS["speedup"]]
        out["speedup_at_least_10x"] = {"met": not behind, "missed_by": behind}
    if pages:
        late = [name for name, ms in _render_medians(pages).items() if ms >= TARGETS["page_render_median_ms"]]
        out["page_render_under_1s"] = {"met": not late, "missed_by": late}
        out["peak_rss_under_2gb"] = {"met": pages["peak_rss_mb"] < TARGETS["peak_rss_mb"],
                                     "peak_rss_mb": pages["peak_rss_mb"]}
    return out


def _render_medians(pages: dict, kind: str = "uncached") -> dict[str, float]:
    return {name: by_kind[kind]["median_ms"] for name, by_kind in pages["pages"].items()}


def _with_speedup(proposal: list[dict], store: list[dict]) -> list[dict]:
    """The proposal's rows with the same run's pandas baseline (timed once, in the store's part)."""
    baseline = {q["name"]: q["baseline_median_ms"] for q in store}
    return [{**q, "baseline_median_ms": baseline[q["name"]],
             "speedup": round(baseline[q["name"]] / q["median_ms"], 1)} for q in proposal]


def _size_summary(part: dict) -> dict:
    queries = part["queries"]
    summary = {"size": part["size"], "rows": queries["rows"], "orgs": queries["orgs"],
               "generated": part["generated"],
               "query_median_ms": {q["name"]: q["median_ms"] for q in queries["queries"]},
               "query_median_total_ms": round(sum(q["median_ms"] for q in queries["queries"]), 1),
               "baseline_median_total_ms": round(sum(q["baseline_median_ms"] for q in queries["queries"]), 1),
               "baseline_load_seconds": queries["baseline_load_seconds"],
               "baseline_process_peak_rss_mb": queries["query_process_peak_rss_mb"]}
    if "proposal_queries" in part:
        rows = part["proposal_queries"]["queries"]
        summary["proposal_query_median_ms"] = {q["name"]: q["median_ms"] for q in rows}
        summary["proposal_query_median_total_ms"] = round(sum(q["median_ms"] for q in rows), 1)
        summary["rollups_built"] = part["proposal_queries"].get("rollups_built")
    for key in ("pages", "proposal_pages"):
        if key in part:
            summary[f"{key}_render_median_ms"] = _render_medians(part[key])
            summary[f"{key}_peak_rss_mb"] = part[key]["peak_rss_mb"]
    return summary


def compose(parts: list[dict], started: float) -> dict:
    """bench.json: the largest size on top, the proposal beside it, every size for growth."""
    top = parts[-1]
    queries = top["queries"]["queries"]
    result = {
        "scale": top["size"], "rows": top["queries"]["rows"], "snapshot": top["queries"]["snapshot"],
        "month": top["queries"]["month"], "orgs": top["queries"]["orgs"], "queries": queries,
        "targets": _targets(queries, top.get("pages")),
    }
    if "pages" in top:
        result |= {"page_render_median_ms": _render_medians(top["pages"]),
                   "page_render_cached_median_ms": _render_medians(top["pages"], "cached"),
                   "peak_rss_mb": top["pages"]["peak_rss_mb"], "first_page_run_ms": top["pages"]["first_run_ms"]}
    if "proposal_queries" in top:
        proposed = _with_speedup(top["proposal_queries"]["queries"], queries)
        result["proposal"] = {"engine": top["proposal_queries"]["engine"], "queries": proposed,
                              "rollups_built": top["proposal_queries"].get("rollups_built"),
                              "targets": _targets(proposed, top.get("proposal_pages"))}
        if "proposal_pages" in top:
            result["proposal"] |= {"page_render_median_ms": _render_medians(top["proposal_pages"]),
                                   "page_render_cached_median_ms": _render_medians(top["proposal_pages"], "cached"),
                                   "peak_rss_mb": top["proposal_pages"]["peak_rss_mb"]}
    result["sizes"] = [_size_summary(part) for part in parts]
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                         "duckdb": top["queries"]["duckdb_version"], "load_average_at_end": os.getloadavg(),
                         "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         "seconds": round(time.perf_counter() - started)}
    return result


def report(result: dict) -> None:
    print(f"\n{result['scale']}: {result['rows']:,} rows")
    print(f"  {'query':32s}{'median':>9s}{'p95':>9s}{'cold':>9s}{'pandas':>10s}{'x':>7s}{'proposal':>10s}{'x':>7s}")
    proposed = {q["name"]: q for q in result.get("proposal", {}).get("queries", [])}
    for q in result["queries"]:
        p = proposed.get(q["name"], {})
        print(f"  {q['name']:32s}{q['median_ms']:9.1f}{q['p95_ms']:9.1f}{q['cold_median_ms']:9.1f}"
              f"{q['baseline_median_ms']:10.1f}{q['speedup']:7.1f}{p.get('median_ms', float('nan')):10.1f}"
              f"{p.get('speedup', float('nan')):7.1f}{'' if q['same_answer'] else '  DIFFERENT'}")
    for name, ms in result.get("page_render_median_ms", {}).items():
        alt = result.get("proposal", {}).get("page_render_median_ms", {}).get(name)
        print(f"  page {name:27s}{ms:9.1f} ms" + (f"   with the proposal {alt:9.1f} ms" if alt else ""))
    print(f"  peak RSS {result.get('peak_rss_mb')} MB; targets: "
          + ", ".join(f"{k} {'met' if v['met'] else 'NOT met'}" for k, v in result["targets"].items()))
    print("\n  growth: " + "; ".join(f"{s['size']} {s['rows']:,} rows, queries {s['query_median_total_ms']:.0f} ms "
                                     f"(pandas {s['baseline_median_total_ms']:.0f} ms)" for s in result["sizes"]))


def markdown(result: dict) -> str:
    """The tables benchmarks/README.md quotes, from a bench.json."""
    proposed = {q["name"]: q for q in result.get("proposal", {}).get("queries", [])}
    lines = ["| query | median ms | p95 ms | cold ms | pandas ms | speedup | proposal ms | p95 | cold | speedup |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for q in result["queries"]:
        p = proposed.get(q["name"], {})
        lines.append(f"| {q['name']} | {q['median_ms']:.0f} | {q['p95_ms']:.0f} | {q['cold_median_ms']:.0f} | "
                     f"{q['baseline_median_ms']:.0f} | {q['speedup']:.1f} | {p.get('median_ms', float('nan')):.0f} | "
                     f"{p.get('p95_ms', float('nan')):.0f} | {p.get('cold_median_ms', float('nan')):.0f} | "
                     f"{p.get('speedup', float('nan')):.1f} |")
    lines += ["", "| page | render ms (today) | cached | with the proposal | cached |", "|---|---:|---:|---:|---:|"]
    alt = result.get("proposal", {})
    for name, ms in result.get("page_render_median_ms", {}).items():
        lines.append(f"| {name} | {ms:.0f} | {result['page_render_cached_median_ms'][name]:.0f} | "
                     f"{alt.get('page_render_median_ms', {}).get(name, float('nan')):.0f} | "
                     f"{alt.get('page_render_cached_median_ms', {}).get(name, float('nan')):.0f} |")
    lines += ["", "| size | rows | practices | queries, sum of medians ms | with the proposal | pandas | "
              "pandas load s (newest snapshot) | pandas process peak MB | app peak MB | with the proposal |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size in result["sizes"]:
        loads = size["baseline_load_seconds"]
        cells = [f"{size['rows']:,}", f"{size['orgs'].get('practice', 0):,}", f"{size['query_median_total_ms']:.0f}",
                 f"{size.get('proposal_query_median_total_ms', float('nan')):.0f}",
                 f"{size['baseline_median_total_ms']:.0f}", f"{loads[max(loads)]:.1f}" if loads else "-",
                 f"{size['baseline_process_peak_rss_mb']:.0f}", f"{size.get('pages_peak_rss_mb', float('nan')):.0f}",
                 f"{size.get('proposal_pages_peak_rss_mb', float('nan')):.0f}"]
        lines.append(f"| {size['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SIZES, default="england", help="the largest size to run")
    parser.add_argument("--sizes", nargs="*", choices=SIZES,
                        help="run exactly these sizes (default: all up to --scale)")
    parser.add_argument("--out", default="bench.json")
    parser.add_argument("--data-dir", default=os.environ.get("ICP_BENCH_DATA", "/tmp"),
                        help="holds icp-nwl/, icp-quarter/, icp-england/ (made if missing; default /tmp)")
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per query (warm)")
    parser.add_argument("--baseline-repeats", type=int, default=5, help="timed runs per query (pandas)")
    parser.add_argument("--page-repeats", type=int, default=5, help="timed renders per page")
    parser.add_argument("--no-pages", action="store_true", help="skip the AppTest page renders")
    parser.add_argument("--no-proposal", action="store_true", help="skip the area roll-up prototype")
    parser.add_argument("--report", metavar="BENCH_JSON", help="print an earlier run's tables as markdown, and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(markdown(json.loads(Path(args.report).read_text())))
        return 0
    started = time.perf_counter()
    sizes = args.sizes or list(SIZES[: SIZES.index(args.scale) + 1])
    parts = [run_size(size, data_root(Path(args.data_dir), size), args) for size in sizes]
    result = compose(parts, started)
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    report(result)
    print(f"\nWrote {args.out} ({result['machine']['seconds']} s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
