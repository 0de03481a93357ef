"""One test or more per mechanism: invariants, and the direction each effect must push.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import SchoolSystemModel
from sim.network import school_node, trust_node
from sim.phases import capacity, diagnosis, improvement, inspection, structure, workforce
from sim.population.synthetic import grade_from_effectiveness
from sim.state import Governance, Grade, TrustKind
from tests.conftest import make_model

SEEDS = range(4)


def final_mean_effectiveness(*overrides: str, seeds=SEEDS) -> np.ndarray:
    values = []
    for seed in seeds:
        model = make_model("horizon_years=3", f"seed={seed}", *overrides)
        model.run()
        values.append(model.schools.effectiveness.mean())
    return np.asarray(values)


# -- workforce ------------------------------------------------------------------------

def test_workforce_counts_stay_consistent(opportunity_area):
    schools = opportunity_area.schools
    for _ in range(6):
        opportunity_area.step()
        assert (schools.teachers >= 0).all()
        assert (schools.early_career_year1 >= 0).all() and (schools.early_career_year2 >= 0).all()
        assert (schools.experienced >= 0).all()
        assert (schools.vacancies >= 0).all()
        assert (schools.teachers <= schools.establishment).all()


def test_more_workload_means_more_teachers_leave():
    low = make_model("seed=3", "model.workforce.maintained_data_reporting=0.0")
    high = make_model("seed=3", "model.workforce.maintained_data_reporting=0.6")
    leavers = []
    for model in (low, high):
        total = 0
        for _ in range(6):
            model.step()
            total += model.schools.leavers.sum()
        leavers.append(total)
    assert leavers[1] > 1.2 * leavers[0]


def test_tighter_teacher_supply_leaves_more_posts_vacant():
    rates = []
    for supply in (1.0, 0.7):
        model = make_model("seed=2", f"scenario.teacher_supply={supply}", "horizon_years=2")
        model.run()
        rates.append(model.results().timeseries["vacancy_rate"].mean())
    assert rates[1] > 2 * rates[0]


def test_more_turnover_gives_lower_effectiveness():
    usual = final_mean_effectiveness()
    churning = final_mean_effectiveness("model.workforce.leaving_rate_experienced=0.25",
                                        "model.workforce.moving_rate=0.25")
    difference = churning - usual
    assert difference.mean() < 0
    assert abs(difference.mean()) > 2 * difference.std(ddof=1) / np.sqrt(len(difference))


def test_per_term_probability_compounds_to_the_yearly_rate():
    assert 1 - (1 - workforce.per_term(0.1)) ** 3 == pytest.approx(0.1)


# -- diagnosis ------------------------------------------------------------------------

def test_perfect_self_assessment_sees_true_need(opportunity_area):
    schools = opportunity_area.schools
    schools.self_assessment_accuracy[:] = 1.0
    diagnosis.run_term(opportunity_area)
    goal = opportunity_area.parameters.model.diagnosis.goal_effectiveness
    assert np.allclose(schools.perceived_need, diagnosis.true_need(schools.effectiveness, goal))


def test_lower_accuracy_means_larger_errors_in_perceived_need(opportunity_area):
    schools = opportunity_area.schools
    goal = opportunity_area.parameters.model.diagnosis.goal_effectiveness
    errors = []
    for accuracy in (0.9, 0.2):
        schools.self_assessment_accuracy[:] = accuracy
        diagnosis.run_term(opportunity_area)
        errors.append(np.abs(schools.perceived_need
                             - diagnosis.true_need(schools.effectiveness, goal)).mean())
    assert errors[1] > 2 * errors[0]


# -- capacity -------------------------------------------------------------------------

def _largest_mat(model: SchoolSystemModel) -> tuple[int, np.ndarray]:
    trust = model.schools.trust
    mats = np.flatnonzero(model.trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    sizes = np.array([(trust == t).sum() for t in mats])
    chosen = int(mats[np.argmax(sizes)])
    return chosen, np.flatnonzero(trust == chosen)


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
        _, members = _largest_mat(model)
        _set_up_trust(model, members, n_takers)
        support.append(model.support.trust_givers[members[:n_takers]].mean())
    assert support[1] > 2 * support[0]


def test_overloaded_trust_drains_its_givers_and_a_healthy_one_does_not():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=4")
    trust, members = _largest_mat(model)
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
        _, members = _largest_mat(model)
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
        totals.append(model.support.total.sum())
    assert totals[1] < totals[0]


def test_support_matrix_matches_school_to_school_support(opportunity_area):
    model = opportunity_area
    model.step()
    flows = model.network.support
    received = np.asarray(flows.sum(axis=1)).ravel()
    assert np.allclose(received, model.support.trust_givers + model.support.peers)
    graph = model.network.graph
    support_edges = [d for _, _, k, d in graph.edges(keys=True, data=True) if k == "support"]
    assert len(support_edges) == flows.nnz
    assert all(model.schools.is_giver[d["giver"]] and model.schools.is_taker[d["taker"]]
               for d in support_edges)


# -- improvement ----------------------------------------------------------------------

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
    from_trust = (model.support.trust_givers + model.support.central_team) > 0
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


# -- inspection -----------------------------------------------------------------------

def test_grades_follow_the_cut_points():
    cuts = [-1.0, 0.0, 1.0]
    effectiveness = np.array([-2.0, -0.5, 0.5, 1.5, -1.0, 1.0])
    assert grade_from_effectiveness(effectiveness, cuts).tolist() == [4, 3, 2, 1, 3, 1]


def test_only_schools_that_are_due_are_inspected_and_rescheduled():
    model = make_model("seed=8", "model.inspection.risk_inspection_probability_per_term=0",
                       "model.inspection.noise_sd=0", "model.inspection.interval_jitter_years=0")
    schools = model.schools
    due = model.term >= schools.inspection_due_term
    last_before = schools.last_inspection_term.copy()
    inspection.run_term(model)
    inspected = schools.last_inspection_term != last_before
    assert (inspected == due).all()
    cuts = model.parameters.model.inspection.cut_points
    assert (schools.grade[due] == grade_from_effectiveness(schools.effectiveness[due], cuts)).all()
    interval = np.asarray(model.parameters.model.inspection.interval_years_by_grade)
    expected = model.term + np.round(interval[schools.grade[due] - 1] * 3)
    assert (schools.inspection_due_term[due] == expected).all()


def test_inspection_feedback_sharpens_self_assessment():
    model = make_model("seed=8")
    before = model.schools.self_assessment_accuracy.copy()
    due = model.term >= model.schools.inspection_due_term
    inspection.run_term(model)
    assert (model.schools.self_assessment_accuracy[due] > before[due]).all()


def test_inspection_noise_is_what_makes_grades_differ_from_cut_points():
    model = make_model("seed=8", "model.inspection.noise_sd=1.0")
    due = model.term >= model.schools.inspection_due_term
    inspection.run_term(model)
    cuts = model.parameters.model.inspection.cut_points
    agreement = (model.schools.grade[due] ==
                 grade_from_effectiveness(model.schools.effectiveness[due], cuts)).mean()
    assert agreement < 0.9


# -- structure ------------------------------------------------------------------------

def test_inadequate_maintained_schools_get_academy_orders(opportunity_area):
    model = opportunity_area
    schools = model.schools
    maintained = np.flatnonzero(schools.governance == Governance.MAINTAINED)[:5]
    schools.grade[maintained] = Grade.INADEQUATE
    model.term = 2
    structure.issue_academy_orders(model)
    assert (schools.awaiting_sponsor_since_term[maintained] == 2).all()


def test_due_diligence_names_the_rule_that_refused():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9",
                       "model.structure.search_radius_km=1000")
    broker = structure.Broker(model)
    school = int(np.flatnonzero(model.schools.governance == Governance.MAINTAINED)[0])
    model.schools.grade[school] = Grade.INADEQUATE
    candidates = broker.candidates(np.array([school]), 1_000.0).trust
    trusts = model.trusts
    far, capped, overloaded, unwilling = candidates[:4]
    trusts.hub_radius_km[far] = 0.0
    trusts.hub_radius_km[[capped, overloaded, unwilling]] = 10_000.0
    trusts.joins_this_year[capped] = trusts.growth_cap_per_year[capped]
    broker.givers[overloaded], broker.takers[overloaded] = 1, 5
    broker.givers[unwilling], broker.takers[unwilling] = 100, 0
    trusts.risk_appetite[unwilling] = 0.0  # an inadequate school is accepted with this chance
    brokering = structure.BrokeringRound(broker, np.array([school]), exclude=np.array([-1]))
    brokering.decide(0)
    refusal = np.asarray(("", *structure.RULES))[brokering.refusal[:4]]
    assert refusal.tolist() == ["hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite"]


def test_candidates_are_each_trusts_nearest_hub_nearest_first():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    hubs, trusts, schools = model.hubs, model.trusts, model.schools
    # Two MATs with a hub on one spot: their tie goes by trust row.
    mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    hubs.add(int(mats[-1]), hubs.x_km[np.flatnonzero(hubs.trust == mats[0])[0]],
             hubs.y_km[np.flatnonzero(hubs.trust == mats[0])[0]])
    broker = structure.Broker(model)
    asking = np.arange(0, schools.n, 7)
    exclude = schools.trust[asking].astype(np.int64)
    pairs = broker.candidates(asking, 30.0, exclude)
    on_map = trusts.active[hubs.trust] & (trusts.kind[hubs.trust] == TrustKind.MULTI_ACADEMY_TRUST)
    for position, school in enumerate(asking):
        distance = np.hypot(hubs.x_km - schools.x_km[school], hubs.y_km - schools.y_km[school])
        nearest: dict[int, float] = {}
        for hub in np.flatnonzero(on_map & (distance <= 30.0)):
            trust = int(hubs.trust[hub])
            if trust != exclude[position]:
                nearest[trust] = min(nearest.get(trust, np.inf), distance[hub])
        expected = sorted(nearest, key=lambda trust: (nearest[trust], trust))
        found = pairs.trust[pairs.of(position)].tolist()
        assert found == expected
        # The k-d tree's own distances: equal to np.hypot's but for the last bit.
        np.testing.assert_allclose(pairs.distance_km[pairs.of(position)],
                                   [nearest[t] for t in expected], rtol=1e-14)


def test_candidates_and_rounds_cope_with_no_trust_in_reach():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    broker = structure.Broker(model)
    schools = np.array([0, 1, 2])
    assert len(broker.candidates(schools, 0.001).trust) == 0  # no hub that close
    # Hubs in reach, but every trust either excluded or closed.
    in_reach = broker.candidates(schools[:1], 40.0).trust
    assert len(in_reach) >= 2
    model.trusts.active[in_reach[1:]] = False
    assert len(broker.candidates(schools[:1], 40.0, exclude=in_reach[:1]).trust) == 0
    model.trusts.active[in_reach[1:]] = True
    # A round in which no trust's hub radius reaches any school: nobody is taken, and the
    # log holds the nearest trusts' hub-distance refusals.
    broker.widest_hub_radius_km = 0.001
    brokering = structure.BrokeringRound(broker, schools, exclude=np.full(3, -1))
    assert len(brokering.pairs.trust) == 0
    assert list(brokering.accepted_in_turn()) == []
    position, _, rules = brokering.logged_refusals(5)
    assert len(rules) > 0 and set(position.tolist()) <= {0, 1, 2}
    assert set(rules.tolist()) == {1 + structure.RULES.index("hub_distance")}


def _broker_one_at_a_time(model, broker, schools, exclude, draws, logged):
    """Reference: broker each school in turn with a per-school loop over every trust with
    a hub within the search radius, nearest first, as the round must. Draws go to the
    trusts within the widest hub radius (the rest cannot accept). Returns the trust each
    school joins (-1 for none) and the first `logged` refusals of each, as (position,
    trust, rule)."""
    trusts = model.trusts
    givers, takers, sizes = broker.givers.copy(), broker.takers.copy(), broker.sizes.copy()
    joins = trusts.joins_this_year.copy()
    pairs = broker.candidates(schools, model.parameters.model.structure.search_radius_km, exclude)
    taken_by, refusals, next_draw = [], [], 0
    for position, school in enumerate(schools):
        grade = model.schools.grade[school]
        weak = int(grade >= Grade.REQUIRES_IMPROVEMENT)
        accepted, refused = [], []
        for row in range(pairs.start[position], pairs.start[position + 1]):
            trust, distance = pairs.trust[row], pairs.distance_km[row]
            if distance > broker.widest_hub_radius_km:
                refused.append((position, trust, "hub_distance"))
                continue
            draw, next_draw = draws[next_draw], next_draw + 1
            appetite = trusts.risk_appetite[trust]
            probability = appetite if grade == Grade.INADEQUATE else (
                (1 + appetite) / 2 if grade == Grade.REQUIRES_IMPROVEMENT else 1.0)
            ratio = givers[trust] / (takers[trust] + weak) if takers[trust] + weak else np.inf
            if distance > trusts.hub_radius_km[trust]:
                refused.append((position, trust, "hub_distance"))
            elif joins[trust] >= trusts.growth_cap_per_year[trust]:
                refused.append((position, trust, "growth_cap"))
            elif weak and ratio < trusts.giver_taker_threshold[trust]:
                refused.append((position, trust, "giver_taker_ratio"))
            elif draw > probability:
                refused.append((position, trust, "risk_appetite"))
            else:
                accepted.append(row)
        refusals.extend(refused[:logged])
        if not accepted:
            taken_by.append(-1)
            continue
        best = min(accepted, key=lambda row: (trusts.reputation[pairs.trust[row]],
                                              pairs.distance_km[row]))
        trust, old = pairs.trust[best], model.schools.trust[school]
        giver = int(model.schools.is_giver[school])
        if old >= 0:
            sizes[old] -= 1
            givers[old] -= giver
            takers[old] -= weak
        sizes[trust] += 1
        givers[trust] += giver
        takers[trust] += weak
        joins[trust] += 1
        taken_by.append(int(trust))
    return taken_by, refusals


def test_a_brokering_round_gives_what_brokering_one_school_at_a_time_gives():
    """The round settles rules for all pairs at once and re-judges only changed trusts; it
    must reach the decisions and refusals of the plain loop, joins changing counts as they
    happen."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools, trusts = model.schools, model.trusts
    trusts.growth_cap_per_year[:] = 2  # make the counts matter: joins close doors
    broker = structure.Broker(model)
    asking = np.random.default_rng(0).permutation(schools.n)[:400]
    exclude = schools.trust[asking].astype(np.int64)
    state = model.streams.structure.bit_generator.state
    draws = model.streams.structure.random(100_000)
    model.streams.structure.bit_generator.state = state
    expected, expected_refusals = _broker_one_at_a_time(model, broker, asking, exclude, draws, 5)

    brokering = structure.BrokeringRound(broker, asking, exclude=exclude)
    taken_by = [-1] * len(asking)
    for position, trust in brokering.accepted_in_turn():
        broker.join(int(asking[position]), trust, "sponsored")
        taken_by[position] = trust
    assert taken_by == expected
    position, trust, code = brokering.logged_refusals(5)
    refusals = [(p, t, structure.RULES[c - 1]) for p, t, c in zip(position, trust, code, strict=True)]
    assert refusals == expected_refusals
    assert 20 < sum(t >= 0 for t in taken_by) < len(asking) - 20  # both outcomes occur
    assert {"hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite"} <= {
        rule for *_, rule in refusals}
    assert brokering.radius_km < brokering.search_radius_km  # far trusts were looked up


