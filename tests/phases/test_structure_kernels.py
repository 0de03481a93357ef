"""The structure phase's compiled kernels (`sim.compiled`) and their numpy twins give the
same results on the same inputs: a brokering round's shortlists and walk
(`sim.mechanics.shortlist`, `sim.phases.structure.walk`), the broker's per-trust counts
(`sim.mechanics.trust_counts`), the term's academy orders (`orders`) and the year's new
heads (`heads`). The rewrite of the network's matrices is checked in
tests/test_proximity.py.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas.testing

from sim.events import EventLog
from sim.mechanics import joins as joins_module
from sim.mechanics import neighbours, new_hubs, trust_counts
from sim.mechanics.brokering import Broker
from sim.phases.structure import heads, orders
from sim.phases.structure.brokering import BrokeringRound, round_event_columns
from sim.streams import RandomStreams
from tests.conftest import make_model


def test_the_compiled_round_and_its_twin_agree(monkeypatch):
    """The compiled shortlists, judging of pairs and walk (`sim.mechanics.shortlist`,
    `sim.phases.structure.walk`) and their numpy twins give the same pairs, decisions,
    refusals and events on the same round, with counts that close doors and schools that
    move."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools, trusts = model.schools, model.trusts
    trusts.growth_cap_per_year[:] = 2
    broker = Broker(model)
    asking = np.random.default_rng(1).permutation(schools.n)[:600]
    exclude = schools.trust[asking].astype(np.int64)
    moving = np.random.default_rng(2).random(len(asking)) < 0.5
    skip = np.arange(0, len(asking), 9)
    rounds = {}
    for name, minimum_size in (("compiled", 0), ("numpy", sys.maxsize)):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        brokering = BrokeringRound(broker, asking, exclude=exclude,
                                   rng=np.random.default_rng(5), moving=moving)
        taken_by = brokering.settle(skip=skip)
        # The walk's own log (as many as the model logs), and one worked out afterwards.
        logged = (*brokering.logged_refusals(model.parameters.model.structure.candidates_logged),
                  *brokering.logged_refusals(3))
        rounds[name] = (brokering.pairs, taken_by, brokering.refusal.copy(), logged,
                        (brokering.too_far, brokering.unwilling, brokering.initial_capped,
                         brokering.initial_full_for_weak))
    (pairs, taken_by, refusal, logged, static), (twin_pairs, twin_taken_by, twin_refusal,
                                                 twin_logged, twin_static) = \
        rounds["compiled"], rounds["numpy"]
    # Too far, unwilling, and the trusts' standing at the start.
    for rule, twin_rule in zip(static, twin_static, strict=True):
        assert np.array_equal(rule, twin_rule)
    for part in ("position", "trust", "distance_km", "start"):
        assert np.array_equal(getattr(pairs, part), getattr(twin_pairs, part)), part
    assert np.array_equal(taken_by, twin_taken_by)
    assert np.array_equal(refusal, twin_refusal)
    for column, twin_column in zip(logged, twin_logged, strict=True):
        assert np.array_equal(column, twin_column)
    assert (taken_by[skip] == -1).all()
    assert 50 < (taken_by >= 0).sum() < len(asking) - 50  # both outcomes occur
    assert set(np.unique(refusal).tolist()) == {0, 1, 2, 3, 4}  # every rule refuses
    # The round's events, in one compiled pass and by the twin's interleaving.
    wait_terms = np.random.default_rng(3).integers(0, 9, len(asking)).astype(np.int32)
    events = [round_event_columns(asking, logged[:3], taken_by, moving, wait_terms, exclude,
                                  schools.grade[asking], use_kernel) for use_kernel in (True, False)]
    (kind, columns), (twin_kind, twin_columns) = events
    assert kind.dtype == twin_kind.dtype and np.array_equal(kind, twin_kind)
    assert columns.keys() == twin_columns.keys()
    for name, column in columns.items():
        assert column.dtype == twin_columns[name].dtype, name
        assert np.array_equal(column, twin_columns[name]), name



def test_the_broker_counts_members_as_its_twin_does(monkeypatch):
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    # Some weak schools placed with a sponsor: their sponsor counts them as takers.
    ordered = np.flatnonzero(schools.trust < 0)[:40]
    schools.sponsor_trust[ordered] = np.flatnonzero(model.trusts.active)[:40]
    counted = {}
    for name, minimum_size in (("compiled", 0), ("numpy", sys.maxsize)):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        counted[name] = trust_counts.count_members(schools, model.trusts.n)
    for kernel, twin in zip(counted["compiled"], counted["numpy"], strict=True):
        assert np.array_equal(kernel, twin)
    assert all(counts.sum() > 0 for counts in counted["compiled"])


