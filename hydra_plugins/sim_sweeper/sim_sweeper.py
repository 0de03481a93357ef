"""Hydra's basic sweeper, with the checks and the ending a sweep of `sim` needs.

It sweeps exactly as Hydra's `BasicSweeper` does (the cartesian product of the values
given, in batches for the launcher), and:
- before any job starts, composes and checks every job and the folders (`sim.sweeps`),
  so a mistake anywhere stops the sweep with one line and writes nothing; each job is
  composed once (`sim.composer`), and with sim's own launcher by its worker processes, in
  parallel, which then run the jobs as planned (`sim.launcher`);
- refuses a sweep into a folder that holds another sweep (`sim.sweep_plans`), and writes
  the sweep's `plan.csv` (and Hydra's `multirun.yaml`);
- runs every batch even when jobs fail, and ends with one line naming the failed runs and
  a non-zero exit status (`BasicSweeper` stops at the first failed batch).

Hydra finds sweepers only in the `hydra_plugins` package, so this module lives here; the
work is done in `sim.sweeps`. It is chosen in configs/config.yaml (`hydra/sweeper: sim`).
"""

from __future__ import annotations

from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser


class SimSweeper(BasicSweeper):
    """BasicSweeper that checks every job first and reports every failure at the end."""

    def sweep(self, arguments: list[str]) -> Any:
        from sim import errors, sweeps
        from sim.composer import JobComposer

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        sweeps.check_settings(self.config)
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        batches = self.split_arguments(overrides, self.max_batch_size)
        jobs = [job for batch in batches for job in batch]
        # sim's own launcher plans the jobs on its workers, then runs them there.
        plan_all = getattr(self.launcher, "plan_jobs", None)
        try:
            plan = sweeps.plan_sweep(self.config, jobs, JobComposer(loader, self.config).compose,
                                     plan_all)
            # Inside the try: it refuses another sweep that started into the folder
            # meanwhile, and the workers must then end as for a refused plan.
            sweeps.start_sweep(plan, self.config)
        except BaseException:
            with errors.signals_held():
                self._end_workers(at_once=True)
            raise
        sweeps.workers_start_deaf_to_ctrl_c()
        if hasattr(self.launcher, "take_plan"):
            self.launcher.take_plan(plan)
        returns: list[Any] = []
        try:
            for batch in batches:
                returns.extend(self.launcher.launch(batch, initial_job_idx=len(returns)))
        except BaseException as error:
            with errors.signals_held():  # a second Ctrl-C must not stop the clean-up
                self._end_workers(at_once=True)
                sweeps.release_workers()
                sweeps.clean_after_interruption(plan)
            if isinstance(error, Exception) and not isinstance(error, errors.UserError):
                raise sweeps.launcher_failed(plan, error) from error
            raise
        with errors.signals_held():
            self._end_workers(at_once=False)
            sweeps.release_workers()
        sweeps.finish_sweep(plan, returns)
        return [returns]

    def _end_workers(self, at_once: bool) -> None:
        """End the workers of sim's own launcher, if it started any (joblib's are ended by
        `sim.sweeps.release_workers`)."""
        end = getattr(self.launcher, "end_workers", None)
        if end is not None:
            end(at_once)
