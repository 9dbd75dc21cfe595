"""Streamlit's own floor in the browser: a one-line app's first visit into an empty cache, and its warm reloads.

Run as ``python -m benchmarks.streamlit_floor --out floor.json --visits N``. It writes an app of one title and one
line of text into a temporary folder with the dashboard's ``.streamlit/config.toml``, serves it with
``benchmarks.browser.serve`` and times it with ``benchmarks.browser.visit`` (same idle, same Chromium): ``N`` first
visits, each in a fresh browser context, then ``N`` reloads in one context. Whatever a dashboard page adds comes on
top of these figures (benchmarks/README.md, "First visits").
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks import browser

APP = 'import streamlit as st\n\nst.title("Hello")\nst.write("One title and one line of text.")\n'


def measure(visits: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="streamlit-floor-") as folder:
        tree = Path(folder)
        (tree / "app.py").write_text(APP)
        shutil.copytree(browser.PROJECT / ".streamlit", tree / ".streamlit",
                        ignore=shutil.ignore_patterns("secrets.toml"))
        with browser.serve(folder, tree=tree) as (base, server), sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser.CHROMIUM, headless=True,
                                                  args=browser.CHROMIUM_ARGS)
            rig = browser.Rig(chromium, base, server.pid)
            warm_tab = rig.tab(browser.DESKTOP)
            browser.visit(warm_tab, base + "/")  # the server's first run
            firsts = []
            for _ in range(visits):
                tab = rig.tab(browser.DESKTOP)
                firsts.append(browser.visit(tab, base + "/"))
                tab.close()
            warm = [browser.visit(warm_tab, base + "/") for _ in range(visits)]
            chromium.close()
    return {"visits": visits, "first_median_ms": statistics.median(f["ms"] for f in firsts),
            "first_samples_ms": [f["ms"] for f in firsts], "first_http_bytes": firsts[0]["http_bytes"],
            "warm_median_ms": statistics.median(w["ms"] for w in warm), "warm_samples_ms": [w["ms"] for w in warm]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streamlit_floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--visits", type=int, default=7)
    args = parser.parse_args(argv)
    result = measure(args.visits)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"  first visit {result['first_median_ms']:.0f} ms ({result['first_http_bytes'] / 1024:.0f} KB), "
          f"warm {result['warm_median_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
