"""A school's traits as both population builders draw them (synthetic places and places
read from GIAS): the columns every school starts with, its staff, its climate for learning
and its buy-in to a trust's shared practice, and Beta draws for 0-1 capacities."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.state import NEVER, NO_TRUST, TERMS_PER_YEAR, Governance, SchoolArrays

if TYPE_CHECKING:
    from sim.population.synthetic import SyntheticPopulation

# Schools' self-assessment accuracy (0-1) spreads round its mean with this sd (judgement).
ACCURACY_SD = 0.15
# Effectiveness at the inspection before the last differs from that at the last by this
# share of `deviation_sd` (judgement: grades repeat about as often as Ofsted's do).
PREVIOUS_INSPECTION_SPREAD = 0.9
# Climate for learning: better in more effective schools, by this per unit of
# effectiveness, with this sd, within this range (judgement).
BEHAVIOUR_PER_EFFECTIVENESS = 0.12
BEHAVIOUR_SD = 0.08
BEHAVIOUR_RANGE = (0.05, 1.0)
# Buy-in to a trust's shared practice: resistant academies are uniform in this range, the
# rest Beta with these shapes (mean 0.8; seed 004 finding 5, levels a judgement).
RESISTANT_BUY_IN_RANGE = (0.1, 0.4)
BUY_IN_BETA = (8, 2)
# A head in post at the start has been there up to this long (judgement: about the median
# tenure of England's heads, so that tenure is spread and no school starts with a new one).
MAX_STARTING_HEAD_TENURE_YEARS = 8


def new_schools(rng: np.random.Generator, **columns: np.ndarray) -> SchoolArrays:
    """Schools as every builder starts them: maintained, in no trust, not waiting for a
    sponsor, a typical workload, and heads in post for up to `MAX_STARTING_HEAD_TENURE_YEARS` (drawn here)."""
    n = len(columns["urn"])
    return SchoolArrays(
        head_tenure_terms=rng.integers(0, MAX_STARTING_HEAD_TENURE_YEARS * TERMS_PER_YEAR,
                                       n).astype(np.int32),
        workload=np.ones(n),
        governance=np.full(n, Governance.MAINTAINED, dtype=np.int8),
        trust=np.full(n, NO_TRUST, dtype=np.int32),
        awaiting_sponsor_since_term=np.full(n, NEVER, dtype=np.int32),
        **columns,
    )


def draw_behaviour_and_buy_in(effectiveness: np.ndarray, population: SyntheticPopulation,
                              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Climate for learning (better in more effective schools) and buy-in to a trust's
    shared practice (a `resistant_academy_share` resists; seed 004 finding 5)."""
    n = len(effectiveness)
    behaviour = np.clip(population.behaviour_mean
                        + BEHAVIOUR_PER_EFFECTIVENESS * (effectiveness - effectiveness.mean())
                        + rng.normal(0, BEHAVIOUR_SD, n), *BEHAVIOUR_RANGE)
    resistant = rng.random(n) < population.resistant_academy_share
    buy_in = np.where(resistant, rng.uniform(*RESISTANT_BUY_IN_RANGE, n), rng.beta(*BUY_IN_BETA, n))
    return behaviour, buy_in


def draw_staff(establishment: np.ndarray, population: SyntheticPopulation,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teachers in post (a few posts vacant) and early-career teachers in years 1 and 2."""
    vacancies = rng.binomial(establishment, population.starting_vacancy_rate)
    teachers = (establishment - vacancies).astype(np.int32)
    ect1 = rng.binomial(teachers, population.early_career_year1_share).astype(np.int32)
    ect2 = rng.binomial(teachers - ect1, population.early_career_year2_share).astype(np.int32)
    return teachers, ect1, ect2


def beta_from_mean_sd(mean: float, sd: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Beta draws with a given mean and standard deviation (method of moments).

    A Beta distribution on 0-1 with mean m has a variance below m(1 - m); as it nears that
    bound the distribution becomes two spikes at 0 and 1. So the sd is capped at
    sqrt(m(1 - m) / 2), where the two shape parameters add up to 1 (Beta(m, 1 - m), already
    U-shaped): a mean of 0.95 takes an sd of at most 0.154. **Choice**: an sd above the cap
    is read as "as spread as a 0-1 capacity can sensibly be", not refused.
    """
    sd = min(sd, math.sqrt(mean * (1 - mean) / 2))
    common = mean * (1 - mean) / sd**2 - 1
    return rng.beta(mean * common, (1 - mean) * common, size)
