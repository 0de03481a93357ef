"""The report's PDF: the page printed by the system's Chromium, headless.

Chromium lays the page out exactly as a reader's browser does, with the page's own print
rules (A4, margins), so the PDF is the page; a second layout engine would differ from it.
Chromium is looked for at $SIM_CHROMIUM, then as `chromium`, `chromium-browser` or
`google-chrome` on the PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sim.errors import UserError
from sim.files import write_atomically

NAMES = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_SECONDS = 120


def chromium() -> str | None:
    given = os.environ.get("SIM_CHROMIUM")
    if given:
        return given
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def printed_here(pdf: Path) -> bool:
    """Whether a PDF was printed by Chromium (its document information names it as the
    creator), as the report's are: a report replaces only a PDF like the one it prints."""
    try:
        with open(pdf, "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    return b"/Creator (Chromium" in data or b"/Creator (HeadlessChrome" in data


def print_to_pdf(html: Path, pdf: Path, browser: str) -> None:
    """Print `html` to `pdf` (atomically) with Chromium at `browser`."""

    def write(temporary: Path) -> None:
        # A profile of its own, removed after: Chromium would otherwise write one in the
        # user's home folder.
        with tempfile.TemporaryDirectory(prefix="sim-report-chromium-") as profile:
            try:
                finished = subprocess.run(
                    [browser, "--headless", "--no-sandbox", "--disable-gpu",
                     "--no-pdf-header-footer", f"--user-data-dir={profile}",
                     f"--print-to-pdf={temporary}", html.resolve().as_uri()],
                    capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
            except (OSError, subprocess.TimeoutExpired) as error:
                raise UserError(f"Chromium ({browser}) could not print the PDF: {error}; "
                                f"give --no-pdf to write the page alone") from error
        if finished.returncode != 0 or not temporary.is_file():
            said = (finished.stderr.strip().splitlines() or ["no message"])[-1]
            raise UserError(f"Chromium ({browser}) could not print the PDF ({said}); give "
                            f"--no-pdf to write the page alone")

    write_atomically(pdf, write)
