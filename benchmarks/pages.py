"""Full page renders with ``streamlit.testing.v1.AppTest``, and the app process's peak memory.

Run as ``python -m benchmarks.pages --root DIR --out part.json`` in a process of its own: that process *is*
the app's server side (AppTest runs app.py and the page in it, as ``streamlit run`` would), so its peak
resident set size (``benchmarks.peak_rss_mb``) is the app's peak memory for these views.

Each page is timed from the start of the script run to its end, twice over:

- ``uncached``: the store's memo of answers cleared first, so every query the page makes runs (a user's first look at
  a borough or month); the DuckDB connection and the operating system's file cache are warm.
- ``cached``: straight after, the same page again (a user coming back to it); only the Python work of
  building tables and charts is left.

The first run of the app in the process (imports, DuckDB connection, parquet footers) is reported as
``first_run_ms`` and not counted in either.

By default the app runs as shipped (area questions from the roll-ups, built first if the root lacks any);
``--no-rollups`` renders the same views with them switched off (``benchmarks.app_rollups(False)``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from benchmarks import app_rollups, peak_rss_mb, quiet_streamlit
from metrics.settings import DATA_ROOT_ENV

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BOROUGH, PCN = "Harrow", "U89806"
# (name, page file, extra query parameters): every page at borough level, and the PCN drill-downs.
VIEWS: list[tuple[str, str, dict[str, str]]] = [
    ("overview", "app_pages/overview.py", {}),
    ("population_health", "app_pages/population_health.py", {}),
    ("frailty", "app_pages/frailty.py", {}),
    ("diabetes", "app_pages/diabetes.py", {}),
    ("mental_health", "app_pages/mental_health.py", {}),
    ("vaccination", "app_pages/vaccination.py", {}),
    ("variation", "app_pages/variation.py", {}),
    ("chart_studio", "app_pages/chart_studio.py", {}),
    ("definitions", "app_pages/definitions.py", {}),
    ("frailty_pcn", "app_pages/frailty.py", {"pcn": PCN}),
    ("variation_pcn", "app_pages/variation.py", {"pcn": PCN}),
]


def _timed_run(at, page: str | None) -> float:
    started = time.perf_counter()
    (at.switch_page(page) if page else at).run()
    elapsed = (time.perf_counter() - started) * 1000
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception][:1]}")
    return elapsed


def render_pages(root: str, repeats: int) -> dict:
    """Median and p95 render time per view (uncached and cached), and the process's peak RSS."""
    os.environ[DATA_ROOT_ENV] = root  # what the app reads its data root from, as under `streamlit run`
    from streamlit.testing.v1 import AppTest

    from metrics import ui

    sessions: dict[str, AppTest] = {}
    first_run_ms = None
    samples: dict[str, dict[str, list[float]]] = {name: {"uncached": [], "cached": []} for name, _, _ in VIEWS}
    for _ in range(repeats):
        for name, page, params in VIEWS:
            key = json.dumps(params, sort_keys=True)
            if key not in sessions:
                at = AppTest.from_file(APP, default_timeout=600)
                at.query_params.update({"borough": BOROUGH, **params})
                ms = _timed_run(at, None)
                first_run_ms = first_run_ms if first_run_ms is not None else round(ms, 1)
                sessions[key] = at
                quiet_streamlit()  # the app's first run loads Streamlit's config, which resets its log levels
            at = sessions[key]
            ui.app_store().clear_cache()
            samples[name]["uncached"].append(_timed_run(at, page))
            samples[name]["cached"].append(_timed_run(at, page))
    stats = {name: {kind: {"median_ms": round(statistics.median(v), 1), "max_ms": round(max(v), 1)}
                    for kind, v in by_kind.items()} for name, by_kind in samples.items()}
    return {"first_run_ms": first_run_ms, "pages": stats, "peak_rss_mb": peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages")
    parser.add_argument("--root", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-rollups", action="store_true",
                        help="area questions summed from practice rows on each render (roll-ups off)")
    args = parser.parse_args(argv)
    from benchmarks.run_queries import prepare_rollups

    built = prepare_rollups(args.root)
    with app_rollups(not args.no_rollups):
        result = render_pages(args.root, args.repeats)
    result |= {"rollups": not args.no_rollups, "rollups_built": built}
    Path(args.out).write_text(json.dumps(result, indent=1))
    for name, by_kind in result["pages"].items():
        print(f"  {name:20s} uncached {by_kind['uncached']['median_ms']:8.1f} ms   "
              f"cached {by_kind['cached']['median_ms']:8.1f} ms")
    print(f"  peak RSS {result['peak_rss_mb']} MB, first run {result['first_run_ms']} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
