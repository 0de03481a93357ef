"""Trust growth and mergers (steps 5 to 7 of the yearly phase).

Good or better maintained schools convert: most join a nearby MAT, some found a new MAT
with neighbours, the rest become single-academy trusts. Single-academy trusts join MATs,
a few MAT academies transfer voluntarily to another nearby MAT that accepts them (DfE
academy transfers data counts these with rebrokering), and small MATs merge into nearby
larger ones. Then trusts update: central teams follow size, reputation is refreshed, and
prescriptiveness adapts to the trust's mix of schools (seed 004 finding 2).

For England, who converts and who moves voluntarily are each found in one compiled pass
over the schools (`_converters`, `_movers`); their numpy twins serve smaller places (a
test runs a year's conversions and transfers both ways).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.events import text_code
from sim.mechanics import trust_counts
from sim.mechanics.brokering import Broker
from sim.mechanics.neighbours import schools_within
from sim.mechanics.trusts import NEW_TRUST_REPUTATION
from sim.phases.structure.brokering import BrokeringRound
from sim.state import NEVER, Governance, Grade, TrustKind, trust_index

# A MAT whose mix of schools is England's prefers the mean prescriptiveness: 14% of
# England's schools were graded below good in 2019 (Ofsted, 86% good or outstanding).
ENGLAND_SHARE_BELOW_GOOD = 0.14
# No trust prescribes everything or nothing (judgement).
PRESCRIPTIVENESS_RANGE = (0.05, 0.95)
_MAINTAINED, _MULTI_ACADEMY_TRUST = int(Governance.MAINTAINED), int(Governance.MULTI_ACADEMY_TRUST)
_GOOD = int(Grade.GOOD)
# The details of converters' joins, as the event log's codes (`sim.events.text_code`).
_FOUNDED_MAT, _CONVERTED, _CONVERTED_SINGLE = (
    text_code(text) for text in ("founded_mat", "converted", "converted_single"))

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def convert_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    """Good or better maintained schools convert, one after another in school order: a
    converter that joins a MAT asks in a brokering round (and becomes a single-academy
    trust if no MAT takes it), one that founds a MAT takes nearby maintained schools with
    it, and one swept into a neighbour's new MAT before its turn has none.

    Worked out in three steps with the result of taking the converters one at a time. Who
    a founder takes depends only on which schools are still maintained at its turn, and by
    then every converter before it has converted, whatever its round gave; and founders
    take no trust's place in the round. So the founders go first (`_founders`), then the
    round is settled for the joiners not swept in, then the converters' trusts are founded
    and their joins made, in the converters' order."""
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.yearly("conversions", model.term)
    draw, route = rng.random(schools.n), rng.random(schools.n)
    rates = np.asarray(p.conversion_rate_by_phase, np.float64)
    if compiled.worth_compiling(schools.n):
        found = np.empty(schools.n, np.int64)
        converting = found[:_converters(schools.governance, schools.grade,
                                        schools.awaiting_sponsor_since_term,
                                        schools.sponsor_trust, schools.phase, rates, draw,
                                        found)].copy()
    else:
        converting = np.flatnonzero(
            (schools.governance == Governance.MAINTAINED) & (schools.grade <= Grade.GOOD)
            & ~schools.under_academy_order & (draw < rates[schools.phase]))
    joins_mat = route[converting] < p.converter_joins_mat_share
    forms_mat = ~joins_mat & (route[converting] < p.converter_joins_mat_share
                              + p.converter_forms_mat_share)
    joining = converting[joins_mat]
    brokering = BrokeringRound(broker, joining, exclude=np.full(len(joining), -1), rng=rng)
    founding_sizes = rng.integers(p.new_mat_founding_schools[0],
                                  p.new_mat_founding_schools[1] + 1, size=len(converting))
    founders = _founders(model, converting, forms_mat, founding_sizes)
    # Swept into a new MAT: a founding school that founds none itself.
    founding = np.zeros(schools.n, bool)
    founding[np.concatenate([[], *founders.values()]).astype(np.int64)] = True
    swept = founding[converting]
    swept[list(founders)] = False
    taken_by = np.full(len(converting), -1, np.int64)
    taken_by[joins_mat] = brokering.settle(skip=np.flatnonzero(swept[joins_mat]))
    # In the converters' order: the new trusts, founded at once, and every join at once.
    school_order, trust_order, reasons, single = [], [], [], []
    new_trusts: list[tuple[TrustKind, int, int, int]] = []  # kind, hub, first join, joins
    # Plain lists: the loop reads single entries, which lists give up several times faster.
    converter, taken = converting.tolist(), taken_by.tolist()
    for index in np.flatnonzero(~swept).tolist():
        school = converter[index]
        if index in founders:
            members = founders[index].tolist()
            new_trusts.append((TrustKind.MULTI_ACADEMY_TRUST, school, len(trust_order),
                               len(members)))
            school_order += members
            trust_order += [-1] * len(members)
            reasons += [_FOUNDED_MAT] * len(members)
            single += [False] * len(members)
            continue
        trust = taken[index]
        joined = trust >= 0
        if not joined:
            new_trusts.append((TrustKind.SINGLE_ACADEMY_TRUST, school, len(trust_order), 1))
        school_order.append(school)
        trust_order.append(trust)
        reasons.append(_CONVERTED if joined else _CONVERTED_SINGLE)
        single.append(not joined)
    rows = broker.create_trusts([kind for kind, *_ in new_trusts],
                                [hub for _, hub, *_ in new_trusts])
    for (_, _, first, joins), row in zip(new_trusts, rows, strict=True):
        trust_order[first:first + joins] = [row] * joins
    broker.join(np.array(school_order, np.int64), np.array(trust_order, np.int64),
                np.array(reasons, np.int16), single=np.array(single, bool))


