"""`python -m sim.sensitivity`: a tiny Morris screening end to end, its errors, its signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.sensitivity.command import main
from sim.sensitivity.setup import SensitivityError
from tests.conftest import as_at_a_terminal, environment, session_processes, snapshot, wait_for

TINY = {"scenario": "opportunity_area", "horizon_years": 1, "seed": 0,
        "outcomes": ["good_or_better_change", "teacher_leaving_rate_mean"],
        "parameters": {"model.workforce.leaving_rate_mid_career": [0.05, 0.2],
                       "model.improvement.support_effect": [0.25, 1.0],
                       "model.trusts.hub_radius_km": [10.0, 50.0]}}


def write(tmp_path, setup) -> str:
    path = tmp_path / "bounds.yaml"
    path.write_text(yaml.safe_dump(setup))
    return str(path)


def test_morris_screening_ranks_the_parameters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bounds = write(tmp_path, TINY)
    arguments = ["--config", bounds, "--trajectories", "2", "--launcher", "basic",
                 "--output", "out"]
    assert main(arguments) == 0
    table = pd.read_csv(tmp_path / "out" / "importance.csv")
    assert len(table) == 2 * 3 and set(table["rank"]) <= {1, 2, 3}
    leaving = table[table["outcome"] == "teacher_leaving_rate_mean"].set_index("parameter")
    # The teachers' own leaving rate must matter most for teacher leaving.
    assert leaving.loc["model.workforce.leaving_rate_mid_career", "rank"] == 1
    assert (tmp_path / "out" / "importance.png").exists()
    runs = [p for p in (tmp_path / "out" / "runs").iterdir() if (p / "summary.json").exists()]
    assert len(runs) == 2 * (3 + 1)
    # Run again: every run is found complete and skipped, and the table is the same.
    assert main(arguments) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "importance.csv"), table)


@pytest.mark.parametrize(("change", "message"), [
    ({"parameters": {"model.trusts.nonsense": [1, 2], "seed": [0, 1]}}, "unknown parameter"),
    ({"parameters": {"model.trusts.hub_radius_km": [50, 10],
                     "model.improvement.support_effect": [0.2, 1]}}, "low < high"),
    ({"parameters": {"model.trusts.hub_radius_km": [-5, 10],
                     "model.improvement.support_effect": [0.2, 1]}}, "must lie within"),
    # Declared, but not in the runs: the analysis runs the status quo policy.
    ({"parameters": {"model.trusts.hub_radius_km": [10, 50],
                     "policy.mat_contracting.contract_length_years": [1, 10]}},
     "'policy.mat_contracting.contract_length_years' in"),
    # Not the model's: set once for every run, or the sample's own.
    ({"parameters": {"model.trusts.hub_radius_km": [10, 50], "seed": [0, 10]}},
     "'seed' in"),
    ({"parameters": {"model.trusts.hub_radius_km": [10, 50], "sensitivity.index": [0, 10]}},
     "'sensitivity.index' in"),
    ({"parameters": {"model.trusts.hub_radius_km": [10, 50], "output.plots": [0, 1]}},
     "'output.plots' in"),
])
def test_bad_bounds_give_one_clean_line(tmp_path, monkeypatch, change, message):
    monkeypatch.chdir(tmp_path)
    bounds = write(tmp_path, {**TINY, **change})
    before = snapshot(tmp_path)
    with pytest.raises(SensitivityError) as error:
        main(["--config", bounds])
    assert message in str(error.value) and "\n" not in str(error.value)
    assert snapshot(tmp_path) == before


def test_a_key_given_twice_is_refused(tmp_path):
    """YAML would silently keep the second; the user meant one of them."""
    bounds = tmp_path / "bounds.yaml"
    bounds.write_text("scenario: opportunity_area\nhorizon_years: 1\nseed: 0\n"
                      "outcomes: [good_or_better_change]\nparameters:\n"
                      "  model.trusts.hub_radius_km: [10, 50]\n"
                      "  model.trusts.hub_radius_km: [20, 40]\n")
    with pytest.raises(SensitivityError, match=r"'model.trusts.hub_radius_km' appears twice "
                                               r"\(lines 6 and 7\)"):
        main(["--config", str(bounds)])


@pytest.mark.parametrize(("change", "message"), [
    (["--launcher", "nope"], "unknown launcher 'nope' (--launcher): choose one of basic, "),
    (["--output", "notes.txt"], "notes.txt is a file, not a folder"),
    (["--output", "notes.txt/analysis"], "notes.txt is a file, not a folder"),
])
def test_bad_arguments_are_refused_before_anything_is_written(tmp_path, monkeypatch, change,
                                                              message):
    monkeypatch.chdir(tmp_path)
    bounds = write(tmp_path, TINY)
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    with pytest.raises(SensitivityError) as error:
        main(["--config", bounds, "--output", "out", *change])
    assert message in str(error.value)
    assert snapshot(tmp_path) == before


def test_sobol_indices_behind_a_flag(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    arguments = ["--config", write(tmp_path, TINY), "--sobol", "--samples", "2",
                 "--launcher", "basic", "--output", "sobol"]
    assert main(arguments) == 0
    table = pd.read_csv(tmp_path / "sobol" / "importance.csv")
    assert {"first_order", "total_order", "total_order_conf"} <= set(table.columns)
    runs = [p for p in (tmp_path / "sobol" / "runs").iterdir() if (p / "summary.json").exists()]
    assert len(runs) == 2 * (3 + 2)


@pytest.mark.parametrize("change", [["--sample-seed", "1"], ["--trajectories", "3"]])
def test_an_output_folder_of_another_sample_is_refused_untouched(tmp_path, monkeypatch, change):
    monkeypatch.chdir(tmp_path)
    bounds = write(tmp_path, TINY)
    arguments = ["--config", bounds, "--trajectories", "2", "--launcher", "basic",
                 "--output", "out"]
    assert main(arguments) == 0
    before = snapshot(tmp_path / "out")
    with pytest.raises(SensitivityError, match="holds the runs of another sample"):
        main([*arguments, *change])
    assert snapshot(tmp_path / "out") == before


def test_a_run_is_used_only_for_a_row_with_its_values(tmp_path):
    """Runs are matched to the sample by their values, not by their row number."""
    from sim.sensitivity.runs import collect

    sweep = tmp_path / "runs"
    run = sweep / "a_run"
    run.mkdir(parents=True)
    (run / "summary.json").write_text('{"good_or_better_change": 0.1}')
    (run / "config.yaml").write_text(yaml.safe_dump({
        "sensitivity": {"index": 0}, "model": {"trusts": {"hub_radius_km": 10.0}}}))
    sample = pd.DataFrame({"model.trusts.hub_radius_km": [20.0]})
    with pytest.raises(SensitivityError, match="1 sample rows have no complete run"):
        collect(sweep, sample, ["good_or_better_change"])
    sample = pd.DataFrame({"model.trusts.hub_radius_km": [10.0]})
    assert collect(sweep, sample, ["good_or_better_change"]).tolist() == [[0.1]]


def test_an_undefined_outcome_is_not_mistaken_for_a_missing_run(tmp_path):
    """Every run complete, an outcome null in some: say which, and that resuming won't help."""
    from sim.sensitivity.runs import collect

    sample = pd.DataFrame({"model.trusts.hub_radius_km": [10.0, 20.0, 30.0]})
    for index, (radius, wait) in enumerate([(10.0, None), (20.0, 2.5), (30.0, None)]):
        run = tmp_path / "runs" / f"run{index}"
        run.mkdir(parents=True)
        (run / "summary.json").write_text(
            f'{{"good_or_better_change": 0.1, "orphan_wait_mean_terms_at_placement": '
            f'{"null" if wait is None else wait}}}')
        (run / "config.yaml").write_text(yaml.safe_dump({
            "sensitivity": {"index": index}, "model": {"trusts": {"hub_radius_km": radius}}}))
    outcomes = ["good_or_better_change", "orphan_wait_mean_terms_at_placement"]
    with pytest.raises(SensitivityError) as error:
        collect(tmp_path / "runs", sample, outcomes)
    message = str(error.value)
    assert "orphan_wait_mean_terms_at_placement in 2 of 3 runs" in message
    assert "will not help" in message and "resume" not in message
    assert "good_or_better_change in" not in message
    assert collect(tmp_path / "runs", sample, outcomes[:1]).tolist() == [[0.1]] * 3


