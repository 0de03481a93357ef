"""The dashboard's figures, drawn with matplotlib's object-oriented API from a `Snapshot`.

Figures are made with `matplotlib.figure.Figure`, never pyplot: the server draws for every
page in threads of its own, and pyplot's global state is not safe there. The partnership
network is drawn by Mesa's own drawer (`mesa.visualization.mpl_space_drawing.draw_network`)
from `model.grid`, the Mesa network space of the partnership graph, with the cells'
positions on the map as its layout (README, "With Mesa's own tools"). Colours are the
project's: grades as in a run's summary figure (`sim.plots.GRADE_COLOURS`), policies as
in every comparison (`sim.labels`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mesa.visualization.components import AgentPortrayalStyle
from mesa.visualization.mpl_space_drawing import draw_network

from sim.agents import School
from sim.app.runs import Snapshot, policies_of
from sim.labels import policy_colour, policy_name
from sim.plots import GRADE_COLOURS, GRADE_LABELS
from sim.state import TERMS_PER_YEAR

if TYPE_CHECKING:
    import pandas as pd

    from sim.model import SchoolSystemModel

# Grade 1-4 (outstanding to inadequate) in the order of the summary figure's colours.
COLOUR_OF_GRADE = dict(enumerate(GRADE_COLOURS.values(), start=1))
TRUST_COLOUR = "#555555"
# Above this many schools the network's edges are left out: thousands of lines take
# seconds to draw and hide the schools under them.
MOST_EDGES_DRAWN_FOR = 1500


def _years(timeseries: pd.DataFrame) -> pd.Series:
    """Years since the start, at the end of each term (the first term ends at 1/3)."""
    return (timeseries["term"] + 1) / TERMS_PER_YEAR


def grade_shares(snapshot: Snapshot) -> Figure:
    """The chosen policy's grade shares over time in the running (or last) seed."""
    figure = Figure(figsize=(5.2, 2.9), layout="constrained")
    axes = figure.subplots()
    timeseries = snapshot.current.get(snapshot.choice.policy)
    if timeseries is not None:
        axes.stackplot(_years(timeseries), *[timeseries[c] * 100 for c in GRADE_COLOURS],
                       labels=list(GRADE_LABELS.values()),
                       colors=list(GRADE_COLOURS.values()))
        axes.legend(loc="lower left", fontsize=8, framealpha=0.85)
    axes.set_xlim(0, snapshot.choice.horizon_years)
    axes.set_ylim(0, 100)
    axes.set_xlabel("years")
    axes.set_ylabel("% of schools")
    axes.set_title(f"Grades under {policy_name(snapshot.choice.policy).lower()}, "
                   f"seed {snapshot.seed}", fontsize=10)
    return figure


def good_or_better(snapshot: Snapshot) -> Figure:
    """Good-or-better share over time, policy against status quo: a thin line per finished
    seed, a thick one for the seed running."""
    figure = Figure(figsize=(5.2, 2.9), layout="constrained")
    axes = figure.subplots()
    for policy in policies_of(snapshot.choice):
        colour = policy_colour(policy)
        for finished in snapshot.timeseries.get(policy, []):
            axes.plot(_years(finished), finished["share_good_or_better"] * 100, color=colour,
                      linewidth=1.2, alpha=0.7)
        if not snapshot.finished:
            running = snapshot.current.get(policy)
            if running is not None:
                axes.plot(_years(running), running["share_good_or_better"] * 100,
                          color=colour, linewidth=2)
    axes.legend(handles=[Line2D([], [], color=policy_colour(policy), label=policy_name(policy))
                         for policy in policies_of(snapshot.choice)],
                loc="lower left", fontsize=8, framealpha=0.85)
    axes.set_xlim(0, snapshot.choice.horizon_years)
    axes.set_xlabel("years")
    axes.set_ylabel("% good or better")
    axes.set_title("Good or better: policy and status quo, same seeds", fontsize=10)
    return figure


def _portrayal(size: float) -> Callable[[object], AgentPortrayalStyle]:
    # Every agent at Mesa's default z-order, 1: Mesa 3.5's drawer selects the agents of a
    # z-order with `z_order == zorder & mask`, which only works for an order of 1.
    def portray(agent: object) -> AgentPortrayalStyle:
        if isinstance(agent, School):
            return AgentPortrayalStyle(color=COLOUR_OF_GRADE[int(agent.grade)], size=size)
        # Larger than a school, so that it shows where its hub sits at one of its schools.
        return AgentPortrayalStyle(color=TRUST_COLOUR, size=size * 2.2, marker="s")

    return portray


def network(model: SchoolSystemModel) -> Figure:
    """The partnership network as it stands, drawn by Mesa from `model.grid`: schools
    coloured by grade, trusts as grey squares, edges for membership, clusters and support
    (left out for places with more than `MOST_EDGES_DRAWN_FOR` schools)."""
    space = model.grid
    positions = {node: tuple(cell.position) for node, cell in space._cells.items()}
    n_schools = model.schools.n
    size = 28 if n_schools <= 300 else 10 if n_schools <= MOST_EDGES_DRAWN_FOR else 3
    figure = Figure(figsize=(5.6, 5.2), layout="constrained")
    axes = figure.subplots()
    draw_network(space, _portrayal(size), ax=axes, draw_grid=n_schools <= MOST_EDGES_DRAWN_FOR,
                 layout_alg=lambda graph, **_: positions)
    if n_schools <= MOST_EDGES_DRAWN_FOR:
        axes.collections[-1].set_alpha(0.2)  # the edges, drawn last, behind the schools
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.legend(handles=[
        *[Line2D([], [], linestyle="", marker="o", color=colour, label=label)
          for colour, label in zip(GRADE_COLOURS.values(), GRADE_LABELS.values(), strict=True)],
        Line2D([], [], linestyle="", marker="s", color=TRUST_COLOUR, label="Trust")],
        loc="upper center", bbox_to_anchor=(0.5, 0), ncol=3, fontsize=8, frameon=False)
    year = model.term / TERMS_PER_YEAR
    axes.set_title(f"Partnership network, year {year:g} "
                   f"({policy_name(model.parameters.policy.name).lower()})", fontsize=10)
    return figure

