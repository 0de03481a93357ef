"""Take README's picture of the dashboard (docs/images/dashboard.png) in headless Chromium.

    python -m sim.app --port 8765 &                 # the dashboard, served
    python scripts/dashboard_screenshot.py 8765     # a run of universal partnership, pictured

Needs Playwright (the dev extra) and the system's Chromium (tests/browser.py finds it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import chromium_path

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "dashboard.png"


def main(port: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1500, "height": 1020})
        page.goto(f"http://127.0.0.1:{port}/")
        page.get_by_text("No run yet").wait_for(timeout=60_000)
        seeds = page.get_by_role("slider").nth(2)  # after the policy's two knobs
        seeds.focus()
        seeds.press("ArrowRight")
        page.get_by_text("Seeds (each run under both policies): 3").wait_for()
        horizon = page.get_by_role("slider").last
        horizon.focus()
        horizon.press("ArrowRight")
        horizon.press("ArrowRight")
        page.get_by_text("Horizon (years): 5").wait_for()
        page.get_by_role("button", name="Run").click()
        page.get_by_text("Finished").wait_for(timeout=120_000)
        page.get_by_role("button", name="Run").and_(page.locator(":enabled")).wait_for()
        page.screenshot(path=str(PICTURE), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "8765")
