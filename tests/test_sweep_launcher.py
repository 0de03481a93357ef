"""sim's own launcher and the composer it relies on (`sim.composer`, `sim.launcher`).

- `JobComposer` gives the config Hydra's `load_sweep_config` gives, for overrides of every
  kind (values, groups, additions, deletions, Hydra's own settings, an experiment), and
  the same error for an override that cannot be applied;
- the pool of forked workers plans each job once, runs many jobs in each worker, keeps
  the jobs' order, and stops the sweep when a job runs too long or a worker dies, leaving
  no worker behind;
- through the command line: a worker killed outright stops the sweep with one line, and
  what it staged is removed; Ctrl-C while the workers plan writes nothing.

That the launcher writes the same files as Hydra's joblib, Ray and submitit launchers is
tests/test_launchers.py's; the checks before any job starts, tests/test_adversarial.py's.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sim import CONFIG_DIR, draw_ahead, launcher
from sim.composer import JobComposer
from sim.config import load, register
from sim.errors import UserError
from sim.run import SWEEP_PROCESS
from tests.conftest import as_at_a_terminal, environment, session_processes, wait_for

SWEEPS = [
    (["hydra.sweep.dir=x", "hydra.sweep.subdir=${hydra.job.num}"],
     [["seed=1"], ["seed=2", "policy=mat_contracting"], ["seed=2", "horizon_years=${seed}"],
      ["policy=combined", "horizon_years=2", "seed=3"]]),
    (["hydra.sweep.dir=x", "hydra/launcher=basic", "hydra.job.env_copy=[HOME]"],
     [["seed=1", "+extra=1"], ["experiment=policy_comparison", "seed=0"], ["~horizon_years"],
      ["policy.mat_contracting.contract_length_years=3", "policy=mat_contracting"]]),
    ([], [["scenario=national", "model.trusts.giver_taker_threshold=4"], ["output={plots:false}"],
          ["seed=abc"], ["policy=atlantis"], ["model.trusts.nonsense=1"]]),
]


@pytest.fixture(scope="module")
def loader():
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()
    GlobalHydra.instance().clear()


def outcome(compose, job):  # type: ignore[no-untyped-def]
    try:
        return compose(job), None
    except Exception as error:
        return None, f"{type(error).__name__}: {error}; caused by {error.__cause__!r}"


@pytest.mark.parametrize(("hydra_overrides", "jobs"), SWEEPS)
def test_the_composer_gives_the_config_hydra_gives(loader, hydra_overrides, jobs):
    from hydra.types import RunMode

    master = loader.load_configuration("config", [*hydra_overrides, "seed=1,2"],
                                       RunMode.MULTIRUN)
    composer = JobComposer(loader, master)
    for job in jobs * 2:  # the second time from the composer's kept composition
        hydra, hydra_error = outcome(lambda job: loader.load_sweep_config(master, job), job)
        ours, our_error = outcome(composer.compose, job)
        assert our_error == hydra_error, job
        if hydra is None:
            continue
        assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(hydra), job
        assert ours.hydra.overrides.task == hydra.hydra.overrides.task
        try:
            typed = load(hydra)
        except Exception as error:
            with pytest.raises(type(error)):
                load(ours)
            continue
        assert load(ours) == typed, job


@pytest.fixture
def sweep_process(monkeypatch):
    """The test's process as a sweep's: its forked workers know they are workers."""
    monkeypatch.setenv(SWEEP_PROCESS, str(os.getpid()))
    yield
    assert multiprocessing.active_children() == []


def started_pool(monkeypatch, run, plan=lambda number, job: (f"run{number}", number),
                 workers: int = 2, jobs: int = 6) -> launcher.Pool:
    """A pool whose workers run `run(job)` in place of a simulation."""
    monkeypatch.setattr(launcher, "_run", run)
    pool = launcher.Pool()
    pool.start(workers, plan, [[f"seed={number}"] for number in range(jobs)])
    return pool


class Planned:
    def __init__(self, number: int) -> None:
        self.number, self.overrides = number, [f"seed={number}"]


def test_workers_plan_each_job_and_run_many_jobs_each_in_order(monkeypatch, sweep_process):
    def plan(number, job):  # type: ignore[no-untyped-def]
        if number == 3:
            raise ValueError("a mistake in job 3")
        return f"run{number}", os.getpid()

    pool = started_pool(monkeypatch, lambda job: (True, (job.number, os.getpid())), plan)
    try:
        planned = pool.plan([[f"seed={number}"] for number in range(6)])
        outcomes = pool.run([Planned(number) for number in range(6)], None, False)
    finally:
        pool.finish()
    assert [p and p[0] for p in planned] == ["run0", "run1", "run2", None, "run4", "run5"]
    assert os.getpid() not in {p[1] for p in planned if p}  # planned by the workers
    assert [o.value[0] for o in outcomes] == list(range(6)) and all(o.completed for o in outcomes)
    assert len({o.value[1] for o in outcomes}) <= 2  # two workers ran all six jobs


def test_a_job_that_runs_too_long_stops_the_sweep_and_its_workers(monkeypatch, sweep_process):
    pool = started_pool(monkeypatch, lambda job: time.sleep(60 if job.number == 1 else 0)
                        or (True, None))
    try:
        with pytest.raises(TimeoutError, match=r"seed=1 ran longer than 0\.5 s"):
            pool.run([Planned(number) for number in range(3)], 0.5, False)
    finally:
        started = time.monotonic()
        pool.stop()
    assert time.monotonic() - started < 5  # SIGTERM ends a worker at once, even mid-job


def test_a_worker_that_dies_stops_the_sweep(monkeypatch, sweep_process):
    pool = started_pool(monkeypatch, lambda job: os._exit(3) if job.number == 2 else (True, 0))
    try:
        with pytest.raises(launcher.WorkerDiedError,
                           match=r"a worker process ended \(exit status 3\) while it had seed=2"):
            pool.run([Planned(number) for number in range(4)], None, False)
    finally:
        pool.stop()


def test_the_number_of_workers_follows_n_jobs_and_the_jobs():
    cores = len(os.sched_getaffinity(0))
    assert launcher.worker_count(-1, 1000) == cores
    assert launcher.worker_count(3, 2) == 2
    assert launcher.worker_count(1, 10) == 1
    assert launcher.worker_count(-64, 10) == 1


def test_a_worker_killed_outright_stops_the_sweep_with_one_line(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", "seed=1,2,3", "scenario=national",
         "horizon_years=10", "output.plots=false", "hydra.sweep.dir=sweep"], cwd=tmp_path,
        text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment(),
        start_new_session=True, preexec_fn=as_at_a_terminal)
    sweep = tmp_path / "sweep"
    wait_for(lambda: any(p.name.endswith(".staging") for p in sweep.iterdir())
             if sweep.exists() else False)
    worker = next(p for p in sweep.iterdir() if p.name.endswith(".staging"))
    os.kill(int(worker.name.rsplit("-", 1)[1].split(".")[0]), signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("sim: ")]
    assert len(lines) == 1 and "a worker process ended (killed by SIGKILL)" in lines[0], stderr
    assert "Traceback" not in stderr
    assert not any(p.name.endswith(".staging") for p in sweep.iterdir())
    assert session_processes(process.pid) == []


def test_ctrl_c_while_the_workers_plan_writes_nothing_and_leaves_no_process(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", "seed=range(2000)", "horizon_years=1",
         "output.plots=false", "hydra.sweep.dir=sweep"], cwd=tmp_path, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=environment(),
        start_new_session=True, preexec_fn=as_at_a_terminal)
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    wait_for(lambda: children.exists() and children.read_text().split())  # planning
    os.killpg(process.pid, signal.SIGINT)  # as a terminal sends Ctrl-C: to every process
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines() == ["sim: interrupted; nothing was written"]
    assert list(tmp_path.iterdir()) == []
    wait_for(lambda: session_processes(process.pid) == [], timeout=30)


@pytest.mark.parametrize(("error", "said"), [
    (KeyError(("sum", 1)), "KeyError: ('sum', 1)"),
    (UserError("the job's folder holds other files"), "the job's folder holds other files")])
def test_a_failed_job_is_named_by_its_error_and_a_bug_by_its_type(monkeypatch, tmp_path,
                                                                   error, said):
    """A KeyError's message alone ("('sum', 1)") says nothing in the sweep's last line."""
    from types import SimpleNamespace

    def fail(run, folder, overrides):  # type: ignore[no-untyped-def]
        raise error

    monkeypatch.setattr(launcher, "run_planned_job", fail)
    monkeypatch.setattr("hydra.core.utils.configure_log", lambda *arguments: None)
    job = SimpleNamespace(logging={"version": 1}, folder=tmp_path / "job", verbose=False,
                          environment={}, run=None, overrides=["seed=1"])
    assert launcher._run(job) == (False, said)


def test_a_sweep_whose_every_run_failed_does_not_say_the_others_are_complete(tmp_path):
    from hydra.core.utils import JobReturn, JobStatus

    from sim.sweeps import SweepFailedError, finish_sweep

    def failed(why: str) -> JobReturn:
        job = JobReturn()
        job.status, job._return_value = JobStatus.FAILED, why
        return job

    from types import SimpleNamespace

    plan = SimpleNamespace(sweep=tmp_path, overrides=[["seed=1"], ["seed=2"]])
    with pytest.raises(SweepFailedError) as both:
        finish_sweep(plan, [failed("KeyError: 1"), failed("KeyError: 2")])
    assert "2 of 2 runs failed" in str(both.value) and "None is complete" in str(both.value)
    assert "others are complete" not in str(both.value)


@pytest.mark.parametrize(("workers", "drawn_ahead"), [(1, True), (2, False)])
def test_workers_draw_ahead_only_when_alone(monkeypatch, sweep_process, workers, drawn_ahead):
    # Several workers use the cores already: none adds a second thread (`sim.draw_ahead`).
    monkeypatch.delenv(draw_ahead.SWITCH, raising=False)
    pool = started_pool(monkeypatch, lambda job: (True, None),
                        lambda number, job: (f"run{number}", draw_ahead.wanted()), workers, 2)
    try:
        planned = pool.plan([[f"seed={number}"] for number in range(2)])
    finally:
        pool.finish()
    assert [p[1] for p in planned] == [drawn_ahead, drawn_ahead]
