"""The inspection phase's passes over the schools, compiled for a big place.

Three steps of `sim.phases.inspection.run_term` touch many schools: finding who is due (a
pass over every school), the ungraded inspections of the good and outstanding schools due
this term (about a thousand in England each term), and the graded ones (a few hundred).
numpy does each as a few dozen calls with temporary arrays; for England
(`sim.compiled.worth_compiling`) each is one compiled loop:

- `due_for_inspection`: the schools due an ungraded inspection, and those due (or brought
  forward for) a graded one;
- `ungraded_inspections`: each ungraded inspection's outcome, the next inspection it
  schedules and its feedback, written into the school arrays;
- `graded_inspections`: each graded inspection's grade, the next inspection and feedback.

Their numpy twins are `due_for_inspection`'s own numpy path,
`inspection._ungraded_inspections` and `inspection.run_term`'s own graded inspections; the
loops evaluate each expression in numpy's order with numpy's operations (rounding is
`rint`, as `np.round` does it), so the two give the same numbers bit for bit
(tests/phases/test_compiled_passes.py).
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.state import TERMS_PER_YEAR


def due_for_inspection(term: int, inspection_due_term: np.ndarray,
                       next_inspection_graded: np.ndarray, effectiveness: np.ndarray,
                       grade: np.ndarray, risk_line_by_grade: np.ndarray, risk_draw: np.ndarray,
                       risk_probability: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows of the schools due an ungraded inspection, rows of those due a graded one).
    A school is at risk below its grade's `risk_line_by_grade` (grades 1-4); one at
    risk and not due is brought forward when its `risk_draw` falls below
    `risk_probability`."""
    if compiled.worth_compiling(len(grade)):
        return _due_compiled(term, inspection_due_term, next_inspection_graded, effectiveness,
                             grade, risk_line_by_grade, risk_draw, float(risk_probability))
    due = term >= inspection_due_term
    risk = effectiveness < risk_line_by_grade[grade - 1]
    brought_forward = risk & (risk_draw < risk_probability) & ~due
    ungraded = np.flatnonzero(due & ~next_inspection_graded)
    graded = np.flatnonzero((due & next_inspection_graded) | brought_forward)
    return ungraded, graded


@compiled.kernel
def _due_compiled(term, inspection_due_term, next_inspection_graded, effectiveness, grade,
                  risk_line_by_grade, risk_draw, risk_probability):  # pragma: no cover
    n = len(grade)
    ungraded, graded = np.empty(n, np.int64), np.empty(n, np.int64)
    found_ungraded = found_graded = 0
    first, second, third, fourth = risk_line_by_grade
    for i in range(n):
        due = term >= inspection_due_term[i]
        # The line of the school's grade, chosen rather than looked up (grade - 1 of 0
        # would be the last, as numpy's index -1 is).
        graded_as = grade[i]
        line = (first if graded_as == 1 else second if graded_as == 2
                else third if graded_as == 3 else fourth)
        brought_forward = (effectiveness[i] < line) & (risk_draw[i] < risk_probability) \
            & (not due)
        # (each row is written at the next free place, which moves on only if it is due)
        ungraded[found_ungraded] = i
        found_ungraded += due & (not next_inspection_graded[i])
        graded[found_graded] = i
        found_graded += (due & next_inspection_graded[i]) | brought_forward
    return ungraded[:found_ungraded].copy(), graded[:found_graded].copy()


def with_converted(graded: np.ndarray, converted: np.ndarray,
                   compiled_pass: bool) -> tuple[np.ndarray, np.ndarray]:
    """The schools `graded` and `converted` (each in school order, none in both) together
    in school order, and whether each was converted: a merge of the two in one compiled
    pass for a big place (`compiled_pass`), a sort and a search in numpy otherwise."""
    if compiled_pass:
        return _merge_compiled(graded, converted)
    if len(converted):
        graded = np.sort(np.concatenate((graded, converted)))
    was_converted = np.zeros(len(graded), dtype=bool)
    was_converted[np.searchsorted(graded, converted)] = True
    return graded, was_converted


@compiled.kernel
def _merge_compiled(graded, converted):  # pragma: no cover
    count = len(graded) + len(converted)
    merged, was_converted = np.empty(count, np.int64), np.empty(count, np.bool_)
    from_graded = from_converted = 0
    for k in range(count):
        take_converted = from_graded == len(graded) or (
            from_converted < len(converted) and converted[from_converted] < graded[from_graded])
        if take_converted:
            merged[k] = converted[from_converted]
            from_converted += 1
        else:
            merged[k] = graded[from_graded]
            from_graded += 1
        was_converted[k] = take_converted
    return merged, was_converted


