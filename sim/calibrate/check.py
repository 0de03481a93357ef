"""Compare a default national run with the published statistics it must reproduce.

    python -m sim.calibrate                 # 5 seeds, 10 years, full England
    python -m sim.calibrate check ...       # the same, named
    python -m sim.calibrate --seeds 2 --scale 0.2 --years 5   # a quick look

Runs the `national` scenario under the status quo for several seeds (in parallel), and
prints one row per static target of `sim/calibration_targets.yaml`: the band, the
simulated value at the start, the lowest and highest yearly value over the run, and the
value in the last year, each averaged over seeds. A target passes when the start and every year lie inside
its band. Stocks (grade shares, academy shares, trust counts) are read at the end of each
year; flows (teacher leaving, moving, vacancies) are averaged over the year's terms.
Counts are divided by `--scale`, so a reduced run is compared with England's figures.
The exit status is 1 when any target fails. `--csv FILE` is checked before any run
starts: it must name a file in an existing, writable folder, and an existing file is
replaced only if it is a table `sim.calibrate` wrote (its header), as `sim.report`
replaces only a report. The targets and the table are
`sim.scorecard.targets`'; `python -m sim.validate` puts them in a scorecard with the
dynamic targets (what happens at inspections) and the validation patterns.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from sim import folders
from sim.config import configure
from sim.errors import UserError, refuse_bad_arguments
from sim.files import write_atomically
from sim.model import SchoolSystemModel
from sim.scorecard.targets import calibration_table, format_table, load_targets, yearly_measures

# The header of the table --csv writes: a file that starts with it is one this command wrote.
CSV_HEADER = "target,low,high,start,min,max,end,in_band"


def simulate_national(seed: int, scale: float, years: int) -> pd.DataFrame:
    """The yearly calibration measures of one status-quo national run."""

    model = SchoolSystemModel(configure([
        "scenario=national", f"seed={seed}", f"scenario.scale={scale}", f"horizon_years={years}",
        "output.school_panel=false"]))
    model.run()
    timeseries = model.results().timeseries
    moves = np.asarray(model.tallies.trust_moves_by_year, dtype=float)
    academies = np.maximum(np.asarray(model.tallies.academies_by_year, dtype=float), 1)
    return yearly_measures(timeseries, moves / academies, seed)


def check_csv(text: str | None) -> Path | None:
    """The --csv file, checked before any run rather than once the runs are done: a file
    in an existing folder this process may write into, and, if it exists, a table this
    command wrote (replaced) rather than a file of the user's (refused)."""
    if text is None:
        return None
    if not text.strip():
        raise UserError(f"--csv {text!r} names no file (an unset shell variable?): give a "
                        f"file name, or leave --csv out")
    path = Path(text)
    if path.is_dir():
        raise UserError(f"--csv {text} is a folder: give a file name, such as "
                        f"{path / 'calibration.csv'}")
    if not path.parent.is_dir():
        blocking = folders.file_in_the_way(path.parent)
        where = ("does not exist" if blocking is None else "is a file"
                 if blocking == path.parent else f"is inside {blocking}, a file")
        raise UserError(f"the folder of --csv {text} {where}: give a file in an existing "
                        f"folder (nothing was run)")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot write --csv {text}: its folder is read-only; give a file in "
                        f"another folder (nothing was run)")
    if path.exists() and not _written_here(path):
        raise UserError(f"--csv {text} exists and is not a table sim.calibrate wrote: give "
                        f"another file name (nothing was run or written)")
    return path


def _written_here(path: Path) -> bool:
    """Whether the file starts with the header of the table --csv writes."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\r\n") == CSV_HEADER
    except OSError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.calibrate [check]",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--years", type=int, default=10, help="years to simulate (default 10)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="size of England to simulate, 0 < scale <= 1 (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--csv", metavar="FILE",
                        help="also write the table to this CSV file, in an existing folder "
                             "(checked before any run); an existing file is replaced only if "
                             "it is a table this command wrote, and refused otherwise")
    refuse_bad_arguments(parser, "python -m sim.calibrate")
    args = parser.parse_args(argv)
    if not (1 <= args.seeds <= 1000 and 1 <= args.years <= 100 and 0.001 <= args.scale <= 1
            and 1 <= args.workers <= 256):
        parser.error("--seeds must be from 1 to 1000, --years from 1 to 100, --scale from "
                     "0.001 to 1 and --workers from 1 to 256")
    csv = check_csv(args.csv)
    seeds = list(range(args.seeds))
    with ProcessPoolExecutor(max_workers=min(args.workers, len(seeds))) as pool:
        runs = list(pool.map(simulate_national, seeds, [args.scale] * len(seeds),
                             [args.years] * len(seeds)))
    table = calibration_table(pd.concat(runs, ignore_index=True), args.scale)
    table = table.rename(columns={"pass": "pass_"})
    print(f"Calibration: national status quo, {args.seeds} seeds, {args.years} years, "
          f"scale {args.scale:g} (values are means over seeds)\n")
    print(format_table(table))
    for target in load_targets():
        if target.years is not None:
            print(f"{target.name}: judged over the first {target.years} years, which its "
                  f"sources cover; later years are shown, not judged")
    if csv is not None:
        written = table.rename(columns={"pass_": "in_band"})
        write_atomically(csv, lambda path: written.to_csv(path, index=False))
    failed = table.loc[~table["pass_"], "target"].tolist()
    print(f"\n{len(table) - len(failed)} of {len(table)} targets in band"
          + (f"; outside: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
