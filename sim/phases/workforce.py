"""Phase 1, workforce: teachers leave, move and are recruited; the area's teacher supply.

Teachers are counted per school by career stage (`sim.phases.careers`): early-career
teachers (ECTs) in their first and second year, then post-induction (years 3-5),
mid-career and near retirement. Each term:

1. Teachers move up a stage: a third of each early-career year, and a share of the later
   stages set by the years each spans (`sim.phases.careers`).
2. Workload is set from the sources docs/ODD.md section 7.1 names: data reporting by the school's trust
   or local authority (seed 004 finding 1) and accountability pressure after a weak grade.
3. Leavers (out of state schools) and movers (to another school) are drawn per school and
   stage. Yearly base rates differ by stage, as leaving differs by age: high early in a
   career (NFER: 11-15% of ECTs leave after their first year), lowest mid-career, highest
   near retirement (NFER 2008 for the LGA); together 8-10% a year (School Workforce
   Census). All rise in schools with weaker grades, higher workload and more
   disadvantage. Experienced teachers move (5-8% a year).
4. Open posts in each local authority are filled from its applicants: the movers who
   left schools in that authority plus new entrants, `teacher_supply` applicants per open
   post. Applicants prefer schools with better grades, lower workload and less
   disadvantage ("movers choose nearby schools with better grades and lower workload":
   the labour market is the local authority). Posts are filled in two rounds; what is
   not filled stays vacant. Movers keep their stage; those who find no post in their
   authority leave it. Early-career entrants start in year 1, other entrants mid-career.
5. During the run, early-career entrants join the register of cohorts
   (`sim.phases.careers.Cohorts`), which follows them through the same draws.

Yearly rates are converted to terms as 1 - (1 - rate)^(1/3). Counts are drawn with
`sim.sampling.binomial`: one uniform per school (and stage) per draw, by inversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.draw_ahead import Draw
from sim.mechanics.rates import MAX_YEARLY_RATE
from sim.parameters import JUDGEMENT, fitted, parameter
from sim.phases import workforce_kernels
from sim.phases.careers import (
    EXPERIENCED,
    N_STAGES,
    Cohorts,
    progression_per_term,
    split_experienced,
    stage_counts,
    stationary_shares,
    write_stage_counts,
    yearly_leaving_rates,
)
from sim.phases.recruitment import attractiveness, recruit
from sim.phases.stage_draws import (
    draw_by_stage,
    members_who_may_move,
    place_movers,
    promote_by_stage,
    settle_moved_members,
)
from sim.sampling import binomial
from sim.state import (
    ENGLAND_FSM_MEAN,
    TERMS_PER_YEAR,
    CareerStage,
    grade_index,
    per_school,
    trust_index,
)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



@dataclass(frozen=True)
class WorkforceParameters:
    """Teacher flows: leaving, moving, recruiting (docs/ODD.md section 7.1)."""

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
    leaving_rate_post_induction: float = parameter(
        0.09, "teachers in years 3-5 leaving state schools per year",
        source=fitted("0.052-0.149"),
        low=0.0, high=0.95,
        why="judgement in 0.08-0.11, between second-year ECTs' 0.10 and mid-career's: leavers "
            "other than retirees are most numerous at ages 25-34 (Hansard, 8 Nov 2001, for "
            "1998-99); a yearly probability below 1, so that a term's is at most 0.64")
    leaving_rate_mid_career: float = parameter(
        0.058, "mid-career teachers leaving state schools per year",
        source=fitted("0.041-0.071", "all teachers' leaving 8-10% (DfE SWC)"),
        low=0.0, high=0.95,
        why="0.05-0.08, the lowest of any stage: teachers aged 40-49 are the least likely to "
            "leave (NFER 2008 for the LGA: 6.3-7.1% turnover, moves between schools "
            "included); a yearly probability below 1, so that a term's is at most 0.64")
    leaving_rate_near_retirement: float = parameter(
        0.18, "teachers aged about 55 and over leaving per year, retirement included",
        source=JUDGEMENT, low=0.0, high=0.95,
        why="judgement in 0.12-0.30, the highest of any stage as most retire (NFER 2008 for "
            "the LGA: turnover highest at 60 and over, many retiring; Hansard, 8 Nov 2001: "
            "retirements at ages 50 and over); 0.18 leaves a stay of about 5.5 years, from 55 "
            "to about 60; a yearly probability below 1")
    post_induction_years: float = parameter(
        3.0, "years a teacher spends post-induction on average (years 3-5 in teaching)",
        source=JUDGEMENT, low=1.0, high=10.0,
        why="3, the years the stage spans; 1-10 keeps it an early-career stage (judgement)")
    mid_career_years: float = parameter(
        25.0, "years a teacher spends mid-career on average (about age 30 to 55)",
        source=JUDGEMENT, low=5.0, high=40.0,
        why="25, the ages the stage spans (entry at about 25, near retirement from 55); 5-40 "
            "is a working life at most (judgement)")
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
    cohort_years_followed: int = parameter(
        10, "years after entry a cohort of early-career entrants is followed on the register "
        "(cohorts.parquet); its members then teach on uncounted",
        source="the span of the retention figures DfE (School Workforce in England) and Tes "
               "quote most, 1 to 10 years after qualifying; judgement",
        low=1, high=100,
        why="natural: years of a run; a longer span costs time in long runs, as every member "
            "followed takes part in the term's draws")



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


def workload_and_pulls(model: SchoolSystemModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`update_workload`, then each school's leaving and moving multipliers
    (`flow_multipliers`) and its attractiveness to applicants
    (`sim.phases.recruitment.attractiveness`); for England in two compiled passes and one
    `np.exp` of both exponents, rather than a dozen numpy passes over the schools."""
    schools, p = model.schools, model.parameters.model.workforce
    if not compiled.worth_compiling(schools.n):
        update_workload(model)
        return (*flow_multipliers(model), attractiveness(schools, p))
    workload, exponents = np.empty(schools.n), np.empty((2, schools.n))
    workforce_kernels.workload_and_exponents(
        schools.grade, schools.trust,
        np.concatenate(([p.maintained_data_reporting], model.trusts.data_reporting_intensity)),
        np.asarray(p.accountability_workload_by_grade, dtype=np.float64),
        np.broadcast_to(np.asarray(model.policy_effects.extra_workload, dtype=np.float64),
                        schools.n),
        schools.fsm_share, ENGLAND_FSM_MEAN,
        np.array([p.workload_elasticity, p.disadvantage_elasticity,
                  -p.attractiveness_workload_elasticity,
                  p.attractiveness_disadvantage_elasticity]), workload, exponents)
    schools.workload = workload
    np.exp(exponents, out=exponents)
    leaving, moving, pull_on_applicants = (np.empty(schools.n), np.empty(schools.n),
                                           np.empty(schools.n))
    workforce_kernels.pulls(
        schools.grade, exponents, np.asarray(p.leaving_multiplier_by_grade, dtype=np.float64),
        np.asarray(p.moving_multiplier_by_grade, dtype=np.float64),
        np.asarray(p.attractiveness_by_grade, dtype=np.float64),
        leaving, moving, pull_on_applicants)
    return leaving, moving, pull_on_applicants


