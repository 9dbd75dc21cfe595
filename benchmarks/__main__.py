"""``python -m benchmarks --scale england --out bench.json``: the whole benchmark, one command.

For each data size up to ``--scale`` (NWL, a quarter of England, England), each step in a fresh process (so
this one stays small and no part inherits another's memory): it makes the data if it is not there yet and adds
any area roll-ups it lacks (``store.build_missing_rollups``: data written before roll-ups), then runs the query
set on the store as shipped against the pandas baseline (``run_queries``), the same queries with the roll-ups
switched off (``--no-rollups``; answers checked against the shipped store's), and full page renders with the
app's peak memory (``pages``), with and without roll-ups; with ``--browser``, what a user feels in a real Chromium
(``browser``: each page from navigation until idle and drawn, bytes sent, a borough change, the phone Overview),
under ``browser`` in each size's entry; ``--browser-only`` skips everything else.
``bench.json`` holds the largest size at the top level (``rows``, ``queries`` with ``name``, ``median_ms``,
``p95_ms``, ``baseline_median_ms``, ``speedup``; ``page_render_median_ms``; ``peak_rss_mb``), the same figures
without roll-ups under ``without_rollups`` (speedups against the same pandas timings), and every size under
``sizes`` so growth with rows can be read off. ``--report bench.json`` prints the tables as markdown.

``python -m benchmarks load --url URL --users N --seconds S --out load.json``: simulated users against a running
server (``benchmarks/load.py``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
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
SHIPPED, WITHOUT = "with roll-ups (shipped)", "without roll-ups"


def data_root(data_dir: Path, size: str) -> Path:
    return data_dir / f"icp-{size}"


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
    """Every part for one data size, each in a process of its own."""
    # made in a child too, so this process stays small (a part's peak memory must be its own)
    part = {"size": size, **_run_part("run_queries", root, "--prepare", size)}
    if not args.browser_only:
        part |= _server_parts(root, args)
    if args.browser or args.browser_only:
        options = [arg for option in args.streamlit_option for arg in ("--streamlit-option", option)]
        part["browser"] = _run_part("browser", root, "--repeats", str(args.browser_repeats), *options)
    return part


def _server_parts(root: Path, args: argparse.Namespace) -> dict:
    """The query timings and the AppTest page renders, as shipped and (unless ``--shipped-only``) without
    roll-ups."""
    part = {}
    repeats = ["--repeats", str(args.repeats), "--baseline-repeats", str(args.baseline_repeats)]
    part["queries"] = _run_part("run_queries", root, *repeats)
    if not args.shipped_only:
        part["without_rollups_queries"] = _run_part("run_queries", root, *repeats, "--no-rollups")
    if not args.no_pages:
        page_repeats = ["--repeats", str(args.page_repeats)]
        part["pages"] = _run_part("pages", root, *page_repeats)
        if not args.shipped_only:
            part["without_rollups_pages"] = _run_part("pages", root, *page_repeats, "--no-rollups")
    return part


# ------------------------------------------------------------------------------------------- bench.json
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


def _with_speedup(without: list[dict], shipped: list[dict]) -> list[dict]:
    """The rows without roll-ups, with the same run's pandas baseline (timed once, in the shipped part)."""
    baseline = {q["name"]: q["baseline_median_ms"] for q in shipped}
    return [{**q, "baseline_median_ms": baseline[q["name"]],
             "speedup": round(baseline[q["name"]] / q["median_ms"], 1)} for q in without]


def _pages_fields(pages: dict | None) -> dict:
    if not pages:
        return {}
    return {"page_render_median_ms": _render_medians(pages),
            "page_render_cached_median_ms": _render_medians(pages, "cached"),
            "peak_rss_mb": pages["peak_rss_mb"], "first_page_run_ms": pages["first_run_ms"]}