def test_a_school_no_trust_accepts_is_an_orphan_and_waits():
    model = make_model("seed=1", "model.trusts.giver_taker_threshold=100")
    schools = model.schools
    school = int(np.flatnonzero(schools.governance == Governance.MAINTAINED)[0])
    schools.grade[school] = Grade.INADEQUATE
    schools.context_potential[school] = schools.effectiveness[school] = -6.0  # stays inadequate
    schools.awaiting_sponsor_since_term[school] = 0  # under an academy order from the start
    model.run()  # five years: no trust can ever meet a 100:1 ratio
    assert schools.awaiting_sponsor[school]
    assert schools.governance[school] == Governance.MAINTAINED
    events = model.results().events
    orphan_events = events[(events["kind"] == "orphan") & (events["urn"] == schools.urn[school])]
    assert orphan_events["wait_terms"].is_monotonic_increasing and len(orphan_events) >= 4
    refusals = events[(events["kind"] == "brokering_refusal")
                      & (events["urn"] == schools.urn[school])]
    assert "giver_taker_ratio" in set(refusals["rule"])


def test_joining_a_trust_updates_the_array_the_graph_and_the_events():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    broker = structure.Broker(model)
    schools = model.schools
    school = int(np.flatnonzero(schools.governance == Governance.MAINTAINED)[0])
    schools.awaiting_sponsor_since_term[school] = model.term
    trust, _ = _largest_mat(model)
    broker.join(school, trust, "sponsored")
    graph = model.network.graph
    assert schools.trust[school] == trust
    assert schools.governance[school] == Governance.MULTI_ACADEMY_TRUST
    assert graph.has_edge(school_node(school), trust_node(trust), "member")
    assert not schools.awaiting_sponsor[school]
    assert school in model.network.members_of(trust)
    assert model.events.count("join") == 1


