"""Phase 1, workforce: teachers leave, move and are recruited; the area's teacher supply.

Teachers are counted per school in three groups: early-career teachers (ECTs) in their
first and second year, and experienced teachers. Each term:

1. Workload is set from the sources docs/ODD.md section 7.1 names: data reporting by the school's trust
   or local authority (seed 004 finding 1) and accountability pressure after a weak grade.
2. Leavers (out of state schools) and movers (to another school) are drawn per school.
   Yearly base rates come from the School Workforce Census (8-10% leave, 5-8% move) and
   NFER (11-15% of ECTs leave after their first year); they rise in schools with weaker
   grades, higher workload and more disadvantage.
3. Open posts in each local authority are filled from its applicants: the movers who
   left schools in that authority plus new entrants, `teacher_supply` applicants per open
   post. Applicants prefer schools with better grades, lower workload and less
   disadvantage ("movers choose nearby schools with better grades and lower workload":
   the labour market is the local authority). Posts are filled in two rounds; what is
   not filled stays vacant. Movers who find no post in their authority leave it.

Yearly rates are converted to terms as 1 - (1 - rate)^(1/3). Counts are drawn with
`sim.sampling.binomial`: one uniform per school per draw, by inversion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.rates import MAX_YEARLY_RATE, per_term
from sim.parameters import JUDGEMENT, parameter
from sim.sampling import binomial
from sim.state import ENGLAND_FSM_MEAN, TERMS_PER_YEAR, grade_index, per_school, trust_index

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



@dataclass(frozen=True)
class WorkforceParameters:
    """Teacher flows: leaving, moving, recruiting (docs/ODD.md section 7.1)."""

    leaving_rate_experienced: float = parameter(
        0.082, "experienced teachers leaving state schools per year",
        source="DfE School Workforce Census 2019: 8-10% of all teachers", low=0.0, high=0.95,
        why="DfE SWC: 8-10%; a yearly probability below 1, so that a term's is at most 0.64 and some "
            "teachers always stay (judgement)")
    leaving_rate_early_career_year1: float = parameter(
        0.115, "first-year early-career teachers leaving per year",
        source="calibrated to NFER 2018: 11-15% leave after their first year", low=0.0, high=0.95,
        why="NFER 2018: 11-15%; a yearly probability below 1, so that a term's is at most 0.64 and some "
            "teachers always stay (judgement)")
    leaving_rate_early_career_year2: float = parameter(
        0.10, "second-year early-career teachers leaving per year", source="NFER 2018", low=0.0,
        high=0.95,
        why="NFER 2018: 0.10; a yearly probability below 1, so that a term's is at most 0.64 and some "
            "teachers always stay (judgement)")
    moving_rate: float = parameter(
        0.062, "teachers moving to another school per year",
        source="DfE School Workforce Census 2019: 5-8%", low=0.0, high=0.95,
        why="DfE SWC: 5-8%; a yearly probability below 1, so that a term's is at most 0.64 and some teachers"
            " always stay (judgement)")
    leaving_multiplier_by_grade: list[float] = parameter(
        [0.9, 1.0, 1.15, 1.35], "leaving relative to a good school, by grade 1-4", source=JUDGEMENT,
        low=0.0, high=10.0, why="0.9-1.35; judgement", length=4)
    moving_multiplier_by_grade: list[float] = parameter(
        [0.8, 0.95, 1.3, 1.6], "moving relative to a good school, by grade 1-4", source=JUDGEMENT,
        low=0.0, high=10.0, why="0.8-1.6; judgement", length=4)
    workload_elasticity: float = parameter(
        0.8, "leaving and moving scale by exp(elasticity x (workload - 1))", source=JUDGEMENT,
        low=0.0, high=5.0, why="0.8; seed 004: rises with workload; judgement")
    disadvantage_elasticity: float = parameter(
        0.8, "... and by exp(elasticity x (FSM share - England's mean))", source=JUDGEMENT, low=0.0,
        high=5.0, why="0.8; judgement")
    early_career_share_of_entrants: float = parameter(
        0.55, "new entrants (not movers) who are early-career teachers", source=JUDGEMENT, low=0.0,
        high=1.0)
    attractiveness_by_grade: list[float] = parameter(
        [1.3, 1.0, 0.75, 0.55], "pull on applicants of a school by grade 1-4", source=JUDGEMENT,
        low=0.0, high=10.0, why="0.55-1.3; judgement", length=4)
    attractiveness_workload_elasticity: float = parameter(
        1.0, "applicants avoid high workload: exp(-elasticity x (workload - 1))", source=JUDGEMENT,
        low=0.0, high=5.0, why="1.0; judgement")
    attractiveness_disadvantage_elasticity: float = parameter(
        1.5, "... and disadvantage: exp(-elasticity x (FSM share - mean))", source=JUDGEMENT,
        low=0.0, high=5.0, why="1.5; judgement")
    accountability_workload_by_grade: list[float] = parameter(
        [0.0, 0.0, 0.1, 0.2], "extra workload from accountability pressure, by grade 1-4",
        source=JUDGEMENT, low=0.0, high=1.0,
        why="added to a typical workload of 1; at most doubling it (judgement)", length=4)
    maintained_data_reporting: float = parameter(
        0.03, "workload from local-authority data requests on maintained schools", source=JUDGEMENT,
        low=0.0, high=1.0, why="added to a typical workload of 1; at most doubling it (judgement)")



def update_workload(model: SchoolSystemModel) -> None:
    """Workload index: 1 plus data reporting plus accountability pressure."""
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.workforce
    data_reporting = per_school(trusts.data_reporting_intensity, trust_index(schools.trust),
                                outside=p.maintained_data_reporting)
    pressure = np.asarray(p.accountability_workload_by_grade)[grade_index(schools.grade)]
    schools.workload = 1.0 + data_reporting + pressure + model.policy_effects.extra_workload


def flow_multipliers(model: SchoolSystemModel) -> tuple[np.ndarray, np.ndarray]:
    """How much likelier than typical each school's teachers are to leave, and to move."""
    schools, p = model.schools, model.parameters.model.workforce
    by_grade = grade_index(schools.grade)
    pull = np.exp(p.workload_elasticity * (schools.workload - 1.0)
                  + p.disadvantage_elasticity * (schools.fsm_share - ENGLAND_FSM_MEAN))
    return (pull * np.asarray(p.leaving_multiplier_by_grade)[by_grade],
            pull * np.asarray(p.moving_multiplier_by_grade)[by_grade])