def _without_rollups(part: dict) -> dict | None:
    """The figures without roll-ups for one size: queries with speedups against the shipped part's pandas times,
    page renders, peak RSS and the targets."""
    if "without_rollups_queries" not in part:
        return None
    queries = _with_speedup(part["without_rollups_queries"]["queries"], part["queries"]["queries"])
    pages = part.get("without_rollups_pages")
    return {"engine": part["without_rollups_queries"]["engine"], "queries": queries,
            "all_same_answer": all(q["same_answer"] for q in queries),
            "targets": _targets(queries, pages), **_pages_fields(pages)}


def _size_summary(part: dict) -> dict:
    summary = {"size": part["size"], "generated": part["generated"], "rollups_built": part["rollups_built"]}
    if "queries" in part:
        summary |= _server_summary(part)
    if "browser" in part:
        summary["browser"] = part["browser"]
    return summary


def _server_summary(part: dict) -> dict:
    """One size's query and page figures (the growth table's row)."""
    queries = part["queries"]
    summary = {"rows": queries["rows"], "orgs": queries["orgs"],
               "query_median_ms": {q["name"]: q["median_ms"] for q in queries["queries"]},
               "query_median_total_ms": round(sum(q["median_ms"] for q in queries["queries"]), 1),
               "baseline_median_total_ms": round(sum(q["baseline_median_ms"] for q in queries["queries"]), 1),
               "baseline_load_seconds": queries["baseline_load_seconds"],
               "baseline_process_peak_rss_mb": queries["query_process_peak_rss_mb"]}
    if "pages" in part:
        summary |= {"page_render_median_ms": _render_medians(part["pages"]),
                    "page_render_cached_median_ms": _render_medians(part["pages"], "cached"),
                    "peak_rss_mb": part["pages"]["peak_rss_mb"]}
    if (without := _without_rollups(part)) is not None:
        summary["without_rollups"] = {
            "query_median_ms": {q["name"]: q["median_ms"] for q in without["queries"]},
            "query_median_total_ms": round(sum(q["median_ms"] for q in without["queries"]), 1),
            **{key: without[key] for key in ("page_render_median_ms", "peak_rss_mb") if key in without}}
    return summary


def compose(parts: list[dict], started: float) -> dict:
    """bench.json: the largest size on top (the store as shipped), the same without roll-ups beside it, every
    size for growth."""
    top = parts[-1]
    if "queries" not in top:  # --browser-only
        return {"scale": top["size"], "sizes": [_size_summary(part) for part in parts],
                "machine": _machine(started, importlib.metadata.version("duckdb"))}
    queries = top["queries"]["queries"]
    result = {
        "scale": top["size"], "rows": top["queries"]["rows"], "snapshot": top["queries"]["snapshot"],
        "month": top["queries"]["month"], "orgs": top["queries"]["orgs"], "engine": top["queries"]["engine"],
        "rollups_built": top["rollups_built"], "queries": queries,
        "all_same_answer": all(q["same_answer"] for q in queries),
        "targets": _targets(queries, top.get("pages")), **_pages_fields(top.get("pages")),
    }
    if (without := _without_rollups(top)) is not None:
        result["without_rollups"] = without
    result["sizes"] = [_size_summary(part) for part in parts]
    result["machine"] = _machine(started, top["queries"]["duckdb_version"])
    return result


def _machine(started: float, duckdb_version: str) -> dict:
    """Where and when the run happened, and how long it took."""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb_version,
            "load_average_at_end": os.getloadavg(),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started)}


# ------------------------------------------------------------------------------------------- reports
def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def report(result: dict) -> None:
    """A short console summary at the end of a run (``--report`` gives the full markdown)."""
    if "queries" in result:
        _server_report(result)
    for size in result["sizes"]:
        if "browser" in size:
            print("\n" + "\n".join(_browser_table(size)))


