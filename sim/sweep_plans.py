"""A sweep folder's plan (`<sweep>/plan.csv`): reading it, and which sweeps may join it.

A sweep writes its plan before any job starts (`sim.sweeps`): one row per job, with its
folder (`run`), its overrides (`overrides`, as Hydra writes them) and a column per swept
key. Several sweeps into one folder merge their rows, so that a folder can be resumed
(the same command again) or grown (more seeds, more parameter sets, another value of a
key the sweep sweeps), even by two sweeps at once.

A sweep may join a folder only if its runs can stand beside the runs planned there: the
runs of both may differ only in keys that one of the two sweeps sweeps, and in the seed
and parameter set (the replicates `sim.compare` pairs runs by). Any other difference
(another horizon, a policy the folder's sweep does not sweep, a key given by one and not
the other) would make the folder a mix of runs that `sim.compare` cannot compare, and
rewrite the record of the folder's sweep (multirun.yaml, plan.csv): such a sweep is
refused before anything is written. Settings that decide nothing of a run's results are
left out, as `sim.folders.run_key` leaves them out: the output options, and how many
parameter sets a sweep runs (`uncertainty.sets`: set k is the same set whatever K).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from sim import errors, folders
from sim.errors import UserError

# An override of a plan's `overrides` column: text up to a space outside quotes (a
# quoted value may hold spaces: `scenario.name='a b'`).
OVERRIDE = re.compile(r"""(?:[^\s'"]+|'[^']*'|"[^"]*")+""")
# Keys that decide nothing of a run's results: `sim.folders.run_key` leaves them out.
RESULTS_UNCHANGED = ("output", "uncertainty.sets")
# Keys whose runs always stand together: they are the replicates sim.compare pairs runs by,
# so a folder of one seed may take more seeds, as a folder of several does.
REPLICATES = ("seed", "uncertainty.parameter_set")
NOT_GIVEN = "not given"


def read_plan(sweep: Path) -> list[dict[str, str]]:
    """The rows of a sweep folder's plan.csv (none if it has no plan); a UserError naming
    the file if it is not a plan a sweep wrote."""
    path = Path(sweep) / folders.PLAN_FILE
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            columns = reader.fieldnames or []
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        why = "not UTF-8 text" if isinstance(error, UnicodeDecodeError) else errors.one_line(
            error.strerror if isinstance(error, OSError) else error)
        raise _not_a_plan(path, why) from None
    if not {"run", "overrides"} <= set(columns):
        raise _not_a_plan(path, "it has no 'run' and 'overrides' columns")
    return rows


def _not_a_plan(path: Path, why: str) -> UserError:
    return UserError(f"{folders.describe(path)} is not a plan a sweep wrote ({why}); nothing "
                     f"was changed: remove it to have the sweep write a new one, or choose "
                     f"another sweep folder (hydra.sweep.dir=PATH)")


def settings(overrides: str) -> dict[str, str]:
    """One job's overrides, as a plan's `overrides` column holds them, by key (without
    those that decide nothing of its results)."""
    found: dict[str, str] = {}
    for override in OVERRIDE.findall(overrides):
        key, _, value = override.partition("=")
        name = key.lstrip("+~")
        if not any(name == left or name.startswith(left + ".") for left in RESULTS_UNCHANGED):
            found[key] = value
    return found


def swept(jobs: Sequence[dict[str, str]], keys: Iterable[str]) -> set[str]:
    """The keys whose value differs between jobs (a key a job does not give counts as a
    value of its own)."""
    return {key for key in keys if len({job.get(key, "") for job in jobs}) > 1}


def check_same_sweep(sweep: Path, planned: list[dict[str, str]],
                     overrides: Sequence[Sequence[str]]) -> None:
    """Refuse a sweep whose runs (`overrides`, each job's) cannot join those the folder's
    plan holds (`planned`, its rows): they may differ only in keys one of the two sweeps
    sweeps, and in the replicates."""
    if not planned:
        return
    there = [settings(row["overrides"]) for row in planned]
    here = [settings(" ".join(job)) for job in overrides]
    keys = list(dict.fromkeys(key for job in (*here, *there) for key in job))
    allowed = swept(there, keys) | swept(here, keys) | set(REPLICATES)
    differing = [key for key in keys if key in swept([*there, *here], keys) - allowed]
    if not differing:
        return
    shown = "; ".join(f"{key}: {_values(there, key)} in its runs, {_values(here, key)} in "
                      f"this sweep's" for key in differing[:3])
    more = f"; and {len(differing) - 3} more" if len(differing) > 3 else ""
    raise UserError(f"the sweep folder {folders.describe(sweep)} holds another sweep, whose "
                    f"runs differ from this sweep's in keys neither sweeps ({shown}{more}); "
                    f"nothing was changed: choose another folder (hydra.sweep.dir=PATH), or "
                    f"run that sweep's own command again to resume it")


def _values(jobs: Sequence[dict[str, str]], key: str) -> str:
    values = sorted({job.get(key, "") for job in jobs})
    return " or ".join(value if value else NOT_GIVEN for value in values)