def expected_turnover(model: SchoolSystemModel) -> np.ndarray:
    """Expected yearly leaving plus moving of each school's teachers."""
    schools, p = model.schools, model.parameters.model.workforce
    leaving, moving = flow_multipliers(model)
    teachers = np.maximum(schools.teachers, 1)
    leaving_rate = (p.leaving_rate_early_career_year1 * schools.early_career_year1
                    + p.leaving_rate_early_career_year2 * schools.early_career_year2
                    + p.leaving_rate_experienced * schools.experienced) / teachers * leaving
    return (np.clip(leaving_rate, 0, MAX_YEARLY_RATE)
            + np.clip(p.moving_rate * moving, 0, MAX_YEARLY_RATE))


def warm_up(model: SchoolSystemModel, terms: int) -> None:
    """Run the labour market alone for a few terms before the simulation starts.

    Starting vacancies and early-career shares are drawn evenly; the market then sorts
    them into the schools applicants avoid. Warming up lets that happen before the
    status quo is set in equilibrium (`sim.phases.improvement.equilibrate_potential`),
    on a random stream of its own so the run's streams are untouched.
    """
    for _ in range(terms):
        run_term(model, rng=model.streams.warm_up)


def run_term(model: SchoolSystemModel, rng: np.random.Generator | None = None) -> None:
    """Leavers, movers and recruitment for one term."""
    schools, p = model.schools, model.parameters.model.workforce
    rng = rng or model.streams.workforce
    progress_early_career(model, rng)
    update_workload(model)
    leaving, moving = flow_multipliers(model)

    def draw(count: np.ndarray, yearly_rate: float, multiplier: np.ndarray) -> np.ndarray:
        # A yearly rate in [0, MAX_YEARLY_RATE] gives a termly one in [0, 0.64]: no second clip.
        return binomial(rng, count, per_term(np.clip(yearly_rate * multiplier, 0, MAX_YEARLY_RATE)))

    # Rates are measured on the teachers in post at the start of the term.
    schools.early_career_year1_at_risk = schools.early_career_year1.copy()
    schools.teachers_at_risk = schools.teachers.copy()
    ect1_leavers = draw(schools.early_career_year1, p.leaving_rate_early_career_year1, leaving)
    ect2_leavers = draw(schools.early_career_year2, p.leaving_rate_early_career_year2, leaving)
    experienced = schools.experienced
    experienced_leavers = draw(experienced, p.leaving_rate_experienced, leaving)
    movers = draw(experienced - experienced_leavers, p.moving_rate, moving)

    schools.early_career_year1 -= ect1_leavers
    schools.early_career_year2 -= ect2_leavers
    schools.teachers -= ect1_leavers + ect2_leavers + experienced_leavers + movers

    placed_movers, new_early_career, new_experienced = _recruit(model, movers, rng)
    schools.teachers += placed_movers + new_early_career + new_experienced
    schools.early_career_year1 += new_early_career

    schools.leavers = ect1_leavers + ect2_leavers + experienced_leavers
    schools.early_career_year1_leavers = ect1_leavers
    schools.movers = movers
    schools.movers_in = placed_movers.astype(np.int32)
    schools.new_entrants = (new_early_career + new_experienced).astype(np.int32)
    # Movers who found no post in their own local authority have left it: to the area they
    # are leavers. Counted per authority, reported in the model-level measures.
    model.tallies.unplaced_movers = int(movers.sum() - placed_movers.sum())


