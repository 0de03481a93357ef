"""Phase 3, capacity (`sim.phases.capacity`): who gives support, and how much reaches whom.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np

from sim.model import SchoolSystemModel
from sim.phases import capacity, diagnosis, improvement
from sim.state import Grade
from tests.conftest import largest_mat, make_model


def _set_up_trust(model: SchoolSystemModel, members: np.ndarray, n_takers: int) -> None:
    """Make the first `n_takers` members clear takers and the rest clear givers."""
    schools = model.schools
    schools.grade[members] = Grade.GOOD
    schools.head_tenure_terms[members] = 20
    schools.effectiveness[members] = 0.5
    schools.grade[members[:n_takers]] = Grade.REQUIRES_IMPROVEMENT
    schools.effectiveness[members[:n_takers]] = -1.5
    schools.self_assessment_accuracy[members] = 1.0
    diagnosis.run_term(model)
    capacity.run_term(model)


def test_higher_giver_taker_ratio_gives_more_support_per_taker():
    support = []
    for n_takers in (6, 1):  # with the same trust, fewer takers means more givers per taker
        model = make_model("scenario=national", "scenario.scale=0.1", "seed=4")
        _, members = largest_mat(model)
        _set_up_trust(model, members, n_takers)
        support.append(model.support.by_source.trust_givers[members[:n_takers]].mean())
    assert support[1] > 2 * support[0]


def test_overloaded_trust_drains_its_givers_and_a_healthy_one_does_not():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=4")
    trust, members = largest_mat(model)
    threshold = model.trusts.giver_taker_threshold[trust]
    _set_up_trust(model, members, n_takers=len(members) // 2)
    givers = members[model.schools.is_giver[members]]
    assert len(givers) > 0
    assert (model.schools.giver_drain[givers] > 0).all()
    _set_up_trust(model, members, n_takers=1)
    _, _, ratio = capacity.giver_taker_ratios(model)
    assert ratio[trust] >= threshold
    assert (model.schools.giver_drain[members] == 0).all()


def test_drained_givers_lose_effectiveness():
    gaps = []
    for drain in (0.0, 0.2):
        model = make_model("scenario=national", "scenario.scale=0.1", "seed=4",
                           f"model.capacity.giver_drain_rate={drain}")
        _, members = largest_mat(model)
        _set_up_trust(model, members, n_takers=len(members) // 2)
        givers = model.schools.is_giver.copy()
        before = model.schools.effectiveness.copy()
        improvement.run_term(model)
        gaps.append((model.schools.effectiveness - before)[givers & np.isin(
            np.arange(model.schools.n), members)].mean())
    assert gaps[1] < gaps[0] - 0.05


def test_support_falls_with_distance():
    near = make_model("scenario=national", "scenario.scale=0.1", "seed=4",
                      "model.capacity.distance_decay_km=200")
    far = make_model("scenario=national", "scenario.scale=0.1", "seed=4",
                     "model.capacity.distance_decay_km=5")
    totals = []
    for model in (near, far):
        diagnosis.run_term(model)
        capacity.run_term(model)
        totals.append(model.support.by_source.total.sum())
    assert totals[1] < totals[0]


def test_support_matrix_matches_school_to_school_support(opportunity_area):
    model = opportunity_area
    model.step()
    flows = model.network.support
    received = np.asarray(flows.sum(axis=1)).ravel()
    assert np.allclose(received, model.support.by_source.trust_givers + model.support.by_source.peers)
    graph = model.network.graph
    support_edges = [d for _, _, k, d in graph.edges(keys=True, data=True) if k == "support"]
    assert len(support_edges) == flows.nnz
    assert all(model.schools.is_giver[d["giver"]] and model.schools.is_taker[d["taker"]]
               for d in support_edges)
