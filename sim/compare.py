"""Compare runs: a tidy table, differences from a baseline paired by seed, and figures.

    python -m sim.compare results/sweeps/2026-11-22_08-30-00
    python -m sim.compare RUN_OR_SWEEP... --group policy --baseline status_quo --output DIR

Finds every complete run folder (one with a `summary.json`) under the paths given and
writes, into `--output` (by default the single sweep folder given, or a new folder under
`results/comparisons/`):
- `runs.parquet` and `runs.csv`: one row per run, its scenario, policy, seed and headline
  scalars;
- `differences.csv`: for each group against the baseline group, the difference in each
  headline measure paired by seed (common random numbers), with its mean, standard
  deviation across seeds, 90% confidence interval and number of pairs; and the incremental
  cost per grade gained (mean extra spending over mean extra grades gained, empty when
  the group gains no grades over the baseline);
- `missing.csv`: runs that have no partner on the other side of a comparison, and runs
  that failed or were killed (left in `.incomplete/`), each named; they are also printed
  as warnings, so fewer seeds are never averaged silently;
- `comparison.png`: time series per group, the mean and a 90% band across seeds (the 5th
  to 95th percentile of runs);
- `differences.png`: the paired differences from the baseline with their 90% intervals;
- `outcomes.png`: the distribution of final outcomes per group (a box and each run);
- `cost_effectiveness.png`: extra spending against extra grades gained, per group;
- `heat_map.png`, for a sweep over two numeric parameters: the mean outcome on their grid.
Every figure is written as PNG and SVG.

Groups are the values of `--group` (a column of the runs table, `policy` by default).
Like the rest of the project it reads result files and never imports the model.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

MEASURES = {  # headline scalar -> (label, unit)
    "good_or_better_change": ("Change in good-or-better share", "percentage points"),
    "orphan_terms": ("Orphan-school terms", "school-terms"),
    "teacher_leaving_rate_mean": ("Teacher leaving rate", "% per year"),
    "disadvantage_gap_final": ("Disadvantage gap at the end", "effectiveness units"),
    "spending_total_gbp": ("Spending", "£ million"),
    "grades_gained": ("Net grades gained at inspections", "grades"),
}
SCALE = {"good_or_better_change": 100, "teacher_leaving_rate_mean": 100,
         "spending_total_gbp": 1e-6}
SERIES = {  # time-series column -> (title, unit, scale)
    "share_good_or_better": ("Good or better", "% of schools", 100),
    "n_orphans": ("Orphan schools", "schools waiting for a sponsor", 1),
    "teacher_leaving_rate": ("Teachers leaving", "% per year", 100),
    "spending_to_date_gbp": ("Spending to date", "£ million", 1e-6),
}


class CompareError(ValueError):
    """A problem with the paths given; the message is one line for users."""


def find_runs(paths: list[Path]) -> list[Path]:
    """Every complete run folder under the paths (staging folders are skipped)."""
    runs: list[Path] = []
    for path in paths:
        if not path.exists():
            raise CompareError(f"{path} does not exist: give a run folder or a sweep folder "
                               f"under results/")
        if not path.is_dir():
            raise CompareError(f"{path} is not a folder: give a run folder or a sweep folder")
        found = [p.parent for p in sorted(path.rglob("summary.json"))
                 if ".incomplete" not in p.parts]
        if not found:
            raise CompareError(f"{path} holds no complete runs (no summary.json below it)")
        runs.extend(found)
    return sorted(set(runs))


def incomplete_runs(paths: list[Path]) -> list[str]:
    """Runs that failed (recorded in .failed/) or were killed (left in .incomplete/)."""
    found = set()
    for path in paths:
        if not path.is_dir():
            continue
        for item in path.rglob("*"):
            if item.parent.name == ".incomplete" and item.is_dir():
                found.add(f"killed or still running: {item}")
            elif item.parent.name == ".failed" and item.suffix == ".txt":
                found.add(f"failed: {item.stem} (see {item})")
    return sorted(found)


def unpaired_runs(table: pd.DataFrame, group: str, baseline: str) -> pd.DataFrame:
    """Runs with no partner on the other side of a comparison, named by group and key.

    A group that lacks a seed (or parameter setting) the baseline has, or the other way
    round, is compared on fewer pairs; this says which, rather than averaging silently.
    """
    keys = ["scenario", "seed", *varying_parameters(table, group)]
    labelled = table.assign(**{key: table[key].astype(str) for key in keys})
    groups = labelled[group].astype(str)
    base = set(map(tuple, labelled.loc[groups == baseline, keys].to_numpy()))
    rows = []
    for name in sorted(set(groups) - {baseline}):
        mine = set(map(tuple, labelled.loc[groups == name, keys].to_numpy()))
        for missing_from, missing in ((name, base - mine), (baseline, mine - base)):
            for key in sorted(missing):
                rows.append({group: missing_from, "compared_with": name if missing_from == baseline
                             else baseline, "missing_run": ", ".join(
                                 f"{k}={v}" for k, v in zip(keys, key, strict=True))})
    return pd.DataFrame(rows, columns=[group, "compared_with", "missing_run"])


def runs_table(runs: list[Path]) -> pd.DataFrame:
    """One row per run: its headline scalars, then every parameter of its config."""
    import yaml

    from sim.parameters import leaves

    rows = []
    for run in runs:
        summary = json.loads((run / "summary.json").read_text())
        config = yaml.load((run / "config.yaml").read_text(),
                           Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: faster
        parameters = {key: (str(value) if isinstance(value, list) else value)
                      for key, value in leaves(config) if key not in ("seed",)}
        rows.append({"run": str(run), **summary, **parameters})
    return pd.DataFrame(rows)


def varying_parameters(table: pd.DataFrame, group: str) -> list[str]:
    """Config parameters that differ between runs and that every run has, other than the
    grouping one and those that belong to it (grouping by policy ignores policy.*)."""
    own = f"{group}."  # a whole config group (policy, scenario) owns its parameters
    dotted = [c for c in table.columns
              if "." in c and c != group and not c.startswith(own) and table[c].notna().all()]
    return [c for c in dotted if table[c].astype(str).nunique() > 1]


def paired_differences(table: pd.DataFrame, group: str, baseline: str) -> pd.DataFrame:
    """Each group minus the baseline, seed by seed, for every headline measure."""
    if group not in table.columns:
        raise CompareError(f"cannot group by '{group}': choose one of "
                           f"{', '.join(c for c in table.columns if c != 'run')}")
    if baseline not in set(table[group].astype(str)):
        raise CompareError(f"baseline '{baseline}' is not among the {group} values: "
                           f"{', '.join(sorted(table[group].astype(str).unique()))}")
    # Pair each run with the baseline run of the same seed and the same other parameters.
    keys = ["scenario", "seed", *varying_parameters(table, group)]
    table = table.assign(**{key: table[key].astype(str) for key in keys})
    base = table[table[group].astype(str) == baseline].set_index(keys)
    rows = []
    for name, runs in table.groupby(table[group].astype(str)):
        if name == baseline:
            continue
        runs = runs.set_index(keys)
        shared = runs.index.intersection(base.index)
        for measure in MEASURES:
            difference = (pd.to_numeric(runs.loc[shared, measure], errors="coerce")
                          - pd.to_numeric(base.loc[shared, measure], errors="coerce")).dropna()
            n = len(difference)
            mean = difference.mean() if n else np.nan
            sd = difference.std(ddof=1) if n > 1 else np.nan
            half = stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
            rows.append({group: name, "baseline": baseline, "measure": measure, "pairs": n,
                         "mean_difference": mean, "sd_across_seeds": sd,
                         "ci90_low": mean - half, "ci90_high": mean + half})
        # Incremental cost-effectiveness: extra pounds per extra grade gained.
        extra = {row["measure"]: row["mean_difference"] for row in rows[-len(MEASURES):]}
        grades = extra["grades_gained"]
        rows.append({group: name, "baseline": baseline,
                     "measure": "incremental_cost_per_grade_gained_gbp", "pairs": rows[-1]["pairs"],
                     "mean_difference": extra["spending_total_gbp"] / grades if grades > 0 else np.nan,
                     "sd_across_seeds": np.nan, "ci90_low": np.nan, "ci90_high": np.nan})
    return pd.DataFrame(rows)


def save(figure: object, path: Path) -> None:
    """Write a figure as PNG and SVG (no timestamps, so identical inputs give identical files)."""
    figure.savefig(path.with_suffix(".png"), dpi=110, metadata={"Software": None})
    figure.savefig(path.with_suffix(".svg"), metadata={"Date": None, "Creator": None})


OUTCOMES = {  # headline scalar -> (label, scale)
    "good_or_better_final": ("Good or better at the end (%)", 100),
    "orphan_terms": ("Orphan-school terms", 1),
    "teacher_leaving_rate_mean": ("Teacher leaving (% per year)", 100),
    "spending_total_gbp": ("Spending (£ million)", 1e-6),
}


def plot_outcomes(runs: pd.DataFrame, group: str, path: Path) -> None:
    """The distribution of final outcomes across seeds, one box per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(runs[group].astype(str).unique())
    figure, axes = plt.subplots(1, len(OUTCOMES), figsize=(4 * len(OUTCOMES), 4.5),
                                constrained_layout=True)
    for axis, (column, (label, scale)) in zip(axes, OUTCOMES.items(), strict=True):
        values = [pd.to_numeric(runs.loc[runs[group].astype(str) == n, column]).to_numpy() * scale
                  for n in names]
        axis.boxplot(values, orientation="horizontal", tick_labels=[n.replace("_", " ") for n in names])
        for row, points in enumerate(values, start=1):
            axis.plot(points, [row] * len(points), "o", color="#4c72b0", alpha=0.5, markersize=3)
        axis.set(title=label, xlabel=label.split(" (")[-1].rstrip(")") if "(" in label else "")
    figure.suptitle(f"Final outcomes by {group} (each dot a run)", fontsize=13)
    save(figure, path)
    plt.close(figure)


