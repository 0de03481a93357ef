"""Phase 5, inspection: Ofsted grades schools on its cadence, with noise.

A school is inspected when it is due: about four years after a good or outstanding grade,
within 30 months after requires improvement, and within about one to two years after
inadequate (Ofsted school inspection handbook 2019; `interval_years_by_grade`), falling
up to `interval_jitter_years` early. A risk signal, effectiveness well below the school's
grade, brings an inspection forward with `risk_inspection_probability_per_term`.

The grade is cut points on effectiveness plus inspector noise. Feedback from an inspection
sharpens the school's self-assessment accuracy; a weak grade raises accountability
pressure (workload, see `sim.phases.workforce`) and leads to structural action in the
yearly phase (academy orders, rebrokering, head replacement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.grading import grade_from_effectiveness
from sim.parameters import JUDGEMENT, parameter
from sim.state import TERMS_PER_YEAR, Grade, grade_index

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



@dataclass(frozen=True)
class InspectionParameters:
    """Ofsted's grades, cadence and noise (docs/ODD.md section 7.5)."""

    cut_points: list[float] = parameter(
        [-1.715, -1.02, 0.915], "effectiveness thresholds between grades 4|3|2|1",
        source="calibrated to Ofsted's grade shares 2018-19", low=-10.0, high=10.0,
        why="calibrated; judgement", length=3, increasing=True)
    noise_sd: float = parameter(
        0.3, "sd of inspectors' error (effectiveness units)", source=JUDGEMENT, low=0.0, high=2.0,
        why="0.3; 2 makes grades nearly random; effectiveness units (about one sd of England's schools); the"
            " high end is that many sds (judgement)")
    interval_years_by_grade: list[float] = parameter(
        [4.0, 4.0, 2.5, 1.5], "years to the next inspection after grade 1-4",
        source="Ofsted school inspection handbook 2019", low=0.34, high=20.0,
        why="Ofsted 2019: 1.5-4; judgement", length=4)
    interval_jitter_years: float = parameter(
        0.5, "inspections fall up to this much before they are due (years)", source=JUDGEMENT,
        low=0.0, high=5.0, why="0.5; judgement")
    risk_margin: float = parameter(
        0.4, "a school this far below its grade's lower cut point raises a risk signal",
        source=JUDGEMENT, low=0.0, high=3.0,
        why="0.4; effectiveness units (about one sd of England's schools); the high end is that many sds "
            "(judgement)")
    risk_inspection_probability_per_term: float = parameter(
        0.15, "chance a school with a risk signal is inspected early in a term", source=JUDGEMENT,
        low=0.0, high=1.0)



def lower_cut_point(grade: np.ndarray, cut_points: list[float]) -> np.ndarray:
    """Effectiveness below which a school no longer merits its grade."""
    lower = np.array([cut_points[2], cut_points[1], cut_points[0], -np.inf])
    return lower[grade_index(grade)]


def schedule_next(model: SchoolSystemModel, inspected: np.ndarray, jitter: np.ndarray) -> None:
    """Set the term of the next inspection for the schools just inspected."""
    schools, p = model.schools, model.parameters.model.inspection
    interval = np.asarray(p.interval_years_by_grade)[schools.grade[inspected] - 1]
    early = p.interval_jitter_years * jitter
    terms = np.maximum(1, np.round((interval - early) * TERMS_PER_YEAR)).astype(np.int32)
    schools.inspection_due_term[inspected] = model.term + terms


def run_term(model: SchoolSystemModel) -> None:
    schools, p = model.schools, model.parameters.model.inspection
    rng = model.streams.inspection
    n = schools.n
    # Fixed draws per term whatever the policy (common random numbers).
    noise = rng.standard_normal(n) * p.noise_sd
    risk_draw = rng.random(n)
    jitter = rng.random(n)

    due = model.term >= schools.inspection_due_term
    risk = schools.effectiveness < lower_cut_point(schools.grade, p.cut_points) - p.risk_margin
    inspected = np.flatnonzero(due | (risk & (risk_draw < p.risk_inspection_probability_per_term)))
    if len(inspected) == 0:
        return
    old_grade = schools.grade[inspected].copy()
    new_grade = grade_from_effectiveness(schools.effectiveness[inspected] + noise[inspected],
                                         p.cut_points)
    schools.previous_grade[inspected] = old_grade
    schools.grade[inspected] = new_grade
    schools.last_inspection_term[inspected] = model.term
    schedule_next(model, inspected, jitter[inspected])

    gain = model.parameters.model.diagnosis.accuracy_gain_from_inspection
    accuracy = schools.self_assessment_accuracy
    accuracy[inspected] += gain * (1.0 - accuracy[inspected])

    model.tallies.grades_gained += int((old_grade.astype(int) - new_grade).sum())
    model.tallies.schools_moved_to_good += int(
        ((old_grade > Grade.GOOD) & (new_grade <= Grade.GOOD)).sum()
        - ((old_grade <= Grade.GOOD) & (new_grade > Grade.GOOD)).sum())
    model.events.record(
        "inspection", model.term, school=inspected, old_grade=old_grade, new_grade=new_grade,
        trust=schools.trust[inspected])
