"""Phase 4, improvement (`sim.phases.improvement`): effectiveness and behaviour move.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np

from sim.phases import capacity, diagnosis, improvement
from tests.conftest import make_model


def test_support_raises_effectiveness_of_schools_in_need():
    gains = []
    for effect in (0.0, 1.0):
        model = make_model("seed=5", f"model.improvement.support_effect={effect}")
        diagnosis.run_term(model)
        capacity.run_term(model)
        before = model.schools.effectiveness.copy()
        improvement.run_term(model)
        supported = model.schools.support_received > 0
        gains.append((model.schools.effectiveness - before)[supported].mean())
    assert gains[1] > gains[0] + 0.02


def test_fit_is_best_when_prescription_matches_need():
    need = np.array([0.0, 0.5, 1.0])
    assert np.allclose(improvement.fit(need, need, 0.7), 1.0)
    assert (improvement.fit(1.0, np.array([0.0]), 0.7) < improvement.fit(0.0, np.array([0.0]), 0.7)).all()
    assert (improvement.fit(0.0, np.array([1.0]), 0.7) < improvement.fit(1.0, np.array([1.0]), 0.7)).all()


def test_resistant_academies_gain_less_from_their_trust(opportunity_area):
    model = opportunity_area
    diagnosis.run_term(model)
    capacity.run_term(model)
    goal = model.parameters.model.diagnosis.goal_effectiveness
    need_level = np.clip(diagnosis.true_need(model.schools.effectiveness, goal), 0, 1)
    model.schools.buy_in[:] = 1.0
    bought_in, _ = improvement.effective_support(model, need_level)
    model.schools.buy_in[:] = 0.2
    resisting, _ = improvement.effective_support(model, need_level)
    from_trust = (model.support.by_source.trust_givers + model.support.by_source.central_team) > 0
    assert from_trust.any()
    assert (resisting[from_trust] < bought_in[from_trust]).all()


def test_prescriptive_support_improves_behaviour_of_weak_schools_first():
    model = make_model("seed=6", "model.improvement.behaviour_drift_per_year=0.0")
    schools = model.schools
    diagnosis.run_term(model)
    capacity.run_term(model)
    before = schools.behaviour.copy()
    improvement.run_term(model)
    goal = model.parameters.model.diagnosis.goal_effectiveness
    supported = schools.support_received > 0.05
    weak = supported & (schools.effectiveness < goal - 0.5)
    strong = schools.effectiveness > goal + 0.5
    change = schools.behaviour - before
    assert weak.any() and strong.any()
    assert change[weak].mean() > change[strong].mean()


def test_better_heads_raise_potential(opportunity_area):
    model = opportunity_area
    model.schools.leadership[:] = 0.4
    low = improvement.potential(model).copy()
    model.schools.leadership[:] = 0.8
    assert (improvement.potential(model) > low).all()


def test_status_quo_starts_in_equilibrium():
    """With shocks off, the first term moves mean effectiveness by little."""
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=7",
                       "model.improvement.shock_sd=0", "model.improvement.major_shock_size=0")
    before = model.schools.effectiveness.mean()
    model.step()
    assert abs(model.schools.effectiveness.mean() - before) < 0.02