def expected_turnover(model: SchoolSystemModel) -> np.ndarray:
    """Expected yearly leaving plus moving of each school's teachers."""
    schools, p = model.schools, model.parameters.model.workforce
    leaving, moving = flow_multipliers(model)
    teachers = np.maximum(schools.teachers, 1)
    leaving_rate = yearly_leaving_rates(p) @ stage_counts(schools) / teachers * leaving
    return (np.clip(leaving_rate, 0, MAX_YEARLY_RATE)
            + np.clip(p.moving_rate * moving, 0, MAX_YEARLY_RATE))


def start_careers(model: SchoolSystemModel) -> None:
    """Split the experienced teachers a run starts with into career stages, in the shares
    at which the stage flows are at rest for a school with the mean leaving multiplier
    (`sim.phases.careers.stationary_shares`), on the warm-up's random stream."""
    schools, p = model.schools, model.parameters.model.workforce
    update_workload(model)
    leaving, _ = flow_multipliers(model)
    teachers = schools.teachers.sum()
    typical = float(np.average(leaving, weights=schools.teachers)) if teachers > 0 else 1.0
    split_experienced(schools, stationary_shares(p, typical), model.streams.warm_up)


def warm_up(model: SchoolSystemModel, terms: int) -> None:
    """Set career stages, then run the labour market alone for a few terms before the
    simulation starts.

    Starting vacancies and early-career shares are drawn evenly; the market then sorts
    them into the schools applicants avoid. Warming up lets that happen before the
    status quo is held at rest (`sim.phases.improvement.equilibrate_potential`),
    on a random stream of its own so the run's streams are untouched.
    """
    start_careers(model)
    for _ in range(terms):
        run_term(model, rng=model.streams.warm_up)


