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
(`draw_by_stage`); movers carry their cohort and stage to the school they move to
(`place_movers`), so a cohort's teachers leave state schools only by leaving. At each
year's end the register counts each cohort's members still teaching
(cohorts.parquet, `sim.metrics.cohort_frame`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.rates import MAX_YEARLY_RATE, per_term
from sim.phases import workforce_kernels
from sim.sampling import binomial, binomial_rows
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
    return np.stack([schools.early_career_year1, schools.early_career_year2,
                     schools.post_induction, schools.mid_career, schools.near_retirement])


def write_stage_counts(schools: SchoolArrays, counts: np.ndarray) -> None:
    """Set each school's stage counts, and its teachers as their sum, in place."""
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


def draw_by_stage(rng: np.random.Generator, member_rng: np.random.Generator,
                  counts: np.ndarray, registered: np.ndarray, probability: np.ndarray,
                  member_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Events in each (stage, school) cell of `counts`, and which register members had one;
    the events are taken out of `counts`, and the members' out of `registered` (in place).

    `probability` is one per cell, or one per stage (a column). A cell's count includes
    `registered` members of the register, one at each of `member_cells` (flat indices into
    `counts`). The others are drawn together from `rng`, one uniform per cell, a stage at
    a time (`sim.sampling.binomial_rows`); each member is drawn on its own at the cell's
    probability, from `member_rng`, since how many members there are depends on the
    policy (common random numbers: `rng` must draw the same number of values under every
    policy). The two add up to a Binomial(count, probability) draw, as if nobody were
    registered. Returns the events by cell (int64 from numpy where there are members,
    int32 otherwise and from the kernels: the same numbers) and whether each member had one.
    """
    if compiled.worth_compiling(counts.size):
        unregistered = np.empty(counts.shape, np.int32)  # half the memory traffic of int64
        largest = workforce_kernels.unregistered_counts(counts, registered, unregistered)
        drawn = binomial_rows(rng, unregistered, probability, largest)
        happened = np.empty(len(member_cells), dtype=bool)
        workforce_kernels.take_events(
            counts.reshape(-1), registered.reshape(-1), drawn.reshape(-1),
            _member_uniforms(member_rng, len(member_cells)), member_cells,
            _single_precision(probability, counts.shape), happened)
        return drawn, happened
    drawn, happened, of_members = _draw_with_numpy(rng, member_rng, counts, registered,
                                                   probability, member_cells)
    counts -= drawn
    registered -= of_members
    return drawn, happened


def promote_by_stage(rng: np.random.Generator, member_rng: np.random.Generator,
                     counts: np.ndarray, registered: np.ndarray, probability: np.ndarray,
                     cells: np.ndarray) -> None:
    """Teachers move up a stage, each (stage, school) cell's at its stage's `probability`
    (one per stage below the top), in `counts` and on the register (`registered` by cell,
    and each member's cell in `cells`), in place: `draw_by_stage` of every stage but the
    top, with the movers added to the next stage at the same school.
    """
    schools = counts.shape[1]
    per_stage = probability[:, np.newaxis]
    top = (len(counts) - 1) * schools
    if compiled.worth_compiling(counts.size):
        unregistered = np.empty((len(counts) - 1, schools), np.int32)
        largest = workforce_kernels.unregistered_counts(counts[:-1], registered[:-1],
                                                        unregistered)
        moving_up = binomial_rows(rng, unregistered, per_stage, largest)
        below_top = int(np.count_nonzero(cells < top))
        workforce_kernels.promote_events(
            counts.reshape(-1), registered.reshape(-1), moving_up.reshape(-1),
            _member_uniforms(member_rng, below_top), cells,
            _single_precision(per_stage, moving_up.shape))
        return
    below_top = np.flatnonzero(cells < top)
    moving_up, members, registered_moving_up = _draw_with_numpy(
        rng, member_rng, counts[:-1], registered[:-1], per_stage, cells[below_top])
    counts[:-1] -= moving_up
    counts[1:] += moving_up
    registered[:-1] -= registered_moving_up
    registered[1:] += registered_moving_up
    cells[below_top[members]] += schools  # the same school, the next stage


def _draw_with_numpy(rng: np.random.Generator, member_rng: np.random.Generator,
                     counts: np.ndarray, registered: np.ndarray, probability: np.ndarray,
                     member_cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`draw_by_stage` for a small place, leaving `counts` and `registered` as they are:
    the events by cell, whether each member had one, and the members' events by cell."""
    drawn = binomial_rows(rng, counts - registered, probability)
    if not len(member_cells):
        return drawn, np.zeros(0, dtype=bool), np.zeros_like(drawn)
    uniform = _member_uniforms(member_rng, len(member_cells))
    happened = uniform < _single_precision(probability, counts.shape)[member_cells]
    of_members = np.bincount(member_cells[happened], minlength=counts.size).reshape(counts.shape)
    return drawn + of_members, happened, of_members


def _single_precision(probability: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A draw's probability of each cell (given per stage, per school or per cell), in
    single precision as the members' uniforms are, flattened."""
    return np.broadcast_to(probability, shape).astype(np.float32).ravel()


def _member_uniforms(member_rng: np.random.Generator, members: int) -> np.ndarray:
    """One uniform per register member, in single precision: half the memory traffic over
    a register of some 10^5 members, and probabilities to 7 digits. None are drawn for
    an empty register."""
    if not members:
        return np.zeros(0, dtype=np.float32)
    return member_rng.random(members, dtype=np.float32)


def place_movers(rng: np.random.Generator, movers: np.ndarray, member_cells: np.ndarray,
                 posts_for_movers: np.ndarray, area: np.ndarray,
                 n_areas: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match each local authority's movers, at random, to the posts its schools fill with
    movers; each mover keeps their stage and, if registered, their cohort.

    `movers` is a (stage, school) array of movers by origin, the register's movers among
    them at `member_cells`. An authority cannot place more movers than it has: posts
    beyond its movers go to new entrants. `rng` draws one value per mover, a number that
    depends on the policy: it must be a stream of its own (common random numbers).
    Returns the movers placed, by stage and destination school; the posts each school
    gives to entrants instead; and the destination of each registered mover, or -1 for one
    who found no post (and left).
    """
    n_schools = movers.shape[1]
    if compiled.worth_compiling(movers.size):
        placed = np.zeros(movers.shape, dtype=np.int32)  # int64 from numpy: the same numbers
        to_entrants = np.zeros(n_schools, dtype=np.int64)
        member_destination = np.full(len(member_cells), -1, dtype=np.int64)
        workforce_kernels.match_movers(
            movers.reshape(-1), member_cells, rng.permutation(int(movers.sum())),
            posts_for_movers, area, n_areas, placed.reshape(-1), to_entrants,
            member_destination)
        return placed, to_entrants, member_destination
    unregistered = movers.ravel()
    if len(member_cells):
        unregistered = unregistered - np.bincount(member_cells, minlength=movers.size)
    cell = np.concatenate([np.repeat(np.arange(movers.size), unregistered), member_cells])
    member = np.concatenate([np.full(int(unregistered.sum()), -1),
                             np.arange(len(member_cells))])
    origin_area = area[cell % n_schools]
    shuffled = rng.permutation(len(cell))
    # By area, at random within each (a stable sort of a random order; 16-bit keys sort
    # several times faster, and England has about 150 authorities).
    keys = origin_area[shuffled].astype(np.int16 if n_areas < 2**15 else np.int64)
    shuffled = shuffled[np.argsort(keys, kind="stable")]
    cell, member = cell[shuffled], member[shuffled]
    movers_in_area = np.bincount(origin_area, minlength=n_areas)
    first_mover = np.cumsum(movers_in_area) - movers_in_area

    post_school = np.repeat(np.arange(n_schools), posts_for_movers)
    post_school = post_school[np.argsort(area[post_school], kind="stable")]
    post_area = area[post_school]
    posts_in_area = np.bincount(post_area, minlength=n_areas)
    rank = np.arange(len(post_school)) - (np.cumsum(posts_in_area) - posts_in_area)[post_area]
    filled = rank < movers_in_area[post_area]
    to_entrants = np.bincount(post_school[~filled], minlength=n_schools)

    chosen = first_mover[post_area[filled]] + rank[filled]
    destination = post_school[filled]
    stage_row = cell[chosen] // n_schools
    placed = np.bincount(stage_row * n_schools + destination,
                         minlength=movers.size).reshape(movers.shape)
    member_destination = np.full(len(member_cells), -1, dtype=np.int64)
    placed_member = member[chosen]
    registered = placed_member >= 0
    member_destination[placed_member[registered]] = destination[registered]
    return placed, to_entrants, member_destination


@dataclass
class Cohorts:
    """The run's early-career new entrants, one row per member still in post.

    A member is stored by their (stage, school) cell, stage x `n_schools` + school (in 32
    bits, to halve the memory traffic): the flat index into a (stage, school) array of
    counts that `draw_by_stage` takes. Their cohort is the run year they entered, from 0
    (docs/ODD.md section 7.1). Created by the model when the run starts; written by the
    workforce phase; read at each year's end by the record (`sim.metrics.cohort_frame`).
    """

    n_schools: int
    cell: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # Members by cell, a (stage, school) array kept in step with `cell`.
    by_cell: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    cohort: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    entrants: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # by cohort
    leavers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # so far
    # Members still teaching at the end of each run year, by cohort.
    still_teaching_by_year: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.by_cell.size == 0:
            self.by_cell = np.zeros((N_STAGES, self.n_schools), np.int64)

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
        if not compiled.worth_compiling(len(self.cell)):
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
        """Count each cohort's members still teaching at the end of run year `year` (from 0)."""
        self.open(year)
        self.still_teaching_by_year.append(np.bincount(self.cohort, minlength=self.n_cohorts))
