"""One run from a composed config: simulate, write the results, draw the figure.

`simulate(config)` is pure: a config in, a `SimulationResult` out, no files. `run_from_hydra`
is what `python -m sim` calls for each job: it checks the config, simulates, writes the
results into Hydra's staging folder, and renames the folder into place when complete.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from sim.config import job_config, to_namespace
from sim.parameters import ConfigError, check_config

if TYPE_CHECKING:
    from sim.model import SimulationResult

log = logging.getLogger("sim")


def simulate(config: dict[str, Any], progress: bool = False) -> SimulationResult:
    """Build the model from a resolved job config and run it to the horizon."""
    # Imported here so that `python -m sim --help` and config errors stay fast.
    from sim.model import SchoolSystemModel

    model = SchoolSystemModel(to_namespace(config))
    model.run(progress=progress)
    return model.results()


def final_directory(config: dict[str, Any], staging: Path, multirun: bool) -> Path:
    """Where a finished run goes: results/runs/<scenario>/<policy>/<time>_seed<seed>, or
    for a sweep job, beside its staging folder in the sweep folder."""
    if multirun:
        return staging.parent.parent / staging.name
    started = "_".join(staging.name.split("_")[:2])
    root = Path(config["output"]["root"])
    return (root / "runs" / config["scenario"]["name"] / config["policy"]["name"]
            / f"{started}_seed{config['seed']}")


def run_from_hydra(cfg: DictConfig) -> float | None:
    """Run one job inside Hydra; returns the final good-or-better share for sweepers."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.outputs import discard, finalise, write_run

    hydra_config = HydraConfig.get()
    staging = Path(hydra_config.runtime.output_dir)
    multirun = hydra_config.mode == RunMode.MULTIRUN
    try:
        config = job_config(cfg)
        check_config(config)
        started = time.perf_counter()
        log.info("running %s under %s, seed %d", config["scenario"]["name"],
                 config["policy"]["name"], config["seed"])
        result = simulate(config, progress=config["output"]["progress"])
        write_run(staging, config, result)
        if config["output"]["plots"]:
            from sim.plots import plot_run

            plot_run(staging)
        final = finalise(staging, final_directory(config, staging, multirun))
    except ConfigError as error:
        discard(staging)
        print(f"sim: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        discard(staging)
        print("sim: interrupted; nothing was written", file=sys.stderr)
        sys.exit(130)
    except BaseException:
        discard(staging)
        raise
    log.info("finished in %.1f s: good or better %.1f%% -> %.1f%%; results in %s",
             time.perf_counter() - started, 100 * result.summary["good_or_better_start"],
             100 * result.summary["good_or_better_final"], final)
    return float(result.summary["good_or_better_final"])
