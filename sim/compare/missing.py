"""Runs that are not compared, each named by the run it would have been.

A sweep folder may hold a `plan.csv`, written by the sweeper: one row per planned job, with
`run` (the job's folder name in the sweep), `overrides` (as Hydra writes them) and one
column per swept key holding the job's value. A planned run is complete when
`<sweep>/<run>/summary.json` exists; otherwise it is named by its swept values
(`policy=mat_contracting seed=3`) with why it is not there: `failed: <error line>` when the
sweep recorded the failure in `<sweep>/.failed/<run>.txt` (first line `overrides: ...`,
then `error: ...`), `killed or still running` when a hidden staging folder
`<sweep>/.<run>.<host>-<pid>.staging` is left, `damaged: its folder has files but no
summary.json` when it has (a run is placed whole, so its files without the summary were
changed since), and `not run or killed` otherwise. A
failure record whose run is now complete was retried, and is ignored. While the sweep is
still running (its process holds the lock `sim.folders.sweep_running` tests), a run being
written is `running` and one still to come `not yet run (the sweep is still running)`.

A sweep without a plan (from an older sweeper) names its failures by their overrides and
its staging folders by their names; runs that were never started cannot be known, so the
comparison also reports runs without a partner (see `sim.compare.pairing.unpaired_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import one_line


@dataclass(frozen=True)
class Missing:
    """A run that is not in the comparison: what it is, why, and where it is or would be."""

    name: str
    reason: str
    folder: str = ""


@dataclass
class Plan:
    sweep: Path
    labels: dict[str, str]  # run folder name -> its swept values, as key=value text


def read_plan(sweep: Path, warnings: list[str]) -> Plan | None:
    """The sweep's plan, or None when it has none or it cannot be read (said in warnings)."""
    path = sweep / "plan.csv"
    if not path.is_file():
        return None
    try:
        plan = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as error:  # pandas' parse errors are ValueErrors
        warnings.append(f"{path} cannot be read ({one_line(error)[:100]}); runs missing from "
                        f"that sweep are found by pairing instead")
        return None
    if not {"run", "overrides"} <= set(plan.columns):
        warnings.append(f"{path} has no 'run' and 'overrides' columns; runs missing from that "
                        f"sweep are found by pairing instead")
        return None
    plan = plan[plan["run"].str.strip() != ""].drop_duplicates("run", keep="last")
    swept = [c for c in plan.columns if c not in ("run", "overrides")]
    labels = {}
    for row in plan.to_dict("records"):
        values = " ".join(f"{key}={row[key]}" for key in swept if str(row[key]).strip())
        labels[row["run"]] = values or row["overrides"] or row["run"]
    return Plan(sweep, labels)


def read_failure(record: Path) -> tuple[str, str]:
    """(overrides, error line) of a `.failed/<run>.txt` record."""
    try:
        lines = record.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as error:
        return "", f"(its record {record} cannot be read: {error.strerror})"
    overrides = next((line.removeprefix("overrides:").strip() for line in lines
                      if line.startswith("overrides:")), "")
    message = next((line.removeprefix("error:").strip() for line in lines
                    if line.startswith("error:")), "")
    return overrides, one_line(message)[:200] or f"(no error line in {record})"


def staging_runs(sweep: Path) -> set[str]:
    """Names of runs with a staging folder left in the sweep: `.<run>.<host>-<pid>.staging`."""
    return {item.name[1:].split(".")[0] for item in sweep.iterdir()
            if item.name.startswith(".") and item.name.endswith(".staging") and item.is_dir()}


def complete(folder: Path) -> bool:
    return (folder / "summary.json").is_file()


def missing_in_sweep(sweep: Path, plan: Plan | None, running: bool = False) -> list[Missing]:
    """The runs of one sweep that are not complete: planned, failed or left staging;
    `running` when the sweep is still running."""
    failed_folder = sweep / ".failed"
    failures = {record.stem: read_failure(record)
                for record in sorted(failed_folder.glob("*.txt"))} if failed_folder.is_dir() else {}
    staging = staging_runs(sweep)
    missing = []
    if plan is not None:
        for run, label in plan.labels.items():
            if complete(sweep / run):
                continue
            if run in failures:
                reason = f"failed: {failures[run][1]}"
            elif run in staging:
                reason = "running" if running else "killed or still running"
            elif any((sweep / run).glob("*.parquet")):
                reason = "damaged: its folder has files but no summary.json"
            else:
                reason = "not yet run (the sweep is still running)" if running \
                    else "not run or killed"
            missing.append(Missing(label, reason, str(sweep / run)))
    planned = set(plan.labels) if plan is not None else set()
    for run, (overrides, message) in failures.items():
        if run not in planned and not complete(sweep / run):
            missing.append(Missing(overrides or run, f"failed: {message}", str(sweep / run)))
    for run in sorted(staging - planned - set(failures)):
        if not complete(sweep / run):
            missing.append(Missing(run, "killed or still running", str(sweep / run)))
    legacy = sweep / ".incomplete"  # staging folders of the sweeper before plan.csv
    if legacy.is_dir():
        for item in sorted(legacy.iterdir()):
            if item.is_dir():
                missing.append(Missing(str(item), "killed or still running", str(item)))
    return missing
