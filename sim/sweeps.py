"""A sweep's plan and its ending: what the sweeper checks before any job starts, and after.

Before any job starts (`plan_sweep`), every job's config is composed and checked as a
single run's would be, and the folders are checked (`sim.folders`): a mistake in any job,
an unsafe sweep folder, or two jobs that would share a folder stop the sweep with one
line, and nothing is written. Each job is composed once (`sim.composer`); with sim's own
launcher its worker processes plan the jobs in parallel, and run them as planned
(`PlannedJob`, `sim.launcher`). Then the plan is written, `<sweep>/plan.csv`:

| column | holds |
|---|---|
| `run` | the job's folder, relative to the sweep folder |
| `overrides` | the job's overrides, as Hydra writes them (`policy=status_quo seed=3`) |
| one per swept key | that job's value, as text |

Several sweeps into one folder (a resumed sweep, a sweep with more seeds) merge their rows
(unique by `run`), under a lock, so two at once are safe. A sweep whose runs differ from
those the folder's plan holds in anything but what one of the two sweeps sweeps (another
horizon, say) is another sweep, and is refused before anything is written; so is a plan
that is not one a sweep wrote (edited, not UTF-8 text, without its `run` and `overrides`
columns), naming the file: remove it to have the sweep write a new one (`sim.sweep_plans`).
`sim.compare` reads the plan to name the runs a sweep should have and has not.

While a sweep runs, its process holds a shared lock (flock) on `<sweep>/.running.lock`,
so that `sim.compare` can tell a sweep still running from one that
stopped, and name the runs still to come as not yet run (`sim.folders`).

After the jobs (`finish_sweep`), a sweep in which any job failed ends with one line naming
the failed runs, and a non-zero exit status; each failure is recorded in
`<sweep>/.failed/<run>.txt` by the job itself.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim import errors, folders
from sim.config import load, to_dict
from sim.errors import UserError
from sim.files import write_atomically, write_text
from sim.population.gias import GiasPopulation, check_extract_and_areas
from sim.schema import RunConfig
from sim.sweep_plans import check_same_sweep, read_plan


class SweepFailedError(UserError):
    """Some of a sweep's runs failed; the others are complete."""

    status = 1


@dataclass
class PlannedJob:
    """A job as the sweep composed and checked it: what sim's own launcher (`sim.launcher`)
    needs to run it in a worker process without composing it again."""

    run: RunConfig
    folder: Path  # hydra.runtime.output_dir: <sweep>/<subdir>, absolute, as Hydra sets it
    overrides: list[str]  # hydra.overrides.task, named in the job's failure record
    logging: dict[str, Any]  # hydra.job_logging, resolved (the worker names its own log)
    verbose: Any  # hydra.verbose
    environment: dict[str, str]  # hydra.job.env_set


@dataclass
class Plan:
    """A sweep's jobs: folder names, overrides and swept values, in launch order."""

    sweep: Path
    runs: list[str] = field(default_factory=list)
    overrides: list[list[str]] = field(default_factory=list)
    jobs: list[PlannedJob] = field(default_factory=list)

    def swept_keys(self) -> list[str]:
        """Keys whose value differs between jobs, in the order of the overrides."""
        values: dict[str, set[str]] = {}
        for job in self.overrides:
            for override in job:
                key, _, value = override.partition("=")
                values.setdefault(key, set()).add(value)
        return [key for key, seen in values.items() if len(seen) > 1]

    def rows(self) -> list[dict[str, str]]:
        keys = self.swept_keys()
        rows = []
        for run, overrides in zip(self.runs, self.overrides, strict=True):
            given = dict(o.partition("=")[::2] for o in overrides)
            rows.append({"run": run, "overrides": " ".join(overrides),
                         **{key: given.get(key, "") for key in keys}})
        return rows


# One job's plan: its folder within the sweep folder, and what a worker needs to run it.
JobPlan = tuple[str, PlannedJob]
# Plans every job elsewhere (sim's launcher: on its workers), each as `plan_job(number, job)`
# would: a list in job order, None where planning the job failed.
PlanAll = Callable[[Callable[[int, Sequence[str]], JobPlan], Sequence[Sequence[str]]],
                   list[JobPlan | None]]