def run_term(model: SchoolSystemModel, rng: np.random.Generator | None = None) -> None:
    """Progression, leavers, movers and recruitment for one term."""
    schools, p = model.schools, model.parameters.model.workforce
    rng = rng or model.streams.workforce
    # Draws whose number depends on what happened (one per registered teacher, one per
    # mover) come from a child of the phase's stream, spawned once a term: the stream itself
    # draws the same number of values under every policy (common random numbers).
    variable_rng = model.streams.child(rng)
    n = schools.n
    # The register of the run's cohorts; None in the warm-up and spin-up, which enter none.
    cohorts = model.cohorts
    register = cohorts if cohorts is not None else Cohorts(n)
    counts = stage_counts(schools)
    _progress(counts, register, progression_per_term(p), rng, variable_rng)
    leaving, moving, pull_on_applicants = workload_and_pulls(model)

    # Rates are measured on the teachers in post at the start of the term.
    schools.early_career_year1_at_risk = counts[CareerStage.EARLY_CAREER_YEAR1].copy()
    schools.teachers_at_risk = schools.teachers.copy()
    # A yearly rate in [0, MAX_YEARLY_RATE] gives a termly one in [0, 0.64].
    remembered = model.termly_probabilities
    leaving_probability = remembered.leaving(yearly_leaving_rates(p), leaving)
    registered = register.by_cell
    leavers, members_leaving = draw_by_stage(
        rng, variable_rng, counts, registered, leaving_probability, register.cell,
        remembered.leaving.log_staying, remembered.leaving.single)
    # Experienced teachers who stay may move; registered ones keep their stage and cohort.
    first_experienced = CareerStage.POST_INDUCTION * n
    may_move, move_cells = members_who_may_move(register.cell, members_leaving,
                                                first_experienced, n)
    moving_probability = remembered.moving(np.array([p.moving_rate]), moving)
    experienced = counts[EXPERIENCED].shape
    movers, members_moving = draw_by_stage(
        rng, variable_rng, counts[EXPERIENCED], registered[EXPERIENCED],
        np.broadcast_to(moving_probability, experienced), move_cells,
        np.broadcast_to(remembered.moving.log_staying, experienced),
        np.broadcast_to(remembered.moving.single, experienced))
    write_stage_counts(schools, counts)  # the posts they left are open to recruitment

    movers_out = movers.sum(axis=0, dtype=np.int32)
    filled, posts_for_movers = recruit(model, movers_out, pull_on_applicants, rng)
    move_cells = move_cells[members_moving]
    placed, to_entrants, destination = place_movers(
        variable_rng, movers, move_cells, posts_for_movers, model.area_index, model.n_areas)
    counts[EXPERIENCED] += placed
    entrants = filled - posts_for_movers + to_entrants
    new_early_career = binomial(rng, entrants, p.early_career_share_of_entrants)
    counts[CareerStage.EARLY_CAREER_YEAR1] += new_early_career
    counts[CareerStage.MID_CAREER] += entrants - new_early_career
    write_stage_counts(schools, counts)

    schools.leavers = leavers.sum(axis=0, dtype=np.int32)
    schools.early_career_year1_leavers = leavers[CareerStage.EARLY_CAREER_YEAR1]
    schools.movers = movers_out
    schools.movers_in = placed.sum(axis=0, dtype=np.int32)
    schools.new_entrants = entrants.astype(np.int32)
    # Movers who found no post in their own local authority have left it: to the area they
    # are leavers. Counted per authority, reported in the model-level measures.
    model.tallies.unplaced_movers = int(movers_out.sum()) - int(schools.movers_in.sum())

    if cohorts is not None:
        gone = settle_moved_members(cohorts.cell, may_move[members_moving], move_cells,
                                    destination, first_experienced, registered[EXPERIENCED],
                                    members_leaving)
        cohorts.turn_over(gone, model.term // TERMS_PER_YEAR, new_early_career)
        expect_member_draws(model)


def expect_member_draws(model: SchoolSystemModel) -> None:
    """Where the run's streams draw ahead (`sim.draw_ahead`), start drawing the register's
    members' uniforms for the next term's progression and leaving (`_progress`, then
    `draw_by_stage`), as the register now stands: one for each member below the top
    stage, then one for each member."""
    cells = model.cohorts.cell if model.cohorts is not None else None
    if cells is None or not len(cells):
        return
    below_top = int(np.count_nonzero(cells < (N_STAGES - 1) * model.schools.n))
    model.streams.expect_from_child(model.streams.workforce, [
        Draw("random", below_top, "float32"), Draw("random", len(cells), "float32")])


def _progress(counts: np.ndarray, register: Cohorts, progression: np.ndarray,
              rng: np.random.Generator, member_rng: np.random.Generator) -> None:
    """Teachers move up a stage (in `counts` and on the register).

    Entrants arrive every term rather than all in September, so progression is spread
    over terms too: on average a teacher spends three terms in each early-career year,
    and the first-year leaving rate applies all year round.
    """
    promote_by_stage(rng, member_rng, counts, register.by_cell, progression[:-1],
                     register.cell)


def termly_probability(yearly_rates: np.ndarray, multiplier: np.ndarray,
                       schools: int | None = None) -> np.ndarray:
    """Each school's termly probability at each of the yearly rates times its multiplier,
    capped at MAX_YEARLY_RATE: `per_term(np.clip(yearly_rates[:, np.newaxis] * multiplier,
    0, MAX_YEARLY_RATE))`, a (rate, school) array, computed in place (a national (stage,
    school) array's temporaries cost their pages' faults each term), for England the
    product, the cap and 1 - rate in one compiled pass. `schools`, the place's number of
    schools (`len(multiplier)` unless given), decides which (`sim.compiled`)."""
    if compiled.worth_compiling(len(multiplier) if schools is None else schools):
        staying = np.empty((len(yearly_rates), len(multiplier)))
        workforce_kernels.yearly_staying(yearly_rates, multiplier, MAX_YEARLY_RATE, staying)
    else:
        staying = np.multiply(yearly_rates[:, np.newaxis], multiplier)
        np.clip(staying, 0, MAX_YEARLY_RATE, out=staying)
        np.subtract(1.0, staying, out=staying)
    # The rest of per_term's arithmetic: 1 - (1 - rate)^(1 / terms a year).
    np.power(staying, 1.0 / TERMS_PER_YEAR, out=staying)
    return np.subtract(1.0, staying, out=staying)


class RememberedProbabilities:
    """`termly_probability`, remembered from one call to the next and worked out again
    only for the schools whose multiplier changed since (about one in twenty a term:
    those whose grade, trust or workload changed), with what the draws derive from it:
    `log_staying`, log(1 - p), and `single`, p in single precision
    (`sim.phases.stage_draws.draw_by_stage`). The same numbers: each school's are computed
    from its own multiplier alone, and numpy's power and log give an element the same
    value in any contiguous array. The arrays are kept for the next call, which may
    change them: read them, never change them."""

    def __init__(self) -> None:
        self._yearly_rates = np.zeros(0)
        self._multiplier = np.zeros(0)
        self.probability = np.zeros((0, 0))
        self.log_staying = np.zeros((0, 0))
        self.single = np.zeros((0, 0), np.float32)

    def __call__(self, yearly_rates: np.ndarray, multiplier: np.ndarray) -> np.ndarray:
        """The termly probabilities (`termly_probability(yearly_rates, multiplier)`)."""
        if (len(multiplier) != len(self._multiplier)
                or not np.array_equal(yearly_rates, self._yearly_rates)):
            self._yearly_rates, self._multiplier = yearly_rates.copy(), multiplier.copy()
            self.probability = termly_probability(yearly_rates, multiplier)
            self.log_staying, self.single = _derived(self.probability)
            return self.probability
        changed = np.flatnonzero(multiplier != self._multiplier)
        if len(changed):
            self._multiplier[changed] = multiplier[changed]
            # A contiguous copy of the changed schools' multipliers.
            probability = termly_probability(yearly_rates, multiplier[changed],
                                             len(multiplier))
            self.probability[:, changed] = probability
            self.log_staying[:, changed], self.single[:, changed] = _derived(probability)
        return self.probability


def _derived(probability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(1 - p) as `sim.sampling.binomial_rows` computes it, and p in single precision."""
    log_staying = np.subtract(1.0, probability)
    return np.log(log_staying, out=log_staying), probability.astype(np.float32)


@dataclass
class TermlyProbabilities:
    """A model's remembered termly probabilities of leaving (by stage) and of moving."""

    leaving: RememberedProbabilities = field(default_factory=RememberedProbabilities)
    moving: RememberedProbabilities = field(default_factory=RememberedProbabilities)
