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

from sim.mechanics.rates import per_term
from sim.state import NEVER, TERMS_PER_YEAR, Governance, Grade

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


def issue_academy_orders(model: SchoolSystemModel) -> None:
    """Maintained schools judged inadequate are ordered within the term of the judgement
    (`academy_order_probability` is the chance within a year, drawn each term)."""
    schools = model.schools
    draw = model.streams.termly("academy_orders", model.term).random(schools.n)
    ordered = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade == Grade.INADEQUATE)
        & ~schools.under_academy_order
        & (draw < per_term(model.parameters.model.structure.academy_order_probability)))
    schools.awaiting_sponsor_since_term[ordered] = model.term
    schools.academy_order_term[ordered] = model.term
    model.events.record("academy_order", model.term, school=ordered,
                        old_grade=schools.grade[ordered])


def flag_for_rebrokering(model: SchoolSystemModel, year_start: int) -> None:
    """Two-below-good academies are flagged; those graded good again are let off."""
    schools = model.schools
    recovered = np.flatnonzero(schools.is_academy & schools.awaiting_sponsor
                               & (schools.grade <= Grade.GOOD))
    schools.awaiting_sponsor_since_term[recovered] = NEVER
    model.events.record("rebrokering_withdrawn", model.term, school=recovered,
                        trust=schools.trust[recovered], new_grade=schools.grade[recovered])
    draw = model.streams.yearly("rebrokering", model.term).random(schools.n)
    flagged = np.flatnonzero(
        schools.is_academy & ~schools.awaiting_sponsor
        & (schools.grade >= Grade.REQUIRES_IMPROVEMENT)
        & (schools.previous_grade >= Grade.REQUIRES_IMPROVEMENT)
        & (schools.last_inspection_term >= year_start)
        & (draw < model.parameters.model.structure.rebrokering_probability))
    schools.awaiting_sponsor_since_term[flagged] = model.term
    model.events.record("rebrokering_ordered", model.term, school=flagged,
                        trust=schools.trust[flagged], old_grade=schools.grade[flagged])

