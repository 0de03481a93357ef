"""Reading run folders into the tables the scorecard measures (`RunTables`).

A run folder holds `config.yaml`, `summary.json` (written last: its presence means the run
is complete), `timeseries.parquet`, `events.parquet`, `schools.parquet` (the yearly panel,
written unless the run had `output.school_panel=false`) and, from newer versions,
`cohorts.parquet`. Anything else given is refused in one line naming the folder and the fix:
a path that does not exist, a file, a folder that is not a complete run (a sweep folder is
named as such: give its runs), a run without the school panel, a file that cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import UserError, one_line
from sim.scorecard.measures import RunTables

REQUIRED = ("config.yaml", "summary.json", "timeseries.parquet", "events.parquet",
            "schools.parquet")
# The columns the scorecard reads; measures that need others (the panel's teacher flows,
# cohorts) are undefined in runs that lack them.
COLUMNS = {
    "timeseries.parquet": ("term", "term_of_year", "n_schools"),
    "events.parquet": ("term", "kind", "urn", "old_trust_id", "old_grade", "new_grade",
                       "wait_terms", "detail"),
    "schools.parquet": ("year", "urn", "governance", "fsm_share"),
}
WHAT_A_RUN_HOLDS = "a run folder holds " + ", ".join(REQUIRED)


def check_run_folder(folder: Path) -> None:
    """Refuse, in one line, a path that is not a complete run folder with its panel."""
    if not folder.exists():
        raise UserError(f"--runs: {folder} does not exist: give run folders ({WHAT_A_RUN_HOLDS})")
    if not folder.is_dir():
        raise UserError(f"--runs: {folder} is a file, not a run folder ({WHAT_A_RUN_HOLDS})")
    if not (folder / "summary.json").is_file():
        runs = sorted(entry.name for entry in folder.iterdir()
                      if not entry.name.startswith(".") and (entry / "summary.json").is_file())
        hint = (f"; it holds run folders ({runs[0]}{', ...' if len(runs) > 1 else ''}): give "
                f"them, e.g. {folder}/*/" if runs else "")
        raise UserError(f"--runs: {folder} is not a complete run folder (it has no "
                        f"summary.json){hint}; {WHAT_A_RUN_HOLDS}")
    if not (folder / "schools.parquet").is_file():
        raise UserError(f"--runs: {folder} has no schools.parquet (the run was made with "
                        f"output.school_panel=false): run it again with the school panel")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise UserError(f"--runs: {folder} has no {missing[0]}: {WHAT_A_RUN_HOLDS}")


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        seed, scale = int(config["seed"]), float(config["scenario"]["scale"])
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError,
            ValueError) as error:
        raise UserError(f"--runs: cannot read the seed and scale of {path}: "
                        f"{one_line(error) or type(error).__name__}; is it a run's config?") from None
    if not 0 < scale <= 1:
        raise UserError(f"--runs: {path} has scenario.scale={scale}, which no run has: is it a "
                        f"run's config?")
    return {"seed": seed, "scale": scale,
            "scenario": str(config["scenario"].get("name", "")),
            "policy": str((config.get("policy") or {}).get("name", ""))}


def read_table(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several kinds for a damaged file
        raise UserError(f"--runs: cannot read {path}: {one_line(error) or type(error).__name__}; "
                        f"is the run complete and undamaged?") from None
    missing = [column for column in COLUMNS.get(path.name, ()) if column not in table]
    if missing:
        raise UserError(f"--runs: {path} has no column {missing[0]!r}: is it a run's "
                        f"{path.name}, from this version of sim?")
    return table


def read_run(folder: Path) -> RunTables:
    """One run folder's tables, checked first."""
    folder = Path(folder)
    check_run_folder(folder)
    config = read_config(folder)
    cohorts = folder / "cohorts.parquet"
    return RunTables(
        seed=config["seed"], scale=config["scale"],
        timeseries=read_table(folder / "timeseries.parquet"),
        schools=read_table(folder / "schools.parquet"),
        events=read_table(folder / "events.parquet"),
        cohorts=read_table(cohorts) if cohorts.is_file() else None,
        scenario=config["scenario"], policy=config["policy"])


def distinct_folders(paths: list[Path]) -> list[Path]:
    """The paths in order, each folder once (a run given twice is read once)."""
    seen: set[Path] = set()
    kept = []
    for path in paths:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            kept.append(path)
    return kept
