"""Global sensitivity analysis: which parameters matter most for the headline outcomes?

    python -m sim.sensitivity                                # Morris screening, 10 trajectories
    python -m sim.sensitivity --trajectories 20 --launcher ray
    python -m sim.sensitivity --sobol --samples 64           # Sobol indices (many more runs)

The parameters and their ranges are in `configs/sensitivity/morris.yaml` (or `--config`).
The command draws a sample with SALib (Morris elementary effects by default; Saltelli's
scheme for Sobol indices with `--sobol`), writes it to `samples.csv`, and runs it as an
ordinary sweep of `python -m sim` over `sensitivity.index`, so any launcher works (joblib on
this machine by default; `--launcher ray` or `submitit_slurm` on a cluster) and an
interrupted analysis resumes where it stopped. Every run uses the same seed (common random
numbers). It then analyses each outcome and writes, into `--output` (by default
`results/sensitivity/<method>`):
- `importance.csv`: one row per parameter and outcome, ranked: for Morris, mu* (mean
  absolute elementary effect, in the outcome's units), its confidence interval and sigma
  (spread, a sign of interactions or non-linearity); for Sobol, first-order and total
  indices with confidence intervals;
- `importance.png` and `.svg`: the ranking, one panel per outcome.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim.config import CONFIG_DIR
from sim.parameters import RULES

DEFAULT_CONFIG = CONFIG_DIR / "sensitivity" / "morris.yaml"


class SensitivityError(ValueError):
    """A problem with the analysis set-up; the message is one line for users."""


def load_problem(path: Path) -> tuple[dict, dict]:
    """The SALib problem (names and bounds) and the rest of the set-up."""
    if not path.exists():
        raise SensitivityError(f"{path} does not exist: give a bounds file like "
                               f"configs/sensitivity/morris.yaml")
    setup = yaml.safe_load(path.read_text())
    parameters = setup.get("parameters") or {}
    for name, bounds in parameters.items():
        if name not in RULES:
            raise SensitivityError(f"unknown parameter '{name}' in {path}")
        if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] < bounds[1]):
            raise SensitivityError(f"{name} in {path} needs bounds [low, high] with low < high")
        rule = RULES[name]
        if not (rule.low <= bounds[0] and bounds[1] <= rule.high):
            raise SensitivityError(f"bounds of {name} in {path} must lie within "
                                   f"{rule.describe()}")
    if len(parameters) < 2:
        raise SensitivityError(f"{path} must name at least two parameters")
    problem = {"num_vars": len(parameters), "names": list(parameters),
               "bounds": [list(map(float, b)) for b in parameters.values()]}
    return problem, setup


def draw_sample(problem: dict, sobol: bool, size: int, seed: int) -> np.ndarray:
    if sobol:
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, size, calc_second_order=False, seed=seed)
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, size, num_levels=4, seed=seed)


def run_sample(samples: Path, n_runs: int, setup: dict, launcher: str, output: Path) -> Path:
    """Run every row of the sample as one sweep of `python -m sim`; returns the sweep folder."""
    sweep = output / "runs"
    command = [sys.executable, "-m", "sim", "-m",
               f"scenario={setup['scenario']}", f"seed={setup['seed']}",
               f"horizon_years={setup['horizon_years']}",
               f"sensitivity.samples={samples.resolve()}",
               f"sensitivity.index=range(0,{n_runs})",
               "output.plots=false", "output.progress=false",
               f"hydra.sweep.dir={sweep.resolve()}", f"hydra/launcher={launcher}"]
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise SensitivityError(f"the sweep of the sample failed (exit {completed.returncode})")
    return sweep


def collect(sweep: Path, n_runs: int, outcomes: list[str]) -> np.ndarray:
    """Outcomes of each sample row, in sample order (missing rows are an error, named)."""
    values = np.full((n_runs, len(outcomes)), np.nan)
    for summary_path in sweep.glob("*/summary.json"):
        config = yaml.safe_load((summary_path.parent / "config.yaml").read_text())
        index = config["sensitivity"]["index"]
        summary = json.loads(summary_path.read_text())
        values[index] = [np.nan if summary[o] is None else summary[o] for o in outcomes]
    missing = np.flatnonzero(np.isnan(values).all(axis=1))
    if len(missing):
        shown = ", ".join(str(i) for i in missing[:10])
        raise SensitivityError(f"{len(missing)} sample rows have no complete run (rows {shown}"
                               f"{' ...' if len(missing) > 10 else ''}); rerun to resume")
    return values


def analyse(problem: dict, sample: np.ndarray, values: np.ndarray, outcomes: list[str],
            sobol: bool, seed: int) -> pd.DataFrame:
    rows = []
    for column, outcome in enumerate(outcomes):
        y = values[:, column]
        if sobol:
            from SALib.analyze import sobol as sobol_analyse

            result = sobol_analyse.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["ST"][i], "total_order": result["ST"][i],
                             "total_order_conf": result["ST_conf"][i],
                             "first_order": result["S1"][i],
                             "first_order_conf": result["S1_conf"][i]})
        else:
            from SALib.analyze import morris as morris_analyse

            result = morris_analyse.analyze(problem, sample, y, num_levels=4, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["mu_star"][i], "mu_star": result["mu_star"][i],
                             "mu_star_conf": result["mu_star_conf"][i],
                             "mu": result["mu"][i], "sigma": result["sigma"][i]})
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("outcome")["importance"].rank(ascending=False, method="min")
    return table.sort_values(["outcome", "rank"]).reset_index(drop=True)


def plot(table: pd.DataFrame, sobol: bool, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    figure, axes = plt.subplots(1, len(outcomes), figsize=(5.5 * len(outcomes), 5),
                                constrained_layout=True, squeeze=False)
    for axis, outcome in zip(axes[0], outcomes, strict=True):
        rows = table[table["outcome"] == outcome].sort_values("importance")
        error = rows["total_order_conf"] if sobol else rows["mu_star_conf"]
        axis.barh(rows["parameter"], rows["importance"], xerr=error, color="#4c72b0",
                  alpha=0.85, capsize=3)
        axis.set(title=outcome.replace("_", " "),
                 xlabel="total-order Sobol index" if sobol
                 else "mu* (mean absolute elementary effect, outcome units)")
        axis.tick_params(axis="y", labelsize=8)
    figure.suptitle(("Sobol" if sobol else "Morris") + " sensitivity: parameters ranked by "
                    "importance (with 95% intervals)", fontsize=13)
    figure.savefig(path.with_suffix(".png"), dpi=110, metadata={"Software": None})
    figure.savefig(path.with_suffix(".svg"), metadata={"Date": None, "Creator": None})
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.sensitivity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="bounds file (default configs/sensitivity/morris.yaml)")
    parser.add_argument("--sobol", action="store_true", help="Sobol indices instead of Morris")
    parser.add_argument("--trajectories", type=int, default=10,
                        help="Morris trajectories (runs: trajectories x (parameters + 1))")
    parser.add_argument("--samples", type=int, default=64,
                        help="Sobol base sample, a power of 2 (runs: samples x (parameters + 2))")
    parser.add_argument("--launcher", default="local",
                        help="Hydra launcher: local (joblib), basic, ray, submitit_local, "
                             "submitit_slurm")
    parser.add_argument("--output", type=Path, help="folder for the sample, runs and results")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the sample")
    args = parser.parse_args(argv)
    method = "sobol" if args.sobol else "morris"
    try:
        problem, setup = load_problem(args.config)
        size = args.samples if args.sobol else args.trajectories
        if size < 2:
            raise SensitivityError("--trajectories and --samples must be at least 2")
        sample = draw_sample(problem, args.sobol, size, args.sample_seed)
        output = args.output or Path("results") / "sensitivity" / method
        output.mkdir(parents=True, exist_ok=True)
        samples = output / "samples.csv"
        pd.DataFrame(sample, columns=problem["names"]).to_csv(samples, index=False)
        print(f"sim.sensitivity: {method}, {problem['num_vars']} parameters, {len(sample)} runs "
              f"in {output}", file=sys.stderr)
        sweep = run_sample(samples, len(sample), setup, args.launcher, output)
        values = collect(sweep, len(sample), setup["outcomes"])
    except SensitivityError as error:
        print(f"sim.sensitivity: error: {error}", file=sys.stderr)
        return 2
    table = analyse(problem, sample, values, setup["outcomes"], args.sobol, args.sample_seed)
    table.to_csv(output / "importance.csv", index=False)
    plot(table, args.sobol, output / "importance")
    for outcome, rows in table.groupby("outcome", sort=False):
        ranking = ", ".join(f"{r.parameter} ({r.importance:.3g})" for r in rows.itertuples())
        print(f"{outcome}: {ranking}")
    print(f"\nranked importance in {output / 'importance.csv'} and importance.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
