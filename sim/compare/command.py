"""`python -m sim.compare`: read, check and compare everything first, then write it all.

The order matters for what a user sees when something is wrong: paths and the output
folder are checked, every run is read (bad runs skipped and named), the comparison and
every figure are computed in memory, and only then are the files written, into a hidden
folder inside the output folder, each with `sim.files.write_atomically`, and moved into
place together. A comparison that stops with an error, at any point, leaves the output
folder as it was.
"""

from __future__ import annotations

import argparse
import errno
import io
import os
import shutil
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from sim.compare import figures
from sim.compare.missing import Missing, Plan, missing_in_sweep, read_plan
from sim.compare.pairing import Comparison, compare, unpaired_runs
from sim.compare.reading import Runs, as_number, find_runs, read_runs
from sim.errors import PREFIX, UserError, one_line
from sim.files import write_atomically

FIGURES = ("comparison", "differences", "outcomes", "cost_effectiveness", "heat_map")
TABLES = ("runs.parquet", "runs.csv", "differences.csv", "missing.csv")
# Every file a comparison may write; one left from an earlier comparison into the same
# folder that this one does not write (a heat map of another sweep) is removed.
OUTPUT_FILES = (*TABLES, *(f"{name}.{suffix}" for name in FIGURES for suffix in ("png", "svg")))
MISSING_COLUMNS = ["missing_run", "reason", "folder"]