def _founders(model: SchoolSystemModel, converting: np.ndarray, forms_mat: np.ndarray,
              founding_sizes: np.ndarray) -> dict[int, np.ndarray]:
    """For each converter that founds a MAT at its turn (by its index among the
    converters), the founding schools, itself first: up to `size - 1` of the nearest good
    maintained schools of any phase within half the hub radius not under an order, as they
    stand at its turn (every converter before it has converted; the schools taken by the
    founders before it are gone). A founder taken by an earlier one founds nothing."""
    schools = model.schools
    radius_km = model.parameters.model.trusts.hub_radius_km / 2
    maintained = schools.governance == Governance.MAINTAINED
    founders: dict[int, np.ndarray] = {}
    converted_up_to = 0
    forming = np.flatnonzero(forms_mat)
    # Every would-be founder's neighbourhood in one search (schools do not move); who of
    # them is still free is judged in turn below.
    neighbourhoods = schools_within(model, schools.x_km[converting[forming]],
                                    schools.y_km[converting[forming]], radius_km)
    for index, nearby in zip(forming.tolist(), neighbourhoods, strict=True):
        school = int(converting[index])
        maintained[converting[converted_up_to:index]] = False
        converted_up_to = index
        if not maintained[school]:
            continue  # already swept into a new MAT founded by a neighbour this year
        point = (schools.x_km[school], schools.y_km[school])
        near = np.hypot(schools.x_km[nearby] - point[0], schools.y_km[nearby] - point[1])
        # Not under an academy order: not waiting for a sponsor, nor placed with one.
        eligible = (maintained[nearby] & (schools.grade[nearby] <= Grade.GOOD)
                    & (schools.awaiting_sponsor_since_term[nearby] == NEVER)
                    & (schools.sponsor_trust[nearby] < 0) & (near < radius_km)
                    & (nearby != school))
        partners = nearby[eligible][np.argsort(near[eligible], kind="stable")]
        founders[index] = np.concatenate([[school], partners[:founding_sizes[index] - 1]]) \
            .astype(np.int64)
        maintained[founders[index]] = False
    return founders


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
    free = schools.awaiting_sponsor_since_term[members] == NEVER
    asking, members = asking[free], members[free]
    brokering = BrokeringRound(broker, members, exclude=asking, rng=rng)
    taken_by = brokering.settle()
    joined = np.flatnonzero(taken_by >= 0)
    broker.join(members[joined], taken_by[joined], "single_academy_trust_joined")
    for trust in asking[joined].tolist():
        model.close_trust(trust)