def plan_sweep(sweep_config: DictConfig, jobs: Sequence[Sequence[str]],
               compose_job: Callable[[list[str]], DictConfig],
               plan_all: PlanAll | None = None) -> Plan:
    """Check every job and the folders; return the plan (nothing is written yet).

    Each job is planned here, in order, or by `plan_all` (sim's launcher plans them on its
    worker processes, in parallel); a job whose planning failed there is planned again
    here, in order, so that the sweep stops with the very error the first mistaken job
    gives (its causes kept, for `sim.explain`), as it would were every job planned here.
    """
    if not jobs:
        raise UserError("the sweep has no runs: a value list, range() or glob() of the "
                        "command line gives no values")
    sweep = Path(os.path.abspath(str(sweep_config.hydra.sweep.dir)))
    folders.check_sweep_folder(sweep)
    # A plan the sweep could not merge with, or another sweep's, is refused now, before any
    # job is composed (start_sweep checks again, under the plan's lock, for a sweep that
    # started into the folder meanwhile).
    check_same_sweep(sweep, read_plan(sweep), jobs)

    def plan_job(number: int, job: Sequence[str], seen: dict[str, int] | None = None) -> JobPlan:
        return _plan_job(sweep, compose_job, number, job, seen)

    planned = plan_all(plan_job, jobs) if plan_all is not None else [None] * len(jobs)
    plan = Plan(sweep)
    seen: dict[str, int] = {}
    for number, job in enumerate(jobs):
        done = planned[number]
        if done is None:
            done = plan_job(number, job, seen)
        else:  # checked elsewhere, but for what only the whole sweep shows
            _check_shared(seen, done[0], number, job)
        subdir, planned_job = done
        seen[subdir] = number
        plan.runs.append(subdir)
        plan.overrides.append(list(job))
        plan.jobs.append(planned_job)
    return plan


def _plan_job(sweep: Path, compose_job: Callable[[list[str]], DictConfig], number: int,
              job: Sequence[str], seen: dict[str, int] | None) -> JobPlan:
    """Compose and check one job (with `seen`, the folders of the jobs before it, also that
    it has a folder of its own); its folder and what a worker needs to run it."""
    job_config = compose_job(list(job))
    with read_write(job_config), open_dict(job_config):  # as the launcher will set them
        job_config.hydra.job.num = number
        job_config.hydra.job.id = str(number)
    run = load(job_config)  # the same checks as a single run: ranges, rules across keys
    subdir = _subdir(job_config, run)
    folders.check_subdir(subdir)
    if seen is not None:
        _check_shared(seen, subdir, number, job)
    _check_job_folder(sweep / subdir, folders.run_key(to_dict(run)), job)
    _check_data(run)
    return subdir, _planned(job_config, run, sweep / subdir)


def _check_shared(seen: dict[str, int], subdir: str, number: int, job: Sequence[str]) -> None:
    if subdir in seen:
        raise UserError(f"jobs {seen[subdir]} and {number} of the sweep would share the "
                        f"folder '{subdir}' ({' '.join(job)}): give each job its own "
                        f"(the default hydra.sweep.subdir names each by its config)")


def _subdir(job_config: DictConfig, run: Any) -> str:
    """The job's folder within the sweep folder: the default, its run's name, from the run
    just loaded (resolving `${sim_run_name:}` would load the config again)."""
    if job_config.hydra.sweep._get_node("subdir")._value() == folders.RUN_NAME:
        return folders.run_name(to_dict(run))
    return str(OmegaConf.select(job_config, "hydra.sweep.subdir"))


def _planned(job_config: DictConfig, run: Any, folder: Path) -> PlannedJob:
    """What a worker needs of the job's Hydra settings, resolved as Hydra's `run_job` would
    resolve them, with the job's folder set."""
    hydra = job_config.hydra
    with read_write(hydra.runtime), open_dict(hydra.runtime):
        hydra.runtime.output_dir = str(folder)
    return PlannedJob(
        run=run, folder=folder, overrides=list(OmegaConf.to_container(hydra.overrides.task)),
        logging=OmegaConf.to_container(hydra.job_logging, resolve=True),  # type: ignore[arg-type]
        verbose=OmegaConf.create(OmegaConf.to_container(hydra.verbose))  # detached
        if OmegaConf.is_config(hydra.verbose) else hydra.verbose,
        environment={str(k): str(v) for k, v in hydra.job.env_set.items()})


