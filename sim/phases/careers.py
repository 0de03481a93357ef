"""Teachers' careers: the stages they pass through, and the run's cohorts of new entrants.

**Stages** (`sim.state.CareerStage`): the two early-career (induction) years, then
post-induction (years 3-5), mid-career and near retirement (about 55 and over). Each
school counts its teachers by stage (`sim.state.SchoolArrays`), and the workforce phase
(`sim.phases.workforce`) draws each stage's leavers at the stage's own rate: leaving is
high early in a career, lowest in mid-career and high again near retirement, where most
leavers retire (the sources are in `WorkforceParameters`). Teachers age through the stages:

- a teacher stays in a stage, on average, as many years as the stage spans
  (`post_induction_years`, `mid_career_years`; one year for each early-career year), so a
  share 1 / (3 x years) of a stage moves up every term; near retirement is left only by
  leaving (retirement is most of it);
- the experienced teachers a run starts with are split into stages by the stationary
  state of these flows (`stationary_shares`): the stage counts that each stage's leaving
  and progression, and the stages entrants join, keep constant. So the stock's stage
  (age) structure does not drift during a run: it starts where these rates hold it.

**Cohorts** (`Cohorts`): every early-career new entrant during the run is on a register
with its school, its stage and the run year it entered (its cohort). Members are drawn
with the other teachers of their school and stage, at the same probabilities
(`sim.phases.stage_draws.draw_by_stage`); movers carry their cohort and stage to the
school they move to (`sim.phases.stage_draws.place_movers`), so a cohort's teachers leave
state schools only by leaving. At each year's end the register counts each cohort's
members still teaching (cohorts.parquet, `sim.metrics.cohort_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.rates import MAX_YEARLY_RATE, per_term
from sim.phases import workforce_kernels
from sim.sampling import binomial
from sim.state import TERMS_PER_YEAR, CareerStage, SchoolArrays

if TYPE_CHECKING:
    from sim.phases.workforce import WorkforceParameters

N_STAGES = len(CareerStage)
# The stages whose teachers may move school (early-career teachers stay for induction).
EXPERIENCED = slice(CareerStage.POST_INDUCTION, None)
# Floor of a divisor that may be 0: a stage nobody leaves or moves up from (all leaving
# rates 0, say) would hold an unbounded stock at rest; floored, it holds nearly everyone.
_TINY = 1e-12


def stage_counts(schools: SchoolArrays) -> np.ndarray:
    """Each school's teachers by career stage, a (stage, school) array (a copy)."""
    if compiled.worth_compiling(schools.n):
        counts = np.empty((N_STAGES, schools.n), dtype=np.result_type(
            schools.early_career_year1, schools.early_career_year2, schools.post_induction,
            schools.near_retirement, schools.teachers))
        workforce_kernels.read_stage_counts(
            schools.early_career_year1, schools.early_career_year2, schools.post_induction,
            schools.near_retirement, schools.teachers, counts)
        return counts
    return np.stack([schools.early_career_year1, schools.early_career_year2,
                     schools.post_induction, schools.mid_career, schools.near_retirement])


def write_stage_counts(schools: SchoolArrays, counts: np.ndarray) -> None:
    """Set each school's stage counts, and its teachers as their sum, in place."""
    if compiled.worth_compiling(schools.n):
        workforce_kernels.write_stage_counts(
            counts, schools.early_career_year1, schools.early_career_year2,
            schools.post_induction, schools.near_retirement, schools.teachers)
        return
    schools.early_career_year1[:] = counts[CareerStage.EARLY_CAREER_YEAR1]
    schools.early_career_year2[:] = counts[CareerStage.EARLY_CAREER_YEAR2]
    schools.post_induction[:] = counts[CareerStage.POST_INDUCTION]
    schools.near_retirement[:] = counts[CareerStage.NEAR_RETIREMENT]
    schools.teachers[:] = counts.sum(axis=0)


