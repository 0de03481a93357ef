"""The figures of a comparison, drawn in memory (PNG and SVG bytes) from the runs' tables.

Every figure is drawn before any file is written, so a comparison that stops with an error
writes nothing. The time series of a group are averaged over the terms all its runs have
(runs of one horizon have the same terms; `--group horizon_years` draws each horizon over
its own years). Undefined values (NaN) are left out of the distributions and the heat map;
numpy's warnings about them (an empty mean, an all-NaN percentile) are silenced by
`quietly`, since leaving them out is intended, and the standard error is the user's.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.cost_effectiveness import CostEffectiveness
from sim.compare.pairing import Comparison
from sim.compare.parameter_sets import SetComparison
from sim.compare.reading import MEASURES, OUTCOMES, SERIES

SCALE = {"good_or_better_change": 100, "teacher_leaving_rate_mean": 100,
         "spending_total_gbp": 1e-6}


@contextlib.contextmanager
def quietly() -> Iterator[None]:
    """Numpy's floating-point warnings (and their RuntimeWarnings) off, while drawing."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def new_figure(**options: Any) -> Any:
    # The object-oriented API without pyplot: no GUI backend is looked for.
    from matplotlib.figure import Figure

    return Figure(**options)


def render(figure: Any) -> dict[str, bytes]:
    """The figure as PNG and SVG (no timestamps, so identical inputs give identical files)."""
    files = {}
    for suffix, options in (("png", {"dpi": 110, "metadata": {"Software": None}}),
                            ("svg", {"metadata": {"Date": None, "Creator": None}})):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=suffix, **options)
        files[suffix] = buffer.getvalue()
    return files


def pretty(label: str) -> str:
    return label.replace("_", " ")


def human(label: str) -> str:
    """A group value as a legend names it: 'mat_contracting' -> 'MAT contracting'."""
    words = pretty(label).capitalize().split(" ")
    return " ".join("MAT" if word.lower() == "mat" else word for word in words)


def plot_series(comparison: Comparison, series: dict[str, pd.DataFrame],
                notes: list[str]) -> dict[str, bytes]:
    """Time series per group: the mean and the 5th-95th percentile band across runs."""
    from matplotlib import colormaps

    figure = new_figure(figsize=(12, 8), layout="constrained")
    axes = figure.subplots(2, 2)
    colours = colormaps["tab10"]
    table, group = comparison.table, comparison.group
    for number, name in enumerate(comparison.order):
        members = table.loc[comparison.labels == name, "run"]
        frames = [series[run] for run in members]
        common = frames[0].index
        for frame in frames[1:]:
            common = common.intersection(frame.index)
        if len(common) == 0:
            notes.append(f"the runs of {group}={name} share no term; its time series is not drawn")
            continue
        if any(len(frame) > len(common) for frame in frames):
            notes.append(f"the runs of {group}={name} have different terms; its time series "
                         f"is drawn over the {len(common)} terms they share")
        common = common.sort_values()
        time = common.to_numpy() / 3 + 1 / 3  # the end of each term, in years
        for axis, (column, (title, unit, scale)) in zip(axes.flat, SERIES.items(), strict=True):
            values = np.vstack([frame.loc[common, column].to_numpy() * scale for frame in frames])
            axis.plot(time, np.nanmean(values, axis=0), color=colours(number % 10),
                      label=f"{pretty(name)} ({len(frames)} runs)")
            axis.fill_between(time, np.nanpercentile(values, 5, axis=0),
                              np.nanpercentile(values, 95, axis=0), color=colours(number % 10),
                              alpha=0.15)
            axis.set(title=title, ylabel=unit, xlabel="Year")
    axes[0, 0].legend(fontsize=8)
    figure.suptitle(f"Runs by {group}: mean and 90% band across seeds", fontsize=13)
    return render(figure)


def plot_outcomes(comparison: Comparison) -> dict[str, bytes]:
    """The distribution of final outcomes across seeds, one box per group."""
    figure = new_figure(figsize=(4 * len(OUTCOMES), 4.5), layout="constrained")
    axes = figure.subplots(1, len(OUTCOMES))
    table, names = comparison.table, comparison.order
    for axis, (column, (label, scale)) in zip(axes, OUTCOMES.items(), strict=True):
        values = [table.loc[comparison.labels == name, column].dropna().to_numpy() * scale
                  for name in names]
        axis.boxplot(values, orientation="horizontal", tick_labels=[pretty(n) for n in names])
        for row, points in enumerate(values, start=1):
            axis.plot(points, [row] * len(points), "o", color="#4c72b0", alpha=0.5, markersize=3)
        axis.set(title=label, xlabel=label.split(" (")[-1].rstrip(")") if "(" in label else "")
    figure.suptitle(f"Final outcomes by {comparison.group} (each dot a run)", fontsize=13)
    return render(figure)


