"""`python -m sim.compare`: read, check and compare everything first, then write it all.

The order matters for what a user sees when something is wrong: paths and the output
folder are checked, every run is read (bad runs skipped and named), the comparison and
every figure are computed in memory, the files it would replace are checked, and only then
are the files written, into a hidden folder inside the output folder
(`.compare-<host>-<pid>.partial`), each with `sim.files.write_atomically`, and moved into
place together. A comparison that stops with an error, Ctrl-C or SIGTERM at any point
before the move leaves the output folder as it was (the hidden folder is removed, and so
are folders it created); the move itself, a few renames, holds SIGINT and SIGTERM until it
is done, so the files are all the new ones or all the old ones. One killed outright
(SIGKILL) leaves its hidden folder, which the next comparison into that folder removes.

Whose files it may touch (the rule that keeps a user's files safe, like the run folders'
in `sim.folders`):
- The output folder must be new, empty, a folder given as a path to compare (a sweep
  folder: the default output), or one an earlier comparison wrote, which holds its
  manifest `comparison.json`. Any other folder that holds files is refused in one line.
- The manifest lists the files the comparison wrote (besides itself), the paths compared
  and the options. A comparison replaces or removes only files an earlier manifest in the
  folder lists (and only names a comparison writes: a manifest naming anything else is not
  obeyed); if a file it would write is there and not listed (a user's `runs.csv`, or
  `heat_map.png` next to a sweep), it refuses in one line naming the file, and writes
  nothing. A file of an earlier comparison that this one does not write (a heat map of
  another sweep) is removed, so the folder never mixes two comparisons.
- While the files are moved into place, the manifest lists the files of both comparisons
  and says `"complete": false`, so that even a comparison killed in that instant leaves a
  folder the next one can replace.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

import sim.errors
from sim import __version__
from sim.compare import figures
from sim.compare.missing import Missing, Plan, missing_in_sweep, read_plan
from sim.compare.pairing import Comparison, compare, unpaired_runs
from sim.compare.reading import Runs, as_number, find_runs, read_runs
from sim.errors import PREFIX, UserError, one_line
from sim.files import write_atomically

FIGURES = ("comparison", "differences", "outcomes", "cost_effectiveness", "heat_map")
TABLES = ("runs.parquet", "runs.csv", "differences.csv", "missing.csv")
# Every file a comparison may write, besides its manifest; only these names are ever
# replaced or removed, and only when an earlier comparison's manifest lists them.
OUTPUT_FILES = (*TABLES, *(f"{name}.{suffix}" for name in FIGURES for suffix in ("png", "svg")))
# The files every comparison writes (besides the manifest), checked before anything is read.
ALWAYS_WRITTEN = (*TABLES, *(f"{name}.{suffix}" for name in ("comparison", "outcomes")
                             for suffix in ("png", "svg")))
MANIFEST = "comparison.json"
WRITER = "sim.compare"  # the manifest's "written_by"
STAGING = re.compile(r"^\.compare-(?P<host>.+)-(?P<pid>\d+)\.partial$")
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
    parser.add_argument("paths", nargs="+", help="run or sweep folders")
    parser.add_argument("--group", default="policy",
                        help="setting to group runs by: policy (default), scenario, "
                             "horizon_years or a parameter")
    parser.add_argument("--baseline", help="group value to compare against (default: "
                                           "status_quo for policy, else the first value)")
    parser.add_argument("--output", help="folder for the tables and figures: new, empty, or "
                                         "one an earlier comparison wrote (default: the sweep "
                                         "folder given)")
    args = parser.parse_args(argv)
    for text in args.paths:
        if not text.strip():
            raise UserError(f"the path {text!r} names no folder (an unset shell variable?): "
                            f"give run folders or sweep folders")
    if args.output is not None and not args.output.strip():
        raise UserError(f"--output {args.output!r} names no folder: give a new folder for the "
                        f"comparison, or leave --output out to write into the sweep folder given")
    args.paths = [Path(text) for text in args.paths]
    args.output = Path(args.output) if args.output is not None else None
    return args


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


def check_output(output: Path, paths: list[Path]) -> None:
    """Raise a one-line UserError for an output folder that cannot or must not be used: a
    file, inside a run folder, read-only, or holding files when it is neither a path given
    nor a folder an earlier comparison wrote."""
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
    given = {path.resolve() for path in paths}
    if holds_files(resolved) and resolved not in given and read_manifest(resolved) is None:
        same = [name for name in (MANIFEST, *OUTPUT_FILES) if os.path.lexists(resolved / name)]
        named = (f", among them {', '.join(same)}, which a comparison would overwrite"
                 if same else "")
        manifest = (f"its {MANIFEST} is not one sim.compare wrote"
                    if os.path.lexists(resolved / MANIFEST) else f"it has no {MANIFEST}")
        raise UserError(f"the output folder {output} already holds files that are not a "
                        f"comparison's ({manifest}){named}; nothing was changed: "
                        f"name a new or empty folder with --output, or one an earlier "
                        f"comparison wrote")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into {output}: {existing} is read-only; choose another "
                        f"folder with --output")


def holds_files(folder: Path) -> bool:
    """Whether the folder holds anything besides the hidden folders of comparisons."""
    try:
        return any(not STAGING.match(entry.name) for entry in folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


def read_manifest(output: Path) -> set[str] | None:
    """The files an earlier comparison wrote into `output`, as its manifest lists them (only
    names a comparison writes); None when there is no manifest or it is not a comparison's."""
    try:
        manifest = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):  # absent, a folder, not JSON
        return None
    if not isinstance(manifest, dict) or manifest.get("written_by") != WRITER \
            or not isinstance(manifest.get("files"), list):
        return None
    return {name for name in manifest["files"] if name in OUTPUT_FILES}