def say(kind: str, message: str) -> None:
    """A warning or note on standard error, on one line."""
    print(f"{PREFIX}: {kind}: {one_line(message)}", file=sys.stderr)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, through sim.errors, not usage text
        raise UserError(f"{message} (see python -m sim.compare --help)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    from sim.compare import __doc__ as description

    parser = Parser(prog="python -m sim.compare", description=(description or "").split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run or sweep folders")
    parser.add_argument("--group", default="policy",
                        help="setting to group runs by: policy (default), scenario, "
                             "horizon_years or a parameter")
    parser.add_argument("--baseline", help="group value to compare against (default: "
                                           "status_quo for policy, else the first value)")
    parser.add_argument("--output", type=Path, help="folder for the tables and figures "
                                                    "(default: the sweep folder given)")
    return parser.parse_args(argv)


def default_output(paths: list[Path]) -> Path:
    """The single sweep folder given, or a new folder under results/comparisons/."""
    if len(paths) == 1 and not (paths[0] / "summary.json").exists():
        return paths[0]
    base = Path("results") / "comparisons" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    output, number = base, 1
    while output.exists():
        number += 1
        output = base.with_name(f"{base.name}_{number}")
    return output


def nearest_existing(path: Path) -> Path:
    return next(folder for folder in (path, *path.parents) if folder.exists())


def check_output(output: Path) -> None:
    """Raise a one-line UserError for an output folder that cannot or must not be used."""
    resolved = output.resolve()
    if resolved.exists() and not resolved.is_dir():
        raise UserError(f"--output {output} is a file, not a folder")
    for folder in (resolved, *resolved.parents):
        if (folder / "summary.json").is_file():
            raise UserError(f"cannot write into {output}: it is inside the run folder {folder}, "
                            f"which holds one run's results; choose another folder with --output")
    existing = nearest_existing(resolved)
    if not existing.is_dir():
        raise UserError(f"cannot write into {output}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into {output}: {existing} is read-only; choose another "
                        f"folder with --output")


def write_all(output: Path, files: dict[str, bytes]) -> None:
    """Write every file, or none: into a hidden folder first, then moved into place."""
    existing = nearest_existing(output.resolve())
    staging = output / f".compare-{socket.gethostname()}-{os.getpid()}.partial"
    try:
        output.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        for name, data in files.items():
            write_atomically(staging / name, lambda path, data=data: path.write_bytes(data))
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in (output.resolve(), *output.resolve().parents):  # the folders made here
            if folder == existing:
                break
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise UserError(f"cannot write into {output}: {error.strerror}; choose another "
                            f"folder with --output") from error
        raise
    for name in files:
        os.replace(staging / name, output / name)
    for name in set(OUTPUT_FILES) - set(files):
        (output / name).unlink(missing_ok=True)
    staging.rmdir()


def table_bytes(table: pd.DataFrame, kind: str) -> bytes:
    """The table as Parquet or CSV; a number that is not finite is written as undefined
    (null in Parquet, empty in CSV), never as inf or NaN."""
    floating = table.select_dtypes("floating").columns
    if len(floating):
        table = table.assign(**{column: table[column].where(np.isfinite(table[column]))
                                for column in floating})
    buffer = io.BytesIO()
    if kind == "parquet":
        table.to_parquet(buffer, index=False)
        return buffer.getvalue()
    return table.to_csv(index=False).encode("utf-8")


def not_compared(runs: Runs, plans: list[Plan], sweeps: list[Path]) -> list[Missing]:
    """Runs that could not be read, and runs of the sweeps that are not complete; each is
    printed as a warning."""
    labels = planned_labels(plans)
    missing = []
    for folder, problem in runs.skipped:
        say("warning", f"skipped {folder}: {problem}")
        missing.append(Missing(labels.get(folder.resolve(), str(folder)),
                               f"unreadable: {problem}", str(folder)))
    by_sweep = {plan.sweep: plan for plan in plans}
    for sweep in sweeps:
        for entry in missing_in_sweep(sweep, by_sweep.get(sweep)):
            say("warning", f"missing: {entry.name} ({entry.reason})")
            missing.append(entry)
    return missing


def planned_labels(plans: list[Plan]) -> dict[Path, str]:
    """Each planned run folder, resolved, with its swept values as key=value text."""
    return {(plan.sweep / run).resolve(): label for plan in plans
            for run, label in plan.labels.items()}


def main(argv: list[str] | None = None) -> int:
    """Compare runs; returns 0, or raises UserError (one line) for unusable input."""
    args = parse(argv)
    found = find_runs(args.paths)
    output = args.output or default_output(args.paths)
    check_output(output)
    for note in found.notes:
        say("note", note)
    warnings: list[str] = list(found.warnings)
    plans = [plan for plan in (read_plan(sweep, warnings) for sweep in found.sweeps) if plan]
    runs = read_runs(found.runs)
    for warning in warnings:
        say("warning", warning)
    missing = not_compared(runs, plans, found.sweeps)
    if runs.table.empty:
        what = (f"the {len(runs.skipped)} run folder(s) found cannot be read" if runs.skipped
                else "no run is complete")
        raise UserError(f"no usable run to compare: {what} (see the warnings above)")
    if runs.bare_non_finite:
        first, more = runs.bare_non_finite[0], len(runs.bare_non_finite) - 1
        say("note", f"{more + 1} run(s) have a bare NaN or Infinity in summary.json ({first}"
                    f"{f' and {more} more' if more else ''}), which is not JSON (older versions "
                    f"of sim wrote it): read as null, an undefined value")
    comparison = compare(runs.table, runs.settings, args.group, args.baseline)
    for note in comparison.notes:
        say("note", note)
    for warning in comparison.warnings:
        say("warning", warning)
    compared = {Path(run).resolve() for run in comparison.table["run"]}
    if not compared <= set(planned_labels(plans)):  # without a plan, pairing names the absent
        for entry in unpaired_runs(comparison):
            say("warning", f"missing: {entry.name} ({entry.reason})")
            missing.append(entry)
    missing += comparison.missing
    files = outputs(comparison, runs, missing)
    write_all(output, files)
    report(comparison, missing, output)
    return 0


def outputs(comparison: Comparison, runs: Runs, missing: list[Missing]) -> dict[str, bytes]:
    """Every file of the comparison, as bytes."""
    group, table = comparison.group, comparison.table
    missing_table = pd.DataFrame([(m.name, m.reason, m.folder) for m in missing],
                                 columns=MISSING_COLUMNS)
    files = {"runs.parquet": table_bytes(table, "parquet"), "runs.csv": table_bytes(table, "csv"),
             "differences.csv": table_bytes(comparison.differences, "csv"),
             "missing.csv": table_bytes(missing_table, "csv")}
    figure_notes: list[str] = []
    with figures.quietly():
        drawn = {"comparison": figures.plot_series(comparison, runs.series, figure_notes),
                 "outcomes": figures.plot_outcomes(comparison)}
        if len(comparison.order) < 2:  # one group only, e.g. a sweep over seeds
            figure_notes.append(f"every run has {group}={comparison.order[0]}: the figures "
                                f"show the runs, with no differences to draw")
        else:
            drawn["differences"] = figures.plot_differences(comparison)
            drawn["cost_effectiveness"] = figures.plot_cost_effectiveness(comparison)
        swept = ([group] if "." in group else []) + [k for k in comparison.keys if k != "seed"]
        numeric = [p for p in swept
                   if all(as_number(v) is not None for v in comparison.settings[p])]
        if len(numeric) == 2:
            drawn["heat_map"] = figures.plot_heat_map(comparison, numeric)
    for note in figure_notes:
        say("note", note)
    for name, formats in drawn.items():
        for suffix, data in formats.items():
            files[f"{name}.{suffix}"] = data
    return files


def report(comparison: Comparison, missing: list[Missing], output: Path) -> None:
    """The command's own output: the mean differences, and where the files are."""
    differences = comparison.differences
    if not differences.empty:
        shown = differences.assign(mean=differences["mean_difference"].round(4),
                                   sd=differences["sd_across_seeds"].round(4))
        print(shown[[comparison.group, "measure", "pairs", "mean", "sd"]].to_string(index=False))
    compared, absent = len(comparison.table), len(missing)
    print(f"\n{compared} run{'s' * (compared != 1)} compared; table and figures in {output}")
    if absent:
        print(f"{absent} run{'s' * (absent != 1)} not compared or without a partner: see "
              f"{output / 'missing.csv'}")
