"""Heads come and go (step 1 of the yearly phase).

Heads leave (`head_leaving_rate`) and are replaced more often after an inadequate grade
this year; a trust appoints from its own pool (seed 002: staff leave, fall ill; seed 004:
"supporting and deploying leadership"). A new head resets tenure and costs the school some
self-assessment accuracy, which otherwise drifts back to the school's usual level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.sampling import standard_normal
from sim.state import Grade, per_school, trust_index

# A new head's capacity: never none at all, at most the scale's top (0-1; judgement).
HEAD_CAPACITY_RANGE = (0.05, 1.0)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def replace_heads(model: SchoolSystemModel, year_start: int) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.yearly("heads", model.term)
    n = schools.n
    leave_draw, replace_draw, quality_draw = rng.random(n), rng.random(n), standard_normal(rng, n)
    inadequate_this_year = (schools.grade == Grade.INADEQUATE) & (
        schools.last_inspection_term >= year_start)
    replaced = (leave_draw < p.head_leaving_rate) | (
        inadequate_this_year & (replace_draw < p.head_replacement_after_inadequate))
    rows = np.flatnonzero(replaced)
    if len(rows) == 0:
        return
    # The pool a new head comes from: the usual one, plus the trust's own (0 for a school
    # in no trust: adding 0.0 leaves the usual pool as it is).
    trust_pool = per_school(model.trusts.leadership_pool, trust_index(schools.trust[rows]))
    pool = model.parameters.population.leadership_mean + trust_pool
    schools.leadership[rows] = np.clip(pool + p.new_head_sd * quality_draw[rows],
                                     *HEAD_CAPACITY_RANGE)
    schools.head_tenure_terms[rows] = 0
    loss = model.parameters.model.diagnosis.accuracy_loss_new_head
    schools.self_assessment_accuracy[rows] *= 1.0 - loss
    model.events.record("head_replaced", model.term, school=rows, trust=schools.trust[rows])


def drift_accuracy(model: SchoolSystemModel) -> None:
    schools = model.schools
    drift = model.parameters.model.diagnosis.accuracy_drift_per_year
    schools.self_assessment_accuracy += drift * (model.usual_accuracy
                                                 - schools.self_assessment_accuracy)