def _check_job_folder(folder: Path, key: str, job: Sequence[str]) -> None:
    """A job's folder must be new, empty, or hold this very run, complete (to be skipped)."""
    if not folders.holds_files(folder):
        return
    if folders.complete(folder) and folders.same_run(folder, key):
        return
    raise UserError(f"the folder of the run {' '.join(job)}, {folders.describe(folder)}, "
                    f"holds other files; nothing was changed: choose another sweep folder")


def _check_data(run: Any) -> None:
    """Read what a job reads from the user's files (a GIAS extract), as its run would."""

    if isinstance(run.population, GiasPopulation):
        check_extract_and_areas(run.population.path, tuple(run.population.areas))


def check_settings(sweep_config: DictConfig) -> None:
    """Hydra's settings, and those of the sweeper and launcher that would fail only once the
    sweep had started (checked before the sweep's values are even expanded)."""
    folders.check_hydra_settings(sweep_config, sweep=True)
    hydra = sweep_config.hydra
    batch = OmegaConf.select(hydra, "sweeper.max_batch_size")
    if batch is not None and (not isinstance(batch, int) or batch < 1):
        raise UserError(f"hydra.sweeper.max_batch_size={batch} must be null (one batch) or a "
                        f"whole number of at least 1")
    target = str(OmegaConf.select(hydra, "launcher._target_") or "").lower()
    jobs = OmegaConf.select(hydra, "launcher.n_jobs")
    ours = "sim_launcher" in target
    if ("joblib" in target or ours) and (not isinstance(jobs, int) or isinstance(jobs, bool)
                                         or jobs == 0 or jobs < -64):
        raise UserError(f"hydra.launcher.n_jobs={jobs} must be a whole number of at least 1, "
                        f"or -1 for every core (-2 all but one, and so on, as joblib counts)")
    timeout = OmegaConf.select(hydra, "launcher.timeout")
    if ours and timeout is not None and (not isinstance(timeout, int | float)
                                         or isinstance(timeout, bool) or not timeout > 0):
        raise UserError(f"hydra.launcher.timeout={timeout} must be null (no limit) or a "
                        f"number of seconds above 0")
    if "slurm" in target and shutil.which("sbatch") is None:
        raise UserError("SLURM is not available on this machine (no sbatch): run the sweep on "
                        "a SLURM login node, or here with hydra/launcher=submitit_local or "
                        "local")


