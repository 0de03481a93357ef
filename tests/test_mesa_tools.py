"""The model with Mesa's own tools: `running` ends at the horizon (so `run_model()` and
`mesa.batch_run` stop there), the partnership graph is a Mesa network space that Mesa's
drawer draws, and `mesa.batch_run` runs `sim.mesa_batch.BatchModel`."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from sim.framework import mesa
from tests.conftest import make_model

OVERRIDES = ("scenario=opportunity_area", "seed=4", "horizon_years=1", "scenario.n_schools=40")


@pytest.fixture(scope="module")
def model():
    return make_model(*OVERRIDES)


def test_running_turns_false_at_the_horizon_and_run_model_stops_there():
    stepped, run = make_model(*OVERRIDES), make_model(*OVERRIDES)
    assert stepped.running
    stepped.run_model()
    assert not stepped.running
    assert stepped.term == stepped.horizon_terms == 3
    run.run()
    pd.testing.assert_frame_equal(stepped.results().timeseries, run.results().timeseries,
                                  check_exact=True)


def test_the_grid_is_a_mesa_network_of_schools_and_trusts_with_agents_in_their_cells(model):
    space = model.grid
    assert isinstance(space, mesa.discrete_space.Network)
    schools, trusts = model.schools, model.trusts
    assert len(space.G) == schools.n + trusts.n
    for agent in model.school_agents:
        assert agent.cell.coordinate == agent.row
        assert agent in agent.cell.agents
        assert space.G.nodes[agent.row]["kind"] == "school"
        assert agent.cell.position.tolist() == [schools.x_km[agent.row], schools.y_km[agent.row]]
    # A school's trust is its neighbour by a member edge, and no other trust is.
    for row in range(schools.n):
        trust_neighbours = {node - schools.n for node, data in space.G[row].items()
                            if "member" in data["kinds"]}
        assert trust_neighbours == ({int(schools.trust[row])} if schools.trust[row] >= 0
                                    else set())
    open_trusts = [agent for agent in model.trust_agents if trusts.active[agent.row]]
    assert all(agent.cell.coordinate == schools.n + agent.row for agent in open_trusts)


def test_the_grid_follows_the_run_and_mesas_drawer_draws_it():
    model = make_model(*OVERRIDES)
    before = model.grid
    assert model.grid is before  # built once a term
    model.step()
    after = model.grid
    assert after is not before
    from mesa.visualization.components import AgentPortrayalStyle
    from mesa.visualization.mpl_space_drawing import draw_network

    positions = {node: tuple(cell.position) for node, cell in after._cells.items()}
    axes = draw_network(after, lambda agent: AgentPortrayalStyle(color="tab:blue", size=10),
                        layout_alg=lambda graph, **_: positions)
    drawn = sum(len(collection.get_offsets()) for collection in axes.collections
                if hasattr(collection, "get_offsets") and collection.get_offsets().ndim == 2)
    placed = sum(len(cell.agents) for cell in after.all_cells)
    assert placed == model.schools.n + int(model.trusts.active.sum())
    assert drawn >= placed


def test_batch_run_runs_the_model_to_its_horizon_with_seeds_and_overrides():
    from mesa import batch_run

    from sim.mesa_batch import BatchModel

    rows = batch_run(BatchModel, {"policy": ["status_quo", "universal_partnership"],
                                  "horizon_years": 1, "scenario.n_schools": 40},
                     rng=[4], data_collection_period=1, display_progress=False)
    table = pd.DataFrame(rows)
    assert sorted(table["policy"].unique()) == ["status_quo", "universal_partnership"]
    assert table.groupby("policy")["Step"].max().tolist() == [3, 3]  # stopped at the horizon
    direct = make_model(*OVERRIDES)
    direct.run()
    expected = direct.results().timeseries["share_good_or_better"].to_numpy()
    status_quo = table[table["policy"] == "status_quo"].sort_values("Step")
    assert np.array_equal(status_quo["share_good_or_better"].to_numpy(), expected)
