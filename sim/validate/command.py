"""`python -m sim.validate`: check everything, run or read the runs, score them, then write.

The order matters for what a user sees when something is wrong: the arguments, the
patterns file and the output folder are checked before any run starts, so a mistake costs
no simulation; the files are written last, into a hidden sibling of the output folder
(`sim.folders.staging_folder`), each atomically, and the sibling is renamed to the output
folder when all are written, so an interrupted or failing command leaves no half-written
scorecard. Runs are made in worker processes (as `sim.calibrate` makes them), each
returning only its score (`sim.scorecard.report.score_run`), not its tables.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import sys
from concurrent.futures import as_completed
from datetime import datetime
from pathlib import Path

import pandas as pd

import sim.errors
from sim import folders
from sim.config import configure
from sim.errors import UserError, refuse_bad_arguments, signals_held
from sim.explain import explained_errors
from sim.files import write_text
from sim.model import SchoolSystemModel
from sim.scorecard.measures import RunTables
from sim.scorecard.patterns import load_patterns
from sim.scorecard.reading import distinct_folders, read_run
from sim.scorecard.report import (
    RunScore,
    format_scorecard,
    format_transitions,
    format_waits,
    orphan_wait_distribution,
    score_run,
    scorecard,
    transition_matrix,
    transitions_tidy,
)
from sim.scorecard.targets import MATS_BELOW_THRESHOLD, load_dynamic_targets

PROGRAM = "python -m sim.validate"
DESCRIPTION = ("A validation scorecard: the calibration targets the model was fitted to,\n"
               "and published patterns it was not fitted to, in status-quo national runs.")
EPILOG = """\
Calibration targets are what the model was fitted to: sim/calibration_targets.yaml (its
static targets, as sim.calibrate checks them, and the transitions at inspection), and the
share of MATs below their own threshold. Validation patterns are published figures it was
not fitted to: sim/validation_patterns.yaml. Each row shows the band, the mean over seeds
of each run's value (a static target's value in a run is its mean over the run's years),
the lowest and highest run, whether the mean lies in the band, and the source. Also shown:
the transitions between grades at the next graded inspection, and how long sponsored
schools wait for a trust after an academy order.

Exit status: 0 when every calibration target is in its band; 1 when any is outside it or
undefined (n/a); 2 for bad input. Validation patterns are reported but never change the
exit status: a miss is a finding about the model, not a failure of the command.

After a calibration fit, --overrides STUDY/best_overrides.txt scores the fitted model.