def plot_cost_effectiveness(differences: pd.DataFrame, group: str, path: Path) -> None:
    """Extra spending against extra grades gained, each group against the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spend = differences[differences["measure"] == "spending_total_gbp"].set_index(group)
    grades = differences[differences["measure"] == "grades_gained"].set_index(group)
    figure, axis = plt.subplots(figsize=(7, 5.5), constrained_layout=True)
    for name in spend.index:
        x, y = grades.loc[name, "mean_difference"], spend.loc[name, "mean_difference"] / 1e6
        axis.errorbar(x, y, xerr=[[x - grades.loc[name, "ci90_low"]],
                                  [grades.loc[name, "ci90_high"] - x]],
                      yerr=[[y - spend.loc[name, "ci90_low"] / 1e6],
                            [spend.loc[name, "ci90_high"] / 1e6 - y]], fmt="o", capsize=3)
        axis.annotate(str(name).replace("_", " "), (x, y), textcoords="offset points",
                      xytext=(6, 6), fontsize=9)
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.axvline(0, color="grey", linewidth=0.8)
    baseline = differences["baseline"].iloc[0] if len(differences) else ""
    axis.set(xlabel=f"Extra net grades gained at inspections (vs {baseline})",
             ylabel=f"Extra spending (£ million, vs {baseline})",
             title="Cost-effectiveness: mean and 90% intervals, paired by seed")
    save(figure, path)
    plt.close(figure)


def plot_heat_map(runs: pd.DataFrame, parameters: list[str], path: Path) -> None:
    """For a two-parameter sweep: the mean of each outcome over the grid of settings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = parameters
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for axis, (outcome, (label, scale)) in zip(
            axes, [("good_or_better_change", ("Change in good or better (pp)", 100)),
                   ("orphan_terms", ("Orphan-school terms", 1))], strict=True):
        grid = (runs.assign(value=pd.to_numeric(runs[outcome]) * scale)
                .pivot_table(index=rows, columns=columns, values="value", aggfunc="mean")
                .sort_index().sort_index(axis=1))
        image = axis.imshow(grid.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        axis.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
        axis.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
        for (i, j), value in np.ndenumerate(grid.to_numpy()):
            axis.text(j, i, f"{value:.1f}", ha="center", va="center", color="white", fontsize=8)
        axis.set(xlabel=columns, ylabel=rows, title=f"{label}, mean over seeds")
        figure.colorbar(image, ax=axis)
    save(figure, path)
    plt.close(figure)


def plot_series(runs: pd.DataFrame, group: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    colours = plt.get_cmap("tab10")
    for number, (name, members) in enumerate(runs.groupby(runs[group].astype(str))):
        series = [pd.read_parquet(Path(run) / "timeseries.parquet") for run in members["run"]]
        time = series[0]["year"] + (series[0]["term_of_year"] + 1) / 3
        for axis, (column, (title, unit, scale)) in zip(axes.flat, SERIES.items(), strict=True):
            values = np.vstack([s[column].to_numpy() * scale for s in series])
            axis.plot(time, values.mean(axis=0), color=colours(number),
                      label=f"{name} ({len(series)} runs)")
            axis.fill_between(time, np.percentile(values, 5, axis=0),
                              np.percentile(values, 95, axis=0), color=colours(number), alpha=0.15)
            axis.set(title=title, ylabel=unit, xlabel="Year")
    axes[0, 0].legend(fontsize=8)
    figure.suptitle(f"Runs by {group}: mean and 90% band across seeds", fontsize=13)
    save(figure, path)
    plt.close(figure)


def plot_differences(differences: pd.DataFrame, group: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = list(MEASURES)
    figure, axes = plt.subplots(2, 3, figsize=(14, 7.5), constrained_layout=True)
    for axis, measure in zip(axes.flat, measures, strict=True):
        rows = differences[differences["measure"] == measure]
        scale = SCALE.get(measure, 1)
        names = rows[group].tolist()
        mean = rows["mean_difference"].to_numpy() * scale
        low = rows["ci90_low"].to_numpy() * scale
        high = rows["ci90_high"].to_numpy() * scale
        positions = np.arange(len(names))
        axis.barh(positions, mean, color="#4c72b0", alpha=0.8)
        axis.errorbar(mean, positions, xerr=[mean - low, high - mean], fmt="none",
                      ecolor="black", capsize=3)
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(positions, [n.replace("_", " ") for n in names])
        label, unit = MEASURES[measure]
        axis.set(title=label, xlabel=f"difference from baseline ({unit})")
    baseline = differences["baseline"].iloc[0] if len(differences) else ""
    figure.suptitle(f"Difference from {str(baseline).replace('_', ' ')}, paired by seed "
                    f"(mean and 90% confidence interval)", fontsize=13)
    save(figure, path)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.compare",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="run or sweep folders")
    parser.add_argument("--group", default="policy", help="column to group runs by (policy)")
    parser.add_argument("--baseline", default="status_quo", help="group to compare against")
    parser.add_argument("--output", type=Path, help="folder for the table and figures")
    args = parser.parse_args(argv)
    try:
        runs = find_runs(args.paths)
        table = runs_table(runs)
        differences = paired_differences(table, args.group, args.baseline)
        missing = unpaired_runs(table, args.group, args.baseline)
    except CompareError as error:
        print(f"sim.compare: error: {error}", file=sys.stderr)
        return 2
    output = args.output or (args.paths[0] if len(args.paths) == 1 and args.paths[0].is_dir()
                             and not (args.paths[0] / "summary.json").exists()
                             else Path("results") / "comparisons"
                             / datetime.now().strftime("%Y-%m-%d_%H-%M-%S"))
    output.mkdir(parents=True, exist_ok=True)
    table.to_parquet(output / "runs.parquet", index=False)
    table.to_csv(output / "runs.csv", index=False)
    differences.to_csv(output / "differences.csv", index=False)
    failed = incomplete_runs(args.paths)
    missing = pd.concat([missing, pd.DataFrame({
        args.group: "", "compared_with": "", "missing_run": failed})])
    missing.to_csv(output / "missing.csv", index=False)
    for value, run in missing[[args.group, "missing_run"]].drop_duplicates().itertuples(
            index=False):
        what = run if value == "" else f"no run for {args.group}={value} with {run}"
        print(f"sim.compare: warning: {what}; compared on fewer pairs", file=sys.stderr)
    plot_series(table, args.group, output / "comparison.png")
    plot_outcomes(table, args.group, output / "outcomes.png")
    if differences.empty:  # one group only, e.g. a sweep over seeds: nothing to subtract
        print(f"sim.compare: note: every run has {args.group}={args.baseline}; figures show "
              f"the runs, with no differences to draw", file=sys.stderr)
    else:
        plot_differences(differences, args.group, output / "differences.png")
        plot_cost_effectiveness(differences, args.group, output / "cost_effectiveness.png")
    swept = [args.group, *varying_parameters(table, args.group)] if "." in args.group \
        else varying_parameters(table, args.group)
    numeric = [p for p in swept if pd.to_numeric(table[p], errors="coerce").notna().all()]
    if len(numeric) == 2:
        plot_heat_map(table.assign(**{p: pd.to_numeric(table[p]) for p in numeric}), numeric,
                      output / "heat_map.png")
    if not differences.empty:
        shown = differences.assign(
            mean=lambda d: d["mean_difference"].round(4),
            sd=lambda d: d["sd_across_seeds"].round(4))[[args.group, "measure", "pairs", "mean",
                                                         "sd"]]
        print(shown.to_string(index=False))
    print(f"\n{len(table)} runs compared; table and figures in {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
