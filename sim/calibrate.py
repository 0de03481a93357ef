"""Compare a default national run with the published statistics it must reproduce.

    python -m sim.calibrate                 # 5 seeds, 10 years, full England
    python -m sim.calibrate --seeds 2 --scale 0.2 --years 5   # a quick look

Runs the `national` scenario under the status quo for several seeds (in parallel), and
prints one row per target of `sim/calibration_targets.yaml`: the band, the simulated value
at the start, the lowest and highest yearly value over the run, and the value in the last
year, each averaged over seeds. A target passes when the start and every year lie inside
its band. Stocks (grade shares, academy shares, trust counts) are read at the end of each
year; flows (teacher leaving, moving, vacancies) are averaged over the year's terms.
Counts are divided by `--scale`, so a reduced run is compared with England's figures.
The exit status is 1 when any target fails.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.config import configure
from sim.errors import refuse_bad_arguments, run_command
from sim.files import write_atomically
from sim.model import SchoolSystemModel
from sim.state import TERMS_PER_YEAR


@dataclass(frozen=True)
class Target:
    name: str
    column: str
    low: float
    high: float
    kind: str  # "stock" (end of year), "flow" (mean over the year) or "count" (scaled stock)
    source: str


def load_targets() -> list[Target]:
    """The calibration bands, from the copy kept in the package."""
    text = resources.files("sim").joinpath("calibration_targets.yaml").read_text()
    raw = yaml.safe_load(text)
    grades = raw["inspection_grades"]
    workforce = raw["teacher_workforce_per_year"]
    structure = raw["system_structure"]
    teachers = workforce["teachers_fte_england"]

    def make(name: str, column: str, band: list[float], kind: str, source: str) -> Target:
        return Target(name, column, float(band[0]), float(band[1]), kind, source)

    return [
        make("outstanding", "share_outstanding", grades["outstanding"], "stock", grades["source"]),
        make("good", "share_good", grades["good"], "stock", grades["source"]),
        make("requires_improvement", "share_requires_improvement",
             grades["requires_improvement"], "stock", grades["source"]),
        make("inadequate", "share_inadequate", grades["inadequate"], "stock", grades["source"]),
        make("good_or_better_primary", "share_good_or_better_primary",
             grades["good_or_better_primary"], "stock", grades["source"]),
        make("good_or_better_secondary", "share_good_or_better_secondary",
             grades["good_or_better_secondary"], "stock", grades["source"]),
        make("teacher_leaving_state_sector", "teacher_leaving_rate",
             workforce["leaving_state_sector"], "flow", workforce["source"]),
        make("teacher_moving_between_schools", "teacher_moving_rate",
             workforce["moving_between_schools"], "flow", workforce["source"]),
        make("early_career_leaving_after_first_year", "early_career_year1_leaving_rate",
             workforce["early_career_leaving_after_first_year"], "flow", workforce["source"]),
        make("vacancy_rate", "vacancy_rate", workforce["vacancy_rate"], "flow",
             workforce["source"]),
        make("teachers (within 5% of FTE)", "teachers", [0.95 * teachers, 1.05 * teachers],
             "count", workforce["source"]),
        make("state_funded_schools", "n_schools", structure["state_funded_schools_england"],
             "count", structure["source"]),
        make("academy_share_primary", "academy_share_primary",
             structure["academy_share_primary"], "stock", structure["source"]),
        make("academy_share_secondary", "academy_share_secondary",
             structure["academy_share_secondary"], "stock", structure["source"]),
        make("multi_academy_trusts", "n_multi_academy_trusts", structure["multi_academy_trusts"],
             "count", structure["source"]),
        make("single_academy_trusts", "n_single_academy_trusts",
             structure["single_academy_trusts"], "count", structure["source"]),
        make("academies_moving_trust_per_year", "academies_moving_trust",
             structure["academies_moving_trust_per_year"], "stock", structure["source"]),
    ]


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


def yearly_measures(timeseries: pd.DataFrame, moving_share: np.ndarray, seed: int) -> pd.DataFrame:
    """One row per year (plus 'start'): stocks at the year's end, flows averaged over it."""
    timeseries = timeseries.assign(academies_moving_trust=np.nan)
    year_index = timeseries["term"] // TERMS_PER_YEAR
    ends = timeseries[timeseries["term_of_year"] == TERMS_PER_YEAR - 1].copy()
    ends["academies_moving_trust"] = moving_share[: len(ends)]
    flows = timeseries.groupby(year_index).mean(numeric_only=True)
    rows = []
    for target in load_targets():
        source = flows if target.kind == "flow" else ends.set_index(ends["term"] // TERMS_PER_YEAR)
        for year, value in source[target.column].items():
            rows.append({"seed": seed, "target": target.name, "year": int(year) + 1,
                         "value": float(value)})
        first = timeseries.iloc[0] if target.kind != "flow" else flows.iloc[0]
        start = first[target.column] if target.column != "academies_moving_trust" \
            else moving_share[0]
        rows.append({"seed": seed, "target": target.name, "year": 0, "value": float(start)})
    return pd.DataFrame(rows)


def calibration_table(measures: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Seed-averaged start, yearly range and end of each target, and whether it passes."""
    by_year = measures.groupby(["target", "year"])["value"].mean().unstack("year")
    rows = []
    for target in load_targets():
        values = by_year.loc[target.name].to_numpy(dtype=float)
        if target.kind == "count":
            values = values / scale
        start, years = values[0], values[1:]
        inside = (values >= target.low) & (values <= target.high)
        rows.append({
            "target": target.name, "low": target.low, "high": target.high,
            "start": start, "min": np.nanmin(years), "max": np.nanmax(years), "end": years[-1],
            "pass": bool(np.all(inside[~np.isnan(values)])),
        })
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    def number(value: float) -> str:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"

    lines = ["| target | band | start | min over years | max over years | last year | in band |",
             "|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(
            f"| {row.target} | {number(row.low)}-{number(row.high)} | {number(row.start)} | "
            f"{number(row.min)} | {number(row.max)} | {number(row.end)} | "
            f"{'yes' if row.pass_ else 'NO'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--years", type=int, default=10, help="years to simulate (default 10)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="size of England to simulate, 0 < scale <= 1 (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    refuse_bad_arguments(parser, "python -m sim.calibrate")
    args = parser.parse_args(argv)
    if not (1 <= args.seeds <= 1000 and 1 <= args.years <= 100 and 0.001 <= args.scale <= 1
            and 1 <= args.workers <= 256):
        parser.error("--seeds must be from 1 to 1000, --years from 1 to 100, --scale from "
                     "0.001 to 1 and --workers from 1 to 256")
    seeds = list(range(args.seeds))
    with ProcessPoolExecutor(max_workers=min(args.workers, len(seeds))) as pool:
        runs = list(pool.map(simulate_national, seeds, [args.scale] * len(seeds),
                             [args.years] * len(seeds)))
    table = calibration_table(pd.concat(runs, ignore_index=True), args.scale)
    table = table.rename(columns={"pass": "pass_"})
    print(f"Calibration: national status quo, {args.seeds} seeds, {args.years} years, "
          f"scale {args.scale:g} (values are means over seeds)\n")
    print(format_table(table))
    if args.csv:
        written = table.rename(columns={"pass_": "in_band"})
        write_atomically(Path(args.csv), lambda path: written.to_csv(path, index=False))
    failed = table.loc[~table["pass_"], "target"].tolist()
    print(f"\n{len(table) - len(failed)} of {len(table)} targets in band"
          + (f"; outside: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    run_command(main)