def start_sweep(plan: Plan, sweep_config: DictConfig) -> None:
    """Create the sweep folder, remove dead runs' staging, write multirun.yaml and the plan."""
    plan.sweep.mkdir(parents=True, exist_ok=True)
    folders.hold_running_lock(plan.sweep)  # before the plan: a reader of the plan sees it held
    folders.remove_stale_staging(plan.sweep)
    with open(plan.sweep / ".plan.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another sweep into this folder may be merging too
        planned = read_plan(plan.sweep)
        check_same_sweep(plan.sweep, planned, plan.overrides)  # one started meanwhile
        write_text(plan.sweep / "multirun.yaml", OmegaConf.to_yaml(sweep_config))
        merged = {row["run"]: row for row in planned}
        merged.update({row["run"]: row for row in plan.rows()})
        columns = ["run", "overrides"]
        for row in merged.values():
            columns += [key for key in row if key not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(merged.values())
        write_atomically(plan.sweep / folders.PLAN_FILE,
                         lambda path: path.write_text(buffer.getvalue(), encoding="utf-8"))
    os.environ["SIM_SWEEP_PROCESS"] = str(os.getpid())
    errors.interruption_note = (f"the runs already complete are kept in "
                                f"{folders.describe(plan.sweep)}; run the same command again "
                                f"to resume")


def workers_start_deaf_to_ctrl_c() -> None:
    """Start the joblib launcher's worker processes with Ctrl-C (SIGINT) blocked.

    Ctrl-C at a terminal reaches every process of the sweep; the sweep's own process
    handles it and ends its workers (`release_workers`). A worker that received it while
    still importing would print a traceback of its own before it could ignore it
    (`sim.run` makes a running worker ignore SIGINT), so the thread that starts a worker
    blocks SIGINT while it forks: the mask is inherited, and the signal never reaches the
    worker. The sweep's process receives it in another thread, or once unblocked.
    """
    module = sys.modules.get("joblib.externals.loky.backend.fork_exec")
    if module is None:
        with contextlib.suppress(ImportError):
            from joblib.externals.loky.backend import fork_exec as module
    start = getattr(module, "fork_exec", None)
    if start is None or getattr(start, "deaf_to_ctrl_c", False):
        return

    def start_deaf_to_ctrl_c(*arguments: Any, **options: Any) -> Any:
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return start(*arguments, **options)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    start_deaf_to_ctrl_c.deaf_to_ctrl_c = True  # type: ignore[attr-defined]
    module.fork_exec = start_deaf_to_ctrl_c


def release_workers() -> None:
    """End the joblib launcher's worker processes now, while the sweep still handles
    signals, rather than in the interpreter's exit handlers, which wait for them: a Ctrl-C
    there can leave them running, and the sweep waiting for them for ever."""
    import multiprocessing

    module = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(module, "_executor", None) if module is not None else None
    if executor is not None:  # idle workers leave when told (not kill_workers: loky's own
        with contextlib.suppress(Exception):  # killing raises in its thread on Python 3.12)
            executor.shutdown(wait=False)
    for child in multiprocessing.active_children():  # the workers, whatever became of them
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()  # SIGTERM: a worker removes its staging and leaves
            child.join(timeout=5)


def clean_after_interruption(plan: Plan) -> None:
    """After a sweep is interrupted: remove what its killed runs staged, and the empty job
    folders Hydra made for them (the workers' processes may take a moment to end)."""
    deadline = time.monotonic() + 10
    while True:
        folders.remove_stale_staging(plan.sweep)
        left = [p for p in plan.sweep.iterdir() if folders.STAGING.match(p.name)] \
            if plan.sweep.is_dir() else []
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for run in plan.runs:
        folder = plan.sweep / run
        if folder.is_dir() and not folders.holds_files(folder):
            with contextlib.suppress(OSError):
                folder.rmdir()


def launcher_failed(plan: Plan, error: Exception) -> SweepFailedError:
    """The launcher (joblib, Ray, submitit) itself stopped the sweep: say so in one line."""
    reason = errors.one_line(error) or "no reason given"
    if type(error).__name__ == "TimeoutError":  # the built-in, or multiprocessing's
        reason = "a job took longer than hydra.launcher.timeout allows"
    return SweepFailedError(f"the launcher stopped the sweep ({type(error).__name__}: "
                            f"{reason}); the runs already complete are kept in "
                            f"{folders.describe(plan.sweep)}; run the same command again to "
                            f"resume")


def finish_sweep(plan: Plan, returns: Sequence[Any]) -> None:
    """Say how the sweep went; raise SweepFailedError naming the failed runs, if any."""
    from hydra.core.utils import JobStatus

    failed, skipped = [], 0
    for overrides, job in zip(plan.overrides, returns, strict=True):
        if job.status == JobStatus.FAILED:
            failed.append((" ".join(overrides), errors.one_line(job._return_value)))
        elif isinstance(job._return_value, dict) and job._return_value.get("status") == "skipped":
            skipped += 1
    where = folders.describe(plan.sweep)
    if failed:
        shown = "; ".join(f"{name} ({why})" for name, why in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        others = ("None is complete" if len(failed) == len(returns)
                  else f"The others are complete in {where}")
        raise SweepFailedError(f"{len(failed)} of {len(returns)} runs failed: {shown}{more}. "
                               f"{others}; each failure is recorded in "
                               f"{where}/{folders.FAILED_FOLDER}/; run the same command again "
                               f"to retry the failed runs")
    already = f" ({skipped} already complete)" if skipped else ""
    print(f"sim: sweep of {len(returns)} runs complete{already}; results in {where}",
          file=sys.stderr)
