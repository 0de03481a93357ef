"""Hydra's basic sweeper, with the checks and the ending a sweep of `sim` needs.

It sweeps exactly as Hydra's `BasicSweeper` does (the cartesian product of the values
given, in batches for the launcher), and:
- before any job starts, composes and checks every job and the folders (`sim.sweeps`),
  so a mistake anywhere stops the sweep with one line and writes nothing;
- writes the sweep's `plan.csv` (and Hydra's `multirun.yaml`);
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

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        sweeps.check_settings(self.config)
        loader = self.hydra_context.config_loader
        parser = OverridesParser.create(config_loader=loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        batches = self.split_arguments(overrides, self.max_batch_size)
        jobs = [job for batch in batches for job in batch]
        plan = sweeps.plan_sweep(
            self.config, jobs,
            lambda job: loader.load_sweep_config(master_config=self.config, sweep_overrides=job))
        sweeps.start_sweep(plan, self.config)
        sweeps.workers_start_deaf_to_ctrl_c()
        returns: list[Any] = []
        try:
            for batch in batches:
                returns.extend(self.launcher.launch(batch, initial_job_idx=len(returns)))
        except BaseException as error:
            with errors.signals_held():  # a second Ctrl-C must not stop the clean-up
                sweeps.release_workers()
                sweeps.clean_after_interruption(plan)
            if isinstance(error, Exception) and not isinstance(error, errors.UserError):
                raise sweeps.launcher_failed(plan, error) from error
            raise
        with errors.signals_held():
            sweeps.release_workers()
        sweeps.finish_sweep(plan, returns)
        return [returns]
