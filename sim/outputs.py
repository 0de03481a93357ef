"""Writing a run's results: tidy files, each written atomically into the run's staging folder.

`sim.run` stages a run in a hidden sibling of its run folder and renames it into place when
complete (the folder rules are in `sim.folders`); each file here is also written to a
temporary name and renamed (`sim.files`), so no reader ever sees half a file.

Files of a run folder:
- `config.yaml`: the resolved config of the run (Hydra's own settings left out);
- `parameter_set.json`: with `+uncertainty=plausible` only, which plausible parameter set
  the run took (index, table, row, trial) and each free parameter's prior and plausible
  range (`sim.parameter_sets.provenance`);
- `timeseries.parquet`: model-level measures, one row per term;
- `schools.parquet`: the yearly panel, one row per school per year (if enabled);
- `events.parquet`: one row per event (see `sim.events`);
- `cohorts.parquet`: the run's cohorts of early-career entrants, one row per cohort per
  year (see `sim.metrics.cohort_frame`);
- `summary.json`: the headline scalars (strict JSON: null where a value is undefined);
- `summary.png`: the summary figure (see `sim.plots`);
- `run.log`: the log, the one file that differs between identical runs (it has times).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim.files import write_atomically, write_json, write_text

if TYPE_CHECKING:
    from sim.model import SimulationResult

# Written only by a run of a plausible parameter set (+uncertainty=plausible).
PARAMETER_SET_FILE = "parameter_set.json"
OUTPUT_FILES = ("config.yaml", "timeseries.parquet", "schools.parquet", "events.parquet",
                "cohorts.parquet", "summary.json", "summary.png")


def write_run(directory: Path, config: dict[str, Any], result: SimulationResult,
              parameter_set: dict[str, Any] | None = None) -> None:
    """Write every result file of a run into `directory` (summary.json last), and, for a
    run of a plausible parameter set, `parameter_set.json` (`sim.parameter_sets`)."""
    directory.mkdir(parents=True, exist_ok=True)
    write_text(directory / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    if parameter_set is not None:
        write_json(directory / PARAMETER_SET_FILE, parameter_set)
    write_atomically(directory / "timeseries.parquet",
                     lambda path: result.timeseries.to_parquet(path, index=False))
    if result.schools is not None:
        write_atomically(directory / "schools.parquet",
                         lambda path: result.schools.to_parquet(path, index=False))
    write_atomically(directory / "events.parquet",
                     lambda path: result.events.to_parquet(path, index=False))
    write_atomically(directory / "cohorts.parquet",
                     lambda path: result.cohorts.to_parquet(path, index=False))
    write_json(directory / "summary.json", result.summary)
