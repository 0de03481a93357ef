"""A real headless browser for the tests of what users see in one: the system's Chromium,
driven by Playwright (whose own browser downloads are not reachable from these machines).

`browser` is a pytest fixture (import it into a test module): a Playwright `Browser`, one
per test module. Chromium is looked for as the report's PDF printer looks for it
(`sim.report.pdf.chromium`: $SIM_CHROMIUM, then `chromium`, `chromium-browser` or
`google-chrome` on the PATH). Without one the tests are skipped with a message
saying how to install it, unless $SIM_REQUIRE_BROWSER is set (as `.ci/run` sets it, after
installing Debian's chromium), when they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from sim.report.pdf import chromium

# The same search as the report's PDF printer: one place says where Chromium is looked for.
chromium_path = chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        message = ("no Chromium found: install it (Debian: apt-get install chromium) or set "
                   "SIM_CHROMIUM to its path")
        if os.environ.get("SIM_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path,
                                              args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()