def test_the_trusts_update_tallies_grades_as_its_twin_does(monkeypatch):
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    tallied = {}
    for name, minimum_size in (("compiled", 0), ("numpy", sys.maxsize)):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        tallied[name] = trust_counts.tally_grades(model.schools, model.trusts.n)
    for kernel, twin in zip(tallied["compiled"], tallied["numpy"], strict=True):
        assert np.array_equal(kernel, twin)
    assert all(counts.sum() > 0 for counts in tallied["compiled"])


def test_joins_are_made_as_by_the_twin(monkeypatch):
    """England's compiled joins (`sim.mechanics.joins`) write the schools' arrays, count
    the trusts and read the events' facts as the numpy twin does: joins in turn, one trust
    gaining and losing members across the batch, schools into MATs and single-academy
    trusts, placed or not, from trusts and from none, maintained and academies."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools, trusts = model.schools, model.trusts
    rng = np.random.default_rng(7)
    busy = np.flatnonzero(trusts.active)[:6]
    school = rng.choice(schools.n, 300, replace=False).astype(np.int64)
    schools.trust[school[:100]] = -1
    schools.governance[school[:100]] = 0
    schools.awaiting_sponsor_since_term[school[:50]] = -3
    schools.academy_order_term[school[:50]] = -4
    schools.trust[school[100:]] = rng.choice(busy, 200)
    trust = rng.choice(busy, 300).astype(np.int64)
    single = rng.random(300) < 0.1
    start = {name: value.copy() for name, value in vars(schools).items()}
    start_joins = trusts.joins_this_year.copy()
    for placed in (False, True):
        results = []
        for minimum_size in (0, sys.maxsize):
            monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
            for name, value in start.items():
                setattr(schools, name, value.copy())
            trusts.joins_this_year = joins = start_joins.copy()
            broker = Broker(model)
            joined = joins_module.apply_joins(broker, school, trust, single, placed)
            results.append((joined.old, joined.since, joined.ordered, joined.converting,
                            joined.opening, broker.givers, broker.takers, broker.sizes,
                            joins, schools.trust.copy(), schools.governance.copy(),
                            schools.awaiting_sponsor_since_term.copy(),
                            schools.academy_order_term.copy(), schools.sponsor_trust.copy()))
        for kernel, twin in zip(*results, strict=True):
            assert np.array_equal(kernel, twin)
        assert len(results[0][4]) > 0  # some trusts grew large enough to open hubs


def _both_twins_from_one_start(monkeypatch, model, act) -> list[tuple]:
    """What `act()` returns with every kernel (MIN_SCHOOLS 0) and then with every twin, each
    from the school arrays as they are now, fresh streams of seed 4 (the same draws) and
    an empty event log."""
    schools = model.schools
    start = {name: value.copy() for name, value in vars(schools).items()}
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        for name, value in start.items():
            setattr(schools, name, value.copy())
        model.streams, model.events = RandomStreams(seed=4), EventLog()
        results.append(act())
    return results


def test_academy_orders_are_issued_as_by_the_twin(monkeypatch):
    """The compiled pass of `orders.issue_academy_orders` orders, and finds the waiting
    and opening schools, as its numpy twin does: some schools made inadequate, some placed
    with sponsors (some due to open), some waiting under contract."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    rng = np.random.default_rng(3)
    maintained = np.flatnonzero(schools.governance == 0)
    schools.grade[rng.choice(maintained, 200, replace=False)] = 4
    placed = rng.choice(np.flatnonzero(~schools.under_academy_order), 60, replace=False)
    schools.sponsor_trust[placed] = np.flatnonzero(model.trusts.active)[:60]
    schools.opening_term[placed] = rng.integers(-2, 3, 60)
    waiting = np.flatnonzero(schools.awaiting_sponsor)
    schools.contract_trust[waiting[::3]] = 0
    model.term = 0

    def issue() -> tuple:
        found = orders.issue_academy_orders(model)
        return (*found, schools.awaiting_sponsor_since_term, schools.academy_order_term,
                model.events.count("academy_order"))

    results = _both_twins_from_one_start(monkeypatch, model, issue)
    for kernel, twin in zip(*results, strict=True):
        assert np.array_equal(kernel, twin)
    assert all(len(part) for part in results[0][:2]) and results[0][-1] > 0


