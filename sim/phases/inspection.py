"""Phase 5, inspection: Ofsted grades schools on its cadence, with noise.

The regime is Ofsted's under the 2019 framework and the short-inspection rules in force
from January 2018 (docs/ODD.md section 7.5). A school is inspected when it is due: about
four years after a good or outstanding grade, within 30 months after requires
improvement, and within about one to two years after inadequate (Ofsted school inspection
handbook 2019; `interval_years_by_grade`), falling up to `interval_jitter_years` early.

- Good and outstanding schools get **ungraded** (section 8) inspections on that cycle. One
  that finds the school may no longer merit its grade, or may now be outstanding,
  schedules a **graded** inspection within `graded_follow_up_years`; one that finds the
  school may be inadequate converts to a graded inspection at once.
- Schools graded requires improvement or inadequate get graded re-inspections.
- A risk signal, effectiveness well below the school's grade, brings a graded inspection
  forward with `risk_inspection_probability_per_term`.

The grade is cut points on effectiveness plus inspector noise. Feedback from an inspection
sharpens the school's self-assessment accuracy; a weak grade raises accountability
pressure (workload, see `sim.phases.workforce`) and leads to structural action in the
yearly phase (academy orders, rebrokering, head replacement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.events import text_codes
from sim.mechanics.grading import grade_from_effectiveness
from sim.parameters import JUDGEMENT, fitted, parameter
from sim.phases import inspection_passes
from sim.sampling import standard_normal
from sim.state import TERMS_PER_YEAR, Grade, grade_index

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



@dataclass(frozen=True)
class InspectionParameters:
    """Ofsted's grades, cadence and noise (docs/ODD.md section 7.5)."""

    cut_points: list[float] = parameter(
        [-1.56, -0.93, 0.23], "effectiveness thresholds between grades 4|3|2|1",
        source="calibrated to Ofsted's grade shares 2018-19", low=-10.0, high=10.0,
        why="calibrated; judgement", length=3, increasing=True)
    noise_sd: float = parameter(
        0.3, "sd of inspectors' error (effectiveness units)", source=fitted("0.11-0.56"),
        low=0.0, high=2.0,
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
    graded_follow_up_years: list[float] = parameter(
        [1.0, 2.0], "an ungraded inspection that finds change schedules a graded one this "
        "many years later (earliest, latest)",
        source="Ofsted school inspection handbook (section 8), 2018-2023: usually within one to two "
               "years", low=0.34, high=5.0, why="Ofsted: 1-2 years; judgement", length=2,
        ordered_pair=True)



def lower_cut_point(grade: np.ndarray, cut_points: list[float],
                    margin: float = 0.0) -> np.ndarray:
    """Effectiveness below which a school no longer merits its grade (less `margin`)."""
    return lower_cut_point_by_grade(cut_points, margin)[grade_index(grade)]


def lower_cut_point_by_grade(cut_points: list[float], margin: float = 0.0) -> np.ndarray:
    """`lower_cut_point` of grades 1-4."""
    return np.array([cut_points[2], cut_points[1], cut_points[0], -np.inf]) - margin


# Outcomes of an ungraded inspection, by follow-up + 2 x converted (as strings already,
# which the event log keeps: no array of text is made and converted every term).
# An ungraded inspection's outcomes, as the event log's codes (`sim.events.text_code`):
# one small integer an event rather than an array of strings.
_OUTCOMES = text_codes(["confirmed", "graded_inspection_next", "converted_to_graded"])


def schedule_next(model: SchoolSystemModel, inspected: np.ndarray, jitter: np.ndarray) -> None:
    """Set the term and type of the next inspection for the schools just graded or confirmed:
    ungraded for good and outstanding schools, graded for the rest."""
    schools, p = model.schools, model.parameters.model.inspection
    interval = np.asarray(p.interval_years_by_grade)[schools.grade[inspected] - 1]
    early = p.interval_jitter_years * jitter
    terms = np.maximum(1, np.round((interval - early) * TERMS_PER_YEAR)).astype(np.int32)
    schools.inspection_due_term[inspected] = model.term + terms
    schools.next_inspection_graded[inspected] = schools.grade[inspected] >= Grade.REQUIRES_IMPROVEMENT


def run_term(model: SchoolSystemModel) -> None:
    schools, p = model.schools, model.parameters.model.inspection
    rng = model.streams.inspection
    n = schools.n
    # Fixed draws per term whatever the policy (common random numbers); inspectors' error
    # is scaled only for the few schools inspected.
    noise = standard_normal(rng, n)
    risk_draw = rng.random(n)
    jitter = rng.random(n)
    graded_noise = standard_normal(rng, n)

    # Ungraded inspections: good and outstanding schools on their cycle (risk assessment
    # brings a graded one forward instead).
    ungraded, graded = inspection_passes.due_for_inspection(
        model.term, schools.inspection_due_term, schools.next_inspection_graded,
        schools.effectiveness, schools.grade, lower_cut_point_by_grade(p.cut_points, p.risk_margin),
        risk_draw, p.risk_inspection_probability_per_term)
    if compiled.worth_compiling(n):
        converted = _ungraded_inspections_compiled(model, ungraded, noise, jitter)
    else:
        converted = _ungraded_inspections(model, ungraded, noise[ungraded] * p.noise_sd,
                                          jitter[ungraded])
    # Graded inspections: those due, and those converted from ungraded ones (no school is
    # both: an ungraded inspection was due as one), in school order; a converted
    # inspection gathers its own evidence, a fresh draw of inspectors' error.
    graded, was_converted = inspection_passes.with_converted(graded, converted,
                                                             compiled.worth_compiling(n))
    if len(graded) == 0:
        return
    if compiled.worth_compiling(n):
        old_grade, new_grade, grades_gained, moved_to_good = \
            inspection_passes.graded_inspections(
                graded, was_converted, noise, graded_noise, jitter, float(p.noise_sd),
                schools.effectiveness, np.asarray(p.cut_points, dtype=np.float64),
                np.asarray(p.interval_years_by_grade, dtype=np.float64),
                float(p.interval_jitter_years), model.term,
                float(model.parameters.model.diagnosis.accuracy_gain_from_inspection),
                schools.grade, schools.previous_grade, schools.self_assessment_accuracy,
                schools.last_inspection_term, schools.last_inspection_graded,
                schools.inspection_due_term, schools.next_inspection_graded)
        model.tallies.grades_gained += int(grades_gained)
        model.tallies.schools_moved_to_good += int(moved_to_good)
        _record_graded(model, graded, old_grade, new_grade)
        return
    old_grade = schools.grade[graded].copy()
    error = np.where(was_converted, graded_noise[graded], noise[graded]) * p.noise_sd
    new_grade = grade_from_effectiveness(schools.effectiveness[graded] + error, p.cut_points)
    schools.previous_grade[graded] = old_grade
    schools.grade[graded] = new_grade
    schools.last_inspection_term[graded] = model.term
    schools.last_inspection_graded[graded] = True
    schedule_next(model, graded, jitter[graded])
    _feedback(model, graded)

    model.tallies.grades_gained += int((old_grade.astype(int) - new_grade).sum())
    model.tallies.schools_moved_to_good += int(
        ((old_grade > Grade.GOOD) & (new_grade <= Grade.GOOD)).sum()
        - ((old_grade <= Grade.GOOD) & (new_grade > Grade.GOOD)).sum())
    _record_graded(model, graded, old_grade, new_grade)


def _record_graded(model: SchoolSystemModel, graded: np.ndarray, old_grade: np.ndarray,
                   new_grade: np.ndarray) -> None:
    model.events.record(
        "inspection", model.term, school=graded, old_grade=old_grade, new_grade=new_grade,
        trust=model.schools.trust[graded], detail="graded")


def _ungraded_inspections(model: SchoolSystemModel, inspected: np.ndarray, error: np.ndarray,
                          jitter: np.ndarray) -> np.ndarray:
    """Short, ungraded inspections of good and outstanding schools; returns the schools
    whose inspection converts at once to a graded one.

    The inspectors' view (effectiveness plus error) either confirms the grade (next
    ungraded inspection on the usual cycle), or suggests the school may have declined or
    may now be outstanding: a graded inspection is then scheduled within
    `graded_follow_up_years` (Ofsted's rule since January 2018), unless the school looks
    inadequate, when the inspection converts to a graded one at once.
    """
    schools, p = model.schools, model.parameters.model.inspection
    if len(inspected) == 0:
        return inspected
    grade = schools.grade[inspected]
    seen = grade_from_effectiveness(schools.effectiveness[inspected] + error, p.cut_points)
    converted = seen == Grade.INADEQUATE
    follow_up = (seen != grade) & ~converted
    confirmed = ~converted & ~follow_up
    schools.last_inspection_term[inspected] = model.term
    schools.last_inspection_graded[inspected] = False
    schedule_next(model, inspected[confirmed], jitter[confirmed])
    low, high = p.graded_follow_up_years
    terms = np.round((low + (high - low) * jitter[follow_up]) * TERMS_PER_YEAR).astype(np.int32)
    schools.inspection_due_term[inspected[follow_up]] = model.term + np.maximum(terms, 1)
    schools.next_inspection_graded[inspected[follow_up]] = True
    _feedback(model, inspected[~converted])
    outcome = _OUTCOMES[follow_up + 2 * converted]
    model.events.record(
        "inspection", model.term, school=inspected, old_grade=grade, new_grade=grade,
        trust=schools.trust[inspected], detail="ungraded",
        outcome=outcome)
    return inspected[converted]


def _ungraded_inspections_compiled(model: SchoolSystemModel, inspected: np.ndarray,
                                   noise: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """`_ungraded_inspections` as one compiled loop (`sim.phases.inspection_passes`), for a
    place big enough to repay it; `noise` and `jitter` are every school's draws."""
    schools, p = model.schools, model.parameters.model.inspection
    if len(inspected) == 0:
        return inspected
    low, high = p.graded_follow_up_years
    outcome, converted = inspection_passes.ungraded_inspections(
        inspected, noise, jitter, float(p.noise_sd), schools.effectiveness, schools.grade,
        np.asarray(p.cut_points, dtype=np.float64),
        np.asarray(p.interval_years_by_grade, dtype=np.float64), float(p.interval_jitter_years),
        float(low), float(high), model.term,
        float(model.parameters.model.diagnosis.accuracy_gain_from_inspection),
        schools.self_assessment_accuracy, schools.last_inspection_term,
        schools.last_inspection_graded, schools.inspection_due_term,
        schools.next_inspection_graded)
    grade = schools.grade[inspected]
    model.events.record(
        "inspection", model.term, school=inspected, old_grade=grade, new_grade=grade,
        trust=schools.trust[inspected], detail="ungraded",
        outcome=_OUTCOMES[outcome])
    return converted


def _feedback(model: SchoolSystemModel, inspected: np.ndarray) -> None:
    """An inspection's feedback sharpens the school's view of itself."""
    gain = model.parameters.model.diagnosis.accuracy_gain_from_inspection
    accuracy = model.schools.self_assessment_accuracy
    accuracy[inspected] += gain * (1.0 - accuracy[inspected])
