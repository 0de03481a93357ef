"""The figures of a comparison, drawn in memory (PNG and SVG bytes) from the runs' tables.

Every figure is drawn before any file is written, so a comparison that stops with an error
writes nothing. This module draws the figures of final outcomes (`outcomes`,
`differences`, `robustness`, `acceptability`) and renders every figure; `over_time` draws
`comparison.png` and `levels.png`, `plane` the cost-effectiveness plane and `heat_map` the
heat map. Each group keeps one colour and one name in all of them (`sim.compare.style`).
Undefined values (NaN) are left out of the distributions and the heat map; numpy's
warnings about them (an empty mean, an all-NaN percentile) are silenced by `quietly`,
since leaving them out is intended, and the standard error is the user's.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from sim.compare.cost_effectiveness import CostEffectiveness
from sim.compare.pairing import Comparison
from sim.compare.parameter_sets import SetComparison
from sim.compare.reading import MEASURES, OUTCOMES
from sim.compare.style import (
    baseline_name,
    group_colours,
    group_name,
    group_title,
    paired_by,
    shown_order,
    titled,
)
from sim.labels import measure_name


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


def plot_outcomes(comparison: Comparison) -> dict[str, bytes]:
    """The distribution of final outcomes across runs, one box per group in its colour,
    the first group at the top."""
    colours = group_colours(comparison)
    figure = new_figure(figsize=(4.2 * len(OUTCOMES), 1.6 + 0.55 * len(comparison.order)),
                        layout="constrained")
    axes = figure.subplots(1, len(OUTCOMES), sharey=True)
    table, names = comparison.table, shown_order(comparison)
    for axis, (column, (label, scale)) in zip(axes, OUTCOMES.items(), strict=True):
        values = [table.loc[comparison.labels == name, column].dropna().to_numpy() * scale
                  for name in names]
        boxes = axis.boxplot(values, orientation="horizontal", patch_artist=True,
                             tick_labels=[group_name(comparison, n) for n in names],
                             medianprops={"color": "black"}, showfliers=False)
        for box, name in zip(boxes["boxes"], names, strict=True):
            box.set(facecolor=colours[name], alpha=0.25, edgecolor=colours[name])
        for row, (points, name) in enumerate(zip(values, names, strict=True), start=1):
            axis.plot(points, [row] * len(points), "o", color=colours[name], alpha=0.7,
                      markersize=3.5)
        axis.set(title=label.split(" (")[0],
                 xlabel=label.split(" (")[-1].rstrip(")") if "(" in label else "")
        axis.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    figure.suptitle(f"Final outcomes by {group_title(comparison).lower()} (each dot a run; "
                    f"box: quartiles and median)", fontsize=13)
    return render(figure)


def plot_differences(comparison: Comparison) -> dict[str, bytes]:
    """Each group's paired difference from the baseline at the end, with its 90% interval."""
    differences, group = comparison.differences, comparison.group
    colours = group_colours(comparison)
    banded = "band90_low" in differences.columns
    names = [name for name in comparison.order if name != comparison.baseline]
    figure = new_figure(figsize=(15, 3.2 + 1.2 * len(names)), layout="constrained")
    axes = figure.subplots(2, 3, sharey=True)
    for axis, measure in zip(axes.flat, MEASURES, strict=True):
        rows = differences[differences["measure"] == measure].set_index(group).reindex(names)
        label, unit, scale = measure_name(measure)
        mean = rows["mean_difference"].to_numpy(dtype=float) * scale
        low = rows["ci90_low"].to_numpy(dtype=float) * scale
        high = rows["ci90_high"].to_numpy(dtype=float) * scale
        positions = np.arange(len(names))
        axis.barh(positions, mean, color=[colours[n] for n in names], alpha=0.85, height=0.6)
        if banded:  # runs of plausible parameter sets: their band too, thick and grey
            band_low = rows["band90_low"].to_numpy(dtype=float) * scale
            band_high = rows["band90_high"].to_numpy(dtype=float) * scale
            axis.errorbar(mean, positions, xerr=[mean - band_low, band_high - mean],
                          fmt="none", ecolor="#888888", elinewidth=7, alpha=0.45)
        axis.errorbar(mean, positions, xerr=[mean - low, high - mean], fmt="none",
                      ecolor="black", capsize=3)
        axis.axvline(0, color="black", linewidth=0.9)
        axis.set_yticks(positions, [group_name(comparison, n) for n in names])
        axis.set(title=titled(label, measure), xlabel=f"difference ({unit})")
        axis.grid(axis="x", alpha=0.3)
    axes[0, 0].invert_yaxis()
    title = (f"Difference from {baseline_name(comparison)} at the end, paired by "
             f"{paired_by(comparison)}: "
             f"mean and 90% confidence interval (black)")
    if banded:
        title += ("\nand 90% band over the plausible parameter sets, seed noise included "
                  "(thick grey)")
    figure.suptitle(title, fontsize=13)
    return render(figure)


