"""sim's own local launcher: runs the jobs the sweeper planned on forked worker processes.

The sim sweeper composes and checks every job before any starts (`sim.sweeps`); Hydra's
other launchers then compose each job again where it runs. This one runs the planned jobs
themselves (`sim.launcher`): its workers are forked from the sweep's process once the plan
is written, each runs many jobs, one at a time, and none composes a config. It is the
default for local sweeps (configs/hydra/launcher/local.yaml); `hydra/launcher=joblib`,
`ray`, `submitit_local` or `submitit_slurm` choose another.

Settings, as joblib's launcher names them: `n_jobs` (workers; -1 one per core), `timeout`
(seconds a job may run before the sweep stops; null: no limit), `verbose` (0: quiet; more:
a line on standard error at each tenth of the jobs done).

Hydra finds launchers only in the `hydra_plugins` package, so this module lives here; the
work is done in `sim.launcher`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from hydra.core.utils import JobReturn, JobStatus, configure_log, filter_overrides
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class SimLauncher(Launcher):
    """Plans and runs a sweep's jobs on forked worker processes (`sim.launcher`).

    Besides Hydra's `setup` and `launch`, the sim sweeper calls `plan_jobs` (which starts
    the workers) before any job starts, `take_plan` once the plan is written, and
    `end_workers` when the sweep ends, however it ends.
    """

    def __init__(self, n_jobs: int = -1, timeout: float | None = None, verbose: int = 0) -> None:
        self.n_jobs = n_jobs
        self.timeout = timeout
        self.verbose = verbose
        self.config: DictConfig | None = None
        self.pool: Any = None  # sim.launcher.Pool, once started
        self.plan: Any = None  # the sweeper's plan (sim.sweeps.Plan)

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction,
              config: DictConfig) -> None:
        self.config = config

    def plan_jobs(self, plan_job: Any, jobs: Sequence[Sequence[str]]) -> list[Any]:
        """Start the workers, and have them plan every job (`sim.sweeps.plan_sweep`)."""
        from sim import launcher

        self.pool = launcher.Pool()
        self.pool.start(launcher.worker_count(self.n_jobs, len(jobs)), plan_job, jobs)
        return self.pool.plan(jobs)

    def take_plan(self, plan: Any) -> None:
        """The sweeper's plan: every job composed and checked, in launch order."""
        self.plan = plan

    def launch(self, job_overrides: Sequence[Sequence[str]],
               initial_job_idx: int) -> Sequence[JobReturn]:
        from sim import launcher

        assert self.config is not None
        if self.plan is None or self.pool is None:
            raise RuntimeError("sim's launcher runs the jobs the sim sweeper planned: leave "
                               "hydra/sweeper as it is (sim)")
        numbers = range(initial_job_idx, initial_job_idx + len(job_overrides))
        for number, overrides in zip(numbers, job_overrides, strict=True):
            assert self.plan.overrides[number] == list(overrides), (number, overrides)
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        log.info(f"Launching {len(job_overrides)} jobs on {len(self.pool.workers)} worker "
                 f"processes")
        for number, overrides in zip(numbers, job_overrides, strict=True):
            log.info(f"\t#{number} : {' '.join(filter_overrides(overrides))}")
        outcomes = self.pool.run([self.plan.jobs[number] for number in numbers],
                                 self.timeout, self.verbose > 0)
        returns = []
        for overrides, outcome in zip(job_overrides, outcomes, strict=True):
            job = JobReturn(overrides=list(overrides), working_dir=os.getcwd(),
                            task_name=str(self.config.hydra.job.name))
            job.status = JobStatus.COMPLETED if outcome.completed else JobStatus.FAILED
            job.return_value = (outcome.value if outcome.completed
                                else launcher.JobFailedError(outcome.value))
            returns.append(job)
        return returns

    def end_workers(self, at_once: bool) -> None:
        """End the workers: at once (SIGTERM) when the sweep stops early, else when each has
        been told to leave."""
        if self.pool is not None:
            self.pool.stop() if at_once else self.pool.finish()
            self.pool = None
