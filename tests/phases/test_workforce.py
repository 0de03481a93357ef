"""Phase 1, workforce (`sim.phases.workforce`): teacher flows, workload and vacancies.

Comparisons use common random numbers: the same seed with one parameter changed, so the
difference comes from the parameter.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanics.rates import per_term
from tests.conftest import make_model

SEEDS = range(4)


def final_mean_effectiveness(*overrides: str, seeds=SEEDS) -> np.ndarray:
    values = []
    for seed in seeds:
        model = make_model("horizon_years=3", f"seed={seed}", *overrides)
        model.run()
        values.append(model.schools.effectiveness.mean())
    return np.asarray(values)


def test_workforce_counts_stay_consistent(opportunity_area):
    schools = opportunity_area.schools
    for _ in range(6):
        opportunity_area.step()
        assert (schools.teachers >= 0).all()
        assert (schools.early_career_year1 >= 0).all() and (schools.early_career_year2 >= 0).all()
        assert (schools.experienced >= 0).all()
        assert (schools.vacancies >= 0).all()
        assert (schools.teachers <= schools.establishment).all()


def test_more_workload_means_more_teachers_leave():
    low = make_model("seed=3", "model.workforce.maintained_data_reporting=0.0")
    high = make_model("seed=3", "model.workforce.maintained_data_reporting=0.6")
    leavers = []
    for model in (low, high):
        total = 0
        for _ in range(6):
            model.step()
            total += model.schools.leavers.sum()
        leavers.append(total)
    assert leavers[1] > 1.2 * leavers[0]


def test_tighter_teacher_supply_leaves_more_posts_vacant():
    rates = []
    for supply in (1.0, 0.7):
        model = make_model("seed=2", f"scenario.teacher_supply={supply}", "horizon_years=2")
        model.run()
        rates.append(model.results().timeseries["vacancy_rate"].mean())
    assert rates[1] > 2 * rates[0]


def test_more_turnover_gives_lower_effectiveness():
    """Turnover that rises after the start lowers effectiveness. (Set from the start, it
    would be part of the place at rest, which each group of schools is held at.)"""
    differences = []
    for seed in SEEDS:
        means = []
        for churning in (False, True):
            model = make_model("horizon_years=3", f"seed={seed}")
            if churning:
                rates = model.parameters.model.workforce
                object.__setattr__(rates, "leaving_rate_mid_career", 0.25)
                object.__setattr__(rates, "moving_rate", 0.25)
            model.run()
            means.append(model.schools.effectiveness.mean())
        differences.append(means[1] - means[0])
    difference = np.asarray(differences)
    assert difference.mean() < 0
    assert abs(difference.mean()) > 2 * difference.std(ddof=1) / np.sqrt(len(difference))


def test_per_term_probability_compounds_to_the_yearly_rate():
    assert 1 - (1 - per_term(0.1)) ** 3 == pytest.approx(0.1)
