"""The cost-effectiveness plane (`cost_effectiveness.png`), drawn from the very bootstrap
resamples of the paired runs that `cost_effectiveness.csv` summarises
(`sim.compare.cost_effectiveness`).

One panel per effect (schools moved to good or better; net grades gained at inspections):
incremental effect across, incremental cost up, both against the baseline, which sits at
the origin. Each option's resampled means are its cloud of dots, its mean the large
marker, and the lines its 90% percentile intervals, the table's own numbers; the
quadrants are named by the table's dominance rules, and the legend gives each option's
verdict (and ICER where one is given) from the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.compare.cost_effectiveness import EFFECTS, CostEffectiveness, pounds
from sim.compare.figures import new_figure, render
from sim.compare.pairing import Comparison
from sim.compare.style import baseline_name, group_colours, group_name
from sim.labels import measure_name

PANEL_EFFECTS = ("schools_moved_to_good", "grades_gained")  # the first is the one priced
QUADRANT_NAMES = {  # (effect sign, cost sign) -> what a point there is
    (-1, 1): "dominated\n(costs more, gains less)",
    (1, -1): "dominant\n(costs less, gains more)",
    (1, 1): "costs more,\ngains more",
    (-1, -1): "cost-saving\nbut worse",
}
MILLION = 1e6


def legend_text(comparison: Comparison, entry: pd.Series) -> str:
    """An option's name with its verdict, and its ICER where the table gives one."""
    text = f"{group_name(comparison, str(entry[comparison.group]))}: {entry['verdict']}"
    icer = entry.get("icer_gbp_per_unit_of_effect", np.nan)
    if pd.notna(icer) and np.isfinite(icer):
        unit = "school" if entry["effect"] == "schools_moved_to_good" else "grade"
        text += f", {pounds(float(icer))} per {unit}"
    return text


def plot_cost_effectiveness(comparison: Comparison,
                            economics: CostEffectiveness) -> dict[str, bytes]:
    """The cost-effectiveness plane, one panel per effect."""
    colours = group_colours(comparison)
    table = economics.table
    effects = [effect for effect in PANEL_EFFECTS if effect in EFFECTS]
    figure = new_figure(figsize=(14, 6.5), layout="constrained")
    axes = figure.subplots(1, len(effects))
    pairs = 0
    for axis, effect in zip(axes, effects, strict=True):
        rows = table[table["effect"] == effect]
        reach_x, reach_y = 0.0, 0.0
        for _, entry in rows.iterrows():
            name = str(entry[comparison.group])
            cloud = economics.resamples.get((name, effect))
            if cloud is None or not entry["verdict"]:
                continue  # no defined pair: nothing to place
            pairs = max(pairs, int(entry["pairs"]))
            colour = colours[name]
            x, y = cloud[:, 1], cloud[:, 0] / MILLION
            axis.scatter(x, y, s=5, color=colour, alpha=0.2, linewidths=0, rasterized=True)
            mean_x = entry["incremental_effect"]
            mean_y = entry["incremental_cost_gbp"] / MILLION
            axis.errorbar(mean_x, mean_y,
                          xerr=[[mean_x - entry["incremental_effect_ci90_low"]],
                                [entry["incremental_effect_ci90_high"] - mean_x]],
                          yerr=[[mean_y - entry["incremental_cost_ci90_low_gbp"] / MILLION],
                                [entry["incremental_cost_ci90_high_gbp"] / MILLION - mean_y]],
                          fmt="o", color=colour, markersize=9, markeredgecolor="black",
                          ecolor="black", elinewidth=1.2, capsize=3, zorder=4, label=legend_text(comparison,
                                                                                 entry))
            reach_x = max(reach_x, float(np.nanmax(np.abs(x))))
            reach_y = max(reach_y, float(np.nanmax(np.abs(y))))
        baseline = comparison.baseline
        axis.plot(0, 0, "o", color=colours.get(baseline, "black"), markersize=9, zorder=5,
                  label=f"{group_name(comparison, str(baseline))} (the origin)")
        # Symmetric limits, so that every quadrant shows and is named, with room in the
        # corners for the names above and below the clouds.
        reach_x, reach_y = (reach_x or 1.0) * 1.25, (reach_y or 1.0) * 1.45
        axis.set(xlim=(-reach_x, reach_x), ylim=(-reach_y, reach_y))
        axis.axhline(0, color="grey", linewidth=0.8)
        axis.axvline(0, color="grey", linewidth=0.8)
        for (sign_x, sign_y), text in QUADRANT_NAMES.items():
            axis.text(0.5 + 0.47 * sign_x, 0.5 + 0.47 * sign_y, text, transform=axis.transAxes,
                      ha="right" if sign_x > 0 else "left", va="top" if sign_y > 0 else "bottom",
                      fontsize=9, color="#555555", style="italic")
        name, unit, _ = measure_name(effect)
        axis.set(xlabel=f"Extra {name.lower()} ({unit}), against {baseline_name(comparison)}",
                 ylabel=f"Extra spending (£ million), against {baseline_name(comparison)}",
                 title=f"Per {EFFECTS[effect]}")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.12),
                    frameon=False, ncol=1)
    figure.suptitle(f"Cost-effectiveness plane against {baseline_name(comparison)}: each "
                    f"dot the means of one of the {economics.table['resamples'].max():,} "
                    f"bootstrap resamples of {pairs} paired runs;\nlarge marker the mean, "
                    f"lines the 90% intervals (as in cost_effectiveness.csv)", fontsize=12)
    return render(figure)
