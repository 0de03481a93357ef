"""The heat map of a sweep over two numeric parameters: each cell's paired difference from
the reference cell, with its seed noise (`heat_map.png`).

A cell is a pair of the two parameters' values. Its number is the mean, over seeds (and
any other pairing keys), of a run minus the run that differs from it only in the reference
parameter, set to the reference value: the comparison's baseline when the group is one of
the two parameters (`--group model.trusts.giver_taker_threshold --baseline 3`), else the
first parameter's lowest value. So the reference row is exactly 0, and a cell is what
moving to it from the reference does with the same random numbers. Under the number, ±
its standard error; a hatched cell's 90% interval holds 0 (no difference the seeds can
tell apart from noise).

Colours diverge from no difference (white) and are oriented by `BETTER` so that green is
better and brown worse on every measure, whichever way its numbers go (fewer orphan terms
is better); the number's own sign is printed. The text is black or white by the cell's
luminance, so that it reads on light and dark cells alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare.figures import new_figure, render
from sim.compare.information import BETTER
from sim.compare.pairing import Comparison, defined_difference
from sim.compare.reading import as_number
from sim.compare.style import paired_by, parameter_name
from sim.labels import measure_name

HEAT_MAP_MEASURES = ("good_or_better_change", "orphan_terms")
CELL_COLUMNS = ["row_value", "column_value", "pairs", "mean_difference", "standard_error",
                "ci90_low", "ci90_high"]
# WCAG's crossover: text is black on a cell lighter than this relative luminance, else white.
DARK_BELOW = 0.179


def reference_of(comparison: Comparison, parameters: list[str]) -> tuple[str, str]:
    """The parameter whose value is the reference, and that value (as settings text)."""
    if comparison.group in parameters and comparison.baseline is not None:
        return comparison.group, comparison.baseline
    first = parameters[0]
    values = comparison.settings[first]
    return first, min(values, key=lambda v: as_number(v) or 0.0)


def heat_map_cells(comparison: Comparison, parameters: list[str],
                   measure: str) -> pd.DataFrame:
    """One row per cell (the two parameters' values, as numbers): the pairs, the mean
    paired difference from the reference in the measure's stored units, its standard error
    and 90% t interval. A run with no reference partner is in no pair."""
    reference, value = reference_of(comparison, parameters)
    settings = comparison.settings
    frame = pd.DataFrame({"run": comparison.table["run"], "measure":
                          comparison.table[measure].astype(float), "_label": comparison.labels,
                          **{f"_key_{key}": settings[key] for key in comparison.keys}})
    for parameter in parameters:
        frame[f"_cell_{parameter}"] = settings[parameter].map(as_number)
    identity = [column for column in ["_label", *(f"_key_{key}" for key in comparison.keys)]
                if column != ("_label" if reference == comparison.group else f"_key_{reference}")]
    base = frame[settings[reference] == value][[*identity, "measure"]]
    pairs = frame.merge(base, on=identity, suffixes=("", "_reference"))
    pairs["difference"] = defined_difference(pairs["measure"], pairs["measure_reference"])
    rows = []
    cells = pairs.groupby([f"_cell_{p}" for p in parameters])["difference"]
    with np.errstate(all="ignore"):
        for (row_value, column_value), differences in cells:
            defined = differences.dropna().to_numpy(dtype=float)
            n = len(defined)
            mean = defined.mean() if n else np.nan
            error = defined.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            half = stats.t.ppf(0.95, n - 1) * error if n > 1 else np.nan
            rows.append({"row_value": row_value, "column_value": column_value, "pairs": n,
                         "mean_difference": mean, "standard_error": error,
                         "ci90_low": mean - half, "ci90_high": mean + half})
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def relative_luminance(rgba: tuple[float, ...]) -> float:
    """The relative luminance of an sRGB colour (WCAG 2): 0 for black, 1 for white."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def text_colour(rgba: tuple[float, ...]) -> str:
    """Black text on a light cell, white on a dark one."""
    return "black" if relative_luminance(rgba) > DARK_BELOW else "white"


def signed(value: float, digits: int) -> str:
    """A difference with its sign, '+1.2' or '-0.4'; one that rounds to zero is '0.0', never
    '-0.0' or '+0.0'."""
    return f"{0.0:.{digits}f}" if round(value, digits) == 0 else f"{value:+.{digits}f}"


def plot_heat_map(comparison: Comparison, parameters: list[str]) -> dict[str, bytes]:
    """For a sweep over two numeric parameters: each measure's paired difference from the
    reference cell on their grid, with ± its standard error, hatched where its 90%
    interval holds 0."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    rows_parameter, columns_parameter = parameters
    reference, value = reference_of(comparison, parameters)
    figure = new_figure(figsize=(13, 5.6), layout="constrained")
    axes = figure.subplots(1, len(HEAT_MAP_MEASURES))
    for axis, measure in zip(axes, HEAT_MAP_MEASURES, strict=True):
        name, unit, scale = measure_name(measure)
        cells = heat_map_cells(comparison, parameters, measure)
        row_values = sorted(cells["row_value"].unique())
        column_values = sorted(cells["column_value"].unique())
        grid = cells.pivot(index="row_value", columns="column_value")
        means = grid["mean_difference"].reindex(index=row_values, columns=column_values) * scale
        extent = np.nanmax(np.abs(means.to_numpy(dtype=float)), initial=0.0) or 1.0
        # Green is better: the map runs brown-to-green upwards when more is better, and
        # the other way when less is.
        colour_map = colormaps["BrBG" if BETTER.get(measure, 1) > 0 else "BrBG_r"]
        norm = Normalize(-extent, extent)
        image = axis.imshow(means.to_numpy(dtype=float), origin="lower", aspect="auto",
                            cmap=colour_map, norm=norm)
        for cell in cells.itertuples():
            i, j = row_values.index(cell.row_value), column_values.index(cell.column_value)
            mean = cell.mean_difference * scale
            if not np.isfinite(mean):
                continue
            colour = text_colour(colour_map(norm(mean)))
            error = cell.standard_error * scale
            is_reference = (cell.row_value if reference == rows_parameter
                            else cell.column_value) == as_number(value)
            text = "reference" if is_reference else signed(mean, 1) + (
                f"\n±{error:.1f}" if np.isfinite(error) else "")
            axis.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
            holds_zero = not (cell.ci90_low > 0 or cell.ci90_high < 0)
            if holds_zero and not is_reference:
                axis.add_patch(_hatch(i, j, colour))
        axis.set_xticks(range(len(column_values)), [f"{v:g}" for v in column_values])
        axis.set_yticks(range(len(row_values)), [f"{v:g}" for v in row_values])
        axis.set(xlabel=parameter_name(columns_parameter), ylabel=parameter_name(rows_parameter),
                 title=f"{name}: difference ({unit})")
        bar = figure.colorbar(image, ax=axis, shrink=0.9)
        bar.set_label(f"{unit}; green better, brown worse")
    figure.suptitle(f"Difference from {parameter_name(reference)} = {value}, paired by "
                    f"{paired_by(comparison)}: mean ± standard error over seeds\n(hatched: the 90% "
                    f"interval includes no difference)", fontsize=12)
    return render(figure)


def _hatch(i: int, j: int, colour: str) -> Any:
    """A hatched, unfilled square over cell (i, j)."""
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", linewidth=0,
                     edgecolor=colour, alpha=0.35)
