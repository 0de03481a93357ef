"""The model as a whole: the agents over the arrays, and the partnership clusters it starts with."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.model import SchoolSystemModel
from sim.state import TERMS_PER_YEAR, TrustKind
from tests.conftest import make_model


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
def test_no_phase_creates_a_model_attribute(policy, monkeypatch):
    """Everything a term reads and writes beyond the arrays is declared in
    SchoolSystemModel.__init__: no code outside sim.model (and Mesa's own set-up) gives the
    model a new attribute, from its warm-up through a year of terms and the yearly phase."""
    created: list[tuple[str, str]] = []
    setattr_of_model = SchoolSystemModel.__setattr__

    def watching(model: SchoolSystemModel, name: str, value: object) -> None:
        if name not in vars(model):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if caller != "sim.model" and not caller.startswith("mesa"):
                created.append((caller, name))
        setattr_of_model(model, name, value)

    monkeypatch.setattr(SchoolSystemModel, "__setattr__", watching)
    model = make_model("scenario=opportunity_area", "seed=2", f"policy={policy}")
    for _ in range(2 * TERMS_PER_YEAR):
        model.step()
    assert created == []
