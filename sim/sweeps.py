"""A sweep's plan and its ending: what the sweeper checks before any job starts, and after.

Before any job starts (`plan_sweep`), every job's config is composed and checked as a
single run's would be, and the folders are checked (`sim.folders`): a mistake in any job,
an unsafe sweep folder, or two jobs that would share a folder stop the sweep with one
line, and nothing is written. Then the plan is written, `<sweep>/plan.csv`:

| column | holds |
|---|---|
| `run` | the job's folder, relative to the sweep folder |
| `overrides` | the job's overrides, as Hydra writes them (`policy=status_quo seed=3`) |
| one per swept key | that job's value, as text |

Several sweeps into one folder (a resumed sweep, a sweep with more seeds) merge their rows
(unique by `run`), under a lock, so two at once are safe. `sim.compare` reads the plan to
name the runs a sweep should have and has not.

After the jobs (`finish_sweep`), a sweep in which any job failed ends with one line naming
the failed runs, and a non-zero exit status; each failure is recorded in
`<sweep>/.failed/<run>.txt` by the job itself.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from sim import errors, folders
from sim.config import load
from sim.errors import UserError
from sim.files import write_atomically, write_text


class SweepFailedError(UserError):
    """Some of a sweep's runs failed; the others are complete."""

    status = 1


@dataclass
class Plan:
    """A sweep's jobs: folder names, overrides and swept values, in launch order."""

    sweep: Path
    runs: list[str] = field(default_factory=list)
    overrides: list[list[str]] = field(default_factory=list)

    def swept_keys(self) -> list[str]:
        """Keys whose value differs between jobs, in the order of the overrides."""
        values: dict[str, set[str]] = {}
        for job in self.overrides:
            for override in job:
                key, _, value = override.partition("=")
                values.setdefault(key, set()).add(value)
        return [key for key, seen in values.items() if len(seen) > 1]

    def rows(self) -> list[dict[str, str]]:
        keys = self.swept_keys()
        rows = []
        for run, overrides in zip(self.runs, self.overrides, strict=True):
            given = dict(o.partition("=")[::2] for o in overrides)
            rows.append({"run": run, "overrides": " ".join(overrides),
                         **{key: given.get(key, "") for key in keys}})
        return rows


def plan_sweep(sweep_config: DictConfig, jobs: Sequence[Sequence[str]],
               compose_job: Callable[[list[str]], DictConfig]) -> Plan:
    """Check every job and the folders; return the plan (nothing is written yet)."""
    if sweep_config.hydra.job.chdir:
        raise UserError("hydra.job.chdir=true is not supported: sim writes into the run folder "
                        "without changing directory; leave it false")
    sweep = Path(os.path.abspath(str(sweep_config.hydra.sweep.dir)))
    folders.check_sweep_folder(sweep)
    plan = Plan(sweep)
    seen: dict[str, int] = {}
    for number, job in enumerate(jobs):
        job_config = compose_job(list(job))
        with read_write(job_config), open_dict(job_config):  # as the launcher will set them
            job_config.hydra.job.num = number
            job_config.hydra.job.id = str(number)
        load(job_config)  # the same checks as a single run: ranges, rules across keys
        subdir = str(OmegaConf.select(job_config, "hydra.sweep.subdir"))
        folders.check_subdir(subdir)
        if subdir in seen:
            raise UserError(f"jobs {seen[subdir]} and {number} of the sweep would share the "
                            f"folder '{subdir}' ({' '.join(job)}): give each job its own "
                            f"(the default hydra.sweep.subdir names each by its config)")
        seen[subdir] = number
        plan.runs.append(subdir)
        plan.overrides.append(list(job))
    return plan


def start_sweep(plan: Plan, sweep_config: DictConfig) -> None:
    """Create the sweep folder, remove dead runs' staging, write multirun.yaml and the plan."""
    plan.sweep.mkdir(parents=True, exist_ok=True)
    folders.remove_stale_staging(plan.sweep)
    write_text(plan.sweep / "multirun.yaml", OmegaConf.to_yaml(sweep_config))
    with open(plan.sweep / ".plan.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another sweep into this folder may be merging too
        merged = {row["run"]: row for row in read_plan(plan.sweep)}
        merged.update({row["run"]: row for row in plan.rows()})
        columns = ["run", "overrides"]
        for row in merged.values():
            columns += [key for key in row if key not in columns]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(merged.values())
        write_atomically(plan.sweep / folders.PLAN_FILE,
                         lambda path: path.write_text(buffer.getvalue(), encoding="utf-8"))
    os.environ["SIM_SWEEP_PROCESS"] = str(os.getpid())
    errors.interruption_note = (f"the runs already complete are kept in "
                                f"{folders.describe(plan.sweep)}; run the same command again "
                                f"to resume")


def read_plan(sweep: Path) -> list[dict[str, str]]:
    """The rows of a sweep folder's plan.csv (none if it has no plan)."""
    try:
        with open(Path(sweep) / folders.PLAN_FILE, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        return []


def finish_sweep(plan: Plan, returns: Sequence[Any]) -> None:
    """Say how the sweep went; raise SweepFailedError naming the failed runs, if any."""
    from hydra.core.utils import JobStatus

    failed, skipped = [], 0
    for overrides, job in zip(plan.overrides, returns, strict=True):
        if job.status == JobStatus.FAILED:
            failed.append((" ".join(overrides), errors.one_line(job._return_value)))
        elif isinstance(job._return_value, dict) and job._return_value.get("status") == "skipped":
            skipped += 1
    where = folders.describe(plan.sweep)
    if failed:
        shown = "; ".join(f"{name} ({why})" for name, why in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        raise SweepFailedError(f"{len(failed)} of {len(returns)} runs failed: {shown}{more}. The "
                          f"others are complete in {where}; each failure is recorded in "
                          f"{where}/{folders.FAILED_FOLDER}/; run the same command again to "
                          f"retry the failed runs")
    already = f" ({skipped} already complete)" if skipped else ""
    print(f"sim: sweep of {len(returns)} runs complete{already}; results in {where}",
          file=sys.stderr)