def transfer_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools = model.schools
    rate = model.parameters.model.structure.voluntary_transfer_rate
    rng = model.streams.yearly("transfers", model.term)
    draw = rng.random(schools.n)
    if compiled.worth_compiling(schools.n):
        found = np.empty(schools.n, np.int64)
        movers = found[:_movers(schools.governance, schools.awaiting_sponsor_since_term, draw,
                                rate, found)].copy()
    else:
        movers = np.flatnonzero((schools.governance == Governance.MULTI_ACADEMY_TRUST)
                                & ~schools.awaiting_sponsor & (draw < rate))
    brokering = BrokeringRound(broker, movers, exclude=schools.trust[movers].astype(np.int64),
                               rng=rng)
    taken_by = brokering.settle()
    moving = taken_by >= 0
    broker.join(movers[moving], taken_by[moving], "voluntary_transfer")


def merge_small_trusts(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.structure
    draw = model.streams.yearly("mergers", model.term).random(trusts.n)
    small = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
                           & (broker.sizes <= p.small_mat_max_schools)
                           & (draw < p.small_mat_merger_rate))
    # The small trusts' schools, in school order, found in one pass over the schools.
    is_small = np.zeros(trusts.n + 1, bool)
    is_small[small + 1] = True
    rows = np.flatnonzero(is_small[trust_index(schools.trust)])
    listed: dict[int, list[int]] = {}
    for school, trust in zip(rows.tolist(), schools.trust[rows].tolist(), strict=True):
        listed.setdefault(trust, []).append(school)
    members_of = {trust: np.array(members, np.int64) for trust, members in listed.items()}
    # A trust looks for partners round its first school (the lowest row) on this year's map.
    small = np.array([trust for trust in small.tolist() if trust in members_of], np.int64)
    pairs = broker.candidates(np.array([members_of[trust][0] for trust in small.tolist()],
                                       np.int64), p.search_radius_km)
    # Mergers are agreed one after another, each on the trusts as the ones before left
    # them (`members_of`, `sizes`), and made in batches of joins: a batch is made before a
    # merger that would move a school it already moves (a trust that took one in).
    sizes = broker.sizes.copy()
    batch: list[tuple[np.ndarray, int]] = []
    in_batch = np.zeros(schools.n, bool)
    for position, trust in enumerate(small.tolist()):
        members = members_of.pop(trust)
        if len(members) == 0:
            continue
        candidates = pairs.trust[pairs.of(position)]
        larger = candidates[(candidates != trust) & trusts.active[candidates]
                            & (sizes[candidates] > len(members))]
        if len(larger) == 0:
            continue
        if in_batch[members].any():
            _merge(broker, batch)
            batch, in_batch[:] = [], False
        # Mergers are agreed whole, outside the growth cap.
        target = int(larger[0])
        batch.append((members, target))
        in_batch[members] = True
        if target in members_of:  # a small trust yet to have its turn grows
            members_of[target] = np.sort(np.concatenate([members_of[target], members]))
        sizes[target] += len(members)
        sizes[trust] -= len(members)
        model.close_trust(trust)
    _merge(broker, batch)


