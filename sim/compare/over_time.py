"""Figures over time: each group's paired difference from the baseline, term by term
(`comparison.png`), and the levels themselves (`levels.png`).

The difference at a term is a group's run minus the baseline's run with the same pairing
keys (`sim.compare.pairing`: the seed, so common random numbers, and for runs of plausible
parameter sets the set too), so what the seeds share cancels out; a run with no partner
on the baseline's side is left out. Its interval is the 90% t interval of the mean over
the pairs, as in `differences.csv` (for runs of parameter sets, over every set and seed
pair: it holds seed noise, not the spread over the sets, which `robustness.png` shows).
The levels figure is kept beside it for the levels themselves (how many schools are good,
how many orphans wait), with the baseline in black and only its seed range shaded, so
that five bands never smear into one: differences are read from `comparison.png`.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare.figures import new_figure, render
from sim.compare.pairing import Comparison, pairing_frame
from sim.compare.style import (
    baseline_name,
    group_colours,
    group_name,
    group_title,
    paired_by,
    shown_order,
)

# Time-series column -> (title, unit of a difference, unit of a level, scale). A panel is
# drawn for a column every run's series has (the disadvantage gap is absent from older runs).
PANELS = {
    "share_good_or_better": ("Good-or-better share", "percentage points", "% of schools", 100.0),
    # least minus most disadvantaged fifth (by FSM share), share good or better
    "good_or_better_gap": ("Disadvantage gap in good-or-better share", "percentage points",
                           "percentage points", 100.0),
    "teacher_leaving_rate": ("Teacher leaving rate (per year)", "percentage points",
                             "% per year", 100.0),
    "n_orphans": ("Orphan schools", "schools", "schools waiting for a sponsor", 1.0),
    "spending_to_date_gbp": ("Spending to date", "£ million", "£ million", 1e-6),
}
# Which way is better, for the differences' titles (as `sim.compare.information.BETTER`).
HINTS = {"share_good_or_better": "\nhigher is better", "good_or_better_gap": "\nlower is better",
         "teacher_leaving_rate": "\nlower is better", "n_orphans": "\nlower is better"}
OVER_TIME_COLUMNS = ["measure", "term", "year", "pairs", "mean_difference",
                     "sd_across_pairs", "ci90_low", "ci90_high"]


def drawn_panels(series: dict[str, pd.DataFrame]) -> list[str]:
    """The panels' columns that every run's time series has, in `PANELS` order."""
    return [column for column in PANELS
            if all(column in frame.columns for frame in series.values())]


def year_of(terms: np.ndarray) -> np.ndarray:
    """The end of each term, in years from the start (term 0 ends a third of a year in)."""
    return terms / 3 + 1 / 3


def paired_over_time(comparison: Comparison, series: dict[str, pd.DataFrame],
                     notes: list[str] | None = None) -> pd.DataFrame:
    """Per group (but the baseline), panel measure and term: the mean of the paired
    differences (run minus its baseline partner), their standard deviation and the 90% t
    interval of the mean, over the terms every pair has. Values are in the series' own
    units (shares as fractions). A run without a partner is not in any pair."""
    group, baseline = comparison.group, comparison.baseline
    columns = [group, *OVER_TIME_COLUMNS]
    if baseline is None or not series:
        return pd.DataFrame(columns=columns)
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]
    base = frame.loc[frame["_label"] == baseline, ["run", *keys]]
    panels = drawn_panels({run: series[run] for run in frame["run"]})
    rows = []
    for name in comparison.order:
        if name == baseline:
            continue
        pairs = frame.loc[frame["_label"] == name, ["run", *keys]].merge(
            base, on=keys, suffixes=("", "_base"))
        if pairs.empty:
            continue
        common = None
        for run, partner in zip(pairs["run"], pairs["run_base"], strict=True):
            shared = series[run].index.intersection(series[partner].index)
            common = shared if common is None else common.intersection(shared)
        if common is None or len(common) == 0:
            if notes is not None:
                notes.append(f"the pairs of {group}={name} share no term: its differences "
                             f"over time are not drawn")
            continue
        common = common.sort_values()
        for column in panels:
            differences = np.vstack([
                series[run].loc[common, column].to_numpy(dtype=float)
                - series[partner].loc[common, column].to_numpy(dtype=float)
                for run, partner in zip(pairs["run"], pairs["run_base"], strict=True)])
            rows += summarise_terms(differences, common.to_numpy(), column, group, name)
    return pd.DataFrame(rows, columns=columns)


def summarise_terms(differences: np.ndarray, terms: np.ndarray, column: str, group: str,
                    name: str) -> list[dict]:
    """A row per term of a pairs x terms array of differences: undefined (NaN) differences
    are left out of that term; the interval needs two pairs."""
    rows = []
    with np.errstate(all="ignore"):
        for position, term in enumerate(terms):
            defined = differences[:, position][np.isfinite(differences[:, position])]
            n = len(defined)
            mean = defined.mean() if n else np.nan
            sd = defined.std(ddof=1) if n > 1 else np.nan
            half = stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
            rows.append({group: name, "measure": column, "term": int(term),
                         "year": float(year_of(np.asarray(term))), "pairs": n,
                         "mean_difference": mean, "sd_across_pairs": sd,
                         "ci90_low": mean - half, "ci90_high": mean + half})
    return rows


def plot_differences_over_time(comparison: Comparison, frame: pd.DataFrame) -> dict[str, bytes]:
    """One panel per headline measure: each group's mean paired difference from the
    baseline over time, its 90% interval shaded, and the baseline as the zero line."""
    colours = group_colours(comparison)
    panels = list(dict.fromkeys(frame["measure"])) or list(PANELS)
    figure = new_figure(figsize=(15, 8.5), layout="constrained")
    axes = figure.subplots(2, 3, sharex=True)
    for axis, column in zip(axes.flat, panels, strict=False):
        title, unit, _, scale = PANELS[column]
        axis.axhline(0, color=colours[comparison.baseline], linewidth=1.6)
        for name in shown_order(comparison):
            rows = frame[(frame[comparison.group] == name) & (frame["measure"] == column)]
            if rows.empty:
                continue
            axis.fill_between(rows["year"], rows["ci90_low"] * scale, rows["ci90_high"] * scale,
                              color=colours[name], alpha=0.18, linewidth=0)
            axis.plot(rows["year"], rows["mean_difference"] * scale, color=colours[name],
                      linewidth=2)
        axis.set_title(title + HINTS.get(column, ""), fontsize=12)
        axis.set_ylabel(f"difference ({unit})")
        axis.grid(alpha=0.3)
    for axis in axes.flat[:len(panels)]:
        axis.set_xlabel("Year")
        axis.tick_params(labelbottom=True)
    legend_axis = axes.flat[-1]
    for axis in axes.flat[len(panels):]:
        axis.axis("off")
    pairs = int(frame["pairs"].max()) if not frame.empty else 0
    handles = [legend_axis.plot([], [], color=colours[name], linewidth=2 if
                                name != comparison.baseline else 1.6)[0]
               for name in shown_order(comparison)]
    labels = [group_name(comparison, name) + (" (the zero line)" if name == comparison.baseline
                                              else "") for name in shown_order(comparison)]
    legend_axis.legend(handles, labels, title=group_title(comparison), loc="upper left",
                       fontsize=10, title_fontsize=11, frameon=False)
    noise = ("over every set and seed: parameter and seed noise together"
             if "uncertainty.parameter_set" in comparison.keys else "seed noise")
    explanation = textwrap.fill(
        f"Each line: the mean, over {pairs} pairs, of a run minus the run of "
        f"{baseline_name(comparison)} with the same {paired_by(comparison)} (common random "
        f"numbers). Shaded: the 90% confidence interval of that mean ({noise}), not the "
        f"spread of single runs.", width=46)
    legend_axis.text(0, 0.02, explanation, transform=legend_axis.transAxes, fontsize=10,
                     va="bottom")
    figure.suptitle(f"Difference from {baseline_name(comparison)} over time, paired by "
                    f"{paired_by(comparison)}", fontsize=14)
    return render(figure)


def plot_levels(comparison: Comparison, series: dict[str, pd.DataFrame],
                notes: list[str]) -> dict[str, bytes]:
    """Levels over time: each group's mean over its runs, the baseline in black with its
    5th-95th percentile across runs lightly shaded (the other groups' are left out, so
    that the bands do not smear into one)."""
    colours = group_colours(comparison)
    table = comparison.table
    panels = drawn_panels({run: series[run] for run in table["run"]})
    figure = new_figure(figsize=(15, 8.5), layout="constrained")
    axes = figure.subplots(2, 3, sharex=True)
    shaded = comparison.baseline if comparison.baseline is not None else comparison.order[0]
    for name in shown_order(comparison):
        frames = [series[run] for run in table.loc[comparison.labels == name, "run"]]
        common = frames[0].index
        for other in frames[1:]:
            common = common.intersection(other.index)
        if len(common) == 0:
            notes.append(f"the runs of {comparison.group}={name} share no term; its levels "
                         f"are not drawn")
            continue
        if any(len(other) > len(common) for other in frames):
            notes.append(f"the runs of {comparison.group}={name} have different terms; "
                         f"their levels are drawn over the {len(common)} terms they share")
        common = common.sort_values()
        time = year_of(common.to_numpy())
        for axis, column in zip(axes.flat, panels, strict=False):
            values = np.vstack([frame.loc[common, column].to_numpy(dtype=float)
                                for frame in frames]) * PANELS[column][3]
            is_shaded = name == shaded
            if is_shaded and len(frames) > 1:
                axis.fill_between(time, np.nanpercentile(values, 5, axis=0),
                                  np.nanpercentile(values, 95, axis=0), color="#bbbbbb",
                                  alpha=0.35, linewidth=0)
            axis.plot(time, np.nanmean(values, axis=0), color=colours[name],
                      linewidth=2.4 if is_shaded else 1.6, zorder=3 if is_shaded else 2,
                      label=f"{group_name(comparison, name)} ({len(frames)} runs)")
    for axis, column in zip(axes.flat, panels, strict=False):
        title, _, unit, _ = PANELS[column]
        axis.set(title=title, ylabel=unit, xlabel="Year")
        axis.tick_params(labelbottom=True)
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(panels):]:
        axis.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].legend(handles, labels, title=group_title(comparison), loc="upper left",
                         fontsize=10, title_fontsize=11, frameon=False)
    shading = (f"grey: {baseline_name(comparison)}'s 5th-95th percentile across runs"
               if comparison.baseline is not None else "grey: 5th-95th percentile across runs")
    read = ("; differences from it are in comparison.png" if comparison.baseline is not None
            and len(comparison.order) > 1 else "")
    figure.suptitle(f"Levels over time: mean over runs ({shading}{read})", fontsize=13)
    return render(figure)
