"""Schools moving into trusts (`Broker.join`): the school arrays written and the broker's
counts kept in step, the schools taken in turn.

Each joining school leaves its old trust (if any) and joins its new one: its trust and
governance are written, its wait for a sponsor and its academy order end, and the broker
counts it out of the old trust's size, givers and takers and into the new one's, with a
join this year for a school into a MAT. What the join's events need (the trust left, the
wait, the order, whether the school was maintained) is read before. For England that is
one compiled pass over the joining schools (`_join_compiled`); its numpy twin, for smaller
places, gathers and writes with numpy and counts with `trust_counts.count_joins`. A test
runs both on the same joins. The joins' events are one compiled pass too (`join_events`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics import trust_counts
from sim.state import NEVER, Governance, Grade

if TYPE_CHECKING:
    from sim.mechanics.brokering import Broker

_REQUIRES_IMPROVEMENT = int(Grade.REQUIRES_IMPROVEMENT)
_MAINTAINED = int(Governance.MAINTAINED)
_SINGLE_ACADEMY_TRUST = int(Governance.SINGLE_ACADEMY_TRUST)
_MULTI_ACADEMY_TRUST = int(Governance.MULTI_ACADEMY_TRUST)


@dataclass
class Joined:
    """What a batch of joins found, one entry a join."""

    old: np.ndarray  # int64, the trust the school left (-1: none)
    since: np.ndarray  # int64, when its wait began (its order, if placed); NEVER if none
    ordered: np.ndarray  # int64, the term of its academy order; NEVER if none
    converting: np.ndarray  # bool, a maintained school converting
    opening: np.ndarray  # int64, the joins into a MAT of `new_hub_min_schools` or more


def apply_joins(broker: Broker, school: np.ndarray, trust: np.ndarray, single: np.ndarray,
                placed: bool) -> Joined:
    """Move `school` into `trust`, in turn (a school appears once). A `placed` school is
    already counted among its sponsor's takers and joins; a `single` one converts into the
    single-academy trust just founded for it (counted as its one member, nothing more)."""
    model = broker.model
    schools = model.schools
    hub_min_schools = model.parameters.model.structure.new_hub_min_schools
    if compiled.worth_compiling(schools.n):
        moves, old, since, ordered, converting, opening = _join_compiled(
            school, trust, single, placed, hub_min_schools, schools.trust, schools.governance,
            schools.awaiting_sponsor_since_term, schools.academy_order_term,
            schools.sponsor_trust, schools.opening_term, schools.grade, schools.is_giver,
            broker.sizes, broker.givers, broker.takers, model.trusts.joins_this_year)
    else:
        into_mat = ~single
        old = schools.trust[school].astype(np.int64)
        since = (schools.academy_order_term if placed
                 else schools.awaiting_sponsor_since_term)[school].astype(np.int64)
        weak = (schools.grade[school] >= Grade.REQUIRES_IMPROVEMENT) & into_mat
        giver = schools.is_giver[school] & into_mat
        ordered = schools.academy_order_term[school].astype(np.int64)
        converting = schools.governance[school] == Governance.MAINTAINED
        moves = int(np.count_nonzero(old >= 0))
        schools.trust[school] = trust
        schools.governance[school] = np.where(single, Governance.SINGLE_ACADEMY_TRUST,
                                              Governance.MULTI_ACADEMY_TRUST)
        schools.awaiting_sponsor_since_term[school] = NEVER
        schools.academy_order_term[school] = NEVER  # an order ends when the school joins
        if placed:
            schools.sponsor_trust[school] = -1
            schools.opening_term[school] = NEVER
        opening, _ = trust_counts.count_joins(broker, model.trusts.joins_this_year, old, trust,
                                              giver, weak, into_mat, placed, hub_min_schools)
    model.tallies.trust_moves_this_year += moves
    return Joined(old, since, ordered, converting, opening)


@compiled.kernel
def _join_compiled(school: np.ndarray, trust: np.ndarray, single: np.ndarray, placed: bool,
                   hub_min_schools: int, school_trust: np.ndarray, governance: np.ndarray,
                   awaiting_since: np.ndarray, order_term: np.ndarray,
                   sponsor_trust: np.ndarray, opening_term: np.ndarray, grade: np.ndarray,
                   is_giver: np.ndarray, sizes: np.ndarray, givers: np.ndarray,
                   takers: np.ndarray, joins: np.ndarray,
                   ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`apply_joins` in one pass: for each join in turn, read what its events need (`old`,
    `since`, `ordered`, `converting`), write the school's arrays, and count it out of its
    old trust and into its new one (`sizes`, `givers`, `takers`, and `joins` this year).
    Returns how many of the schools left a trust, those four, and the joins into a MAT of
    `hub_min_schools` or more just after it joins (`opening`: those may open a hub)."""
    n = len(school)
    old, since, ordered = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    converting, opens = np.empty(n, np.bool_), np.empty(n, np.int64)
    n_opening = 0
    moves = 0
    for join in range(len(school)):
        row, joining = school[join], trust[join]
        into_mat = not single[join]
        leaves = school_trust[row]
        old[join] = leaves
        since[join] = order_term[row] if placed else awaiting_since[row]
        ordered[join] = order_term[row]
        converting[join] = governance[row] == _MAINTAINED
        gives = 1.0 if into_mat and is_giver[row] else 0.0
        takes = 1.0 if into_mat and grade[row] >= _REQUIRES_IMPROVEMENT else 0.0
        school_trust[row] = joining
        governance[row] = _MULTI_ACADEMY_TRUST if into_mat else _SINGLE_ACADEMY_TRUST
        awaiting_since[row] = NEVER
        order_term[row] = NEVER  # an order ends when the school joins
        if placed:
            sponsor_trust[row] = -1
            opening_term[row] = NEVER
        if leaves >= 0:
            moves += 1
            sizes[leaves] -= 1.0
            givers[leaves] -= gives
            takers[leaves] -= takes
        sizes[joining] += 1.0
        givers[joining] += gives
        if not placed:
            takers[joining] += takes
            if into_mat:
                joins[joining] += 1
        if into_mat and sizes[joining] >= hub_min_schools:
            opens[n_opening] = join
            n_opening += 1
    return moves, old, since, ordered, converting, opens[:n_opening]


