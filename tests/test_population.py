"""The synthetic population: counts, mix and the correlations docs/ODD.md section 5 describes."""

from __future__ import annotations

import numpy as np

from sim.network import PartnershipNetwork
from sim.population import build_population
from sim.state import Governance, Phase, TrustKind
from tests.conftest import make_config, make_model


def test_national_population_has_englands_structure():
    model = make_model("scenario=national", "scenario.scale=0.2", "seed=1")
    schools, trusts = model.schools, model.trusts
    assert schools.n == round(21750 * 0.2)
    phase_share = np.bincount(schools.phase, minlength=4) / schools.n
    assert abs(phase_share[Phase.PRIMARY] - 0.773) < 0.02
    assert abs(phase_share[Phase.SECONDARY] - 0.159) < 0.02
    mats = (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST).sum()
    sats = (trusts.kind == TrustKind.SINGLE_ACADEMY_TRUST).sum()
    assert abs(mats - 250) <= 5 and abs(sats - 230) <= 5
    primary = schools.phase == Phase.PRIMARY
    assert abs(schools.is_academy[primary].mean() - 0.28) < 0.03
    teachers_per_school = schools.teachers.sum() / schools.n
    assert 19 < teachers_per_school < 23  # 468,000 FTE over about 22,000 schools


def test_disadvantage_goes_with_weaker_effectiveness():
    model = make_model("scenario=national", "scenario.scale=0.2", "seed=1")
    correlation = np.corrcoef(model.schools.fsm_share, model.schools.effectiveness)[0, 1]
    assert correlation < -0.2


def test_the_builder_makes_skewed_mats_clustered_round_their_hubs():
    parameters = make_config("scenario=national", "scenario.scale=0.2")
    population = build_population(parameters, np.random.default_rng(1))
    schools, hubs = population.schools, population.hubs
    member = schools.governance == Governance.MULTI_ACADEMY_TRUST
    sizes = np.bincount(schools.trust[member])
    sizes = sizes[sizes > 0]
    assert sizes.min() >= 2 and sizes.max() > 4 * np.median(sizes)
    # Members sit far closer to their own hubs than to a random point of England.
    network = PartnershipNetwork(schools, population.trusts, population.partnership_clusters)
    network.rebuild_matrices(schools, population.trusts, hubs, distance_decay_km=15.0)
    assert np.median(network.nearest_hub_km[member]) < 20


def test_the_builder_is_a_pure_function_of_config_and_seed():
    parameters = make_config("scenario=opportunity_area")
    first = build_population(parameters, np.random.default_rng(5))
    second = build_population(parameters, np.random.default_rng(5))
    other = build_population(parameters, np.random.default_rng(6))
    assert np.array_equal(first.schools.effectiveness, second.schools.effectiveness)
    assert np.array_equal(first.schools.trust, second.schools.trust)
    assert not np.array_equal(first.schools.effectiveness, other.schools.effectiveness)
