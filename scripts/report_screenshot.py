"""Take README's picture of the report page (docs/images/report_page.png) in headless Chromium.

    python -m sim -m experiment=policy_comparison
    python -m sim.compare results/experiments/policy_comparison
    python -m sim.report results/experiments/policy_comparison
    python scripts/report_screenshot.py results/experiments/policy_comparison/report.html

The picture is the top of the page as a reader first sees it, 1000 x 1300 pixels. Needs
Playwright (the dev extra) and the system's Chromium (tests/browser.py finds it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import chromium_path

PICTURE = Path(__file__).resolve().parent.parent / "docs" / "images" / "report_page.png"
VIEW = {"width": 1000, "height": 1300}


def main(report: Path) -> None:
    if not report.is_file():
        sys.exit(f"report_screenshot: error: no report at {report}; make one with "
                 "`python -m sim.report FOLDER` first")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport=VIEW)
        page.goto(report.resolve().as_uri())
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(PICTURE))
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1
              else "results/experiments/policy_comparison/report.html"))
