"""Phase 2, diagnosis (`sim.phases.diagnosis`): perceived need and self-assessment.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np

from sim.phases import diagnosis


def test_perfect_self_assessment_sees_true_need(opportunity_area):
    schools = opportunity_area.schools
    schools.self_assessment_accuracy[:] = 1.0
    diagnosis.run_term(opportunity_area)
    goal = opportunity_area.parameters.model.diagnosis.goal_effectiveness
    assert np.allclose(schools.perceived_need, diagnosis.true_need(schools.effectiveness, goal))


def test_lower_accuracy_means_larger_errors_in_perceived_need(opportunity_area):
    schools = opportunity_area.schools
    goal = opportunity_area.parameters.model.diagnosis.goal_effectiveness
    errors = []
    for accuracy in (0.9, 0.2):
        schools.self_assessment_accuracy[:] = accuracy
        diagnosis.run_term(opportunity_area)
        errors.append(np.abs(schools.perceived_need
                             - diagnosis.true_need(schools.effectiveness, goal)).mean())
    assert errors[1] > 2 * errors[0]
