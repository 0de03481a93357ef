"""The sensitivity analysis's figure, `importance.png` and `.svg`: which parameters matter.

For Morris screening, one panel per outcome, the parameters in one order for all of them
(by their importance summed over outcomes, each outcome's mu* taken as a share of its
largest), named in words from their declarations (`sim.schema`):
- the bar is mu*, the mean absolute elementary effect, with its 95% interval; an
  elementary effect is the change in the outcome for a step of the parameter, scaled to
  its whole range (as SALib computes it, unscaled);
- the bar's colour is the sign, from mu (the mean effect with its sign): blue when the
  parameter raises the outcome, vermilion when it lowers it, and hatched grey when
  |mu| < mu*/2, its effects going both ways (interactions or a non-monotone effect);
- the diamond is sigma, the spread of the elementary effects: near or above mu*, the
  effect depends on the other parameters' values.
Outcomes are in the units a reader knows (a change in a share in percentage points).
For Sobol indices, the total-order index with its interval, and the first-order index as
a diamond. Nothing is clipped: names are wrapped, and the layout makes room for them.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.files import write_atomically
from sim.labels import measure_name
from sim.schema import all_declarations

if TYPE_CHECKING:  # pandas loads inside the functions, as in sim.sensitivity.analysis
    import pandas as pd

RAISES, LOWERS, BOTH = "raises it", "lowers it", "both ways"
SIGN_COLOURS = {RAISES: "#0072B2", LOWERS: "#D55E00", BOTH: "#BBBBBB"}
BOTH_WAYS_BELOW = 0.5  # |mu| under this share of mu*: effects of both signs
NAME_WIDTH = 34  # characters a line of a parameter's name may take


def sign_of(mu: float, mu_star: float) -> str:
    """Which way a parameter moves an outcome: RAISES or LOWERS when the mean effect mu
    keeps most of the mean absolute effect mu*, else BOTH."""
    if mu_star <= 0 or abs(mu) < BOTH_WAYS_BELOW * mu_star:
        return BOTH
    return RAISES if mu > 0 else LOWERS


def parameter_names(keys: list[str]) -> dict[str, str]:
    """Each parameter's meaning from its declaration, capitalised and wrapped; its key for
    one that has none."""
    meanings = {declaration.key: declaration.meaning for declaration in all_declarations()}
    names = {}
    for key in keys:
        meaning = meanings.get(key) or key
        # Words, not a formula or an abbreviation: "..., as 1 - exp(-effect x FTE)" goes.
        meaning = re.sub(r", as .*$", "", meaning).replace("sd of", "standard deviation of")
        meaning = meaning[0].upper() + meaning[1:]
        names[key] = textwrap.fill(textwrap.shorten(meaning, width=3 * NAME_WIDTH,
                                                    placeholder=" ..."), width=NAME_WIDTH)
    return names


def parameter_order(table: pd.DataFrame) -> list[str]:
    """The parameters, most important first: by importance summed over outcomes, each
    outcome's importance as a share of its largest (outcomes have different units)."""
    largest = table.groupby("outcome")["importance"].transform("max")
    share = table["importance"] / largest.where(largest > 0, 1.0)
    return list(share.groupby(table["parameter"]).sum().sort_values(ascending=False).index)


def plot(table: pd.DataFrame, sobol: bool, path: Path) -> None:
    """Draw the ranking and write it as `path` .png and .svg, each atomically."""
    figure = draw(table, sobol)
    write_atomically(path.with_suffix(".png"), lambda file: figure.savefig(
        file, format="png", dpi=110, metadata={"Software": None}))
    write_atomically(path.with_suffix(".svg"), lambda file: figure.savefig(
        file, format="svg", metadata={"Date": None, "Creator": None}))


def draw(table: pd.DataFrame, sobol: bool) -> Any:
    """The ranking's figure (a matplotlib Figure), one panel per outcome."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    outcomes = list(dict.fromkeys(table["outcome"]))
    order = parameter_order(table)
    names = parameter_names(order)
    lines = max(name.count("\n") + 1 for name in names.values())
    figure = Figure(figsize=(3.2 + 4.2 * len(outcomes), 1.6 + len(order) * (0.22 + 0.16 * lines)),
                    layout="constrained")
    axes = figure.subplots(1, len(outcomes), squeeze=False, sharey=True)[0]
    positions = {parameter: place for place, parameter in enumerate(order)}
    for axis, outcome in zip(axes, outcomes, strict=True):
        rows = table[table["outcome"] == outcome]
        label, unit, scale = measure_name(outcome)
        places = [positions[p] for p in rows["parameter"]]
        if sobol:
            draw_sobol(axis, rows, places)
            axis.set_xlabel("Sobol index (share of the outcome's variance)")
        else:
            draw_morris(axis, rows, places, scale)
            axis.set_xlabel(f"mu*: {unit or 'outcome units'} over\nthe parameter's whole range")
        axis.set_title(label, fontsize=12)
        axis.grid(axis="x", alpha=0.3)
        axis.set_xlim(left=0)
    axes[0].set_yticks(range(len(order)), [names[p] for p in order], fontsize=9)
    axes[0].invert_yaxis()
    if sobol:
        handles = [Patch(color="#0072B2", label="total-order index (95% interval)"),
                   axes[0].plot([], [], "D", color="black", label="first-order index")[0]]
        title = "Sobol sensitivity: parameters ranked by their total-order index"
    else:
        handles = [*(Patch(facecolor=colour, hatch="//" if sign == BOTH else None,
                           edgecolor="#555555" if sign == BOTH else colour,
                           label=f"mu* (95% interval): {sign}")
                     for sign, colour in SIGN_COLOURS.items()),
                   axes[0].plot([], [], "D", color="black",
                                label="sigma: the spread of the effects")[0]]
        title = ("Morris screening: how much each parameter moves each outcome (mu*), which "
                 "way (colour, from mu) and how unevenly (sigma)")
    figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9,
                  frameon=False)
    figure.suptitle(title, fontsize=12)
    return figure


def draw_morris(axis: Any, rows: pd.DataFrame, places: list[int], scale: float) -> None:
    """Bars of mu* coloured by sign, its interval, and sigma as a diamond."""
    signs = [sign_of(mu, mu_star) for mu, mu_star in zip(rows["mu"], rows["mu_star"],
                                                          strict=True)]
    bars = axis.barh(places, rows["mu_star"] * scale, xerr=rows["mu_star_conf"] * scale,
                     color=[SIGN_COLOURS[s] for s in signs], height=0.6, capsize=3,
                     error_kw={"elinewidth": 1, "ecolor": "#333333"})
    for bar, sign in zip(bars, signs, strict=True):
        if sign == BOTH:
            bar.set(hatch="//", edgecolor="#555555")
    axis.plot(rows["sigma"] * scale, places, "D", color="black", markersize=5, zorder=3)


def draw_sobol(axis: Any, rows: pd.DataFrame, places: list[int]) -> None:
    """Bars of the total-order index with its interval, and the first-order as a diamond."""
    axis.barh(places, rows["total_order"], xerr=rows["total_order_conf"], color="#0072B2",
              height=0.6, capsize=3, error_kw={"elinewidth": 1, "ecolor": "#333333"})
    axis.plot(rows["first_order"], places, "D", color="black", markersize=5, zorder=3)
