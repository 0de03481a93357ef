"""One run from a composed config: simulate, write the results, draw the figure.

`simulate(config)` is pure: a config in, a `SimulationResult` out, no files. `run_from_hydra`
is what `python -m sim` calls for each job: it checks the config, simulates, writes the
results into Hydra's staging folder, and renames the folder into place when complete.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import traceback
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


def apply_sample(config: dict[str, Any]) -> dict[str, Any]:
    """Set the parameters of one row of a sensitivity sample (see sim.sensitivity)."""
    sample = config.get("sensitivity") or {}
    if sample.get("samples") is None or sample.get("index") is None:
        return config
    import pandas as pd

    from sim.parameters import RULES

    row = pd.read_csv(sample["samples"]).iloc[int(sample["index"])]
    for key, value in row.items():
        *parents, leaf = str(key).split(".")
        node = config
        for parent in parents:
            node = node[parent]
        node[leaf] = round(float(value)) if RULES[str(key)].kind == "integer" else float(value)
    return config


def run_key(config: dict[str, Any]) -> str:
    """A short hash of everything that determines a run's results (seed included, the
    output options left out), so that a sweep can tell which of its runs are done."""
    relevant = {key: value for key, value in config.items() if key != "output"}
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def final_directory(config: dict[str, Any], staging: Path, multirun: bool) -> Path:
    """Where a finished run goes: results/runs/<scenario>/<policy>/<time>_seed<seed>, or for
    a sweep job, <sweep>/<policy>_seed<seed>_<key> (see `run_key`)."""
    if multirun:
        sweep = staging.parent.parent
        return sweep / f"{config['policy']['name']}_seed{config['seed']}_{run_key(config)}"
    started = "_".join(staging.name.split("_")[:2])
    root = Path(config["output"]["root"])
    return (root / "runs" / config["scenario"]["name"] / config["policy"]["name"]
            / f"{started}_seed{config['seed']}")


def record_failure(staging: Path, config: dict[str, Any], error: Exception) -> None:
    """Name a failed sweep job in <sweep>/.failed/, with its overrides and the error."""
    from hydra.core.hydra_config import HydraConfig

    from sim.outputs import write_text

    folder = staging.parent.parent / ".failed"
    folder.mkdir(parents=True, exist_ok=True)
    overrides = " ".join(HydraConfig.get().overrides.task)
    name = f"{config['policy']['name']}_seed{config['seed']}_{run_key(config)}.txt"
    write_text(folder / name, f"overrides: {overrides}\nerror: {error}\n\n"
               + "".join(traceback.format_exception(error)))
    log.error("run failed (%s): %s; recorded in %s", overrides, error, folder / name)


def run_from_hydra(cfg: DictConfig) -> float | None:
    """Run one job inside Hydra; returns the final good-or-better share for sweepers."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from sim.outputs import discard, finalise, write_run

    hydra_config = HydraConfig.get()
    staging = Path(hydra_config.runtime.output_dir)
    multirun = hydra_config.mode == RunMode.MULTIRUN
    config = apply_sample(job_config(cfg))
    if multirun:
        done = final_directory(config, staging, multirun)
        if (done / "summary.json").exists():
            discard(staging)
            log.info("already complete, skipped: %s", done)
            return float(json.loads((done / "summary.json").read_text())["good_or_better_final"])
    try:
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
    except KeyboardInterrupt:
        discard(staging)
        print("sim: interrupted; nothing was written", file=sys.stderr)
        sys.exit(130)
    except Exception as error:
        discard(staging)
        if multirun:  # the sweep carries on; the failure is named for sim.compare
            record_failure(staging, config, error)
            return None
        if isinstance(error, ConfigError):
            print(f"sim: error: {error}", file=sys.stderr)
            sys.exit(2)
        raise
    log.info("finished in %.1f s: good or better %.1f%% -> %.1f%%; results in %s",
             time.perf_counter() - started, 100 * result.summary["good_or_better_start"],
             100 * result.summary["good_or_better_final"], final)
    return float(result.summary["good_or_better_final"])
