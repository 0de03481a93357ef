"""What identifies a run in every table it writes: its key, scenario, place, policy, seed
and swept values, as NetLogo's BehaviorSpace puts them on every row.

- **Place**: the real place a GIAS run was built from (its `population.areas`, as the user
  named them, or every school of the extract), or else the scenario's name: a synthetic
  place is its scenario. `place_folder` is the same as a folder name (`gias-blackpool`),
  which a single run's default folder uses (`runs/<place folder>/<policy>/...`), so that a
  GIAS run of Blackpool is not filed as the scenario it borrowed its settings from.
- **Swept values**: in a sweep's job, the values of the parameters the sweep varied, read
  from the job's own row of the sweep's `plan.csv` (written before any job starts), not
  counting the seed, policy and scenario (columns of their own); a single run has none. They come
  from the plan rather than from the job's overrides because an override may be fixed for
  the whole sweep (`scenario.horizon_years=2` given once) and is then not swept.

Only the standard library here: a run's default folder is named (by a resolver of
configs/config.yaml) before the model and pandas are loaded.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from typing import Any

from sim.folders import PLAN_FILE, run_key

GIAS = "gias"
# Sweep parameters with columns of their own, and what plan.csv holds besides values.
NOT_SWEPT_VALUES = ("run", "overrides", "seed", "policy", "scenario")
LONGEST_PLACE_FOLDER = 80  # characters; a longer list of areas ends in a hash of the whole


def place_name(population: str, areas: list[str], scenario: str, path: str | None) -> str:
    """The run's place as a person names it: a GIAS run's areas ('Blackpool'; 'every school
    in FILE' when none is named), else the scenario's name."""
    if population != GIAS:
        return scenario
    if areas:
        return ", ".join(areas)
    return f"every school in {Path(path).name}" if path else "every school in the extract"


def place_folder(population: str, areas: list[str], scenario: str) -> str:
    """The place as a folder name: `gias-<areas>` ('gias-blackpool',
    'gias-fenland-and-east-cambridgeshire'; 'gias-all' for every school of the extract),
    else the scenario's (already checked) name. Only letters, digits and `-`, so no area's
    name can reach outside the folder."""
    if population != GIAS:
        return scenario
    words = "-".join(re.sub(r"[^a-z0-9]+", "-", area.casefold()).strip("-") for area in areas)
    words = re.sub(r"-+", "-", words).strip("-")
    if not areas:
        words = "all"
    elif not words:  # areas named only by other characters ('..'): not every area's folder
        words = "areas-" + hashlib.sha256("\x1f".join(areas).encode()).hexdigest()[:8]
    if len(words) > LONGEST_PLACE_FOLDER:
        digest = hashlib.sha256(words.encode()).hexdigest()[:8]
        words = f"{words[:LONGEST_PLACE_FOLDER - 9].rstrip('-')}-{digest}"
    return f"{GIAS}-{words}"


def place_of(config: dict[str, Any]) -> str:
    """`place_name` of a run's resolved config (as `sim.config.to_dict` gives it)."""
    population = config.get("population") or {}
    return place_name(str(population.get("name", "")), list(population.get("areas") or []),
                      str(config["scenario"]["name"]), population.get("path"))


def swept_values(run_folder: Path, config: dict[str, Any]) -> dict[str, Any]:
    """A sweep job's swept parameters and their values, in the plan's order: the job's row
    of the nearest `plan.csv` above its folder (none for a single run, or a job without a
    row). Each value is the resolved config's where the key is a parameter (so 3 is a
    number, as in config.yaml), else the plan's text (a config group's option)."""
    folder = Path(run_folder)
    for sweep in folder.parents:
        plan = sweep / PLAN_FILE
        if not plan.is_file():
            continue
        name = folder.relative_to(sweep).as_posix()
        with open(plan, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("run") == name:
                    return {key.lstrip("+~"): setting(config, key.lstrip("+~"), text)
                            for key, text in row.items()
                            if key not in NOT_SWEPT_VALUES and text not in ("", None)}
        return {}
    return {}


def setting(config: dict[str, Any], key: str, text: str) -> Any:
    """The value at a dotted key of the config if it is a single value, else `text`."""
    value: Any = config
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return text
        value = value[part]
    return text if isinstance(value, dict | list) else value


def identifiers(config: dict[str, Any], swept: dict[str, Any]) -> dict[str, Any]:
    """The columns every table of the run starts with, in order: run_key, scenario, place,
    policy, seed, then each swept parameter (by its dotted key)."""
    return {"run_key": run_key(config), "scenario": str(config["scenario"]["name"]),
            "place": place_of(config), "policy": str(config["policy"]["name"]),
            "seed": int(config["seed"]), **swept}