Writes scorecard.md, scorecard.csv, transitions.csv and orphan_waits.csv into --output
(default results/validation/<YYYY-mm-dd_HH-MM-SS>/), which must be new or empty.
"""
RUN_OPTIONS = ("seeds", "years", "scale")
DEFAULTS = {"seeds": 5, "years": 10, "scale": 1.0}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, help="number of seeds, 1-1000 (default 5)")
    parser.add_argument("--years", type=int, help="years to simulate, 1-100 (default 10)")
    parser.add_argument("--scale", type=float,
                        help="share of England to simulate, 0.001-1 (default 1)")
    parser.add_argument("--workers", type=int, default=2,
                        help="parallel processes for the runs, 1-256 (default 2)")
    parser.add_argument("--overrides", metavar="FILE",
                        help="run the model with these parameter values: a file of overrides, "
                             "one KEY=VALUE a line, as `python -m sim.calibrate fit` writes "
                             "(best_overrides.txt); checked before any run")
    parser.add_argument("--runs", nargs="+", metavar="PATH",
                        help="score these existing run folders instead of running")
    parser.add_argument("--output", metavar="DIR", help="a new or empty folder for the files "
                        "(default results/validation/<YYYY-mm-dd_HH-MM-SS>/)")
    refuse_bad_arguments(parser, PROGRAM)
    args = parser.parse_args(argv)
    given = [f"--{name}" for name in (*RUN_OPTIONS, "overrides")
             if getattr(args, name) is not None]
    if args.runs is not None and given:
        raise UserError(f"{given[0]} is for new runs, and --runs reads existing ones: give "
                        f"one or the other (see {PROGRAM} --help)")
    for name, default in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    limits = {"seeds": (1, 1000, "the number of seeds"), "years": (1, 100, "years to simulate"),
              "scale": (0.001, 1, "the share of England simulated"),
              "workers": (1, 256, "parallel processes")}
    for name, (low, high, meaning) in limits.items():
        value = getattr(args, name)
        if not low <= value <= high:
            raise UserError(f"--{name} {value:g}: {meaning} must be from {low:g} to {high:g} "
                            f"(see {PROGRAM} --help)")
    for text in args.runs or []:
        if not text.strip():
            raise UserError(f"--runs {text!r} names no folder (an unset shell variable?): give "
                            f"run folders")
    return args


def output_folder(text: str | None) -> Path:
    """The folder the files will go into, checked now: new or empty, not a file, not in a
    run folder, writable. The default is a new time-stamped folder under results/validation/."""
    if text is None:
        stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
        folder = folders.free_default_folder(Path("results") / "validation" / stamp)
    elif not text.strip():
        raise UserError(f"--output {text!r} names no folder: give a new folder, or leave "
                        f"--output out for one under results/validation/")
    else:
        folder = Path(text)
    folders.check_name_lengths(folder, "--output")
    shown = folders.describe(folder)
    blocking = folders.file_in_the_way(folder)
    if blocking is not None:
        where = "is a file" if blocking == folder else f"is inside {folders.describe(blocking)}, a file"
        raise UserError(f"--output {shown} {where}: name a new folder")
    if folders.holds_files(folder):
        raise UserError(f"the output folder {shown} already holds files; nothing was changed: "
                        f"name a new or empty folder with --output")
    resolved = folder.resolve()
    for parent in (resolved, *resolved.parents):
        if folders.complete(parent):
            raise UserError(f"cannot write into {shown}: it is inside the run folder "
                            f"{folders.describe(parent)}; choose another folder with --output")
    existing = next(parent for parent in (resolved, *resolved.parents) if parent.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into {shown}: {folders.describe(existing)} is read-only; "
                        f"choose another folder with --output")
    return folder


def read_overrides(text: str | None) -> list[str]:
    """The parameter values of `--overrides FILE`, one override a line (blank lines and
    lines starting with # skipped), checked now by composing a run with them: a mistake
    costs no simulation."""
    if text is None:
        return []
    path = Path(text)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise UserError(f"--overrides {folders.describe(path)} cannot be read ({reason}): give "
                        f"a file of KEY=VALUE lines, such as a calibration study's "
                        f"best_overrides.txt") from None
    overrides = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for override in overrides:
        if "=" not in override or not override.startswith("model."):
            raise UserError(f"--overrides {folders.describe(path)}: {override!r} is not a "
                            f"model parameter's KEY=VALUE (model.BLOCK.NAME=VALUE, as "
                            f"`python -m sim.calibrate fit` writes them)")
    composed = ["scenario=national", *overrides]
    try:
        with explained_errors(composed):  # in the words `python -m sim` has for them
            configure(composed)
    except UserError as error:
        raise UserError(f"--overrides {folders.describe(path)}: {error}") from error
    return overrides


def national_score(seed: int, scale: float, years: int,
                   overrides: tuple[str, ...] = ()) -> RunScore:
    """Run the national scenario under the status quo and score it (in a worker)."""
    model = SchoolSystemModel(configure([
        "scenario=national", f"seed={seed}", f"scenario.scale={scale}", f"horizon_years={years}",
        "output.progress=false", *overrides]))
    model.run()
    result = model.results()
    # cohorts: the teacher cohorts' table, which newer versions of the model produce
    tables = RunTables(seed, scale, result.timeseries, result.schools, result.events,
                       getattr(result, "cohorts", None))
    return score_run(tables)


def progress(message: str) -> None:
    print(f"{PROGRAM}: {message}", file=sys.stderr, flush=True)


def run_seeds(seeds: list[int], scale: float, years: int, workers: int,
              overrides: tuple[str, ...] = ()) -> list[RunScore]:
    """Score one national run per seed, in parallel, saying when each has finished."""
    scores: list[RunScore] = []
    if workers == 1 or len(seeds) == 1:
        for seed in seeds:
            scores.append(national_score(seed, scale, years, overrides))
            progress(f"seed {seed} finished ({len(scores)} of {len(seeds)})")
        return scores
    with sim.errors.worker_pool(min(workers, len(seeds))) as pool:
        pending = {pool.submit(national_score, seed, scale, years, overrides): seed
                   for seed in seeds}
        for future in as_completed(pending):
            scores.append(future.result())
            progress(f"seed {pending[future]} finished ({len(scores)} of {len(seeds)})")
    return sorted(scores, key=lambda score: score.seed)


def read_scores(paths: list[Path]) -> tuple[list[RunScore], list[RunTables]]:
    """Score existing run folders; returns the scores and the tables' descriptions."""
    scores, runs = [], []
    for path in distinct_folders(paths):
        tables = read_run(path)
        scores.append(score_run(tables))
        runs.append(tables)
    return scores, runs


def write_all(final: Path, files: dict[str, str]) -> None:
    """Write every file into a hidden sibling of `final`, then rename it to `final`."""
    created = folders.missing_ancestors(final.parent)
    final.parent.mkdir(parents=True, exist_ok=True)
    folders.remove_stale_staging(final.parent)
    staging = folders.staging_folder(final)
    try:
        staging.mkdir()
        for name, text in files.items():
            write_text(staging / name, text)
        with signals_held():
            try:
                os.rename(staging, final)
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise UserError(f"the output folder {folders.describe(final)} was filled by "
                                f"something else meanwhile; it was left as it is") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        folders.remove_if_empty(created)
        raise


def verdicts(table: pd.DataFrame) -> tuple[list[str], bool]:
    """The summary lines, and whether every calibration target is in its band."""
    calibration = table[table["table"] == "calibration"]
    inside = calibration["in_band"].fillna(False).astype(bool)
    outside = calibration.loc[calibration["in_band"].eq(False).fillna(False), "name"].tolist()
    undefined = calibration.loc[calibration["in_band"].isna(), "name"].tolist()
    line = f"Calibration: {int(inside.sum())} of {len(calibration)} targets in band"
    line += f"; outside: {', '.join(outside)}" if outside else ""
    line += f"; undefined (n/a): {', '.join(undefined)}" if undefined else ""
    validation = table[table["table"] == "validation"]
    banded = validation[validation["low"].notna()]
    missed = banded.loc[banded["in_band"].ne(True), "name"].tolist()
    second = (f"Validation (reported, never fails the command): {len(banded) - len(missed)} of "
              f"{len(banded)} patterns with a band in band"
              + (f"; outside or n/a: {', '.join(missed)}" if missed else "")
              + f"; {len(validation) - len(banded)} without a band yet")
    return [line, second], bool(inside.all())


def describe_runs(args: argparse.Namespace, runs: list[RunTables]) -> str:
    if args.runs is None:
        chosen = (f"; parameters from {args.overrides}: {', '.join(args.parameter_overrides)}"
                  if args.overrides else "")
        return (f"national scenario, status quo, {args.seeds} seed(s) (0-{args.seeds - 1}), "
                f"{args.years} years, scale {args.scale:g}{chosen}")
    kinds = sorted({f"{run.scenario} under {run.policy}" for run in runs})
    return (f"{len(runs)} run folder(s) read ({', '.join(kinds)}; seeds "
            f"{', '.join(str(run.seed) for run in runs)})")


def main(argv: list[str] | None = None) -> int:
    sim.errors.interruption_note = "nothing was written"
    args = parse(argv)
    patterns = load_patterns()
    calibration = [*load_dynamic_targets(), MATS_BELOW_THRESHOLD]
    args.parameter_overrides = read_overrides(args.overrides)
    output = output_folder(args.output)
    if args.runs is not None:
        scores, runs = read_scores([Path(text) for text in args.runs])
        for run in runs:
            if (run.scenario, run.policy) != ("national", "status_quo"):
                progress(f"note: seed {run.seed} is {run.scenario} under {run.policy}; the "
                         f"bands are England's under the status quo")
                break
    else:
        scores, runs = run_seeds(list(range(args.seeds)), args.scale, args.years,
                                 args.workers, tuple(args.parameter_overrides)), []
    table = scorecard(scores, calibration, patterns)
    matrix = transition_matrix(scores)
    waits = orphan_wait_distribution(scores)
    lines, passed = verdicts(table)
    text = "\n\n".join([
        "# Validation scorecard",
        f"{describe_runs(args, runs)}. Values are means over seeds of each run's value (a "
        f"static target's: its mean over the run's years); the range is the lowest and "
        f"highest run; \"in\" when the mean lies in the band.",
        "## Calibration targets (what the model was fitted to)",
        format_scorecard(table[table["table"] == "calibration"]),
        "## Validation patterns (published figures the model was not fitted to)",
        format_scorecard(table[table["table"] == "validation"]),
        "## Grade at the next graded inspection, by previous grade (shares of each row)",
        format_transitions(matrix),
        "## Orphan waits: terms from academy order to placement in a trust (sponsored schools)",
        format_waits(waits),
        "\n".join(lines)]) + "\n"
    write_all(output, {"scorecard.md": text,
                       "scorecard.csv": table.to_csv(index=False),
                       "transitions.csv": transitions_tidy(matrix).to_csv(index=False),
                       "orphan_waits.csv": waits.to_csv(index=False)})
    print(text)
    print(f"Written to {folders.describe(output)}")
    return 0 if passed else 1
