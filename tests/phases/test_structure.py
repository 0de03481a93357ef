"""Phase 6, the yearly phase (`sim.phases.structure`): heads, academy orders, brokering
and due diligence, joins.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.mechanics.brokering import Broker
from sim.network import school_node, trust_node
from sim.phases.structure import heads, orders
from sim.phases.structure.brokering import RULES, BrokeringRound
from sim.state import Governance, Grade, Hubs, TrustKind
from tests.conftest import largest_mat, make_model


def test_inadequate_maintained_schools_get_academy_orders(opportunity_area):
    model = opportunity_area
    schools = model.schools
    maintained = np.flatnonzero((schools.governance == Governance.MAINTAINED)
                                & ~schools.under_academy_order)[:5]
    schools.grade[maintained] = Grade.INADEQUATE
    model.term = 2
    orders.issue_academy_orders(model)
    assert (schools.awaiting_sponsor_since_term[maintained] == 2).all()


def test_due_diligence_names_the_rule_that_refused():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9",
                       "model.structure.search_radius_km=1000")
    broker = Broker(model)
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
    brokering = BrokeringRound(broker, np.array([school]), exclude=np.array([-1]),
                               rng=np.random.default_rng(0))
    brokering.settle()
    refusal = np.asarray(("", *RULES))[brokering.refusal[:4]]
    assert refusal.tolist() == ["hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite"]


@pytest.mark.parametrize("minimum_size", [0, sys.maxsize], ids=["compiled", "numpy"])
def test_candidates_are_each_trusts_nearest_hub_nearest_first(monkeypatch, minimum_size):
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    hubs, trusts, schools = model.hubs, model.trusts, model.schools
    # Two MATs with a hub on one spot: their tie goes by trust row.
    mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    hubs.add(int(mats[-1]), hubs.x_km[np.flatnonzero(hubs.trust == mats[0])[0]],
             hubs.y_km[np.flatnonzero(hubs.trust == mats[0])[0]])
    broker = Broker(model)
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
    # A shortlist: the trusts of the hubs on the map within reach no further than each
    # school's 5th nearest there, ties at the cut included (but its own and closed
    # trusts'), nearest first.
    trusts.active[mats[1]] = False
    shortlist = broker.candidates(asking, 30.0, exclude, nearest=5)
    longer = 0  # schools whose list runs past 5 trusts, on a tie at the cut
    for position, school in enumerate(asking):
        dx, dy = schools.x_km[school] - hubs.x_km, schools.y_km[school] - hubs.y_km
        distance = np.sqrt(dx * dx + dy * dy)  # as the shortlist computes it, to the bit
        hub_on_map = np.flatnonzero(on_map & (distance <= 30.0))
        cut = np.sort(distance[hub_on_map])[4] if len(hub_on_map) > 5 else np.inf
        nearest = {}
        for hub in hub_on_map[distance[hub_on_map] <= cut]:
            trust = int(hubs.trust[hub])
            if trust != exclude[position] and trusts.active[trust]:
                nearest[trust] = min(nearest.get(trust, np.inf), distance[hub])
        expected = sorted(nearest, key=lambda trust: (nearest[trust], trust))
        assert shortlist.trust[shortlist.of(position)].tolist() == expected
        assert shortlist.distance_km[shortlist.of(position)].tolist() == [
            nearest[trust] for trust in expected]
        if len(expected) > 5:
            assert (distance[hub_on_map] == cut).sum() > 1
            longer += 1
    assert longer > 0  # the two hubs on one spot tie at some school's cut
    assert np.diff(shortlist.start).max() < np.diff(pairs.start).max()


def test_candidates_and_rounds_cope_with_no_trust_in_reach():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    broker = Broker(model)
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
    model.trusts.hub_radius_km[:] = 0.001
    brokering = BrokeringRound(Broker(model), schools, exclude=np.full(3, -1),
                               rng=np.random.default_rng(0))
    assert len(brokering.pairs.trust) > 0 and brokering.too_far.all()
    assert (brokering.settle() == -1).all()
    position, _, rules = brokering.logged_refusals(5)
    assert len(rules) > 0 and set(position.tolist()) <= {0, 1, 2}
    assert set(rules.tolist()) == {1 + RULES.index("hub_distance")}


def _broker_one_at_a_time(model, broker, schools, exclude, draws, logged):
    """Reference: broker each school in turn with a per-school loop over the trusts of its
    `candidates_per_school` nearest hubs within the search radius, nearest first, as the
    round must. Draws go to the
    trusts within the widest hub radius (the rest cannot accept). Returns the trust each
    school joins (-1 for none) and the first `logged` refusals of each, as (position,
    trust, rule)."""
    trusts = model.trusts
    givers, takers, sizes = broker.givers.copy(), broker.takers.copy(), broker.sizes.copy()
    joins = trusts.joins_this_year.copy()
    structure = model.parameters.model.structure
    pairs = broker.candidates(schools, structure.search_radius_km, exclude,
                              nearest=structure.candidates_per_school)
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
    return taken_by, refusals, (givers, takers, sizes, joins)


@pytest.mark.parametrize("minimum_size", [0, sys.maxsize], ids=["compiled", "numpy"])
def test_a_brokering_round_gives_what_brokering_one_school_at_a_time_gives(
        monkeypatch, minimum_size):
    """The round settles rules for all pairs at once and re-judges only changed trusts; it
    must reach the decisions and refusals of the plain loop, joins changing counts as they
    happen: by the compiled walk and shortlists, and by their numpy twins."""
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools, trusts = model.schools, model.trusts
    trusts.growth_cap_per_year[:] = 1  # make the counts matter: joins close doors
    broker = Broker(model)
    asking = np.random.default_rng(0).permutation(schools.n)[:400]
    exclude = schools.trust[asking].astype(np.int64)
    draws = np.random.default_rng(11).random(100_000)  # what the round's stream will give
    expected, expected_refusals, expected_counts = _broker_one_at_a_time(
        model, broker, asking, exclude, draws, 5)

    brokering = BrokeringRound(broker, asking, exclude=exclude, rng=np.random.default_rng(11))
    taken_by = brokering.settle()
    joined = taken_by >= 0
    broker.join(asking[joined], taken_by[joined], "sponsored")
    assert taken_by.tolist() == expected
    # The round's walk and the joins kept the counts as joining one at a time does.
    for kept, counted in zip((broker.givers, broker.takers, broker.sizes,
                              trusts.joins_this_year), expected_counts, strict=True):
        assert np.array_equal(kept, counted)
    position, trust, code = brokering.logged_refusals(5)
    refusals = [(p, t, RULES[c - 1]) for p, t, c in zip(position, trust, code, strict=True)]
    assert refusals == expected_refusals
    assert 20 < joined.sum() < len(asking) - 20  # both outcomes occur
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
    broker = Broker(model)
    schools = model.schools
    school = int(np.flatnonzero(schools.governance == Governance.MAINTAINED)[0])
    schools.awaiting_sponsor_since_term[school] = model.term
    trust, _ = largest_mat(model)
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
    heads.replace_heads(model, year_start=0)
    assert (schools.head_tenure_terms[failing] == 0).all()
    assert (schools.head_tenure_terms[10:] > 0).all()


def test_joining_many_at_once_is_joining_them_one_at_a_time():
    """`Broker.join` takes a list of schools in turn: the counts, the hubs opened, the
    arrays and the events are those of joining them one by one."""
    overrides = ("scenario=national", "scenario.scale=0.1", "seed=9")
    at_once, one_by_one = make_model(*overrides), make_model(*overrides)
    schools, trusts = at_once.schools, at_once.trusts
    sizes = np.bincount(schools.trust[schools.trust >= 0], minlength=trusts.n)
    small_mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
                                & (sizes < 5))
    rng = np.random.default_rng(5)
    # A few small trusts take many schools from all over: once large enough, their far
    # ones open hubs. Some schools leave a trust another school joins later.
    asking = rng.choice(schools.n, 120, replace=False)
    into = rng.choice(small_mats[:6], len(asking))
    keep = schools.trust[asking] != into
    asking, into = asking[keep], into[keep]
    brokers = Broker(at_once), Broker(one_by_one)
    hubs_before = len(at_once.hubs.trust)
    brokers[0].join(asking, into, "merger")
    for school, trust in zip(asking.tolist(), into.tolist(), strict=True):
        brokers[1].join(school, trust, "merger")
    assert len(at_once.hubs.trust) > hubs_before + 5  # hubs were opened
    for name in ("trust", "governance", "awaiting_sponsor_since_term", "academy_order_term"):
        assert np.array_equal(getattr(schools, name), getattr(one_by_one.schools, name)), name
    for name in ("givers", "takers", "sizes"):
        assert np.array_equal(getattr(brokers[0], name), getattr(brokers[1], name)), name
    assert np.array_equal(trusts.joins_this_year, one_by_one.trusts.joins_this_year)
    for name in ("trust", "x_km", "y_km"):
        assert np.array_equal(getattr(at_once.hubs, name), getattr(one_by_one.hubs, name))
    assert at_once.tallies.trust_moves_this_year == one_by_one.tallies.trust_moves_this_year
    events = [model.events.to_frame(model.schools.urn, model.trusts.trust_id, 2019)
              for model in (at_once, one_by_one)]
    assert events[0].equals(events[1]) and (events[0]["kind"] == "conversion").any()



def test_founding_trusts_at_once_is_founding_them_in_turn():
    """`create_trusts` gives the trusts, hubs and agents that `create_trust` one after
    another gives: the same draws, rows and hub places."""
    kinds = [TrustKind.MULTI_ACADEMY_TRUST, TrustKind.SINGLE_ACADEMY_TRUST,
             TrustKind.MULTI_ACADEMY_TRUST]
    hub_schools = [3, 10, 7]
    made = []
    for at_once in (True, False):
        model = make_model("scenario=opportunity_area", "seed=2")
        if at_once:
            rows = model.create_trusts(kinds, hub_schools)
        else:
            rows = [model.create_trust(kind, school)
                    for kind, school in zip(kinds, hub_schools, strict=True)]
        made.append((rows, model.trusts, model.hubs, len(model.trust_agents)))
    (rows, trusts, hubs, agents), (twin_rows, twin_trusts, twin_hubs, twin_agents) = made
    assert rows == twin_rows and agents == twin_agents
    for table, twin in ((trusts, twin_trusts), (hubs, twin_hubs)):
        for name, column in vars(table).items():
            if isinstance(column, np.ndarray):
                assert np.array_equal(column, getattr(twin, name)), name


def test_dropping_closed_trusts_hubs_keeps_the_others_in_order():
    """`Hubs.drop_trusts` leaves the hubs of every other trust, in their order."""
    trust = np.array([3, 0, 7, 3, 2, 9, 7], np.int32)
    hubs = Hubs(trust.copy(), np.arange(7.0), -np.arange(7.0))
    hubs.drop_trusts(np.array([7, 4, 3]))
    kept = ~np.isin(trust, [7, 4, 3])
    assert np.array_equal(hubs.trust, trust[kept]) and hubs.trust.dtype == np.int32
    assert np.array_equal(hubs.x_km, np.arange(7.0)[kept])
    assert np.array_equal(hubs.y_km, -np.arange(7.0)[kept])
    hubs.drop_trusts(np.array([12]))  # a trust with no hubs
    hubs.drop_trusts(np.zeros(0, np.int64))
    assert np.array_equal(hubs.trust, trust[kept])
