"""Screenshot every page of a running dashboard with headless system Chromium (for looking, not testing).

Usage: python tools/screenshots.py http://localhost:8501 out_dir [query-string]
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGES = ["", "population-health", "frailty", "diabetes", "mental-health", "vaccination", "variation", "chart-studio",
         "definitions", "load-data"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def main(base: str, out: Path, query: str = "") -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        for name in PAGES:
            page.goto(f"{base}/{name}?{query}")
            page.wait_for_selector("[data-testid=stMain]", timeout=60_000)
            page.wait_for_timeout(1500)
            page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
            page.wait_for_timeout(1500)
            errors = page.locator("[data-testid=stException]").count()
            height = page.evaluate("document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight + 150")
            page.set_viewport_size({"width": 1440, "height": min(max(height, 1000), 6000)})
            page.wait_for_timeout(800)
            path = out / f"{name or 'overview'}.png"
            page.screenshot(path=str(path), full_page=True)
            print(f"{path} exceptions={errors}")
            page.set_viewport_size({"width": 1440, "height": 1000})
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