def check_overwrites(output: Path, names: Iterable[str]) -> set[str]:
    """The files of an earlier comparison in `output`, which this one may replace or remove;
    raises a one-line UserError naming a file it would write that is there and is not one."""
    earlier = read_manifest(output)
    for name in (MANIFEST, *names):
        path = output / name
        if not os.path.lexists(path):
            continue
        ours = earlier is not None and (name == MANIFEST or name in earlier)
        if not ours or path.is_symlink() or not path.is_file():
            if name == MANIFEST:
                why = "is not a manifest sim.compare wrote"
            elif earlier is None:
                why = f"is not from a comparison (there is no {MANIFEST})"
            else:
                why = f"is not one {MANIFEST} lists as written by an earlier comparison"
            raise UserError(f"cannot write the comparison into {output}: {path} is there and "
                            f"{why}; nothing was changed: move it away, or choose another "
                            f"folder with --output")
    return earlier or set()


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, and then act as they would have.

    Their handlers are swapped for one that notes the signal, rather than the signals
    blocked: a process-wide signal may reach any thread (pyarrow's, BLAS's), whose handler
    would still interrupt the main one.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread has signal handlers to swap (and receives signals)
        return
    received: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda number, frame: received.append(number))
                for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: not set from Python, and cannot be restored
                signal.signal(number, handler)
        for number in received[:1]:
            signal.raise_signal(number)  # to the handler now in place


def process_gone(host: str, pid: int) -> bool:
    """Whether a process of this host with this id no longer exists."""
    if host != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # someone else's process: it exists
        return False
    return False


def remove_stale_staging(output: Path) -> None:
    """Remove hidden folders of comparisons into `output` killed outright (SIGKILL)."""
    with contextlib.suppress(OSError):
        for entry in output.iterdir():
            match = STAGING.match(entry.name)
            if match and entry.is_dir() and process_gone(match["host"], int(match["pid"])):
                shutil.rmtree(entry, ignore_errors=True)


def manifest_bytes(files: Iterable[str], details: dict[str, Any], complete: bool) -> bytes:
    manifest = {"written_by": WRITER, "version": __version__, "complete": complete,
                "files": sorted(files), **details}
    return (json.dumps(manifest, indent=2) + "\n").encode("utf-8")


def write_all(output: Path, files: dict[str, bytes], earlier: set[str],
              details: dict[str, Any]) -> None:
    """Write every file and the manifest, or none: into a hidden folder first, then moved
    into place; files of the earlier comparison this one does not write are removed."""
    existing = nearest_existing(output.resolve())
    staging = output / f".compare-{socket.gethostname()}-{os.getpid()}.partial"
    committed = False
    try:
        output.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(output)
        staging.mkdir()
        contents = {**files, MANIFEST: manifest_bytes(files, details, complete=True)}
        for name, data in contents.items():
            write_atomically(staging / name, lambda path, data=data: path.write_bytes(data))
        interim = manifest_bytes(earlier | set(files), details, complete=False)
        with signals_held():
            write_atomically(output / MANIFEST, lambda path: path.write_bytes(interim))
            for name in files:
                os.replace(staging / name, output / name)
            for name in earlier - set(files):  # never a folder or link: those are not ours
                if (output / name).is_file() and not (output / name).is_symlink():
                    (output / name).unlink()
            os.replace(staging / MANIFEST, output / MANIFEST)
            staging.rmdir()
            committed = True
            sim.errors.interruption_note = f"the comparison was written in full into {output}"
    except BaseException as error:
        if not committed:
            with signals_held():  # a second Ctrl-C does not stop the clean-up
                shutil.rmtree(staging, ignore_errors=True)
                for folder in (output.resolve(), *output.resolve().parents):  # made here
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
    sim.errors.interruption_note = "nothing was written"
    args = parse(argv)
    found = find_runs(args.paths)
    output = args.output or default_output(args.paths)
    check_output(output, args.paths)
    check_overwrites(output, ALWAYS_WRITTEN)  # at once, rather than after reading every run
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
    earlier = check_overwrites(output, files)
    details = {"paths": [str(path) for path in args.paths], "group": comparison.group,
               "baseline": comparison.baseline, "runs_compared": len(comparison.table),
               "runs_not_compared": len(missing)}
    write_all(output, files, earlier, details)
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
