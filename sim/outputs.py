"""Writing a run's results: tidy files, written atomically, in a folder renamed when complete.

A run writes into a staging folder (`results/.incomplete/...`). Each file is first written
to a temporary name beside its final one and renamed into place, and the finished folder is
then renamed to its final place under `results/runs/` (or into its sweep folder). A run
that is interrupted or fails therefore never leaves a half-written file, nor a folder that
looks complete, among the results.

Files of a run folder:
- `config.yaml`: the resolved config of the run (Hydra's own settings left out);
- `timeseries.parquet`: model-level measures, one row per term;
- `schools.parquet`: the yearly panel, one row per school per year (if enabled);
- `events.parquet`: one row per event (see `sim.events`);
- `summary.json`: the headline scalars;
- `summary.png`: the summary figure (see `sim.plots`);
- `run.log`: the log, the one file that differs between identical runs (it has times).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sim.model import SimulationResult

OUTPUT_FILES = ("config.yaml", "timeseries.parquet", "schools.parquet", "events.parquet",
                "summary.json", "summary.png")


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then rename the temporary file to `path`."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_run(directory: Path, config: dict[str, Any], result: SimulationResult) -> None:
    """Write every result file of a run into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    write_text(directory / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    write_atomically(directory / "timeseries.parquet",
                     lambda path: result.timeseries.to_parquet(path, index=False))
    if result.schools is not None:
        write_atomically(directory / "schools.parquet",
                         lambda path: result.schools.to_parquet(path, index=False))
    write_atomically(directory / "events.parquet",
                     lambda path: result.events.to_parquet(path, index=False))
    write_text(directory / "summary.json", json.dumps(result.summary, indent=2) + "\n")


def finalise(staging: Path, final: Path) -> Path:
    """Rename a complete staging folder to its final place; returns where it went."""
    final.parent.mkdir(parents=True, exist_ok=True)
    target, number = final, 1
    while target.exists():
        number += 1
        target = final.with_name(f"{final.name}_{number}")
    os.replace(staging, target)
    _remove_if_empty(staging.parent)
    return target


def discard(staging: Path) -> None:
    """Remove a staging folder after a failed or interrupted run."""
    shutil.rmtree(staging, ignore_errors=True)
    _remove_if_empty(staging.parent)


def _remove_if_empty(folder: Path) -> None:
    if folder.name == ".incomplete":
        with contextlib.suppress(OSError):  # not empty: another run is still staging
            folder.rmdir()