def _server_report(result: dict) -> None:
    without = {q["name"]: q for q in result.get("without_rollups", {}).get("queries", [])}
    print(f"\n{result['scale']}: {result['rows']:,} rows")
    print(f"  {'query':32s}{'shipped':>9s}{'p95':>9s}{'cold':>9s}{'pandas':>10s}{'x':>7s}"
          f"{'no roll-ups':>12s}{'x':>7s}")
    for q in result["queries"]:
        w = without.get(q["name"], {})
        same = q["same_answer"] and w.get("same_answer", True)
        print(f"  {q['name']:32s}{q['median_ms']:9.1f}{q['p95_ms']:9.1f}{q['cold_median_ms']:9.1f}"
              f"{q['baseline_median_ms']:10.1f}{q['speedup']:7.1f}{w.get('median_ms', math.nan):12.1f}"
              f"{w.get('speedup', math.nan):7.1f}{'' if same else '  DIFFERENT'}")
    for name, ms in result.get("page_render_median_ms", {}).items():
        alt = result.get("without_rollups", {}).get("page_render_median_ms", {}).get(name)
        print(f"  page {name:27s}{ms:9.1f} ms" + (f"   without roll-ups {alt:9.1f} ms" if alt else ""))
    for label, side in ((SHIPPED, result), (WITHOUT, result.get("without_rollups"))):
        if side:
            print(f"  {label}: peak RSS {side.get('peak_rss_mb', '-')} MB; targets: "
                  + ", ".join(f"{k} {'met' if v['met'] else 'NOT met'}" for k, v in side["targets"].items()))
    growth = [f"{s['size']} {s['rows']:,} rows, queries {s['query_median_total_ms']:.0f} ms (without roll-ups "
              f"{_num(s.get('without_rollups', {}).get('query_median_total_ms'))} ms, pandas "
              f"{s['baseline_median_total_ms']:.0f} ms)" for s in result["sizes"] if "rows" in s]
    print("\n  growth: " + "; ".join(growth))


