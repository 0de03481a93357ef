"""Academy orders and rebrokering (steps 2 and 3 of the yearly phase): which schools start
waiting for a new trust this year.

Inadequate maintained schools are ordered to become sponsored academies (Education and
Adoption Act 2016); academies with two grades below good in a row, the latest from this
year, are flagged to move trust with `rebrokering_probability`, and one graded good
again while it waits is let off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.rates import per_term
from sim.state import NEVER, TERMS_PER_YEAR, Governance, Grade

_MAINTAINED, _INADEQUATE = int(Governance.MAINTAINED), int(Grade.INADEQUATE)
_GOOD, _REQUIRES_IMPROVEMENT = int(Grade.GOOD), int(Grade.REQUIRES_IMPROVEMENT)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def backdate_academy_orders(model: SchoolSystemModel) -> None:
    """At the start, a maintained school already judged inadequate has been under an
    academy order since that judgement (the law made orders mandatory in 2016), so it
    starts waiting for a sponsor from its last inspection (with `academy_order_probability`)."""
    schools = model.schools
    draw = model.streams.termly("academy_orders", model.term - 1).random(schools.n)
    ordered = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade == Grade.INADEQUATE)
        & ~schools.under_academy_order
        & (draw < model.parameters.model.structure.academy_order_probability))
    since = np.minimum(schools.last_inspection_term[ordered], model.term)
    schools.awaiting_sponsor_since_term[ordered] = since
    schools.academy_order_term[ordered] = since
    # And academies with two grades below good in a row, the latest from the past two
    # years, are flagged for rebrokering as the last yearly phases would have flagged them
    # (those flagged then would still be waiting, or just moved).
    flag_for_rebrokering(model, model.term - (2 * TERMS_PER_YEAR - 1))


def issue_academy_orders(model: SchoolSystemModel) -> tuple[np.ndarray, np.ndarray]:
    """Maintained schools judged inadequate are ordered within the term of the judgement
    (`academy_order_probability` is the chance within a year, drawn each term).

    Returns the schools then waiting for a sponsor (those under a contract wait for its
    end) and the placed schools whose opening term has come: the commissioner's work this
    term, found in the same pass over the schools (one compiled pass for England)."""
    schools, term = model.schools, model.term
    draw = model.streams.termly("academy_orders", term).random(schools.n)
    probability = per_term(model.parameters.model.structure.academy_order_probability)
    if compiled.worth_compiling(schools.n):
        found = np.empty((3, schools.n), np.int64)
        n_ordered, n_waiting, n_opening = _issue_orders(
            schools.governance, schools.grade, schools.awaiting_sponsor_since_term,
            schools.academy_order_term, schools.sponsor_trust, schools.contract_trust,
            schools.opening_term, draw, probability, term, found[0], found[1], found[2])
        # Copies: the event log keeps what it is given, and should not keep the buffer.
        ordered, waiting, opening = (found[0, :n_ordered].copy(), found[1, :n_waiting].copy(),
                                     found[2, :n_opening].copy())
    else:
        ordered = np.flatnonzero(
            (schools.governance == Governance.MAINTAINED) & (schools.grade == Grade.INADEQUATE)
            & ~schools.under_academy_order & (draw < probability))
        schools.awaiting_sponsor_since_term[ordered] = term
        schools.academy_order_term[ordered] = term
        waiting = np.flatnonzero(schools.awaiting_sponsor & ~schools.under_contract)
        opening = np.flatnonzero(schools.placed_with_sponsor & (schools.opening_term <= term))
    model.events.record("academy_order", term, school=ordered, old_grade=schools.grade[ordered])
    return waiting, opening


@compiled.kernel
def _issue_orders(governance: np.ndarray, grade: np.ndarray, awaiting_since: np.ndarray,
                  order_term: np.ndarray, sponsor_trust: np.ndarray,
                  contract_trust: np.ndarray, opening_term: np.ndarray, draw: np.ndarray,
                  probability: float, term: int, ordered: np.ndarray, waiting: np.ndarray,
                  opening: np.ndarray) -> tuple[int, int, int]:
    """`issue_academy_orders` in one pass: a maintained inadequate school under no order
    whose draw falls below `probability` is ordered (its wait and its order start this
    term) and listed in `ordered`; then every school waiting for a sponsor and not under
    contract is listed in `waiting`, and every placed school due to open in `opening`.
    Returns how many each lists."""
    n_ordered = n_waiting = n_opening = 0
    for school in range(len(governance)):
        since, sponsor = awaiting_since[school], sponsor_trust[school]
        # The rarest condition first: the branch is then mostly foreseen.
        if (grade[school] == _INADEQUATE and since == NEVER and sponsor < 0
                and governance[school] == _MAINTAINED and draw[school] < probability):
            since = awaiting_since[school] = order_term[school] = term
            ordered[n_ordered] = school
            n_ordered += 1
        if since != NEVER and contract_trust[school] < 0:
            waiting[n_waiting] = school
            n_waiting += 1
        if sponsor >= 0 and opening_term[school] <= term:
            opening[n_opening] = school
            n_opening += 1
    return n_ordered, n_waiting, n_opening


def flag_for_rebrokering(model: SchoolSystemModel, year_start: int) -> None:
    """Two-below-good academies are flagged; those graded good again are let off (one
    compiled pass for England, after the year's draws)."""
    schools = model.schools
    draw = model.streams.yearly("rebrokering", model.term).random(schools.n)
    probability = model.parameters.model.structure.rebrokering_probability
    if compiled.worth_compiling(schools.n):
        found = np.empty((2, schools.n), np.int64)
        n_recovered, n_flagged = _flag_compiled(
            schools.governance, schools.grade, schools.previous_grade,
            schools.last_inspection_term, schools.awaiting_sponsor_since_term, draw,
            probability, year_start, model.term, found[0], found[1])
        recovered, flagged = found[0, :n_recovered].copy(), found[1, :n_flagged].copy()
    else:
        recovered = np.flatnonzero(schools.is_academy & schools.awaiting_sponsor
                                   & (schools.grade <= Grade.GOOD))
        schools.awaiting_sponsor_since_term[recovered] = NEVER
        flagged = np.flatnonzero(
            schools.is_academy & ~schools.awaiting_sponsor
            & (schools.grade >= Grade.REQUIRES_IMPROVEMENT)
            & (schools.previous_grade >= Grade.REQUIRES_IMPROVEMENT)
            & (schools.last_inspection_term >= year_start) & (draw < probability))
        schools.awaiting_sponsor_since_term[flagged] = model.term
    model.events.record("rebrokering_withdrawn", model.term, school=recovered,
                        trust=schools.trust[recovered], new_grade=schools.grade[recovered])
    model.events.record("rebrokering_ordered", model.term, school=flagged,
                        trust=schools.trust[flagged], old_grade=schools.grade[flagged])


@compiled.kernel
def _flag_compiled(governance: np.ndarray, grade: np.ndarray, previous_grade: np.ndarray,
                   last_inspection_term: np.ndarray, awaiting_since: np.ndarray,
                   draw: np.ndarray, probability: float, year_start: int, term: int,
                   recovered: np.ndarray, flagged: np.ndarray) -> tuple[int, int]:
    """`flag_for_rebrokering` in one pass: an academy waiting to move that is graded good
    or better again is let off (listed in `recovered`); then an academy not waiting, with
    two grades below good in a row, the latest since `year_start`, whose draw falls below
    `probability` starts waiting (listed in `flagged`). Returns how many each lists."""
    n_recovered = n_flagged = 0
    # The rarer conditions first, so that the branches are mostly foreseen. A school let
    # off is graded good or better, so it cannot be flagged the same year.
    for school in range(len(governance)):
        if awaiting_since[school] != NEVER:
            if grade[school] <= _GOOD and governance[school] != _MAINTAINED:
                awaiting_since[school] = NEVER
                recovered[n_recovered] = school
                n_recovered += 1
        elif (grade[school] >= _REQUIRES_IMPROVEMENT
              and previous_grade[school] >= _REQUIRES_IMPROVEMENT
              and last_inspection_term[school] >= year_start
              and governance[school] != _MAINTAINED and draw[school] < probability):
            awaiting_since[school] = term
            flagged[n_flagged] = school
            n_flagged += 1
    return n_recovered, n_flagged
