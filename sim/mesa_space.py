"""The partnership graph as a Mesa network space, for Mesa's own tools.

Mesa's visualisation (SolaraViz, `make_space_component`, `draw_network`) draws a
`mesa.discrete_space.Network` read from `model.grid`, with each agent in the cell of its
node. Its drawer indexes node positions by node, so it needs whole-number nodes; the
model's own graph names them `("school", row)` and `("trust", row)` (`sim.network`). So
the space is a snapshot: a simple graph whose node `row` is school `row` and node
`n_schools + row` is trust `row`, with an edge wherever the partnership graph has one
(its kinds listed in the edge's `kinds`), every node placed on the map (a school at its
location, a trust at its first hub, or, if it has none, its members' centre), and each
open school and trust agent in its cell.

It is built when read, never during a run: building one for England (22,000 schools)
takes seconds, and the numeric phases never need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from sim.framework import mesa

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def node_of(kind: str, row: int, n_schools: int) -> int:
    """The space's node of a school or trust row."""
    return int(row) if kind == "school" else n_schools + int(row)


def partnership_space(model: SchoolSystemModel) -> mesa.discrete_space.Network:
    """A Mesa network space of the partnership graph as it stands now."""
    schools, trusts, hubs = model.schools, model.trusts, model.hubs
    n_schools = schools.n
    positions: dict[int, tuple[float, float]] = {
        row: (float(x), float(y)) for row, (x, y) in enumerate(zip(schools.x_km, schools.y_km,
                                                                    strict=True))}
    first_hub: dict[int, int] = {}
    for index, trust in enumerate(hubs.trust.tolist()):
        first_hub.setdefault(trust, index)
    for row in range(trusts.n):
        if row in first_hub:
            hub = first_hub[row]
            positions[n_schools + row] = (float(hubs.x_km[hub]), float(hubs.y_km[hub]))
        else:
            members = np.flatnonzero(schools.trust == row)
            positions[n_schools + row] = ((float(schools.x_km[members].mean()),
                                           float(schools.y_km[members].mean()))
                                          if len(members) else (0.0, 0.0))

    graph = nx.Graph()
    graph.add_nodes_from((row, {"kind": "school"}) for row in range(n_schools))
    graph.add_nodes_from((n_schools + row, {"kind": "trust"}) for row in range(trusts.n))
    for (kind_a, row_a), (kind_b, row_b), edge_kind in model.network.graph.edges(keys=True):
        a, b = node_of(kind_a, row_a, n_schools), node_of(kind_b, row_b, n_schools)
        if graph.has_edge(a, b):
            graph.edges[a, b]["kinds"] = sorted({*graph.edges[a, b]["kinds"], edge_kind})
        else:
            graph.add_edge(a, b, kinds=[edge_kind])

    space = mesa.discrete_space.Network(graph, random=model.random, layout=positions)
    for agent in model.school_agents:
        agent.cell = space[agent.row]
    for agent in model.trust_agents:
        # A closed trust's agent has left the model; its node stays, empty, for the record.
        agent.cell = space[n_schools + agent.row] if trusts.active[agent.row] else None
    return space
