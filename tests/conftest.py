"""Shared helpers: compose the real configs, shrink them, build and run models."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import configure
from sim.model import SchoolSystemModel
from sim.schema import RunConfig
from sim.state import TrustKind

REPOSITORY = Path(__file__).resolve().parent.parent
# An invented extract in exact GIAS format (tests/data/make_gias_fixture.py writes it).
GIAS_FIXTURE = REPOSITORY / "tests" / "data" / "gias_fixture.csv"


def make_config(*overrides: str) -> RunConfig:
    """The resolved job config for these overrides, with no panel and no progress log."""
    return configure(["output.progress=false", *overrides])


def make_model(*overrides: str) -> SchoolSystemModel:
    return SchoolSystemModel(make_config(*overrides))


def assert_same_run(one: SchoolSystemModel, other: SchoolSystemModel) -> None:
    """Two finished runs wrote the same tables and summary, bit for bit, and left every
    school's columns and the register of cohorts the same."""
    one_results, other_results = one.results(), other.results()
    for name in ("timeseries", "events", "cohorts"):
        pd.testing.assert_frame_equal(getattr(one_results, name), getattr(other_results, name),
                                      check_exact=True)
    assert one_results.summary == other_results.summary
    for column in fields(one.schools):
        assert np.array_equal(getattr(one.schools, column.name),
                              getattr(other.schools, column.name)), column.name
    assert np.array_equal(one.cohorts.cell, other.cohorts.cell)


def environment() -> dict[str, str]:
    """The environment of a command run as a user would run it, from this checkout."""
    return {**os.environ, "PYTHONPATH": str(REPOSITORY)}


def as_at_a_terminal() -> None:
    """Start a child process with Ctrl-C as a terminal gives it (`preexec_fn`): a test run in
    the background of a shell without job control (as CI may run it) inherits SIGINT
    ignored, and the command, like Python, keeps an ignored Ctrl-C ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -m sim` as a user would, in a given folder."""
    return subprocess.run([sys.executable, "-m", "sim", *arguments], cwd=cwd, text=True,
                          capture_output=True, env=environment(), timeout=300)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file and folder under `folder`: kind, size, modification time and content hash,
    so that a test can show a command created, changed or removed nothing."""
    import hashlib

    found: dict[str, tuple] = {}
    for path in sorted(Path(folder).rglob("*")):
        stat = path.lstat()
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(folder))] = ("file", stat.st_size, stat.st_mtime_ns, digest)
        else:
            found[str(path.relative_to(folder))] = ("folder" if path.is_dir() else "other",
                                                    stat.st_mode)
    return found


def largest_mat(model: SchoolSystemModel) -> tuple[int, np.ndarray]:
    """The row of the largest MAT and its schools."""
    trust = model.schools.trust
    mats = np.flatnonzero(model.trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    sizes = np.array([(trust == t).sum() for t in mats])
    chosen = int(mats[np.argmax(sizes)])
    return chosen, np.flatnonzero(trust == chosen)


def wait_for(condition, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until `condition()` holds, failing the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def session_processes(session: int) -> list[int]:
    """Processes still running in a session (zombies awaiting their parent excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def opportunity_area() -> SchoolSystemModel:
    return make_model("scenario=opportunity_area", "seed=1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true",
                     help="also run the tests marked slow (exhaustive variants of fast tests)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked slow run only with --slow (or when chosen with -m slow); otherwise they
    are deselected."""
    if config.getoption("--slow") or "slow" in (config.getoption("-m") or ""):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if "slow" not in item.keywords]