def plot_differences(comparison: Comparison) -> dict[str, bytes]:
    """Each group's paired difference from the baseline, with its 90% interval."""
    differences, group = comparison.differences, comparison.group
    figure = new_figure(figsize=(14, 7.5), layout="constrained")
    axes = figure.subplots(2, 3)
    for axis, measure in zip(axes.flat, MEASURES, strict=True):
        rows = differences[differences["measure"] == measure]
        scale = SCALE.get(measure, 1)
        mean = rows["mean_difference"].to_numpy(dtype=float) * scale
        low = rows["ci90_low"].to_numpy(dtype=float) * scale
        high = rows["ci90_high"].to_numpy(dtype=float) * scale
        positions = np.arange(len(rows))
        axis.barh(positions, mean, color="#4c72b0", alpha=0.8)
        if "band90_low" in rows.columns:  # runs of plausible parameter sets: their band too
            band_low = rows["band90_low"].to_numpy(dtype=float) * scale
            band_high = rows["band90_high"].to_numpy(dtype=float) * scale
            axis.errorbar(mean, positions, xerr=[mean - band_low, band_high - mean],
                          fmt="none", ecolor="#dd8452", elinewidth=6, alpha=0.5)
        axis.errorbar(mean, positions, xerr=[mean - low, high - mean], fmt="none",
                      ecolor="black", capsize=3)
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(positions, [pretty(str(n)) for n in rows[group]])
        label, unit = MEASURES[measure]
        axis.set(title=label, xlabel=f"difference from baseline ({unit})")
    title = (f"Difference from {group}={pretty(str(comparison.baseline))}, paired by "
             f"seed (mean and 90% confidence interval)")
    if "band90_low" in differences.columns:
        title = (f"Difference from {group}={pretty(str(comparison.baseline))}, paired by seed "
                 f"and parameter set: mean, 90% interval from seed noise (black)\nand 90% band "
                 f"over the plausible parameter sets, seed noise included (orange)")
    figure.suptitle(title, fontsize=13)
    return render(figure)


VERDICT_COLOURS = {"robust": "#2ca02c", "most": "#ff7f0e", "depends": "#d62728",
                   "no difference": "grey", "": "grey"}


def plot_robustness(comparison: Comparison, sets: SetComparison) -> dict[str, bytes]:
    """Each group's difference from the baseline in every plausible parameter set (a dot per
    set, its mean over seeds), coloured by whether the sign holds in every set."""
    group, verdicts = comparison.group, sets.robustness.set_index([comparison.group, "measure"])
    names = [name for name in comparison.order if name != comparison.baseline]
    figure = new_figure(figsize=(14, 2.2 + 1.1 * len(names) * 2), layout="constrained")
    axes = figure.subplots(2, 3)
    for axis, measure in zip(axes.flat, MEASURES, strict=True):
        scale = SCALE.get(measure, 1)
        labels = []
        for position, name in enumerate(names):
            means = sets.per_set[(name, measure)].dropna().to_numpy(dtype=float) * scale
            verdict = verdicts.loc[(name, measure), "verdict"]
            colour = VERDICT_COLOURS.get(verdict, "grey")
            spread = np.linspace(-0.15, 0.15, len(means)) if len(means) > 1 else [0.0]
            axis.plot(means, position + np.asarray(spread), "o", color=colour, alpha=0.7,
                      markersize=4)
            if len(means):
                axis.plot([means.mean()] * 2, [position - 0.3, position + 0.3], color="black")
            labels.append(f"{pretty(str(name))}\n({verdict or 'no sets'})")
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(range(len(names)), labels, fontsize=8)
        label, unit = MEASURES[measure]
        axis.set(title=label, xlabel=f"difference from baseline ({unit})")
    figure.suptitle(f"Difference from {group}={pretty(str(comparison.baseline))} in each of "
                    f"{len(sets.sets)} plausible parameter sets (a dot per set: its mean over "
                    f"seeds; a line: their mean)\ngreen: the sign holds in every set; orange: "
                    f"in at least 80%; red: it depends on the parameters", fontsize=12)
    return render(figure)


