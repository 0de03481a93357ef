"""Phase 5, inspection (`sim.phases.inspection`): who is inspected, and the grade they get.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np

from sim.mechanics.grading import grade_from_effectiveness
from sim.phases import inspection
from tests.conftest import make_model


def test_grades_follow_the_cut_points():
    cuts = [-1.0, 0.0, 1.0]
    effectiveness = np.array([-2.0, -0.5, 0.5, 1.5, -1.0, 1.0])
    assert grade_from_effectiveness(effectiveness, cuts).tolist() == [4, 3, 2, 1, 3, 1]


def test_only_schools_that_are_due_are_inspected_and_rescheduled():
    model = make_model("seed=8", "model.inspection.risk_inspection_probability_per_term=0",
                       "model.inspection.noise_sd=0", "model.inspection.interval_jitter_years=0")
    schools = model.schools
    due = model.term >= schools.inspection_due_term
    graded = due & schools.next_inspection_graded
    grade_before = schools.grade.copy()
    last_before = schools.last_inspection_term.copy()
    inspection.run_term(model)
    inspected = schools.last_inspection_term != last_before
    assert (inspected == due).all()
    cuts = model.parameters.model.inspection.cut_points
    seen = grade_from_effectiveness(schools.effectiveness, cuts)
    # A graded inspection gives the grade the cut points give (no noise here), and an
    # ungraded one keeps the grade unless it converts (the school looks inadequate).
    converted = due & ~graded & (seen == 4)
    assert (schools.grade[graded | converted] == seen[graded | converted]).all()
    kept = due & ~graded & ~converted
    assert (schools.grade[kept] == grade_before[kept]).all()
    interval = np.asarray(model.parameters.model.inspection.interval_years_by_grade)
    expected = model.term + np.round(interval[schools.grade - 1] * 3)
    confirmed = kept & (seen == grade_before)
    on_cycle = graded | converted | confirmed
    assert (schools.inspection_due_term[on_cycle] == expected[on_cycle]).all()
    assert schools.next_inspection_graded[kept & ~confirmed].all()


def test_inspection_feedback_sharpens_self_assessment():
    model = make_model("seed=8")
    before = model.schools.self_assessment_accuracy.copy()
    due = model.term >= model.schools.inspection_due_term
    inspection.run_term(model)
    assert (model.schools.self_assessment_accuracy[due] > before[due]).all()


def test_inspection_noise_is_what_makes_grades_differ_from_cut_points():
    model = make_model("seed=8", "model.inspection.noise_sd=1.0")
    due = model.term >= model.schools.inspection_due_term
    inspection.run_term(model)
    cuts = model.parameters.model.inspection.cut_points
    agreement = (model.schools.grade[due] ==
                 grade_from_effectiveness(model.schools.effectiveness[due], cuts)).mean()
    assert agreement < 0.9


def test_inspections_per_term_have_no_wave():
    """Schools start at a uniform position in their own inspection cycle (as in a cycle that
    has run for years), so the number of inspections per term stays within 20% of its mean
    from the first term: no wave of schools all due at once."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=3", "horizon_years=6",
                       "output.school_panel=false")
    model.run()
    events = model.results().events
    per_term = events[events["kind"] == "inspection"].groupby("term").size()
    assert len(per_term) == model.horizon_terms
    ratio = per_term / per_term.mean()
    assert ratio.between(0.8, 1.2).all(), ratio.round(2).tolist()


def test_the_graded_and_converted_inspections_merge_the_same_compiled_or_not():
    """`inspection_passes.with_converted`: the merge's compiled pass and its numpy twin
    give the same schools, in school order, and the same flags, for no conversions, no
    due graded inspections, neither, and both interleaved."""
    from sim.phases import inspection_passes

    rng = np.random.default_rng(2)
    schools = rng.permutation(500)
    cases = [(np.sort(schools[:40]), np.sort(schools[40:70])), (np.sort(schools[:40]),
             np.zeros(0, np.int64)), (np.zeros(0, np.int64), np.sort(schools[:9])),
             (np.zeros(0, np.int64), np.zeros(0, np.int64))]
    for graded, converted in cases:
        merged, flags = inspection_passes.with_converted(graded, converted, True)
        expected, expected_flags = inspection_passes.with_converted(graded, converted, False)
        assert merged.dtype == expected.dtype and np.array_equal(merged, expected)
        assert np.array_equal(flags, expected_flags)
        assert np.array_equal(merged[flags], converted)
