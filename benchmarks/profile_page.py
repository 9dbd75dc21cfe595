"""Where a page render's time goes: ``python -m benchmarks.profile_page --root DIR --page overview``.

Renders the page once to warm up, then once more under ``cProfile`` with the store's memo cleared (as the
``uncached`` page timing does), and prints the cumulative time of the functions that matter: the store's
queries (DuckDB), the report and statistics code (pandas and numpy), the chart builders (Plotly) and
Streamlit's own work (serialising tables and figures). ``--no-rollups`` profiles the same render with the area
roll-ups switched off (``benchmarks.app_rollups(False)``), as before the store had them.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import threading
import time

from benchmarks import app_rollups
from benchmarks.pages import APP, BOROUGH, VIEWS
from metrics.settings import DATA_ROOT_ENV

# (label, file suffix, function name or name ending): cumulative time of each is reported.
WATCHED = [
    ("store queries (DuckDB, incl. memo)", "metrics/store.py", "_query"),
    ("reports.scorecard", "metrics/reports.py", "scorecard"),
    ("reports.scorecard_row (per metric)", "metrics/reports.py", "scorecard_row"),
    ("reports.with_ci", "metrics/reports.py", "with_ci"),
    ("reports.series", "metrics/reports.py", "series"),
    ("reports.compare_within", "metrics/reports.py", "compare_within"),
    ("reports.breakdown", "metrics/reports.py", "breakdown"),
    ("variation.practices_against_nwl", "metrics/variation.py", "practices_against_nwl"),
    ("variation.practice_profiles", "metrics/variation.py", "practice_profiles"),
    ("stats.xmr", "metrics/stats.py", "xmr"),
    ("charts (the *_chart builders)", "metrics/charts.py", "_chart"),
    ("st.dataframe", "streamlit/elements/arrow.py", "dataframe"),
    ("st.plotly_chart", "streamlit/elements/plotly_chart.py", "plotly_chart"),
]


def profile(root: str, page: str, with_rollups: bool = True) -> None:
    os.environ[DATA_ROOT_ENV] = root
    from streamlit.testing.v1 import AppTest

    from metrics import ui

    from benchmarks.run_queries import prepare_rollups

    prepare_rollups(root)
    name, path, params = next(v for v in VIEWS if v[0] == page)
    with app_rollups(with_rollups):
        at = AppTest.from_file(APP, default_timeout=600)
        at.query_params.update({"borough": BOROUGH, **params})
        at.run()
        at.switch_page(path).run()
        ui.app_store().clear_cache()
        profiler = cProfile.Profile()
        threading.setprofile(lambda *_: (sys.setprofile(None), profiler.enable()))  # AppTest runs a thread
        started = time.perf_counter()
        at.switch_page(path).run()
        total = (time.perf_counter() - started) * 1000
        threading.setprofile(None)
        profiler.create_stats()
    stats = profiler.stats
    print(f"{name} ({'with' if with_rollups else 'without'} roll-ups): {total:.0f} ms under the profiler "
          "(profiling adds overhead; read the shares)")
    for label, suffix, function in WATCHED:
        ms = 1000 * sum(row[3] for (file, _, fn), row in stats.items() if file.endswith(suffix)
                        and (fn == function or function.startswith("_") and fn.endswith(function)))
        print(f"  {label:40s} {ms:8.0f} ms  {ms / total:5.0%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_page")
    parser.add_argument("--root", required=True)
    parser.add_argument("--page", default="overview", choices=[v[0] for v in VIEWS])
    parser.add_argument("--no-rollups", action="store_true", help="area sums from practice rows (roll-ups off)")
    args = parser.parse_args(argv)
    profile(args.root, args.page, with_rollups=not args.no_rollups)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