def yearly_leaving_rates(p: WorkforceParameters) -> np.ndarray:
    """Yearly leaving of a typical school's teachers, by stage."""
    return np.array([p.leaving_rate_early_career_year1, p.leaving_rate_early_career_year2,
                     p.leaving_rate_post_induction, p.leaving_rate_mid_career,
                     p.leaving_rate_near_retirement])


def progression_per_term(p: WorkforceParameters) -> np.ndarray:
    """Probability per term of moving up to the next stage, by stage (0 near retirement)."""
    years = np.array([1.0, 1.0, p.post_induction_years, p.mid_career_years])
    return np.append(1.0 / (TERMS_PER_YEAR * years), 0.0)


def entrant_stages(p: WorkforceParameters) -> np.ndarray:
    """Share of new entrants joining each stage: early-career teachers start in year 1;
    the others (returners, teachers new to state schools) join mid-career (judgement)."""
    shares = np.zeros(N_STAGES)
    shares[CareerStage.EARLY_CAREER_YEAR1] = p.early_career_share_of_entrants
    shares[CareerStage.MID_CAREER] = 1.0 - p.early_career_share_of_entrants
    return shares


def stationary_shares(p: WorkforceParameters, leaving_multiplier: float) -> np.ndarray:
    """Share of teachers in each stage when the stage flows are at rest.

    A term moves teachers up, then draws leavers, then adds entrants, so a stage's stock N
    at rest satisfies N = (1 - q) ((1 - h) N + arrivals) + entrants, q its termly leaving
    (its rate times `leaving_multiplier`, a typical school's), h its termly progression and
    arrivals the previous stage's h N. Solved stage by stage from the first; the total of
    entrants cancels out of the shares.
    """
    leaving = per_term(np.clip(yearly_leaving_rates(p) * leaving_multiplier, 0.0,
                               MAX_YEARLY_RATE))
    progression = progression_per_term(p)
    entrants = entrant_stages(p)
    stock = np.zeros(N_STAGES)
    arriving = 0.0
    for stage in CareerStage:
        staying = (1.0 - leaving[stage]) * (1.0 - progression[stage])
        stock[stage] = (((1.0 - leaving[stage]) * arriving + entrants[stage])
                        / max(1.0 - staying, _TINY))
        arriving = progression[stage] * stock[stage]
    return stock / stock.sum()


def split_experienced(schools: SchoolArrays, shares: np.ndarray,
                      rng: np.random.Generator) -> None:
    """Split each school's experienced teachers into stages in the given national shares."""
    experienced = schools.experienced
    of_experienced = shares[EXPERIENCED] / shares[EXPERIENCED].sum()
    post_induction = binomial(rng, experienced, float(of_experienced[0]))
    rest = max(1.0 - float(of_experienced[0]), _TINY)
    near_retirement = binomial(rng, experienced - post_induction,
                               min(1.0, float(of_experienced[-1]) / rest))
    schools.post_induction[:] = post_induction
    schools.near_retirement[:] = near_retirement