def test_graph_membership_matches_the_arrays_after_a_national_run():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=10", "horizon_years=4")
    model.run()
    graph = model.network.graph
    members = {(u[1] if u[0] == "school" else v[1]): (v[1] if v[0] == "trust" else u[1])
               for u, v, key in graph.edges(keys=True) if key == "member"}
    in_trust = np.flatnonzero(model.schools.trust >= 0)
    assert members == {int(s): int(model.schools.trust[s]) for s in in_trust}
    # Academies belong to an open trust of their kind; maintained schools to none.
    schools, trusts = model.schools, model.trusts
    assert trusts.active[schools.trust[in_trust]].all()
    assert ((schools.governance == Governance.MAINTAINED) == (schools.trust < 0)).all()
    single = schools.governance == Governance.SINGLE_ACADEMY_TRUST
    assert (trusts.kind[schools.trust[single]] == TrustKind.SINGLE_ACADEMY_TRUST).all()


def test_heads_are_replaced_after_an_inadequate_grade():
    model = make_model("seed=2", "model.structure.head_leaving_rate=0",
                       "model.structure.head_replacement_after_inadequate=1")
    schools = model.schools
    model.term = 2
    schools.grade[:] = Grade.GOOD
    schools.head_tenure_terms[:] = 5
    failing = np.arange(10)
    schools.grade[failing] = Grade.INADEQUATE
    schools.last_inspection_term[failing] = 1
    structure.replace_heads(model, year_start=0)
    assert (schools.head_tenure_terms[failing] == 0).all()
    assert (schools.head_tenure_terms[10:] > 0).all()


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