def _merge(broker: Broker, batch: list[tuple[np.ndarray, int]]) -> None:
    """Join each merging trust's schools to the trust it merges into, in turn."""
    if batch:
        broker.join(np.concatenate([members for members, _ in batch]),
                    np.concatenate([np.full(len(members), target) for members, target in batch]),
                    "merger")


def adapt_prescriptiveness(model: SchoolSystemModel, sizes: np.ndarray,
                           weak: np.ndarray) -> None:
    """Trusts become more prescriptive the more weak schools they hold (seed 004 finding 2).

    "Below average performing" trusts "working to stabilise underperforming schools tended
    to be more prescriptive", while "above average performers" were "consciously resisting"
    standardisation. Each MAT closes `prescriptiveness_adaptation_per_year` of the gap to
    `prescriptiveness_mean + prescriptiveness_mix_slope x (share below good - ENGLAND_SHARE_BELOW_GOOD)`,
    kept within `PRESCRIPTIVENESS_RANGE`. `sizes` and `weak` count each trust's members
    and those graded below good.
    """
    trusts, rules = model.trusts, model.parameters.model.trusts
    weak_share = np.divide(weak, sizes, out=np.zeros(trusts.n), where=sizes > 0)
    preferred = np.clip(rules.prescriptiveness_mean
                        + rules.prescriptiveness_mix_slope * (weak_share - ENGLAND_SHARE_BELOW_GOOD),
                        *PRESCRIPTIVENESS_RANGE)
    mats = trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    trusts.prescriptiveness = np.where(
        mats, trusts.prescriptiveness + rules.prescriptiveness_adaptation_per_year
        * (preferred - trusts.prescriptiveness), trusts.prescriptiveness)


def update_trusts(model: SchoolSystemModel) -> None:
    trusts = model.trusts
    capacity = model.parameters.model.capacity
    # Members, their grades and the weak among them, in one count (compiled for England).
    sizes, grade_sum, weak = trust_counts.tally_grades(model.schools, trusts.n)
    mat = trusts.kind == TrustKind.MULTI_ACADEMY_TRUST
    trusts.central_team_fte = np.where(
        mat & trusts.active,
        capacity.central_team_base_fte + capacity.central_team_fte_per_school * sizes, 0.0)
    trusts.reputation = np.divide(grade_sum, sizes, out=np.full(trusts.n, NEW_TRUST_REPUTATION),
                                  where=sizes > 0)
    adapt_prescriptiveness(model, sizes, weak)
    # A MAT left with no schools closes.
    for trust in np.flatnonzero(trusts.active & mat & (sizes == 0)):
        model.close_trust(int(trust))


@compiled.kernel
def _converters(governance: np.ndarray, grade: np.ndarray, awaiting_since: np.ndarray,
                sponsor_trust: np.ndarray, phase: np.ndarray, rates: np.ndarray,
                draw: np.ndarray, converting: np.ndarray) -> int:
    """The schools that convert this year, in one pass (`convert_voluntarily`): good or
    better maintained schools under no academy order whose draw falls below their phase's
    conversion rate, listed in `converting`; returns how many."""
    count = 0
    for school in range(len(governance)):
        # The rarest condition first: the branch is then mostly foreseen.
        if (draw[school] < rates[phase[school]] and governance[school] == _MAINTAINED
                and grade[school] <= _GOOD and awaiting_since[school] == NEVER
                and sponsor_trust[school] < 0):
            converting[count] = school
            count += 1
    return count


@compiled.kernel
def _movers(governance: np.ndarray, awaiting_since: np.ndarray, draw: np.ndarray,
            rate: float, movers: np.ndarray) -> int:
    """The MAT academies not waiting to move whose draw falls below `rate`, in one pass
    (`transfer_voluntarily`), listed in `movers`; returns how many."""
    count = 0
    for school in range(len(governance)):
        if (draw[school] < rate and governance[school] == _MULTI_ACADEMY_TRUST
                and awaiting_since[school] == NEVER):
            movers[count] = school
            count += 1
    return count
