"""Phase 2, diagnosis: each school's perceived need, and who seeks support.

A school's true need is the gap between its effectiveness and the goal of a secure good
(`goal_effectiveness`). It sees its own effectiveness with an error whose spread shrinks
with its self-assessment accuracy, and perceives its need as the gap from that view
(seed 003: peer review validates self-assessment).

The area (the local authority, and whoever spends an improvement budget) sees each
school's need through the school's own report, unless a local measuring system gives it a
view with error `policy_effects.area_view_error_sd` (seed 003: a measuring system that
"must create rich data to help target support").

Schools whose perceived need passes `taker_need_threshold`, or whose latest grade is below
good, are capacity takers this term. Self-assessment accuracy drifts back towards the
school's usual level each year and is refreshed by inspection feedback (see
`sim.phases.inspection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.parameters import JUDGEMENT, parameter
from sim.sampling import standard_normal
from sim.state import Grade

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


@dataclass(frozen=True)
class DiagnosisParameters:
    """Each school's view of its own need (docs/ODD.md section 7.2)."""

    goal_effectiveness: float = parameter(
        -0.68, "effectiveness schools aim for (a secure good); need is the gap to it",
        source=JUDGEMENT, low=-5.0, high=5.0,
        why="-0.68: a secure good, one sd of inspectors' error (0.3) above the good cut point "
            "(-0.98), where a school is judged good five times in six; judgement")
    error_sd: float = parameter(
        0.6, "sd of the error in perceived need at zero self-assessment accuracy", source=JUDGEMENT,
        low=0.0, high=3.0,
        why="effectiveness units (about one sd of England's schools); the high end is that many sds "
            "(judgement); Morris 0.3-0.9")
    taker_need_threshold: float = parameter(
        0.15, "perceived need above which a school seeks support (a capacity taker)",
        source=JUDGEMENT, low=0.0, high=3.0,
        why="effectiveness units (about one sd of England's schools); the high end is that many sds "
            "(judgement)")
    accuracy_gain_from_inspection: float = parameter(
        0.3, "share of the gap to perfect accuracy closed by an inspection's feedback",
        source=JUDGEMENT, low=0.0, high=1.0)
    accuracy_drift_per_year: float = parameter(
        0.1, "share of the gap to the school's usual accuracy closed each year", source=JUDGEMENT,
        low=0.0, high=1.0)
    accuracy_loss_new_head: float = parameter(
        0.3, "share of accuracy lost when a new head starts", source=JUDGEMENT, low=0.0, high=1.0)



def true_need(effectiveness: np.ndarray, goal: float) -> np.ndarray:
    return np.maximum(0.0, goal - effectiveness)


def run_term(model: SchoolSystemModel) -> None:
    schools, p = model.schools, model.parameters.model.diagnosis
    # One draw per school every term, whatever the policy: common random numbers. (Both
    # in one call, the same values as two: each call that hands numba a Generator costs
    # some 35 microseconds of typing and unboxing.)
    both = standard_normal(model.streams.diagnosis, 2 * schools.n, schools.n)
    error, measurement_error = both[:schools.n], both[schools.n:]
    area_error_sd = model.policy_effects.area_view_error_sd
    if compiled.worth_compiling(schools.n):
        schools.perceived_need, schools.is_taker, area_view = _perceive_compiled(
            schools.effectiveness, schools.self_assessment_accuracy, schools.grade, error,
            measurement_error, float(p.error_sd), float(p.goal_effectiveness),
            float(p.taker_need_threshold), area_error_sd is not None,
            0.0 if area_error_sd is None else float(area_error_sd))
        schools.area_view_of_need = schools.perceived_need if area_error_sd is None else area_view
        return
    error_sd = p.error_sd * (1.0 - schools.self_assessment_accuracy)
    seen_effectiveness = schools.effectiveness + error_sd * error
    schools.perceived_need = true_need(seen_effectiveness, p.goal_effectiveness)
    schools.is_taker = (schools.perceived_need > p.taker_need_threshold) | (
        schools.grade >= Grade.REQUIRES_IMPROVEMENT)
    if area_error_sd is None:
        schools.area_view_of_need = schools.perceived_need
    else:
        schools.area_view_of_need = true_need(
            schools.effectiveness + area_error_sd * measurement_error, p.goal_effectiveness)


@compiled.kernel
def _perceive_compiled(effectiveness, self_assessment_accuracy, grade, error, measurement_error,
                       error_sd, goal, taker_need_threshold, area_measures,
                       area_error_sd):  # pragma: no cover
    """`run_term`'s arithmetic as one compiled loop, for a place big enough to repay it
    (`sim.compiled`): perceived need, who seeks support, and (if `area_measures`) the
    area's view of need; the same numbers as numpy's."""
    n = len(effectiveness)
    perceived_need, is_taker = np.empty(n), np.empty(n, np.bool_)
    area_view = np.empty(n if area_measures else 0)
    for i in range(n):
        seen = effectiveness[i] + error_sd * (1.0 - self_assessment_accuracy[i]) * error[i]
        need = max(0.0, goal - seen)
        perceived_need[i] = need
        is_taker[i] = (need > taker_need_threshold) | (grade[i] >= 3)
        if area_measures:
            area_view[i] = max(0.0, goal - (effectiveness[i] + area_error_sd
                                            * measurement_error[i]))
    return perceived_need, is_taker, area_view
