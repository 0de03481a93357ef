"""The dashboard (`python -m sim.app`): its command line, what it runs, and the page in a
real headless browser (started as a user starts it, driven as a user drives it)."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.app.choices import KNOBS, POLICIES, Choice, knobs_of
from sim.app.runs import run
from sim.config import configure
from tests.browser import browser  # noqa: F401
from tests.conftest import GIAS_FIXTURE, REPOSITORY, environment

# How long the server may take to answer its first page (Solara and the model loading on a
# busy 2-core machine), and a run of the test's choice to finish.
SERVER_START_SECONDS = 60
RUN_SECONDS = 60


def app(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim.app", *arguments], cwd=REPOSITORY,
                          env=environment(), capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_help_answers_without_loading_the_server():
    shown = app("--help")
    assert shown.returncode == 0, shown.stderr
    assert "--port" in shown.stdout and "--host" in shown.stdout
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, sim.app.command; "
                               "print(sorted(m for m in ('solara', 'uvicorn', 'sim.model') "
                               "if m in sys.modules))"],
        cwd=REPOSITORY, env=environment(), capture_output=True, text=True, timeout=60)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


@pytest.mark.parametrize(("arguments", "says"), [
    (("--port", "eighty"), "invalid int value"),
    (("--port", "0"), "is not a port"),
    (("--port", "70000"), "is not a port"),
    (("--colour",), "unrecognized arguments"),
])
def test_a_bad_option_is_one_line_and_exit_status_2(arguments, says):
    refused = app(*arguments)
    assert refused.returncode == 2
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim: error: ") and says in lines[0]


def test_a_port_in_use_is_refused_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        refused = app("--port", str(taken.getsockname()[1]))
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and "choose another --port" in lines[0], refused.stderr


def test_knobs_lie_within_their_declared_ranges_and_every_choice_composes():
    for lever, knobs in KNOBS.items():
        assert 1 <= len(knobs) <= 3, lever
        for knob in knobs:
            declared = knob.declared.metadata
            if knob.kind != "bool":
                assert declared["low"] <= knob.low < knob.high <= declared["high"], knob.key
                assert knob.low <= knob.default <= knob.high, knob.key
    moved = {knob.key: (knob.high if knob.kind != "bool" else True)
             for policy in POLICIES for knob in knobs_of(policy)}
    places = [Choice(), Choice(place="national", national_scale=0.01),
              Choice(place="gias", gias_path=str(GIAS_FIXTURE), gias_area="Blackpool")]
    for place in places:
        for policy in POLICIES:
            choice = dataclasses.replace(place, policy=policy, knobs=moved)
            config = configure(choice.overrides(policy, seed=3))
            assert config.policy.name == policy and config.seed == 3
            for knob in knobs_of(policy):  # each of the policy's knobs reached its config
                lever = getattr(config.policy, knob.lever)
                assert getattr(lever, knob.name) == moved[knob.key]
            # The status quo of the comparison takes none of the knobs (it has no levers).
            configure(choice.overrides("status_quo", seed=3))


def test_a_run_pairs_the_policy_with_the_status_quo_seed_by_seed():
    choice = Choice(policy="local_governance", seeds=2, horizon_years=1)
    snapshots = list(run(choice))
    last = snapshots[-1]
    assert last.finished and last.progress == 1 and last.seeds_done == 2
    assert [s.done_terms for s in snapshots] == sorted(s.done_terms for s in snapshots)
    summaries = last.summaries
    assert [s["seed"] for s in summaries["local_governance"]] == [0, 1]
    assert [s["seed"] for s in summaries["status_quo"]] == [0, 1]
    compared = last.comparison().set_index("measure")
    spending = compared.loc["Spending on improvement"]
    paired = [(a["spending_total_gbp"] - b["spending_total_gbp"]) / 1e6
              for a, b in zip(summaries["local_governance"], summaries["status_quo"],
                              strict=True)]
    assert spending["difference"] == pytest.approx(sum(paired) / 2)
    assert spending["difference_low"] == pytest.approx(min(paired)) and min(paired) > 0
    # The status quo against itself: the same seeds, so every difference is exactly zero.
    itself = list(run(Choice(policy="status_quo", seeds=1, horizon_years=1)))[-1]
    assert (itself.comparison()["difference"].fillna(0) == 0).all()


def test_stop_ends_a_run_at_the_next_term_with_only_the_seeds_that_finished():
    choice = Choice(policy="universal_partnership", seeds=2, horizon_years=2)
    asked = []

    def stopped() -> bool:  # Stop pressed during the second seed's first year
        asked.append(True)
        return len(asked) > 2 * 3 + 1

    snapshots = list(run(choice, stopped=stopped))
    last = snapshots[-1]
    assert not last.finished and last.seeds_done == 1
    # Asked before each term: the first seed's six, the second seed's first, then stopped
    # (so the second seed's remaining five terms were never run).
    assert len(asked) == 2 * 3 + 2
    assert last.done_terms == 2 * 3


def test_typed_text_is_one_quoted_value_and_never_an_interpolation():
    from sim.app.choices import quoted
    from sim.errors import UserError

    path = "/tmp/O'Brien dir/a,b.csv"
    config = configure(["population=gias", f"population.path={quoted(str(GIAS_FIXTURE), 'GIAS file')}",
                        f"population.areas=[{quoted('Blackpool', 'area')}]"])
    assert config.population.areas == ["Blackpool"]
    assert quoted(path, "GIAS file") == "'/tmp/O\\'Brien dir/a,b.csv'"
    for text in ("${oc.env:HOME}", "${now:%Y}", "  "):
        with pytest.raises(UserError):
            quoted(text, "area")


def wait_until_served(url: str, server: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server stopped: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise AssertionError(f"the dashboard did not answer at {url} in {timeout} s")


def test_the_dashboard_runs_a_changed_choice_and_shows_its_result(browser, tmp_path: Path):  # noqa: F811
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    errors = (tmp_path / "stderr.txt").open("w+")
    server = subprocess.Popen([sys.executable, "-m", "sim.app", "--port", str(port)],
                              cwd=tmp_path, env=environment(), stdout=subprocess.DEVNULL,
                              stderr=errors, text=True)
    try:
        wait_until_served(url, server, SERVER_START_SECONDS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        # Second by second, so that a page whose browser files are missing (Solara's
        # server then says so at once) is skipped at once, not after the whole wait.
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                page.get_by_text("No run yet").wait_for(timeout=1000)
                break
            except Exception:
                errors.seek(0)
                if "Could not load URL" in errors.read():
                    # Solara's browser files are neither in its cache nor reachable.
                    message = ("the page's browser files are missing: run "
                               "scripts/dashboard-assets (needs npm)")
                    if os.environ.get("SIM_REQUIRE_BROWSER"):
                        pytest.fail(message)
                    pytest.skip(message)
                if time.monotonic() > deadline:
                    raise
        # Change the policy and shorten the horizon, as an analyst would.
        page.locator(".v-select", has=page.get_by_label("Policy")).click()
        page.get_by_role("option", name="Local governance").click()
        page.get_by_text("Horizon (years): 3").wait_for(timeout=10_000)
        horizon = page.get_by_role("slider").last
        horizon.focus()
        horizon.press("ArrowLeft")
        page.get_by_text("Horizon (years): 2").wait_for(timeout=10_000)
        page.get_by_role("button", name="Run").click()
        page.get_by_text("Finished: 2 of 2 seeds, 2 years each.").wait_for(
            timeout=RUN_SECONDS * 1000)

        title = page.locator(".run-title").inner_text()
        assert title.startswith("Local governance against the status quo")
        assert "2 years, 2 seeds" in title
        table = page.locator("table.comparison").inner_text()
        assert "Local governance (mean)" in table
        spending = next(line for line in table.splitlines() if line.startswith("Spending"))
        # The measuring system costs money every year: the paired difference is positive.
        difference = re.findall(r"[+−]?[\d.]+ £m", spending)[2]
        assert difference.startswith("+") and float(difference[1:-3]) > 0, spending
        assert page.locator("img").count() >= 3  # the grades, good or better, the network

        # A GIAS place the file does not hold is refused on the page in the config's line.
        page.locator(".v-select", has=page.get_by_label("Place")).click()
        page.get_by_role("option", name="A GIAS place").click()
        page.get_by_label("GIAS extract", exact=False).fill(str(GIAS_FIXTURE))
        page.get_by_label("Area", exact=False).fill("Blackpol")
        page.get_by_role("button", name="Run").click()
        refusal = page.get_by_text("This choice cannot be run")
        refusal.wait_for(timeout=RUN_SECONDS * 1000)
        assert "did you mean 'Blackpool'?" in refusal.inner_text()
        page.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise
    errors.seek(0)
    said = errors.read()
    # Stopped by SIGTERM, it says so in one line, as every command of the project does.
    assert said.strip().splitlines()[-1] == "sim: error: terminated by SIGTERM; nothing was written"
    assert "Traceback" not in said
    assert "Could not load URL" not in said  # every file the page asked for was served
    assert server.returncode == 143