# A verdict's marker in the robustness figure (the colour is the group's own).
VERDICT_MARKERS = {"robust": ("o", True), "most": ("o", False), "depends": ("X", True),
                   "no difference": ("|", True), "": ("|", True)}


def plot_robustness(comparison: Comparison, sets: SetComparison) -> dict[str, bytes]:
    """Each group's difference from the baseline in every plausible parameter set (a dot per
    set, its mean over seeds), in the group's colour; the marker says whether the sign
    holds in every set."""
    verdicts = sets.robustness.set_index([comparison.group, "measure"])
    colours = group_colours(comparison)
    names = [name for name in comparison.order if name != comparison.baseline]
    figure = new_figure(figsize=(15, 2.6 + 1.3 * len(names) * 2), layout="constrained")
    axes = figure.subplots(2, 3)
    for axis, measure in zip(axes.flat, MEASURES, strict=True):
        label, unit, scale = measure_name(measure)
        labels = []
        for position, name in enumerate(names):
            means = sets.per_set[(name, measure)].dropna().to_numpy(dtype=float) * scale
            verdict = verdicts.loc[(name, measure), "verdict"]
            marker, filled = VERDICT_MARKERS.get(verdict, ("|", True))
            spread = np.linspace(-0.15, 0.15, len(means)) if len(means) > 1 else [0.0]
            axis.plot(means, position + np.asarray(spread), marker, linestyle="none",
                      color=colours[name], markerfacecolor=colours[name] if filled else "white",
                      alpha=0.85, markersize=5)
            if len(means):
                axis.plot([means.mean()] * 2, [position - 0.3, position + 0.3], color="black")
            labels.append(f"{group_name(comparison, name)}\n({verdict or 'no sets'})")
        axis.axvline(0, color="grey", linewidth=0.8)
        axis.set_yticks(range(len(names)), labels, fontsize=9)
        axis.invert_yaxis()
        axis.set(title=titled(label, measure), xlabel=f"difference ({unit})")
        axis.grid(axis="x", alpha=0.3)
    figure.suptitle(f"Difference from {baseline_name(comparison)} in each of {len(sets.sets)} "
                    f"plausible parameter sets (a marker per set: its mean over seeds; a line: "
                    f"their mean)\nfilled dot: the sign holds in every set (robust); hollow: in "
                    f"at least 80% (most); cross: it depends on the parameters", fontsize=12)
    return render(figure)


def plot_acceptability(comparison: Comparison, economics: CostEffectiveness) -> dict[str, bytes]:
    """The cost-effectiveness acceptability curve: for each willingness to pay per school
    moved to good, the probability that each option has the highest net benefit."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    curve, group, baseline = economics.acceptability, comparison.group, comparison.baseline
    pay = "willingness_to_pay_gbp_per_school_moved_to_good"
    colours = group_colours(comparison)
    figure = new_figure(figsize=(8.5, 5.8), layout="constrained")
    axis = figure.subplots()
    # Each option in its fixed colour; the baseline in black and dashed, so the status quo
    # stands apart from the options.
    for name in shown_order(comparison):
        rows = curve[curve[group] == name]
        if rows.empty:
            continue
        is_baseline = name == baseline
        axis.plot(rows[pay] / 1e6, rows["probability_highest_net_benefit"],
                  color=colours[name], linestyle="--" if is_baseline else "-", linewidth=2,
                  label=group_name(comparison, name))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"£{value:g}m"))
    axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axis.set(xlim=(0, curve[pay].max() / 1e6), ylim=(-0.02, 1.02),
             xlabel="Willingness to pay per school moved to good or better",
             ylabel="Probability of the highest net benefit")
    axis.grid(alpha=0.3)
    axis.legend(title=group_title(comparison), fontsize=9, loc="best")
    pairs, resamples = int(curve["pairs"].iloc[0]), int(curve["resamples"].iloc[0])
    axis.set_title(f"Which option is best value, by what a school moved to good is worth\n"
                   f"(net benefit = schools moved × willingness to pay − extra spending, against "
                   f"{baseline_name(comparison)};\n{pairs} paired runs, {resamples:,} bootstrap "
                   f"resamples)", fontsize=11)
    return render(figure)