@compiled.kernel
def ungraded_inspections(inspected, noise, jitter, noise_sd, effectiveness, grade, cut_points,
                         interval_years_by_grade, interval_jitter_years, follow_up_earliest,
                         follow_up_latest, term, accuracy_gain, self_assessment_accuracy,
                         last_inspection_term, last_inspection_graded, inspection_due_term,
                         next_inspection_graded):  # pragma: no cover
    """`inspection._ungraded_inspections` for the schools `inspected`, with `noise` and
    `jitter` per school (not yet scaled or selected): writes the school arrays, and returns
    each inspection's outcome (0 confirmed, 1 a graded inspection next, 2 converted) and
    the schools whose inspection converted, in the order of `inspected`."""
    outcome = np.empty(len(inspected), np.int64)
    converted_schools = np.empty(len(inspected), np.int64)
    n_converted = 0
    for k in range(len(inspected)):
        i = inspected[k]
        observed = effectiveness[i] + noise[i] * noise_sd
        cuts_passed = 0
        for cut in cut_points:  # `grade_from_effectiveness`: 4 less the cut points passed
            cuts_passed += cut <= observed
        seen = 4 - cuts_passed
        graded_as = grade[i]
        converted = seen == 4
        follow_up = (seen != graded_as) & (not converted)
        last_inspection_term[i] = term
        last_inspection_graded[i] = False
        if follow_up:
            terms = np.int32(np.rint((follow_up_earliest + (follow_up_latest - follow_up_earliest)
                                      * jitter[i]) * TERMS_PER_YEAR))
            inspection_due_term[i] = term + max(terms, 1)
            next_inspection_graded[i] = True
        elif not converted:  # confirmed: the next one on the usual cycle (`schedule_next`)
            interval = interval_years_by_grade[graded_as - 1]
            early = interval_jitter_years * jitter[i]
            inspection_due_term[i] = term + np.int32(
                max(1.0, np.rint((interval - early) * TERMS_PER_YEAR)))
            next_inspection_graded[i] = graded_as >= 3
        if not converted:  # feedback (`inspection._feedback`)
            accuracy = self_assessment_accuracy[i]
            self_assessment_accuracy[i] = accuracy + accuracy_gain * (1.0 - accuracy)
        outcome[k] = follow_up + 2 * converted
        converted_schools[n_converted] = i  # (kept only if converted: no branch)
        n_converted += converted
    return outcome, converted_schools[:n_converted].copy()


@compiled.kernel
def graded_inspections(graded, was_converted, noise, graded_noise, jitter, noise_sd,
                       effectiveness, cut_points, interval_years_by_grade,
                       interval_jitter_years, term, accuracy_gain, grade, previous_grade,
                       self_assessment_accuracy, last_inspection_term, last_inspection_graded,
                       inspection_due_term, next_inspection_graded):  # pragma: no cover
    """The graded inspections of the schools `graded` (`inspection.run_term`'s own numpy
    path, then `schedule_next` and `_feedback`): writes the school arrays; returns the old
    and new grades, the net grades gained and the net moves to good or better. A converted
    inspection (`was_converted`, per graded school) reads `graded_noise`."""
    count = len(graded)
    old_grades, new_grades = np.empty(count, np.int8), np.empty(count, np.int8)
    grades_gained = moved_to_good = 0
    for k in range(count):
        i = graded[k]
        error = (graded_noise[i] if was_converted[k] else noise[i]) * noise_sd
        observed = effectiveness[i] + error
        cuts_passed = 0
        for cut in cut_points:  # `grade_from_effectiveness`: 4 less the cut points passed
            cuts_passed += cut <= observed
        old, new = grade[i], 4 - cuts_passed
        old_grades[k], new_grades[k] = old, new
        previous_grade[i], grade[i] = old, new
        last_inspection_term[i] = term
        last_inspection_graded[i] = True
        early = interval_jitter_years * jitter[i]
        inspection_due_term[i] = term + np.int32(
            max(1.0, np.rint((interval_years_by_grade[new - 1] - early) * TERMS_PER_YEAR)))
        next_inspection_graded[i] = new >= 3
        accuracy = self_assessment_accuracy[i]
        self_assessment_accuracy[i] = accuracy + accuracy_gain * (1.0 - accuracy)
        grades_gained += old - new
        moved_to_good += ((old > 2) & (new <= 2)) - ((old <= 2) & (new > 2))
    return old_grades, new_grades, grades_gained, moved_to_good
