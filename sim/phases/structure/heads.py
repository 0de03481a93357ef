"""Heads come and go (step 1 of the yearly phase).

Heads leave (`head_leaving_rate`) and are replaced more often after an inadequate grade
this year; a trust appoints from its own pool (seed 002: staff leave, fall ill; seed 004:
"supporting and deploying leadership"). A new head resets tenure and costs the school some
self-assessment accuracy, which otherwise drifts back to the school's usual level.

For England who gets a new head, and the new head, are one compiled pass over the schools
(`_replace_compiled`); its numpy twin serves smaller places (a test runs both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.sampling import standard_normal
from sim.state import Grade, per_school, trust_index

# A new head's capacity: never none at all, at most the scale's top (0-1; judgement).
HEAD_CAPACITY_RANGE = (0.05, 1.0)
_INADEQUATE = int(Grade.INADEQUATE)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def replace_heads(model: SchoolSystemModel, year_start: int) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.yearly("heads", model.term)
    n = schools.n
    leave_draw, replace_draw, quality_draw = rng.random(n), rng.random(n), standard_normal(rng, n)
    mean = model.parameters.population.leadership_mean
    keep_accuracy = 1.0 - model.parameters.model.diagnosis.accuracy_loss_new_head
    if compiled.worth_compiling(n):
        found = np.empty(n, np.int64)
        rows = found[:_replace_compiled(
            leave_draw, replace_draw, quality_draw, schools.grade, schools.last_inspection_term,
            year_start, p.head_leaving_rate, p.head_replacement_after_inadequate,
            schools.trust, model.trusts.leadership_pool, mean, p.new_head_sd,
            *HEAD_CAPACITY_RANGE, keep_accuracy, schools.leadership, schools.head_tenure_terms,
            schools.self_assessment_accuracy, found)].copy()  # the log keeps what it is given
    else:
        inadequate_this_year = (schools.grade == Grade.INADEQUATE) & (
            schools.last_inspection_term >= year_start)
        replaced = (leave_draw < p.head_leaving_rate) | (
            inadequate_this_year & (replace_draw < p.head_replacement_after_inadequate))
        rows = np.flatnonzero(replaced)
        # The pool a new head comes from: the usual one, plus the trust's own (0 for a
        # school in no trust: adding 0.0 leaves the usual pool as it is).
        pool = mean + per_school(model.trusts.leadership_pool, trust_index(schools.trust[rows]))
        schools.leadership[rows] = np.clip(pool + p.new_head_sd * quality_draw[rows],
                                           *HEAD_CAPACITY_RANGE)
        schools.head_tenure_terms[rows] = 0
        schools.self_assessment_accuracy[rows] *= keep_accuracy
    model.events.record("head_replaced", model.term, school=rows, trust=schools.trust[rows])


@compiled.kernel
def _replace_compiled(leave_draw: np.ndarray, replace_draw: np.ndarray,
                      quality_draw: np.ndarray, grade: np.ndarray,
                      last_inspection_term: np.ndarray, year_start: int, leaving_rate: float,
                      replacement_rate: float, trust: np.ndarray, leadership_pool: np.ndarray,
                      mean: float, new_head_sd: float, low: float, high: float,
                      keep_accuracy: float, leadership: np.ndarray, tenure: np.ndarray,
                      accuracy: np.ndarray, replaced: np.ndarray) -> int:
    """`replace_heads` in one pass over the schools, after the year's draws: a school whose
    head leaves, or that was judged inadequate this year and replaces its head, gets a new
    head (capacity drawn round its pool, tenure reset, accuracy lost) and is listed in
    `replaced`; returns how many. Only +, * and comparisons: the twin's values exactly."""
    count = 0
    for school in range(len(grade)):
        if leave_draw[school] < leaving_rate or (
                grade[school] == _INADEQUATE and last_inspection_term[school] >= year_start
                and replace_draw[school] < replacement_rate):
            row = trust[school]
            pool = mean + (leadership_pool[row] if row >= 0 else 0.0)
            leadership[school] = min(max(pool + new_head_sd * quality_draw[school], low), high)
            tenure[school] = 0
            accuracy[school] *= keep_accuracy
            replaced[count] = school
            count += 1
    return count


def drift_accuracy(model: SchoolSystemModel) -> None:
    schools = model.schools
    drift = model.parameters.model.diagnosis.accuracy_drift_per_year
    schools.self_assessment_accuracy += drift * (model.usual_accuracy
                                                 - schools.self_assessment_accuracy)

