"""`python -m sim.compare`: read, check and compare everything first, then write it all.

The order matters for what a user sees when something is wrong: paths and the output
folder are checked, every run is read (bad runs skipped and named), the comparison and
every figure are computed in memory, the files it would replace are checked, and only then
are the files written (`sim.compare.output`), into a hidden folder inside the output folder
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
import io
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

import sim.errors
from sim.compare import cost_effectiveness, figures, heat_map, over_time, plane
from sim.compare.cost_effectiveness import CostEffectiveness
from sim.compare.information import summary_lines, value_of_information
from sim.compare.missing import Missing, Plan, missing_in_sweep, read_plan
from sim.compare.output import (
    ALWAYS_WRITTEN,
    check_output,
    check_overwrites,
    default_output,
    write_all,
)
from sim.compare.pairing import Comparison, compare, unpaired_runs
from sim.compare.parameter_sets import SetComparison, analyse, check_parameter_sets
from sim.compare.reading import Runs, as_number, find_runs, read_runs
from sim.compare.swept import (
    default_group,
    summary_line,
    swept_first,
    swept_parameters,
    swept_table,
)
from sim.errors import PREFIX, UserError, one_line
from sim.folders import sweep_running

MISSING_COLUMNS = ["missing_run", "reason", "folder"]


def say(kind: str, message: str) -> None:
    """A warning or note on standard error, on one line."""
    print(f"{PREFIX}: {kind}: {one_line(message)}", file=sys.stderr)


# The first line of `python -m sim.compare --help`; the package's docstring says the rest.
DESCRIPTION = "Compare runs: a tidy table, differences from a baseline paired by seed, and figures."


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, through sim.errors, not usage text
        raise UserError(f"{message} (see python -m sim.compare --help)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m sim.compare", description=DESCRIPTION)
    parser.add_argument("paths", nargs="+", help="run or sweep folders")
    parser.add_argument("--group", default=None,
                        help="setting to group runs by: policy, scenario, horizon_years or a "
                             "parameter (default: policy when the runs have more than one, "
                             "else the first parameter the sweep varied)")
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
        running = sweep_running(sweep)
        if running:
            say("warning", f"the sweep in {sweep} is still running: this compares the runs "
                           f"complete so far; compare again when it has finished")
        for entry in missing_in_sweep(sweep, by_sweep.get(sweep), running):
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
    check_parameter_sets(runs)
    swept = swept_parameters(runs.settings)
    group = args.group or default_group(runs.settings, swept)
    if args.group is None and group != "policy":
        say("note", f"grouped by {group}, a parameter the runs varied (found in their "
                    f"configs; choose another with --group)")
    comparison = compare(swept_first(runs.table, swept), runs.settings, group, args.baseline)
    sets = analyse(comparison, runs, comparison.notes)
    if sets is not None:
        sets.information = value_of_information(comparison, sets)
    economics = cost_effectiveness.analyse(comparison)
    for note in comparison.notes + (economics.notes if economics else []):
        say("note", note)
    for warning in comparison.warnings:
        say("warning", warning)
    compared = {Path(run).resolve() for run in comparison.table["run"]}
    if not compared <= set(planned_labels(plans)):  # without a plan, pairing names the absent
        for entry in unpaired_runs(comparison):
            say("warning", f"missing: {entry.name} ({entry.reason})")
            missing.append(entry)
    missing += comparison.missing
    files = outputs(comparison, runs, missing, sets, economics)
    if swept:
        files["swept.csv"] = table_bytes(swept_table(comparison, swept), "csv")
    earlier = check_overwrites(output, files)
    details = {"paths": [str(path) for path in args.paths], "group": comparison.group,
               "baseline": comparison.baseline, "swept_parameters": swept,
               "runs_compared": len(comparison.table), "runs_not_compared": len(missing)}
    if sets is not None:
        details["parameter_sets"] = len(sets.sets)
    if economics is not None and not economics.table.empty:
        details["cost_effectiveness"] = cost_effectiveness.headline(economics, comparison.group)
    write_all(output, files, earlier, details)
    print(summary_line(swept, comparison.settings, comparison.group))
    report(comparison, missing, output, sets, economics)
    return 0


def outputs(comparison: Comparison, runs: Runs, missing: list[Missing],
            sets: SetComparison | None = None,
            economics: CostEffectiveness | None = None) -> dict[str, bytes]:
    """Every file of the comparison, as bytes."""
    group, table = comparison.group, comparison.table
    missing_table = pd.DataFrame([(m.name, m.reason, m.folder) for m in missing],
                                 columns=MISSING_COLUMNS)
    files = {"runs.parquet": table_bytes(table, "parquet"), "runs.csv": table_bytes(table, "csv"),
             "differences.csv": table_bytes(comparison.differences, "csv"),
             "missing.csv": table_bytes(missing_table, "csv")}
    figure_notes: list[str] = []
    with figures.quietly():
        drawn = {"outcomes": figures.plot_outcomes(comparison)}
        if len(comparison.order) < 2:  # one group only, e.g. a sweep over seeds
            figure_notes.append(f"every run has {group}={comparison.order[0]}: the figures "
                                f"show the runs, with no differences to draw")
            drawn["comparison"] = over_time.plot_levels(comparison, runs.series, figure_notes)
        else:
            frame = over_time.paired_over_time(comparison, runs.series, figure_notes)
            drawn["comparison"] = over_time.plot_differences_over_time(comparison, frame)
            drawn["levels"] = over_time.plot_levels(comparison, runs.series, figure_notes)
            drawn["differences"] = figures.plot_differences(comparison)
        if economics is not None and not economics.table["verdict"].eq("").all():
            drawn["cost_effectiveness"] = plane.plot_cost_effectiveness(comparison, economics)
        if economics is not None and not economics.acceptability.empty:
            drawn["acceptability"] = figures.plot_acceptability(comparison, economics)
        swept = ([group] if "." in group else []) + [k for k in comparison.keys if k != "seed"]
        numeric = [p for p in swept
                   if all(as_number(v) is not None for v in comparison.settings[p])]
        if len(numeric) == 2:
            drawn["heat_map"] = heat_map.plot_heat_map(comparison, numeric)
        if sets is not None:
            drawn["robustness"] = figures.plot_robustness(comparison, sets)
    if economics is not None:
        files["cost_effectiveness.csv"] = table_bytes(economics.table, "csv")
        files["acceptability.csv"] = table_bytes(economics.acceptability, "csv")
    if sets is not None:
        files["robustness.csv"] = table_bytes(sets.robustness, "csv")
        files["value_of_information.csv"] = table_bytes(sets.information, "csv")
    for note in figure_notes:
        say("note", note)
    for name, formats in drawn.items():
        for suffix, data in formats.items():
            files[f"{name}.{suffix}"] = data
    return files


def readable(value: float) -> str:
    """A number as a person reads it in a table: pounds in whole thousands-separated units,
    shares and points to four significant figures, never in e-notation."""
    if value == 0:  # -0.0 too
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.2g}"


def report(comparison: Comparison, missing: list[Missing], output: Path,
           sets: SetComparison | None = None,
           economics: CostEffectiveness | None = None) -> None:
    """The command's own output: the mean differences (with parameter sets, their band, each
    measure's verdicts and the value of information), the cost-effectiveness verdicts, and
    where the files are."""
    differences = comparison.differences
    if not differences.empty:
        shown = differences.assign(mean=differences["mean_difference"].round(4),
                                   sd=differences["sd_across_seeds"].round(4))
        columns = [comparison.group, "measure", "pairs", "mean", "sd"]
        if sets is not None:
            shown = shown.assign(band_low=differences["band90_low"].round(4),
                                 band_high=differences["band90_high"].round(4))
            columns += ["band_low", "band_high"]
        print(shown[columns].to_string(index=False, float_format=readable))
    if sets is not None:
        print(f"\nIn each of {len(sets.sets)} plausible parameter sets, does the sign hold? "
              f"(robust: every set; most: at least 80%; depends: fewer; no difference: 0 in "
              f"every set)")
        for line in verdict_lines(sets, comparison.group):
            print(line)
        print(f"\nValue of information, deciding the best {comparison.group} on each measure "
              f"(in the measure's units; value_of_information.csv):")
        for line in summary_lines(sets.information, comparison.group):
            print(line)
    if economics is not None:
        print(f"\nCost-effectiveness against {comparison.baseline}, paired runs, "
              f"{cost_effectiveness.RESAMPLES} bootstrap resamples (cost_effectiveness.csv):")
        for line in cost_effectiveness.summary_lines(economics.table, comparison.group):
            print(line)
    compared, absent = len(comparison.table), len(missing)
    print(f"\n{compared} run{'s' * (compared != 1)} compared; table and figures in {output}")
    if absent:
        print(f"{absent} run{'s' * (absent != 1)} not compared or without a partner: see "
              f"{output / 'missing.csv'}")


def verdict_lines(sets: SetComparison, group: str) -> list[str]:
    """A line per headline measure: each group's verdict, with the parameter it depends on."""
    lines = []
    for measure, rows in sets.robustness.groupby("measure", sort=False):
        parts = []
        for row in rows.to_dict("records"):
            sign = {"higher": "+", "lower": "-"}.get(row["direction"], "0")
            text = (f"{row[group]} {row['verdict'] or 'undefined'} ({sign} in "
                    f"{row['sets_with_that_sign']}/{row['parameter_sets']}")
            if row["depends_most_on"]:
                text += (f"; most on {row['depends_most_on']}, Spearman {row['spearman']:+.2f}, "
                         f"p {row['spearman_p']:.2g}")
            elif row["why_no_parameter"]:
                text += f"; no parameter named: {row['why_no_parameter']}"
            parts.append(text + ")")
        lines.append(f"  {measure}: {'; '.join(parts)}")
    return lines