def _query_table(result: dict) -> list[str]:
    without = {q["name"]: q for q in result.get("without_rollups", {}).get("queries", [])}
    lines = [f"| query | {SHIPPED} ms | p95 | cold | pandas ms | speedup | {WITHOUT} ms | p95 | cold | speedup | "
             "answers |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for q in result["queries"]:
        w = without.get(q["name"], {})
        answers = ("same" if q["same_answer"] else "DIFFERENT from pandas") + (
            "" if w.get("same_answer", True) else f"; {WITHOUT} DIFFERENT")
        lines.append(f"| {q['name']} | {_num(q['median_ms'])} | {_num(q['p95_ms'])} | {_num(q['cold_median_ms'])} | "
                     f"{_num(q['baseline_median_ms'])} | {_num(q['speedup'], 1)} | {_num(w.get('median_ms'))} | "
                     f"{_num(w.get('p95_ms'))} | {_num(w.get('cold_median_ms'))} | {_num(w.get('speedup'), 1)} | "
                     f"{answers} |")
    return lines


def _page_table(result: dict) -> list[str]:
    if "page_render_median_ms" not in result:
        return []
    alt = result.get("without_rollups", {})
    lines = [f"| page | {SHIPPED} ms | cached | {WITHOUT} ms | cached |", "|---|---:|---:|---:|---:|"]
    for name, ms in result["page_render_median_ms"].items():
        lines.append(f"| {name} | {_num(ms)} | {_num(result['page_render_cached_median_ms'][name])} | "
                     f"{_num(alt.get('page_render_median_ms', {}).get(name))} | "
                     f"{_num(alt.get('page_render_cached_median_ms', {}).get(name))} |")
    lines.append(f"| first render in a fresh process | {_num(result['first_page_run_ms'])} | | "
                 f"{_num(alt.get('first_page_run_ms'))} | |")
    lines.append(f"| **app peak RSS, MB** | **{_num(result['peak_rss_mb'])}** | | "
                 f"**{_num(alt.get('peak_rss_mb'))}** | |")
    return lines


def _target_cell(side: dict | None, key: str) -> str:
    """'met' or 'not met' with what misses and by how much (a query's median or speedup, a page's render)."""
    if not side or key not in side["targets"]:
        return "-"
    target = side["targets"][key]
    if key == "peak_rss_under_2gb":
        return f"{'met' if target['met'] else '**not met**'} ({_num(target['peak_rss_mb'])} MB)"
    if key == "page_render_under_1s":
        values, total = side["page_render_median_ms"], len(side["page_render_median_ms"])
    else:
        field = "speedup" if key == "speedup_at_least_10x" else "median_ms"
        values, total = {q["name"]: q[field] for q in side["queries"]}, len(side["queries"])
    if target["met"]:
        extreme = (min if key == "speedup_at_least_10x" else max)(values, key=values.get)
        return f"met ({'lowest' if key == 'speedup_at_least_10x' else 'slowest'}: {extreme} {_num(values[extreme], 1)})"
    missed = ", ".join(f"{name} {_num(values[name], 1)}" for name in target["missed_by"])
    return f"**not met**: {len(target['missed_by'])} of {total} miss ({missed})"


TARGET_ROWS = [("query_median_under_150ms", "every query median < 150 ms"),
               ("page_render_under_1s", "every page render median < 1 s"),
               ("speedup_at_least_10x", ">= 10x faster than pandas, every query"),
               ("peak_rss_under_2gb", "app peak memory < 2 GB")]


def _target_table(result: dict) -> list[str]:
    lines = [f"| target ({result['scale']}, warm) | {SHIPPED} | {WITHOUT} |", "|---|---|---|"]
    for key, label in TARGET_ROWS:
        lines.append(f"| {label} | {_target_cell(result, key)} | {_target_cell(result.get('without_rollups'), key)} |")
    return lines


def _growth_table(result: dict) -> list[str]:
    lines = [f"| size | rows | practices | roll-ups built | sum of query medians ms, {SHIPPED} | {WITHOUT} | pandas "
             f"| pandas load s (newest snapshot) | pandas process peak MB | app peak MB, {SHIPPED} | {WITHOUT} |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for size in (size for size in result["sizes"] if "rows" in size):
        loads, built = size["baseline_load_seconds"], size.get("rollups_built") or {}
        without = size.get("without_rollups", {})
        built_cell = f"{len(built['rows'])} in {built['seconds']} s" if built.get("rows") else "none needed"
        cells = [f"{size['rows']:,}", f"{size['orgs'].get('practice', 0):,}", built_cell,
                 _num(size["query_median_total_ms"]), _num(without.get("query_median_total_ms")),
                 _num(size["baseline_median_total_ms"]), _num(loads[max(loads)], 1) if loads else "-",
                 _num(size["baseline_process_peak_rss_mb"]), _num(size.get("peak_rss_mb")),
                 _num(without.get("peak_rss_mb"))]
        lines.append(f"| {size['size']} | " + " | ".join(cells) + " |")
    return lines


def _kb(value: float | None) -> str:
    """Bytes as KB (1,024 bytes), for the tables."""
    return _num(None if value is None else value / 1024)


def _browser_row(label: str, row: dict, server: tuple[float | None, float | None] = (None, None)) -> str:
    """One line of the browser table: first visit (empty cache; a returning browser), warm median / p95, its
    phases, its run on the wire and the server's CPU time, the AppTest render of the same view (uncached, cached),
    bytes (first visit: HTTP and websocket; warm), what the websocket carried, and what the page drew."""
    first, kinds = row["first"], row["first"]["ws_bytes_by_kind"]
    cells = [_num(first["ms"]), _num(row.get("first_returning", {}).get("ms")), _num(row["warm_median_ms"]),
             _num(row["warm_p95_ms"]),
             " / ".join(_num(row[f"warm_median_{k}_ms"]) for k in ("boot", "run", "draw")),
             f"{_num(row.get('warm_median_wire_run_ms'))} / {_num(row.get('warm_median_server_cpu_ms'))}",
             " / ".join(_num(ms) for ms in server), f"{_kb(first['http_bytes'])} + {_kb(first['ws_bytes'])}",
             _kb(row["warm_median_bytes_to_browser"]),
             f"{_kb(kinds.get('bidi_component', 0) + kinds.get('plotly_chart', 0))} / {_kb(kinds.get('dataframe', 0))}",
             f"{row['warm_charts']} / {row['warm_sparklines']} / {row['warm_tables']}"]
    return f"| {label} | " + " | ".join(cells) + " |"


def _browser_heading(size: dict) -> str:
    """The browser, the number of warm visits, and the server: its first load, memory, idle CPU and options."""
    browser = size["browser"]
    options = "".join(f"; streamlit run --{key} {value}" for key, value in browser.get("streamlit_options", {}).items())
    return (f"{size['size']}, in Chromium {browser['chromium']} at {browser['viewport']['width']}x"
            f"{browser['viewport']['height']}: {browser['repeats']} warm visits per view; server's first load "
            f"{_num(browser['server_first_load_ms'])} ms, server peak RSS {_num(browser['server_peak_rss_mb'])} MB, "
            f"server CPU with one idle session open {_num(browser.get('server_idle_cpu_ms_per_s'))} ms per s{options}")


def _browser_table(size: dict) -> list[str]:
    """Per view, in a real Chromium (``benchmarks/browser.py``), beside the AppTest renders when the run has them."""
    browser = size["browser"]
    uncached, cached = size.get("page_render_median_ms", {}), size.get("page_render_cached_median_ms", {})
    change, phone = browser["borough_change"], browser["phone_overview"]
    lines = [_browser_heading(size),
             "| view | first visit ms | first visit, returning browser | warm median | warm p95 | warm boot / run / "
             "draw | warm run on the wire / server CPU | AppTest render uncached / cached | first visit KB, HTTP + "
             "websocket | warm KB | websocket KB: figures / tables | charts / sparklines / tables |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in browser["pages"].items():
        lines.append(_browser_row(name, row, (uncached.get(name), cached.get(name))))
    lines.append(_browser_row(f"borough change ({change['view']}: {change['from']} to {change['to']}, then back "
                              "and forth)", change))
    viewport = phone["viewport"]
    lines.append(_browser_row(f"overview on a phone ({viewport['width']}x{viewport['height']})", phone))
    return lines


def markdown(result: dict) -> str:
    """The tables benchmarks/README.md quotes, from a bench.json: queries, page renders, targets, growth, and the
    browser's figures per size."""
    browser = [_browser_table(size) for size in result["sizes"] if "browser" in size]
    if "queries" not in result:
        return "\n\n".join("\n".join(lines) for lines in browser)
    head = (f"{result['scale']}: {result['rows']:,} rows, snapshot {result['snapshot']}, month {result['month']}; "
            f"answers: {'all the same' if _all_same(result) else 'SOME DIFFER'} (store vs pandas"
            f"{', and without roll-ups vs shipped' if 'without_rollups' in result else ''})")
    sections = [[head], _query_table(result), _page_table(result), _target_table(result), _growth_table(result),
                *browser]
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def _all_same(result: dict) -> bool:
    return all(q["same_answer"] for q in [*result["queries"], *result.get("without_rollups", {}).get("queries", [])])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["load"]:  # python -m benchmarks load: simulated users against a running server
        from benchmarks import load

        return load.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                     epilog="python -m benchmarks load --help: many simulated users at once "
                                            "(benchmarks/load.py)")
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
    parser.add_argument("--shipped-only", action="store_true",
                        help="skip the comparison without roll-ups (queries and pages)")
    parser.add_argument("--browser", action="store_true",
                        help="also measure each page in a real Chromium (benchmarks/browser.py)")
    parser.add_argument("--browser-only", action="store_true",
                        help="make the data, then only the browser part (no query timings, no AppTest renders)")
    parser.add_argument("--browser-repeats", type=int, default=10,
                        help="warm visits per view, and borough changes, in the browser")
    parser.add_argument("--streamlit-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a further option for the browser part's streamlit run (repeatable)")
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
