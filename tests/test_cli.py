"""The command line as a user meets it: run as a subprocess, in a fresh folder.

The adversarial cases (bad inputs, signals, full disks) are in tests/test_adversarial.py;
these are the everyday ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from sim.outputs import OUTPUT_FILES
from tests.conftest import run_cli, snapshot


def test_default_run_writes_every_output_in_its_own_folder_and_says_where(tmp_path):
    result = run_cli("horizon_years=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run,) = (tmp_path / "results" / "runs" / "opportunity_area" / "status_quo").iterdir()
    for name in OUTPUT_FILES:
        assert (run / name).stat().st_size > 0, name
    assert str(run.relative_to(tmp_path)) in result.stdout
    assert [p.name for p in run.parent.iterdir()] == [run.name]  # no staging left behind
    timeseries = pd.read_parquet(run / "timeseries.parquet")
    assert len(timeseries) == 6
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scenario"] == "opportunity_area" and summary["horizon_years"] == 2
    assert (run / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hydra_run_dir_is_the_run_folder_and_nothing_goes_under_results(tmp_path):
    result = run_cli("horizon_years=1", "hydra.run.dir=my/run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "my" / "run").iterdir()) == sorted(
        [*OUTPUT_FILES, "run.log"])
    assert not (tmp_path / "results").exists()
    assert [p.name for p in (tmp_path / "my").iterdir()] == ["run"]


def test_an_existing_empty_folder_is_used_and_one_with_files_is_refused_untouched(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty").chmod(0o2750)
    made = (tmp_path / "empty").stat()
    assert run_cli("horizon_years=1", "hydra.run.dir=empty", cwd=tmp_path).returncode == 0
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == sorted(
        [*OUTPUT_FILES, "run.log"])
    # The user's folder itself is kept (the files moved in), not replaced by another.
    kept = (tmp_path / "empty").stat()
    assert (kept.st_ino, kept.st_mode) == (made.st_ino, made.st_mode)
    assert "finished in" in (tmp_path / "empty" / "run.log").read_text()
    # The folder the command runs in, named as the run folder: the shell's folder stays.
    (tmp_path / "here").mkdir()
    here = (tmp_path / "here").stat().st_ino
    result = run_cli("horizon_years=1", "hydra.run.dir=.", cwd=tmp_path / "here")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "here").stat().st_ino == here
    assert (tmp_path / "here" / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "here"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("my work")
    before = snapshot(tmp_path)
    refused = run_cli("horizon_years=1", "hydra.run.dir=mine", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "sim: error: the run folder mine already holds files; nothing was changed: name a new "
        "or empty folder (hydra.run.dir=PATH)"]
    assert snapshot(tmp_path) == before


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    for folder in ("a", "b"):
        result = run_cli("horizon_years=2", "seed=11", f"hydra.run.dir={folder}", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert run_cli("horizon_years=2", "seed=12", "hydra.run.dir=c", cwd=tmp_path).returncode == 0
    assert (tmp_path / "c" / "timeseries.parquet").read_bytes() != \
        (tmp_path / "a" / "timeseries.parquet").read_bytes()


def test_two_default_runs_in_the_same_second_get_their_own_folders(tmp_path):
    for _ in range(2):
        assert run_cli("horizon_years=1", "output.plots=false", cwd=tmp_path).returncode == 0
    runs = sorted((tmp_path / "results" / "runs" / "opportunity_area" / "status_quo").iterdir())
    assert len(runs) == 2 and all((run / "summary.json").exists() for run in runs)


SWEEP = ("-m", "seed=1,2", "horizon_years=1", "output.plots=false", "hydra.sweep.dir=out/sweep",
         "hydra.launcher.n_jobs=1")


def test_a_sweep_writes_its_plan_and_resumes_skipping_completed_runs(tmp_path):
    first = run_cli(*SWEEP, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    sweep = tmp_path / "out" / "sweep"
    runs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert [run.name.split("_")[:3] for run in runs] == [["status", "quo", "seed1"],
                                                         ["status", "quo", "seed2"]]
    plan = pd.read_csv(sweep / "plan.csv", dtype=str)
    assert sorted(plan["run"]) == [run.name for run in runs]
    assert sorted(plan["seed"]) == ["1", "2"]
    assert "sim: sweep of 2 runs complete" in first.stderr
    stamps = {p: (p / "summary.json").stat().st_mtime_ns for p in runs}
    again = run_cli(*SWEEP, cwd=tmp_path)
    assert again.returncode == 0
    assert "(2 already complete)" in again.stderr
    assert {p: (p / "summary.json").stat().st_mtime_ns for p in runs} == stamps
    more = run_cli(*SWEEP[:1], "seed=1,2,3", *SWEEP[2:], cwd=tmp_path)  # one more seed
    assert more.returncode == 0 and "(2 already complete)" in more.stderr
    assert len(pd.read_csv(sweep / "plan.csv")) == 3


def test_another_sweep_into_a_sweep_folder_is_refused_and_the_folder_left_as_it_was(tmp_path):
    """A sweep whose runs differ from the folder's in keys neither sweeps (here the policy
    and the horizon) would mix runs sim.compare cannot compare, and rewrite the record of
    the folder's sweep (multirun.yaml, plan.csv): it is refused in one line, before anything
    is written. The folder's own command still resumes it."""
    assert run_cli(*SWEEP, cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    other = run_cli("-m", "policy=combined", "seed=5", "horizon_years=2", "output.plots=false",
                    "hydra.sweep.dir=out/sweep", "hydra.launcher.n_jobs=1", cwd=tmp_path)
    assert other.returncode == 2, other.stderr
    assert "Traceback" not in other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert line.startswith("sim: error: the sweep folder out/sweep holds another sweep"), line
    assert "policy: not given in its runs, combined in this sweep's" in line
    assert "horizon_years: 1 in its runs, 2 in this sweep's" in line
    assert "choose another folder (hydra.sweep.dir=PATH), or run that sweep's own command " \
           "again to resume it" in line
    assert snapshot(tmp_path) == before
    again = run_cli(*SWEEP, cwd=tmp_path)
    assert again.returncode == 0 and "(2 already complete)" in again.stderr, again.stderr


def test_a_sweep_with_a_failed_run_finishes_the_others_and_exits_with_one_line(tmp_path):
    """A run that fails as it runs (here: its folder cannot be replaced, being immutable) is
    recorded; the others finish; the sweep ends with one line and exit status 1."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "plan.csv").write_text("run,overrides\n")
    locked = sweep / "1"
    locked.mkdir()
    if os.geteuid() != 0 or subprocess.run(["chattr", "+i", str(locked)],
                                           capture_output=True).returncode != 0:
        pytest.skip("this machine cannot make a folder immutable")
    try:
        result = run_cli("-m", "seed=1,2", "horizon_years=1", "output.plots=false",
                         "hydra.sweep.dir=sweep", "hydra.sweep.subdir=${hydra.job.num}",
                         "hydra.launcher.n_jobs=1", cwd=tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(locked)], check=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("sim: error:")]
    assert len(errors) == 1 and "1 of 2 runs failed: seed=2" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert (sweep / "0" / "summary.json").exists()
    failed = list((sweep / ".failed").glob("*.txt"))
    assert [p.name for p in failed] == ["1.txt"] and "overrides: seed=2" in failed[0].read_text()
    assert not any(p.name.endswith(".staging") for p in sweep.iterdir())


def test_help_is_quick_and_lists_the_project_groups_only(tmp_path):
    started = time.perf_counter()
    result = run_cli("--help", cwd=tmp_path)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    groups = result.stdout.split("== Config groups ==")[1].split("==")[0]
    names = [line.split(":")[0].strip() for line in groups.strip().splitlines()]
    assert names == ["scenario", "population", "policy", "model", "experiment", "+uncertainty"]
    assert ".venv" not in result.stdout and "schema" not in groups
    assert elapsed < 30  # a guard against the old 42 s, not a benchmark (benchmarks/ time it)


@pytest.mark.parametrize(("arguments", "expected"), [
    (["policy.mat_contracting.contract_length_years=3"],
     "not a parameter of policy=status_quo: add one of policy=combined, policy=mat_contracting"),
    (["population.areas=[Blackpool]"], "not a parameter of population=synthetic: add "
                                       "population=gias"),
    (["model.trusts.giver_taker_treshold=4"], "did you mean 'model.trusts.giver_taker_threshold'"),
    (["+experiments=policy_comparison"], "did you mean the config group experiment"),
])
def test_mistakes_get_the_fix_in_one_line(tmp_path, arguments, expected):
    result = run_cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert expected in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_glob_sweep_over_options_runs(tmp_path):
    result = run_cli("-m", "policy=glob(status*)", "horizon_years=1", "output.plots=false",
                     "hydra.sweep.dir=sweep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run,) = [p for p in (tmp_path / "sweep").iterdir() if (p / "summary.json").exists()]
    assert run.name.startswith("status_quo_seed0_")


def test_a_folder_named_sim_where_the_command_runs_does_not_hide_the_package(tmp_path):
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "notes.txt").write_text("mine")
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "sim", "--version"], cwd=tmp_path,
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("sim "), result.stderr


def test_a_launcher_that_stops_the_sweep_gets_one_line(tmp_path):
    result = run_cli("-m", "seed=1,2", "horizon_years=1", "output.plots=false",
                     "hydra.sweep.dir=sweep", "hydra.launcher.timeout=0.001", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("sim: error:")]
    assert len(errors) == 1 and "hydra.launcher.timeout" in errors[0], result.stderr
    assert not any(p.name.endswith(".staging") for p in (tmp_path / "sweep").iterdir())