@compiled.kernel
def join_events(school: np.ndarray, trust: np.ndarray, old: np.ndarray, since: np.ndarray,
                ordered: np.ndarray, converting: np.ndarray, single: np.ndarray,
                reasons: np.ndarray, reason: int, term: int, record: bool, conversion: int,
                join: int, sponsored: int, converter: int,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           np.ndarray]:
    """A batch of joins' events in one pass (`Broker.join`, whose numpy twin interleaves
    them): for each join in turn, its conversion if the school was maintained (detail
    `sponsored`, with its wait since its order, or `converter`), then its join if `record`
    (detail: its code in `reasons`, or `reason` for all if `reasons` is empty; the wait
    since `since`, none for a single-academy trust). The texts are the event log's codes.
    Returns the kind codes, schools, trusts, old trusts, detail codes and waits; -1 where
    a column does not apply."""
    n = 0
    for at in range(len(school)):
        n += (1 if converting[at] else 0) + (1 if record else 0)
    kind, detail = np.empty(n, np.int16), np.empty(n, np.int16)
    school_of, trust_of = np.empty(n, np.int64), np.empty(n, np.int64)
    old_trust, wait = np.empty(n, np.int64), np.empty(n, np.int64)
    row = 0
    for at in range(len(school)):
        if converting[at]:
            was_ordered = ordered[at] != NEVER
            kind[row], school_of[row], trust_of[row] = conversion, school[at], trust[at]
            old_trust[row] = -1
            detail[row] = sponsored if was_ordered else converter
            wait[row] = term - ordered[at] if was_ordered else -1
            row += 1
        if record:
            kind[row], school_of[row], trust_of[row] = join, school[at], trust[at]
            old_trust[row] = old[at]
            detail[row] = reasons[at] if len(reasons) else reason
            wait[row] = -1 if single[at] else (term - since[at] if since[at] != NEVER else 0)
            row += 1
    return kind, school_of, trust_of, old_trust, detail, wait