# -- signals: the analysis runs its sweep in a child process, which must end with it -------

SLOW = {**TINY, "scenario": "national", "horizon_years": 10}  # minutes of runs


def start(arguments: list[str], cwd: Path) -> subprocess.Popen[str]:
    """`python -m sim.sensitivity` in a session of its own, so every process it starts is found."""
    return subprocess.Popen([sys.executable, "-m", "sim.sensitivity", *arguments], cwd=cwd,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=environment(), start_new_session=True,
                            preexec_fn=as_at_a_terminal)


def sim_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith("sim: ")]


def sweep_running(output: Path) -> bool:
    runs = output / "runs"
    return runs.exists() and any(p.name.endswith(".staging") for p in runs.iterdir())


KEPT = "the sample and any runs already complete are kept in out; run the same command again"


# One signal in the default run; the others are exhaustive variants, run with --slow.
@pytest.mark.parametrize("how", ["Ctrl-C", pytest.param("SIGTERM", marks=pytest.mark.slow),
                                 pytest.param("SIGKILL", marks=pytest.mark.slow)])
def test_stopping_the_analysis_stops_its_sweep_with_one_true_line(tmp_path, how):
    process = start(["--config", write(tmp_path, SLOW), "--trajectories", "30",
                     "--output", "out"], tmp_path)
    session = os.getsid(process.pid)
    try:
        wait_for(lambda: sweep_running(tmp_path / "out"))  # the sweep's workers are running
        if how == "Ctrl-C":  # a terminal sends it to the whole foreground process group
            os.killpg(process.pid, signal.SIGINT)
        else:
            os.kill(process.pid, signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
        wait_for(lambda: session_processes(session) == [], timeout=30)
    finally:
        for pid in session_processes(session):
            os.kill(pid, signal.SIGKILL)
    if how == "SIGKILL":
        assert process.returncode == -signal.SIGKILL
        return
    # One line, and it is true: the sample is kept (and resuming uses it).
    expected = {"Ctrl-C": (130, f"sim: interrupted; {KEPT}"),
                "SIGTERM": (143, f"sim: error: terminated by SIGTERM; {KEPT}")}[how]
    assert (process.returncode, *sim_lines(stderr)) == (*expected[:1], expected[1] + " to resume")
    assert (tmp_path / "out" / "sample.json").exists()
    assert (tmp_path / "out" / "samples.csv").exists()


def test_ctrl_c_before_the_sample_is_written_says_nothing_was_written(tmp_path):
    bounds = write(tmp_path, SLOW)
    before = snapshot(tmp_path)
    process = start(["--config", bounds, "--output", "out"], tmp_path)
    time.sleep(0.5)  # importing, reading the bounds, composing the config
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert (process.returncode, *sim_lines(stderr)) == (130, "sim: interrupted; nothing was "
                                                             "written")
    assert snapshot(tmp_path) == before


def test_an_output_path_with_hydras_special_characters_is_used_as_given(tmp_path):
    """A comma, a quote and a line break reach the runs' overrides quoted, as they are; the
    analysis leaves no unclosed file (PYTHONWARNINGS=error turns one into a traceback)."""
    bounds = write(tmp_path, {**TINY, "parameters": dict(list(TINY["parameters"].items())[:2])})
    output = tmp_path / "o,1'q\nn"
    result = subprocess.run(
        [sys.executable, "-m", "sim.sensitivity", "--config", bounds, "--trajectories", "2",
         "--output", str(output)], cwd=tmp_path, text=True, capture_output=True,
        env={**environment(), "PYTHONWARNINGS": "error"}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
    assert (output / "importance.csv").exists()
    assert len(list((output / "runs").glob("*/summary.json"))) == 2 * 3


def test_a_failure_before_any_run_removes_the_folder_the_analysis_created(tmp_path):
    from sim import errors
    from sim.folders import missing_ancestors
    from sim.sensitivity.setup import discard_if_nothing_ran

    output = tmp_path / "new" / "out"
    created = missing_ancestors(output)
    (output / "runs").mkdir(parents=True)
    (output / "sample.json").write_text("{}")
    discard_if_nothing_ran(output, created)
    assert list(tmp_path.iterdir()) == []
    assert errors.interruption_note == "nothing was kept"
    (tmp_path / "mine").mkdir()  # a folder the user made is never removed
    (tmp_path / "mine" / "sample.json").write_text("{}")
    discard_if_nothing_ran(tmp_path / "mine", missing_ancestors(tmp_path / "mine"))
    assert (tmp_path / "mine" / "sample.json").exists()
