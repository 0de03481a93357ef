"""Trust growth and mergers (steps 5 to 7 of the yearly phase).

Good or better maintained schools convert: most join a nearby MAT, some found a new MAT
with neighbours, the rest become single-academy trusts. Single-academy trusts join MATs,
a few MAT academies transfer voluntarily to another nearby MAT that accepts them (DfE
academy transfers data counts these with rebrokering), and small MATs merge into nearby
larger ones. Then trusts update: central teams follow size, reputation is refreshed, and
prescriptiveness adapts to the trust's mix of schools (seed 004 finding 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.brokering import Broker
from sim.mechanics.trusts import NEW_TRUST_REPUTATION
from sim.phases.structure.brokering import BrokeringRound
from sim.state import Governance, Grade, TrustKind, count_by_trust, trust_index

# A MAT whose mix of schools is England's prefers the mean prescriptiveness: 14% of
# England's schools were graded below good in 2019 (Ofsted, 86% good or outstanding).
ENGLAND_SHARE_BELOW_GOOD = 0.14
# No trust prescribes everything or nothing (judgement).
PRESCRIPTIVENESS_RANGE = (0.05, 0.95)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def convert_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.yearly("conversions", model.term)
    draw, route = rng.random(schools.n), rng.random(schools.n)
    rate = np.asarray(p.conversion_rate_by_phase)[schools.phase]
    converting = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade <= Grade.GOOD)
        & ~schools.under_academy_order & (draw < rate))
    joins_mat = route[converting] < p.converter_joins_mat_share
    forms_mat = ~joins_mat & (route[converting] < p.converter_joins_mat_share
                              + p.converter_forms_mat_share)
    joining = converting[joins_mat]
    brokering = BrokeringRound(broker, joining, exclude=np.full(len(joining), -1), rng=rng)
    founding_sizes = rng.integers(p.new_mat_founding_schools[0],
                                  p.new_mat_founding_schools[1] + 1, size=len(converting))
    joining_position = np.cumsum(joins_mat) - 1
    for index, school in enumerate(converting):
        if schools.governance[school] != Governance.MAINTAINED:
            continue  # already swept into a new MAT founded by a neighbour this year
        if joins_mat[index]:
            trust = brokering.decide(int(joining_position[index]))
            if trust >= 0:
                broker.join(int(school), trust, "converted")
                continue
        elif forms_mat[index]:
            found_new_mat(model, broker, int(school), int(founding_sizes[index]))
            continue
        become_single_academy_trust(model, broker, int(school))


def found_new_mat(model: SchoolSystemModel, broker: Broker, school: int, size: int) -> None:
    """A converter founds a MAT of `size` with nearby good maintained schools of the same phase."""
    schools = model.schools
    radius_km = model.parameters.model.trusts.hub_radius_km / 2
    point = (schools.x_km[school], schools.y_km[school])
    nearby = np.sort(np.asarray(model.school_tree.query_ball_point(point, radius_km), np.int64))
    near = np.hypot(schools.x_km[nearby] - point[0], schools.y_km[nearby] - point[1])
    eligible = ((schools.governance[nearby] == Governance.MAINTAINED)
                & (schools.grade[nearby] <= Grade.GOOD) & ~schools.under_academy_order[nearby]
                & (near < radius_km) & (nearby != school))
    partners, near = nearby[eligible], near[eligible]
    partners = partners[np.argsort(near, kind="stable")][: size - 1]
    founders = np.concatenate([[school], partners]).astype(np.int64)
    trust = broker.create_trust(TrustKind.MULTI_ACADEMY_TRUST, hub_school=school)
    for founder in founders:
        broker.join(int(founder), trust, "founded_mat")


def become_single_academy_trust(model: SchoolSystemModel, broker: Broker, school: int) -> None:
    trust = broker.create_trust(TrustKind.SINGLE_ACADEMY_TRUST, hub_school=school)
    broker.sizes[trust] = 1
    model.network.set_trust(model.schools, school, trust)
    model.schools.governance[school] = Governance.SINGLE_ACADEMY_TRUST
    model.events.record_one("conversion", model.term, school=school, trust=trust,
                            detail="converter")
    model.events.record_one("join", model.term, school=school, trust=trust,
                            detail="converted_single", old_trust=-1)


def single_academy_trusts_join(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts = model.schools, model.trusts
    rate = model.parameters.model.structure.single_academy_trust_joins_mat_rate
    rng = model.streams.yearly("single_academy_trusts", model.term)
    draw = rng.random(trusts.n)
    asking = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.SINGLE_ACADEMY_TRUST)
                            & (draw < rate) & (broker.sizes == 1))
    in_trust = np.flatnonzero(schools.trust >= 0)
    school_of_trust = np.full(trusts.n, -1, np.int64)
    school_of_trust[schools.trust[in_trust]] = in_trust  # the only member, for a SAT
    members = school_of_trust[asking]
    free = ~schools.awaiting_sponsor[members]
    asking, members = asking[free], members[free]
    brokering = BrokeringRound(broker, members, exclude=asking, rng=rng)
    for position, target in brokering.accepted_in_turn():
        broker.join(int(members[position]), target, "single_academy_trust_joined")
        model.close_trust(int(asking[position]))


def transfer_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools = model.schools
    rate = model.parameters.model.structure.voluntary_transfer_rate
    rng = model.streams.yearly("transfers", model.term)
    draw = rng.random(schools.n)
    movers = np.flatnonzero((schools.governance == Governance.MULTI_ACADEMY_TRUST)
                            & ~schools.awaiting_sponsor & (draw < rate))
    brokering = BrokeringRound(broker, movers, exclude=schools.trust[movers].astype(np.int64),
                               rng=rng)
    for position, target in brokering.accepted_in_turn():
        broker.join(int(movers[position]), target, "voluntary_transfer")


def merge_small_trusts(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.structure
    draw = model.streams.yearly("mergers", model.term).random(trusts.n)
    small = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
                           & (broker.sizes <= p.small_mat_max_schools)
                           & (draw < p.small_mat_merger_rate))
    # A trust looks for partners round its first school (the lowest row) on this year's map.
    in_trust = np.flatnonzero(schools.trust >= 0)
    first_school = np.full(trusts.n, -1, np.int64)
    first_school[schools.trust[in_trust[::-1]]] = in_trust[::-1]
    small = small[first_school[small] >= 0]
    pairs = broker.candidates(first_school[small], p.search_radius_km)
    for position, trust in enumerate(small):
        members = np.flatnonzero(schools.trust == trust)
        if len(members) == 0:
            continue
        candidates = pairs.trust[pairs.of(position)]
        larger = candidates[(candidates != trust) & trusts.active[candidates]
                            & (broker.sizes[candidates] > len(members))]
        if len(larger) == 0:
            continue
        for school in members:  # mergers are agreed whole, outside the growth cap
            broker.join(int(school), int(larger[0]), "merger")
        model.close_trust(int(trust))


def adapt_prescriptiveness(model: SchoolSystemModel, sizes: np.ndarray) -> None:
    """Trusts become more prescriptive the more weak schools they hold (seed 004 finding 2).

    "Below average performing" trusts "working to stabilise underperforming schools tended
    to be more prescriptive", while "above average performers" were "consciously resisting"
    standardisation. Each MAT closes `prescriptiveness_adaptation_per_year` of the gap to
    `prescriptiveness_mean + prescriptiveness_mix_slope x (share below good - ENGLAND_SHARE_BELOW_GOOD)`,
    kept within `PRESCRIPTIVENESS_RANGE`.
    """
    schools, trusts, rules = model.schools, model.trusts, model.parameters.model.trusts
    weak = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT,
                          trust_index(schools.trust), trusts.n)
    weak_share = np.divide(weak, sizes, out=np.zeros(trusts.n), where=sizes > 0)
    preferred = np.clip(rules.prescriptiveness_mean
                        + rules.prescriptiveness_mix_slope * (weak_share - ENGLAND_SHARE_BELOW_GOOD),
                        *PRESCRIPTIVENESS_RANGE)
    mats = trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    trusts.prescriptiveness = np.where(
        mats, trusts.prescriptiveness + rules.prescriptiveness_adaptation_per_year
        * (preferred - trusts.prescriptiveness), trusts.prescriptiveness)


def update_trusts(model: SchoolSystemModel) -> None:
    schools, trusts = model.schools, model.trusts
    capacity = model.parameters.model.capacity
    sizes = count_by_trust(None, trust_index(schools.trust), trusts.n)
    mat = trusts.kind == TrustKind.MULTI_ACADEMY_TRUST
    trusts.central_team_fte = np.where(
        mat & trusts.active,
        capacity.central_team_base_fte + capacity.central_team_fte_per_school * sizes, 0.0)
    grade_sum = np.bincount(schools.trust[schools.trust >= 0],
                            weights=schools.grade[schools.trust >= 0], minlength=trusts.n)
    trusts.reputation = np.divide(grade_sum, sizes, out=np.full(trusts.n, NEW_TRUST_REPUTATION),
                                  where=sizes > 0)
    adapt_prescriptiveness(model, sizes)
    # A MAT left with no schools closes.
    for trust in np.flatnonzero(trusts.active & mat & (sizes == 0)):
        model.close_trust(int(trust))