def test_joining_schools_meet_their_trusts_hubs_as_in_the_twin():
    """The compiled pairing of joining schools with their trusts' hubs
    (`sim.mechanics.new_hubs`) gives the twin's pairs and offsets in its order: trusts
    with several hubs, none, and several schools joining one trust."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    rng = np.random.default_rng(8)
    trust = rng.choice(np.flatnonzero(model.trusts.active), 300).astype(np.int64)
    school = rng.choice(schools.n, 300, replace=False).astype(np.int64)
    far_from = rng.uniform(1, 30, 300)
    pairs = [new_hubs.own_hub_offsets(model.hubs, school, trust, schools.x_km, schools.y_km,
                                      far_from, model.trusts.n, use_kernel)
             for use_kernel in (True, False)]
    for kernel, twin in zip(*pairs, strict=True):
        assert kernel.dtype == twin.dtype and np.array_equal(kernel, twin)
    assert len(pairs[0][0]) > len(trust)  # some trusts have several hubs


def test_schools_near_a_point_are_the_k_d_trees(monkeypatch):
    """England's grid search for the schools near a point (`sim.mechanics.neighbours`)
    finds what the twin's k-d tree finds, in the same order: round schools, round points
    between them and points off the map, at radii that fall exactly on some distances."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    rng = np.random.default_rng(6)
    at = rng.choice(schools.n, 200, replace=False)
    x = np.concatenate([schools.x_km[at], rng.uniform(-50, 700, 100)])
    y = np.concatenate([schools.y_km[at], rng.uniform(-50, 700, 100)])
    # A radius on the distance between two schools.
    first, second = at[:2]
    exact = float(np.hypot(schools.x_km[first] - schools.x_km[second],
                           schools.y_km[first] - schools.y_km[second]))
    for radius_km in (12.5, 40.0, exact):
        found = []
        for minimum_size in (0, sys.maxsize):
            monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
            found.append(neighbours.schools_within(model, x, y, radius_km))
        for kernel, twin in zip(*found, strict=True):
            assert np.array_equal(kernel, twin)
        assert sum(len(near) for near in found[0]) > len(x)


def test_academies_are_flagged_for_rebrokering_as_by_the_twin(monkeypatch):
    """The compiled pass of `orders.flag_for_rebrokering` lets off and flags the academies
    its numpy twin does: some waiting and graded good again, some twice below good."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    rng = np.random.default_rng(9)
    academies = np.flatnonzero(schools.governance != 0)
    schools.awaiting_sponsor_since_term[rng.choice(academies, 300, replace=False)] = -2
    weak = rng.choice(academies, 1500, replace=False)
    schools.grade[weak], schools.previous_grade[weak] = 3, 4
    schools.last_inspection_term[weak] = rng.integers(-6, 1, len(weak))
    model.term = 2

    def flag() -> tuple:
        orders.flag_for_rebrokering(model, year_start=0)
        return (schools.awaiting_sponsor_since_term, model.events.count("rebrokering_withdrawn"),
                model.events.count("rebrokering_ordered"))

    results = _both_twins_from_one_start(monkeypatch, model, flag)
    for kernel, twin in zip(*results, strict=True):
        assert np.array_equal(kernel, twin)
    assert results[0][1] > 0 and results[0][2] > 0


def test_conversions_and_transfers_are_made_as_by_the_twins(monkeypatch):
    """Placed schools opening, a year's conversions and voluntary transfers, every step
    compiled (who converts and who moves, the rounds, the joins and their events) or every
    step numpy, leave the same schools, trusts and events."""
    from sim.mechanics.brokering import Broker as Commissioner
    from sim.phases.structure import growth

    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
        model.term = 2
        # Some maintained schools placed with sponsors open now (a conversion, then a join).
        schools = model.schools
        opening = np.flatnonzero(schools.governance == 0)[::40][:30]
        schools.sponsor_trust[opening] = np.flatnonzero(model.trusts.active)[:30]
        schools.opening_term[opening] = model.term
        schools.academy_order_term[opening] = np.arange(30) % 3 - 2
        broker = Commissioner(model)
        broker.open_placed_schools()
        growth.convert_voluntarily(model, broker)
        growth.transfer_voluntarily(model, broker)
        events = model.events.to_frame(model.schools.urn, model.trusts.trust_id, 2020)
        results.append((model.schools.trust, model.schools.governance, model.trusts.n, events))
    (trust, governance, n_trusts, events), twin = results
    assert np.array_equal(trust, twin[0]) and np.array_equal(governance, twin[1])
    assert n_trusts == twin[2]
    pandas.testing.assert_frame_equal(events, twin[3])
    assert {"conversion", "join"} <= set(events["kind"].astype(str))
    assert {"sponsored", "converter", "voluntary_transfer"} <= set(events["detail"].dropna())


def test_heads_are_replaced_as_by_the_twin(monkeypatch):
    """The compiled pass of `heads.replace_heads` replaces the heads its numpy twin does,
    with the same new heads: some schools judged inadequate this year, in trusts and not."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    schools = model.schools
    rng = np.random.default_rng(5)
    judged = rng.choice(schools.n, 400, replace=False)
    schools.grade[judged] = 4
    schools.last_inspection_term[judged] = rng.integers(-3, 3, 400)
    model.term = 2

    def replace() -> tuple:
        heads.replace_heads(model, 0)
        return (schools.leadership, schools.head_tenure_terms,
                schools.self_assessment_accuracy, model.events.count("head_replaced"))

    results = _both_twins_from_one_start(monkeypatch, model, replace)
    for kernel, twin in zip(*results, strict=True):
        assert np.array_equal(kernel, twin)
    inadequate_heads = results[0][1][judged[schools.last_inspection_term[judged] >= 0]]
    assert results[0][-1] > 0 and (inadequate_heads == 0).any()
