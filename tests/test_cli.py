"""The command line as a user meets it: run as a subprocess, in a fresh folder."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.outputs import OUTPUT_FILES
from tests.conftest import run_cli


@pytest.mark.parametrize(("override", "expected"), [
    ("model.workforce.leavng_rate_experienced=0.1",
     "unknown parameter 'model.workforce.leavng_rate_experienced'; did you mean "
     "'model.workforce.leaving_rate_experienced'?"),
    ("model.workforce.moving_rate=1.5", "model.workforce.moving_rate must be a number from 0"),
    ("seed=abc", "seed must be a whole number"),
    ("scenario=atlantis", "unknown scenario 'atlantis': choose one of national, opportunity_area"),
    ("horizon_years=[1,2]", "horizon_years must be a whole number"),
    ("seed", "cannot read the override 'seed'"),
    ("population.path=extract.csv",
     "'population.path' is not a parameter of population=synthetic: add population=gias"),
])
def test_bad_override_gives_one_clean_line_and_no_run_directory(tmp_path, override, expected):
    result = run_cli(override, "output.root=out", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sim: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_a_bad_value_in_a_sweep_is_caught_before_any_job_runs(tmp_path):
    result = run_cli("-m", "seed=1,2,-3", "output.root=out", cwd=tmp_path)
    assert result.returncode == 2
    assert "seed=-3 is not allowed" in result.stderr
    assert not (tmp_path / "out").exists()


def test_default_run_writes_every_output_and_says_where(tmp_path):
    result = run_cli("horizon_years=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = list((tmp_path / "results" / "runs" / "opportunity_area" / "status_quo").iterdir())
    assert len(runs) == 1
    run = runs[0]
    for name in OUTPUT_FILES:
        assert (run / name).stat().st_size > 0, name
    assert str(run.relative_to(tmp_path)) in result.stderr + result.stdout
    assert not (tmp_path / "results" / ".incomplete").exists()
    timeseries = pd.read_parquet(run / "timeseries.parquet")
    assert len(timeseries) == 6
    summary = json.loads((run / "summary.json").read_text())
    assert summary["scenario"] == "opportunity_area" and summary["horizon_years"] == 2
    assert (run / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    arguments = ("horizon_years=2", "seed=11", "output.root=out")
    for _ in range(2):
        assert run_cli(*arguments, cwd=tmp_path).returncode == 0
    first, second = sorted((tmp_path / "out" / "runs" / "opportunity_area" / "status_quo").iterdir())
    for name in OUTPUT_FILES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert run_cli("horizon_years=2", "seed=12", "output.root=other", cwd=tmp_path).returncode == 0
    (third,) = (tmp_path / "other" / "runs" / "opportunity_area" / "status_quo").iterdir()
    assert (third / "timeseries.parquet").read_bytes() != (first / "timeseries.parquet").read_bytes()


def test_a_sweep_resumes_skipping_completed_runs_and_carries_on_after_a_failure(tmp_path):
    sweep = ("-m", "seed=1,2", "horizon_years=1", "output.plots=false",
             "hydra.sweep.dir=out/sweep", "hydra.launcher.n_jobs=1")
    first = run_cli(*sweep, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    runs = sorted(p for p in (tmp_path / "out" / "sweep").iterdir() if p.is_dir())
    assert ["_seed1_" in runs[0].name, "_seed2_" in runs[1].name] == [True, True]
    stamps = {p: (p / "summary.json").stat().st_mtime_ns for p in runs}
    again = run_cli(*sweep, cwd=tmp_path)
    assert again.returncode == 0
    assert (again.stdout + again.stderr).count("already complete, skipped") == 2
    assert {p: (p / "summary.json").stat().st_mtime_ns for p in runs} == stamps
    assert not (tmp_path / "out" / "sweep" / ".incomplete").exists()
    # The first combination is valid, the second breaks a rule that spans keys: it fails
    # on its own, is recorded by name, leaves no output, and the sweep carries on.
    broken = run_cli("-m", "seed=3", "policy.start_year=0,2", "policy.end_year=1",
                     "horizon_years=1", "output.plots=false", "hydra.sweep.dir=out/sweep",
                     "hydra.launcher.n_jobs=1", cwd=tmp_path)
    assert broken.returncode == 0, broken.stderr
    failed = list((tmp_path / "out" / "sweep" / ".failed").glob("*.txt"))
    assert len(failed) == 1 and "end_year" in failed[0].read_text()
    complete = [p for p in (tmp_path / "out" / "sweep").iterdir()
                if p.is_dir() and (p / "summary.json").exists()]
    assert len(complete) == 3
    assert not (tmp_path / "out" / "sweep" / ".incomplete").exists()


@pytest.mark.parametrize(("arguments", "expected"), [
    (["policy.mat_contracting.contract_length_years=3"],
     "not a parameter of policy=status_quo: add one of policy=combined, policy=mat_contracting"),
    (["population=synthetic,gias", "population.areas=[Blackpool]"],
     "not a parameter of population=synthetic: add population=gias"),
])
def test_a_parameter_of_another_option_is_refused_before_hydra_starts(arguments, expected):
    from sim.cli import check_command_line
    from sim.parameters import ConfigError

    with pytest.raises(ConfigError, match=expected):
        check_command_line(arguments)
    check_command_line(["population=gias", "population.areas=[Blackpool]"])  # its own: fine
