"""Two versions of the app side by side in one browser: what a change saved, paired under the same machine load.

Run as ``python -m benchmarks.browser_pair --root DIR --before TREE --after TREE --out pair.json --repeats N``,
where each tree is a checkout of the project (``git archive <commit> | tar -x -C TREE``). Both are served at once
by ``streamlit run`` over the same data root (each with its own ``.streamlit/config.toml``) and one Chromium loads
every view of ``benchmarks.pages.VIEWS`` from one and then the other, alternating which goes first round by round;
then the Frailty page's borough change, alternated the same way. Timing and idle are ``benchmarks.browser``'s.

First visits are paired too (``first_visits``): before any warm load, each borough-level view is opened for one
borough after another (``FIRST_BOROUGHS``, one per round, neither server has drawn it), each version in a fresh
browser context (empty cache), alternating which goes first.

On a shared machine, runs made minutes apart differ by more than most changes save (the load average here moved
between 5 and 13 within the hour); paired loads share whatever the machine is doing, so their difference is the
change's. Reported per view: each version's medians (time, boot / run / draw, run on the wire, server CPU, main
thread busy, bytes, charts) and the median of the paired differences (``paired_median_saving_ms``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks import browser
from benchmarks.pages import VIEWS

VERSIONS = ("before", "after")
FIRST_BOROUGHS = ("Brent", "Ealing", "Hillingdon", "Hounslow", "Hammersmith & Fulham")  # not Harrow nor Westminster
MEDIANS = ("ms", "boot_ms", "run_ms", "draw_ms", "wire_run_ms", "server_cpu_ms", "busy_ms", "bytes_to_browser",
           "charts", "sparklines")


def _order(round_: int) -> tuple[str, str]:
    """Which version goes first in a round: alternately, so neither always follows the other."""
    return VERSIONS if round_ % 2 == 0 else VERSIONS[::-1]


def _summary(before: list[dict], after: list[dict]) -> dict:
    """Each version's medians and the median of the paired differences (before minus after)."""
    def medians(samples: list[dict]) -> dict:
        out = {}
        for key in MEDIANS:
            values = [s[key] for s in samples if s.get(key) is not None]
            out[key] = round(statistics.median(values), 1) if values else None
        return out | {"samples_ms": [s["ms"] for s in samples]}
    saving = statistics.median(b["ms"] - a["ms"] for b, a in zip(before, after))
    return {"before": medians(before), "after": medians(after), "paired_median_saving_ms": round(saving, 1)}


def _first_visits(rigs: dict[str, browser.Rig], views: list[str] | None, rounds: int) -> dict[str, dict]:
    """Each borough-level view once per round for a borough neither server has drawn, each version in a fresh
    browser context (empty HTTP cache, new session)."""
    level = [name for name, _, params in VIEWS if not params and (views is None or name in views)]
    firsts: dict[str, dict[str, list[dict]]] = {v: {name: [] for name in level} for v in VERSIONS}
    for round_ in range(rounds):
        for name, path in browser.view_paths(level, borough=FIRST_BOROUGHS[round_]).items():
            for v in _order(round_):
                tab = rigs[v].tab(browser.DESKTOP)
                firsts[v][name].append(browser.visit(tab, rigs[v].base + path))
                tab.close()
    return firsts


def measure_pair(root: str, trees: dict[str, str], repeats: int, views: list[str] | None = None) -> dict:
    """Warm full loads of every view and borough changes, each version in turn (see the module's doc)."""
    paths = browser.view_paths(views)
    change_path = browser.view_paths([browser.CHANGE_VIEW])[browser.CHANGE_VIEW]
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack, sync_playwright() as playwright:
        served = {v: stack.enter_context(browser.serve(root, tree=Path(trees[v]))) for v in VERSIONS}
        chromium = playwright.chromium.launch(executable_path=browser.CHROMIUM, headless=True,
                                              args=browser.CHROMIUM_ARGS)
        rigs = {v: browser.Rig(chromium, base, process.pid) for v, (base, process) in served.items()}
        tabs = {v: rig.tab(browser.DESKTOP) for v, rig in rigs.items()}
        for v, tab in tabs.items():  # the server's first run
            browser.visit(tab, rigs[v].base + browser.WARMUP_PATH)
        firsts = _first_visits(rigs, views, min(repeats, len(FIRST_BOROUGHS)))
        for v, tab in tabs.items():  # every view once: both warm
            for path in paths.values():
                browser.visit(tab, rigs[v].base + path)
        warm: dict[str, dict[str, list[dict]]] = {v: {name: [] for name in paths} for v in VERSIONS}
        changes: dict[str, list[dict]] = {v: [] for v in VERSIONS}
        for round_ in range(repeats):
            for name, path in paths.items():
                for v in _order(round_):
                    warm[v][name].append(browser.visit(tabs[v], rigs[v].base + path))
        for v, tab in tabs.items():
            browser.visit(tab, rigs[v].base + change_path)
            browser.change_borough(tab, browser.OTHER_BOROUGH)
        for round_ in range(repeats):
            for v in _order(round_):
                borough = browser.BOROUGH if round_ % 2 == 0 else browser.OTHER_BOROUGH
                changes[v].append(browser.change_borough(tabs[v], borough))
        chromium.close()
    result = {name: _summary(warm["before"][name], warm["after"][name]) for name in paths}
    result["borough_change"] = _summary(changes["before"], changes["after"])
    result |= {f"first_visit_{name}": _summary(firsts["before"][name], firsts["after"][name])
               for name in firsts["before"]}
    return {"idle": browser.IDLE, "repeats": repeats, "trees": trees, "root": root,
            "load_average": {"start": load_before, "end": os.getloadavg()}, "views": result}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser_pair", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--before", required=True, help="a checkout of the app before the change")
    parser.add_argument("--after", required=True, help="a checkout of the app after it")
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeats", type=int, default=7, help="rounds: warm loads per view, and borough changes")
    parser.add_argument("--views", nargs="*", help="view names from benchmarks.pages.VIEWS (default: all)")
    args = parser.parse_args(argv)
    result = measure_pair(args.root, {"before": args.before, "after": args.after}, args.repeats, args.views)
    Path(args.out).write_text(json.dumps(result, indent=1))
    for name, row in result["views"].items():
        print(f"  {name:20s} before {row['before']['ms']:7.0f}  after {row['after']['ms']:7.0f}  "
              f"saving (paired median) {row['paired_median_saving_ms']:7.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
