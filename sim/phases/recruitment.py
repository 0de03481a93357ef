"""Recruitment, step 4 of the workforce phase (`sim.phases.workforce`): each local
authority's open posts are filled from its applicants.

The applicants are the movers who left schools in the authority plus new entrants,
`teacher_supply` applicants per open post. They prefer schools with better grades, lower
workload and less disadvantage: each round offers every open post with a probability
that shares the authority's remaining applicants out in proportion to the schools'
attractiveness times their open posts. A second round re-offers what the first left
over; what is still open stays vacant. The filled posts then go to movers first, in
proportion to the applicants they are, and to new entrants.

For England the per-school passes of each round are compiled loops
(`sim.phases.workforce_kernels`), with numpy's exponentials and the same draws
(`sim.sampling.binomial`); a small place runs the numpy code they are the twins of.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.phases import workforce_kernels
from sim.sampling import binomial
from sim.state import ENGLAND_FSM_MEAN, SchoolArrays, grade_index

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel
    from sim.phases.workforce import WorkforceParameters

ROUNDS = 2


def recruit(model: SchoolSystemModel, movers: np.ndarray, pull: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Fill open posts from each local authority's applicants, by each school's `pull`
    on them (`attractiveness`); `movers` is each school's teachers who moved out this
    term.

    Returns the posts each school filled, and how many of them went to movers (in each
    authority at most its movers: `sim.phases.stage_draws.place_movers` sees to it).
    """
    schools = model.schools
    area, n_areas = model.area_index, model.n_areas
    compiled_loops = compiled.worth_compiling(schools.n)
    if compiled_loops:
        open_posts = np.empty(schools.n, np.int64)
        open_in_area, movers_in_area = np.empty(n_areas), np.empty(n_areas)
        workforce_kernels.open_posts_by_area(schools.establishment, schools.teachers, movers,
                                             area, open_posts, open_in_area, movers_in_area)
    else:
        open_posts = np.maximum(schools.vacancies, 0)
        open_in_area = np.bincount(area, weights=open_posts, minlength=n_areas)
        movers_in_area = np.bincount(area, weights=movers, minlength=n_areas)
    supply = model.parameters.scenario.teacher_supply
    entrants_in_area = np.maximum(0.0, np.round(supply * open_in_area - movers_in_area))
    applicants = movers_in_area + entrants_in_area

    filled = np.zeros(schools.n, dtype=np.int64)
    remaining_applicants = applicants
    # Posts are whole numbers, so each authority's filled posts are added up exactly
    # round by round.
    filled_in_area = np.zeros(n_areas)
    for _ in range(ROUNDS):
        if compiled_loops:
            still_open, probability = np.empty(schools.n, np.int64), np.empty(schools.n)
            workforce_kernels.offer_posts(area, pull, open_posts, filled,
                                          remaining_applicants, still_open, probability)
            new = binomial(rng, still_open, probability)
            new_in_area = np.empty(n_areas)
            workforce_kernels.add_by_area(area, new, filled, new_in_area)
        else:
            still_open = open_posts - filled
            demand = np.bincount(area, weights=pull * still_open, minlength=n_areas)
            ratio = np.divide(remaining_applicants, demand, out=np.zeros(n_areas),
                              where=demand > 0)
            probability = np.clip(ratio[area] * pull, 0, 1)
            new = binomial(rng, still_open, probability)
            filled += new
            new_in_area = np.bincount(area, weights=new, minlength=n_areas)
        remaining_applicants = np.maximum(0.0, remaining_applicants - new_in_area)
        filled_in_area += new_in_area

    # Who filled the posts: movers first in proportion, then new entrants.
    mover_fraction = np.divide(np.minimum(movers_in_area, filled_in_area * movers_in_area
                                          / np.maximum(applicants, 1)),
                               np.maximum(filled_in_area, 1))
    posts_for_movers = binomial(rng, filled, np.clip(mover_fraction, 0, 1)[area])
    return filled, posts_for_movers


def attractiveness(schools: SchoolArrays, p: WorkforceParameters) -> np.ndarray:
    """Each school's pull on applicants: by its grade, lower with higher workload and
    more disadvantage (for England, `sim.phases.workforce.workload_and_pulls` computes it
    with the school's other pulls in compiled passes)."""
    return (np.asarray(p.attractiveness_by_grade)[grade_index(schools.grade)]
            * np.exp(-p.attractiveness_workload_elasticity * (schools.workload - 1.0)
                     - p.attractiveness_disadvantage_elasticity
                     * (schools.fsm_share - ENGLAND_FSM_MEAN)))