def _recruit(model: SchoolSystemModel, movers: np.ndarray,
             rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Fill open posts from each local authority's applicants, by attractiveness."""
    schools, p = model.schools, model.parameters.model.workforce
    area = model.area_index
    n_areas = len(model.local_authority_names)
    open_posts = np.maximum(schools.vacancies, 0)
    open_in_area = np.bincount(area, weights=open_posts, minlength=n_areas)
    movers_in_area = np.bincount(area, weights=movers, minlength=n_areas)
    supply = model.parameters.scenario.teacher_supply
    entrants_in_area = np.maximum(0.0, np.round(supply * open_in_area - movers_in_area))
    applicants = movers_in_area + entrants_in_area

    attractiveness = (
        np.asarray(p.attractiveness_by_grade)[grade_index(schools.grade)]
        * np.exp(-p.attractiveness_workload_elasticity * (schools.workload - 1.0)
                 - p.attractiveness_disadvantage_elasticity * (schools.fsm_share - ENGLAND_FSM_MEAN))
    )
    filled = np.zeros(schools.n, dtype=np.int64)
    remaining_applicants = applicants.copy()
    for _ in range(2):  # a second round re-offers what the first left over
        still_open = open_posts - filled
        demand = np.bincount(area, weights=attractiveness * still_open, minlength=n_areas)
        ratio = np.divide(remaining_applicants, demand, out=np.zeros(n_areas), where=demand > 0)
        probability = np.clip(ratio[area] * attractiveness, 0, 1)
        new = binomial(rng, still_open, probability)
        filled += new
        remaining_applicants = np.maximum(
            0.0, remaining_applicants - np.bincount(area, weights=new, minlength=n_areas))

    # Who filled the posts: movers first in proportion, then new entrants.
    filled_in_area = np.bincount(area, weights=filled, minlength=n_areas)
    mover_fraction = np.divide(np.minimum(movers_in_area, filled_in_area * movers_in_area
                                          / np.maximum(applicants, 1)),
                               np.maximum(filled_in_area, 1))
    placed_movers = binomial(rng, filled, np.clip(mover_fraction[area], 0, 1))
    entrants = filled - placed_movers
    new_early_career = binomial(rng, entrants, p.early_career_share_of_entrants)
    new_experienced = entrants - new_early_career
    return (placed_movers.astype(np.int32), new_early_career.astype(np.int32),
            new_experienced.astype(np.int32))


def progress_early_career(model: SchoolSystemModel, rng: np.random.Generator) -> None:
    """Early-career teachers move up a year: a third of each year group every term.

    Entrants arrive every term rather than all in September, so progression is spread
    over terms too: on average a teacher spends three terms in each early-career year,
    and the first-year leaving rate applies all year round.
    """
    schools = model.schools
    to_year2 = binomial(rng, schools.early_career_year1, 1.0 / TERMS_PER_YEAR)
    to_experienced = binomial(rng, schools.early_career_year2, 1.0 / TERMS_PER_YEAR)
    schools.early_career_year1 -= to_year2
    schools.early_career_year2 += to_year2 - to_experienced

