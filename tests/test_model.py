"""The model as a whole: the agents over the arrays, and the partnership clusters it starts with."""

from __future__ import annotations

import numpy as np
import pytest

from sim.state import TERMS_PER_YEAR, TrustKind
from tests.conftest import GIAS_FIXTURE, make_model


def test_partnership_clusters_have_three_to_seven_nearby_schools(opportunity_area):
    cluster = opportunity_area.network.cluster_of_school
    sizes = np.bincount(cluster[cluster >= 0])
    assert len(sizes) > 0 and sizes.min() >= 3 and sizes.max() <= 7
    assert all(len(opportunity_area.network.partners_of(int(s))) == sizes[cluster[s]] - 1
               for s in np.flatnonzero(cluster >= 0)[:20])


def test_school_agents_are_views_onto_the_arrays(opportunity_area):
    model = opportunity_area
    agent = model.school_agents[7]
    assert agent.effectiveness == model.schools.effectiveness[7]
    agent.effectiveness = 1.25
    assert model.schools.effectiveness[7] == 1.25
    mean = model.agents_by_type[type(agent)].agg("effectiveness", np.mean)
    assert mean == pytest.approx(model.schools.effectiveness.mean())
    trust_agent = next(t for t in model.trust_agents if t.kind == TrustKind.MULTI_ACADEMY_TRUST)
    assert all(member.trust is trust_agent for member in trust_agent.members)


@pytest.mark.parametrize("policy", ["status_quo", "combined"])
def test_no_phase_creates_a_model_attribute(policy):
    """Everything a term reads and writes beyond the arrays is declared in
    SchoolSystemModel.__init__: a year of terms (and its yearly phase) adds no attribute.
    A place read from data has no spin-up, so no phase has run before the first step."""
    model = make_model("population=gias", f"population.path={GIAS_FIXTURE}", "seed=2",
                       f"policy={policy}")
    declared = set(vars(model))
    for _ in range(TERMS_PER_YEAR):
        model.step()
    # functools.cached_property stores its value as an attribute on first use.
    cached = {"groups", "school_tree"}
    assert set(vars(model)) - declared - cached == set()
