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
- `areas.parquet`: measures by local authority (and, for a GIAS run, by region), one row
  per area per year (with the panel, for a place of more than one authority; `sim.areas`);
- `events.parquet`: one row per event (see `sim.events`);
- `cohorts.parquet`: the run's cohorts of early-career entrants, one row per cohort per
  year (see `sim.metrics.cohort_frame`);
- `summary.json`: the headline scalars (strict JSON: null where a value is undefined),
  with the run's key and place;
- `summary.png`: the summary figure (see `sim.plots`);
- `run.log`: the log, the one file that differs between identical runs (it has times).

Every table's rows start with the run's identifiers (`sim.places.identifiers`: run_key,
scenario, place, policy, seed and, in a sweep, each swept parameter), added here rather
than in the model, so that tables of many runs can be stacked and still say which run each
row is from. Text identifiers are pandas categories, which Parquet stores dictionary-encoded:
one copy of the text per file, not one per row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim.areas import area_frame, compass_regions
from sim.files import write_atomically, write_json, write_text
from sim.places import identifiers

if TYPE_CHECKING:
    import pandas as pd

    from sim.model import SimulationResult

# Written only by a run of a plausible parameter set (+uncertainty=plausible).
PARAMETER_SET_FILE = "parameter_set.json"
OUTPUT_FILES = ("config.yaml", "timeseries.parquet", "schools.parquet", "events.parquet",
                "cohorts.parquet", "summary.json", "summary.png")
# Written only for a place of more than one local authority, with the school panel.
AREAS_FILE = "areas.parquet"


def with_identifiers(frame: pd.DataFrame, identity: dict[str, Any]) -> pd.DataFrame:
    """`frame` with the run's identifiers as its first columns, the same on every row: text
    as a one-category pandas category (null for a null setting), numbers and flags as
    themselves."""
    import numpy as np
    import pandas as pd

    clash = sorted(set(identity) & set(frame.columns))
    if clash:
        raise ValueError(f"a table already has the identifier column(s) {clash}")
    rows = len(frame)
    columns: dict[str, Any] = {}
    for name, value in identity.items():
        if value is None:
            columns[name] = pd.Categorical([None] * rows, categories=[])
        elif isinstance(value, str):
            columns[name] = pd.Categorical.from_codes(np.zeros(rows, np.int8), categories=[value])
        else:
            columns[name] = np.full(rows, value)
    return pd.concat([pd.DataFrame(columns, index=frame.index), frame], axis=1)


def write_table(path: Path, frame: pd.DataFrame, identity: dict[str, Any]) -> None:
    """Write one table, its identifiers first, as Parquet (atomically)."""
    table = with_identifiers(frame, identity)
    write_atomically(path, lambda temporary: table.to_parquet(temporary, index=False))


def write_run(directory: Path, config: dict[str, Any], result: SimulationResult,
              parameter_set: dict[str, Any] | None = None,
              swept: dict[str, Any] | None = None) -> None:
    """Write every result file of a run into `directory` (summary.json last), and, for a
    run of a plausible parameter set, `parameter_set.json` (`sim.parameter_sets`). `swept`
    holds a sweep job's swept parameters and their values (`sim.places.swept_values`)."""
    identity = identifiers(config, swept or {})
    directory.mkdir(parents=True, exist_ok=True)
    write_text(directory / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    if parameter_set is not None:
        write_json(directory / PARAMETER_SET_FILE, parameter_set)
    write_table(directory / "timeseries.parquet", result.timeseries, identity)
    if result.schools is not None:
        write_table(directory / "schools.parquet", result.schools, identity)
        # A GIAS run's loading report names each authority's region (sim.population).
        report = result.summary.get("population")
        regions = report.get("regions") if isinstance(report, dict) else None
        if not isinstance(regions, dict) or not regions:
            regions = compass_regions(result.schools)  # a synthetic place's (sim.areas)
        areas = area_frame(result.schools, regions or None)
        if areas is not None:
            write_table(directory / AREAS_FILE, areas, identity)
    write_table(directory / "events.parquet", result.events, identity)
    write_table(directory / "cohorts.parquet", result.cohorts, identity)
    summary = {"run_key": identity["run_key"], "scenario": identity["scenario"],
               "place": identity["place"], **result.summary}
    write_json(directory / "summary.json", summary)