def plot_cost_effectiveness(comparison: Comparison) -> dict[str, bytes]:
    """Extra spending against extra grades gained, each group against the baseline."""
    differences, group, baseline = comparison.differences, comparison.group, comparison.baseline
    spend = differences[differences["measure"] == "spending_total_gbp"].set_index(group)
    grades = differences[differences["measure"] == "grades_gained"].set_index(group)
    figure = new_figure(figsize=(7, 5.5), layout="constrained")
    axis = figure.subplots()
    for name in spend.index:
        x, y = grades.loc[name, "mean_difference"], spend.loc[name, "mean_difference"] / 1e6
        if not (np.isfinite(x) and np.isfinite(y)):
            continue  # no defined pair: nothing to place
        axis.errorbar(x, y, xerr=[[x - grades.loc[name, "ci90_low"]],
                                  [grades.loc[name, "ci90_high"] - x]],
                      yerr=[[y - spend.loc[name, "ci90_low"] / 1e6],
                            [spend.loc[name, "ci90_high"] / 1e6 - y]], fmt="o", capsize=3)
        axis.annotate(pretty(str(name)), (x, y), textcoords="offset points", xytext=(6, 6),
                      fontsize=9)
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.axvline(0, color="grey", linewidth=0.8)
    axis.set(xlabel=f"Extra net grades gained at inspections (vs {baseline})",
             ylabel=f"Extra spending (£ million, vs {baseline})",
             title="Cost-effectiveness: mean and 90% intervals, paired by seed")
    return render(figure)


def plot_heat_map(comparison: Comparison, parameters: list[str]) -> dict[str, bytes]:
    """For a two-parameter sweep: the mean of two outcomes over the grid of settings."""
    from matplotlib import colormaps

    rows, columns = parameters
    runs = comparison.table.assign(**{p: pd.to_numeric(comparison.settings[p]) for p in parameters})
    figure = new_figure(figsize=(12, 4.8), layout="constrained")
    axes = figure.subplots(1, 2)
    for axis, (outcome, (label, scale)) in zip(
            axes, [("good_or_better_change", ("Change in good or better (pp)", 100)),
                   ("orphan_terms", ("Orphan-school terms", 1))], strict=True):
        grid = (runs.assign(value=runs[outcome] * scale)
                .pivot_table(index=rows, columns=columns, values="value", aggfunc="mean",
                             dropna=False)
                .sort_index().sort_index(axis=1))
        image = axis.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto",
                            cmap=colormaps["viridis"])
        axis.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
        axis.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index])
        for (i, j), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(value):
                axis.text(j, i, f"{value:.1f}", ha="center", va="center", color="white",
                          fontsize=8)
        axis.set(xlabel=columns, ylabel=rows, title=f"{label}, mean over seeds")
        figure.colorbar(image, ax=axis)
    return render(figure)


def plot_acceptability(comparison: Comparison, economics: CostEffectiveness) -> dict[str, bytes]:
    """The cost-effectiveness acceptability curve: for each willingness to pay per school
    moved to good, the probability that each option has the highest net benefit."""
    from matplotlib import colormaps
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    curve, group, baseline = economics.acceptability, comparison.group, comparison.baseline
    pay = "willingness_to_pay_gbp_per_school_moved_to_good"
    colours = colormaps["tab10"]
    figure = new_figure(figsize=(8, 5.5), layout="constrained")
    axis = figure.subplots()
    # Colours by place in the group order, as in comparison.png; the baseline in black and
    # dashed, so the status quo stands apart from the options.
    for number, name in enumerate(comparison.order):
        rows = curve[curve[group] == name]
        if rows.empty:
            continue
        is_baseline = name == baseline
        axis.plot(rows[pay] / 1e6, rows["probability_highest_net_benefit"],
                  color="black" if is_baseline else colours(number % 10),
                  linestyle="--" if is_baseline else "-", linewidth=2,
                  label=f"{human(str(name))}{' (baseline)' if is_baseline else ''}")
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"£{value:g}m"))
    axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axis.set(xlim=(0, curve[pay].max() / 1e6), ylim=(-0.02, 1.02),
             xlabel="Willingness to pay per school moved to good or better",
             ylabel="Probability of the highest net benefit")
    axis.grid(alpha=0.3)
    axis.legend(title=human(group), fontsize=9, loc="best")
    pairs, resamples = int(curve["pairs"].iloc[0]), int(curve["resamples"].iloc[0])
    axis.set_title(f"Which option is best value, by what a school moved to good is worth\n"
                   f"(net benefit = schools moved × willingness to pay − extra spending, vs "
                   f"{pretty(str(baseline))};\n{pairs} paired runs, {resamples:,} bootstrap "
                   f"resamples)", fontsize=11)
    return render(figure)