@dataclass
class Cohorts:
    """The run's early-career new entrants, one row per member still in post.

    A member is stored by their (stage, school) cell, stage x `n_schools` + school (in 32
    bits, to halve the memory traffic): the flat index into a (stage, school) array of
    counts that `sim.phases.stage_draws.draw_by_stage` takes. Their cohort is the run year
    they entered, from 0 (docs/ODD.md section 7.1). Created by the model when the run
    starts; written by the workforce phase; read at each year's end by the record
    (`sim.metrics.cohort_frame`).

    A cohort is followed for `followed_years` years: counted at the end of its entry year
    and of each year after, up to `followed_years` years after entry, and then its members
    leave the register and teach on uncounted, like the teachers who were in post before
    the run. Without the limit the register would grow, in a long run, towards every
    teacher who entered during it, and the term's draws with it (they take each member's
    events one by one).
    """

    n_schools: int
    followed_years: int = 10
    cell: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Members by cell, a (stage, school) array kept in step with `cell` (also in 32 bits).
    by_cell: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int32))
    cohort: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    entrants: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # by cohort
    leavers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # so far
    # Members still teaching at the end of each run year, by cohort.
    still_teaching_by_year: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.by_cell.size == 0:
            self.by_cell = np.zeros((N_STAGES, self.n_schools), np.int32)

    @property
    def n_cohorts(self) -> int:
        return len(self.entrants)

    @property
    def school(self) -> np.ndarray:
        return self.cell % self.n_schools

    @property
    def stage(self) -> np.ndarray:
        return self.cell // self.n_schools

    def open(self, cohort: int) -> None:
        """Make room for cohorts up to `cohort`."""
        missing = cohort + 1 - self.n_cohorts
        if missing > 0:
            self.entrants = np.concatenate([self.entrants, np.zeros(missing, np.int64)])
            self.leavers = np.concatenate([self.leavers, np.zeros(missing, np.int64)])

    def enter(self, cohort: int, new_by_school: np.ndarray) -> None:
        """Register the early-career entrants of each school, in their first year."""
        self.open(cohort)
        cells = np.repeat(np.arange(len(new_by_school), dtype=np.int32)
                          + CareerStage.EARLY_CAREER_YEAR1 * self.n_schools, new_by_school)
        self.cell = np.concatenate([self.cell, cells])
        self.cohort = np.concatenate([self.cohort, np.full(len(cells), cohort, np.int32)])
        self.by_cell[CareerStage.EARLY_CAREER_YEAR1] += new_by_school
        self.entrants[cohort] += len(cells)

    def remove(self, gone: np.ndarray) -> None:
        """Members who left state schools (a mask over the register); `by_cell` is the
        caller's to keep in step."""
        self.leavers += np.bincount(self.cohort[gone], minlength=self.n_cohorts)
        kept = ~gone
        self.cell, self.cohort = self.cell[kept], self.cohort[kept]

    def turn_over(self, gone: np.ndarray, cohort: int, new_by_school: np.ndarray) -> None:
        """`remove` the members who are `gone`, then `enter` cohort `cohort`'s new members;
        for a national register in one compiled pass, rather than numpy's passes of each
        (a mask, two selections and two concatenations of the register)."""
        if not compiled.worth_compiling(self.n_schools):
            self.remove(gone)
            self.enter(cohort, new_by_school)
            return
        self.open(cohort)
        size = len(self.cell) - int(np.count_nonzero(gone)) + int(new_by_school.sum())
        # One spare element: the kernel writes each member where the next kept one goes.
        cell, members_cohort = np.empty(size + 1, np.int32), np.empty(size + 1, np.int32)
        workforce_kernels.turn_over_register(
            self.cell, self.cohort, gone, new_by_school,
            CareerStage.EARLY_CAREER_YEAR1 * self.n_schools, cohort, cell, members_cohort,
            self.leavers)
        self.cell, self.cohort = cell[:size], members_cohort[:size]
        self.by_cell[CareerStage.EARLY_CAREER_YEAR1] += new_by_school
        self.entrants[cohort] += size - (len(gone) - int(np.count_nonzero(gone)))

    def record_year(self, year: int) -> None:
        """Count each cohort's members still teaching at the end of run year `year` (from 0),
        then let go the cohorts followed for their `followed_years` years."""
        self.open(year)
        self.still_teaching_by_year.append(np.bincount(self.cohort, minlength=self.n_cohorts))
        done = self.cohort <= year - self.followed_years
        if done.any():
            self.by_cell -= np.bincount(self.cell[done], minlength=self.by_cell.size).reshape(
                self.by_cell.shape).astype(self.by_cell.dtype)
            kept = ~done
            self.cell, self.cohort = self.cell[kept], self.cohort[kept]

    def followed(self, cohort: np.ndarray, year: np.ndarray) -> np.ndarray:
        """Whether cohort `cohort` was still followed at the end of run year `year`."""
        return year - cohort <= self.followed_years
