"""Compiled kernels of the workforce phase (`sim.compiled`), for England's arrays.

Each kernel fuses a few of the numpy passes a term's teacher flows make over the (stage,
school) arrays of counts (`sim.phases.careers`) or over the register of cohorts into one
loop; its docstring names the numpy code it is the twin of, which small places run
instead. Like every kernel, they only add, subtract, multiply, divide and compare: the
exponentials and logarithms the flows need are computed with numpy and passed in, so that
both twins give the same numbers, bit for bit (tests/phases/test_workforce_kernels.py).
"""

from __future__ import annotations

import numpy as np

from sim import compiled

# The kernels below take a school's stage counts in `sim.state.CareerStage` order: early
# career years 1 and 2, post-induction, mid-career, near retirement.


@compiled.kernel
def read_stage_counts(year1: np.ndarray, year2: np.ndarray, post_induction: np.ndarray,
                      near_retirement: np.ndarray, teachers: np.ndarray,
                      counts: np.ndarray) -> None:
    """Each school's teachers by stage into the (stage, school) array `counts`, mid-career
    the rest: the twin of `sim.phases.careers.stage_counts`' `np.stack` (and
    `SchoolArrays.mid_career`), in one pass."""
    for school in range(len(teachers)):
        counts[0, school] = year1[school]
        counts[1, school] = year2[school]
        counts[2, school] = post_induction[school]
        counts[3, school] = (teachers[school] - year1[school] - year2[school]
                             - post_induction[school] - near_retirement[school])
        counts[4, school] = near_retirement[school]


@compiled.kernel
def write_stage_counts(counts: np.ndarray, year1: np.ndarray, year2: np.ndarray,
                       post_induction: np.ndarray, near_retirement: np.ndarray,
                       teachers: np.ndarray) -> None:
    """The (stage, school) `counts` back into the school arrays, and the teachers as their
    sum: the twin of `sim.phases.careers.write_stage_counts`' copies and sum."""
    for school in range(len(teachers)):
        year1[school] = counts[0, school]
        year2[school] = counts[1, school]
        post_induction[school] = counts[2, school]
        near_retirement[school] = counts[4, school]
        teachers[school] = (counts[0, school] + counts[1, school] + counts[2, school]
                            + counts[3, school] + counts[4, school])


@compiled.kernel
def unregistered_counts(counts: np.ndarray, registered: np.ndarray,
                        unregistered: np.ndarray) -> np.ndarray:
    """Teachers off the register in each (stage, school) cell, into `unregistered`, and
    the largest of each stage: numpy's `counts - registered` and `.max(axis=1)` in one
    pass."""
    rows, schools = counts.shape
    largest = np.zeros(rows, np.int64)
    for row in range(rows):
        top = 0  # in a register, not in memory: a store per element would chain them
        for school in range(schools):
            count = counts[row, school] - registered[row, school]
            unregistered[row, school] = count
            top = max(top, count)
        largest[row] = top
    return largest


@compiled.kernel
def take_events(counts: np.ndarray, registered: np.ndarray, events: np.ndarray,
                uniform: np.ndarray, member_cells: np.ndarray, chance: np.ndarray,
                happened: np.ndarray) -> None:
    """Draw the register's members and take a draw's events out of the counts: the twin of
    the numpy end of `sim.phases.stage_draws.draw_by_stage`.

    All but `uniform`, `member_cells` and `happened` are (stage, school) arrays flattened;
    `events` holds the events of the teachers off the register. Each member, at a cell of
    `member_cells`, has an event if their uniform is below the cell's `chance` (both in
    single precision). Members' events are added to `events` and taken out of
    `registered`; then all events are taken out of `counts`.
    """
    # Members' events are counted by cell first, then applied in one pass over the cells:
    # members come in register order, their cells at random, and each scattered update
    # costs a cache miss.
    of_members = np.zeros(len(counts), np.int32)
    for member in range(len(member_cells)):
        cell = member_cells[member]
        hit = uniform[member] < chance[cell]
        happened[member] = hit
        of_members[cell] += hit
    for cell in range(len(counts)):
        events[cell] += of_members[cell]
        registered[cell] -= of_members[cell]
        counts[cell] -= events[cell]


@compiled.kernel
def promote_events(counts: np.ndarray, registered: np.ndarray, events: np.ndarray,
                   uniform: np.ndarray, cells: np.ndarray, chance: np.ndarray) -> None:
    """Move a draw's teachers up a stage, and draw the register's members: the twin of
    the numpy end of `sim.phases.stage_draws.promote_by_stage`.

    All but `uniform` and `cells` are (stage, school) arrays flattened; `events` and
    `chance` have one stage fewer than `counts` and `registered` (the top stage, which
    nobody leaves by moving up). `events` holds the teachers off the register moving up
    from each cell. Every member of the register below the top stage draws the next of
    `uniform` in register order, and moves up if it is below their cell's `chance` (both
    in single precision): their cell in `cells` becomes the same school's at the next
    stage, a stage's worth of cells on.
    """
    below_top = len(events)
    schools = len(counts) - below_top
    of_members = np.zeros(below_top, np.int32)  # counted by cell first, as in take_events
    drawn = 0
    for member in range(len(cells)):
        cell = cells[member]
        if cell >= below_top:
            continue
        hit = uniform[drawn] < chance[cell]
        drawn += 1
        cells[member] = cell + hit * schools
        of_members[cell] += hit
    for cell in range(below_top):
        moving_up = events[cell] + of_members[cell]
        counts[cell] -= moving_up
        counts[cell + schools] += moving_up
        registered[cell] -= of_members[cell]
        registered[cell + schools] += of_members[cell]


@compiled.kernel
def open_posts_by_area(establishment: np.ndarray, teachers: np.ndarray, movers: np.ndarray,
                       area: np.ndarray, open_posts: np.ndarray, open_in_area: np.ndarray,
                       movers_in_area: np.ndarray) -> None:
    """Each school's open posts (its vacancies, if any), and the open posts and movers of
    each local authority: the twin of `sim.phases.recruitment`'s `np.maximum` and
    `np.bincount`s. Counts of people are whole numbers, so they are summed as integers
    (exactly what numpy's sum of them as floats gives) and written as floats."""
    open_total = np.zeros(len(open_in_area), np.int64)
    movers_total = np.zeros(len(movers_in_area), np.int64)
    for school in range(len(area)):
        posts = max(establishment[school] - teachers[school], 0)
        open_posts[school] = posts
        open_total[area[school]] += posts
        movers_total[area[school]] += movers[school]
    open_in_area[:] = open_total
    movers_in_area[:] = movers_total


@compiled.kernel
def offer_posts(area: np.ndarray, attractiveness: np.ndarray, open_posts: np.ndarray,
                filled: np.ndarray, applicants: np.ndarray, still_open: np.ndarray,
                probability: np.ndarray) -> None:
    """One round of `sim.phases.recruitment.recruit`: each school's posts still open, and
    the probability that each is filled, its authority's remaining `applicants` shared in
    proportion to the schools' attractiveness times their open posts (the twin of its
    numpy round before the draw).

    The authority's sum of attractiveness times open posts is added up school by school
    in the order numpy's `bincount` adds it (floating-point sums depend on the order),
    with the running sum of the authority at hand kept out of memory while its schools
    come one after another, as they do in a place's school order.
    """
    demand = np.zeros(len(applicants))
    current = area[0] if len(area) else 0
    running = 0.0
    for school in range(len(area)):
        posts = open_posts[school] - filled[school]
        still_open[school] = posts
        if area[school] != current:
            demand[current] = running
            current = area[school]
            running = demand[current]
        running += attractiveness[school] * posts
    if len(area):
        demand[current] = running
    ratio = np.zeros(len(applicants))
    for here in range(len(applicants)):
        if demand[here] > 0:
            ratio[here] = applicants[here] / demand[here]
    for school in range(len(area)):
        # np.clip(chance, 0, 1) without a branch (mispredicted: many are clipped); both
        # leave a NaN as it is.
        chance = ratio[area[school]] * attractiveness[school]
        probability[school] = np.minimum(np.maximum(chance, 0.0), 1.0)


@compiled.kernel
def add_by_area(area: np.ndarray, new: np.ndarray, filled: np.ndarray,
                new_in_area: np.ndarray) -> None:
    """Add a round's filled posts to each school's, and count them by authority: the twin
    of `filled += new` and `np.bincount(area, weights=new)` (whole numbers, summed as
    integers)."""
    total = np.zeros(len(new_in_area), np.int64)
    for school in range(len(area)):
        filled[school] += new[school]
        total[area[school]] += new[school]
    new_in_area[:] = total


@compiled.kernel
def match_movers(movers: np.ndarray, member_cells: np.ndarray, shuffled: np.ndarray,
                 posts_for_movers: np.ndarray, area: np.ndarray, n_areas: int,
                 placed: np.ndarray, to_entrants: np.ndarray,
                 member_destination: np.ndarray) -> None:
    """`sim.phases.stage_draws.place_movers` as compiled loops (the twin of its numpy code):
    the same movers in the same random order, sorted by area by counting (a stable sort,
    as numpy's), and the same posts in the same order, without the arrays of one entry
    per mover and per post that numpy sorts.

    Most cells have no mover or one, and most schools no post for movers or one: the
    first of each is written whether or not there is one (where the next one would go),
    rather than decided by a branch that would be mispredicted, and the loops go on only
    for the second and later.
    """
    n_schools = len(area)
    stages = len(movers) // n_schools
    # Every mover's stage and area of origin: the unregistered first, cell by cell, then
    # the members. Stage and school come from the loops or from comparisons, not from
    # dividing each cell by the number of schools (a division is slow).
    members_in_cell = np.zeros(len(movers), np.int32)
    for cell in member_cells:
        members_in_cell[cell] += 1
    total = len(shuffled)
    stage_of = np.empty(total + 1, np.int8)  # one spare element for the unconditional write
    area_of = np.empty(total + 1, np.int32)
    mover = 0
    for stage in range(stages):
        for school in range(n_schools):
            cell = stage * n_schools + school
            count = movers[cell] - members_in_cell[cell]
            stage_of[mover], area_of[mover] = stage, area[school]
            for extra in range(1, count):
                stage_of[mover + extra], area_of[mover + extra] = stage, area[school]
            mover += count
    unregistered = mover
    for member in range(len(member_cells)):
        cell = member_cells[member]
        stage = 0
        for boundary in range(1, stages):
            stage += cell >= boundary * n_schools
        stage_of[mover], area_of[mover] = stage, area[cell - stage * n_schools]
        mover += 1
    # By area of origin, in the random order within each: their stage and register entry
    # (-1 if none), with a spare element read past the last.
    movers_in_area = np.zeros(n_areas, np.int64)
    for mover in range(total):
        movers_in_area[area_of[mover]] += 1
    first_mover = np.cumsum(movers_in_area) - movers_in_area
    next_slot = first_mover.copy()
    sorted_stage = np.zeros(total + 1, np.int64)
    sorted_member = np.full(total + 1, -1, np.int64)
    for mover in shuffled:
        slot = next_slot[area_of[mover]]
        next_slot[area_of[mover]] += 1
        sorted_stage[slot] = stage_of[mover]
        sorted_member[slot] = mover - unregistered if mover >= unregistered else -1
    # Each area's posts, school by school, take its movers in that order (the schools in
    # area order: as they are, if they are sorted by area already, as England's are).
    ordered = True
    for school in range(1, n_schools):
        ordered &= area[school - 1] <= area[school]
    by_area = np.arange(n_schools) if ordered else np.argsort(area, kind="mergesort")
    # An area's posts taken so far kept at hand while its schools come one after another.
    current, taken, available, first = -1, 0, 0, 0
    for school in by_area:
        here = area[school]
        if here != current:
            current, taken, available, first = here, 0, movers_in_area[here], first_mover[here]
        posts = posts_for_movers[school]
        filled = min(max(available - taken, 0), posts)
        to_entrants[school] = posts - filled
        chosen = min(first + taken, total)
        placed[sorted_stage[chosen] * n_schools + school] += filled > 0
        if filled > 0 and sorted_member[chosen] >= 0:
            member_destination[sorted_member[chosen]] = school
        for extra in range(1, filled):
            placed[sorted_stage[chosen + extra] * n_schools + school] += 1
            if sorted_member[chosen + extra] >= 0:
                member_destination[sorted_member[chosen + extra]] = school
        taken += posts


@compiled.kernel
def turn_over_register(cell: np.ndarray, cohort: np.ndarray, gone: np.ndarray,
                       new_by_school: np.ndarray, first_cell: int, new_cohort: int,
                       kept_cell: np.ndarray, kept_cohort: np.ndarray,
                       leavers: np.ndarray) -> None:
    """The register after a term in one pass: the twin of `Cohorts.remove` then
    `Cohorts.enter` (`sim.phases.careers`). Members not `gone` are copied, in order, to
    `kept_cell` and `kept_cohort` (each written where the next kept member goes, which
    only moves on if this one stays: no branch to mispredict; the arrays have one spare
    element at the end), and those gone are counted by cohort into `leavers`. Then each
    school's new members, in school order, at cell `first_cell` + school, in cohort
    `new_cohort`."""
    kept = 0
    for member in range(len(cell)):
        kept_cell[kept], kept_cohort[kept] = cell[member], cohort[member]
        kept += not gone[member]
        if gone[member]:  # few are: a branch rather than a chain of updates of `leavers`
            leavers[cohort[member]] += 1
    for school in range(len(new_by_school)):
        # Most schools have no new member or one: the first is written whether or not
        # there is one (then overwritten, or left in the spare element), without a branch.
        kept_cell[kept], kept_cohort[kept] = first_cell + school, new_cohort
        for extra in range(1, new_by_school[school]):
            kept_cell[kept + extra], kept_cohort[kept + extra] = first_cell + school, new_cohort
        kept += new_by_school[school]


@compiled.kernel
def members_at_or_beyond(cells: np.ndarray, leaving: np.ndarray, first_cell: int,
                         rows: np.ndarray, relative: np.ndarray) -> int:
    """The twin of `sim.phases.stage_draws.members_who_may_move`'s numpy: the register
    rows of the members not `leaving` at `first_cell` or beyond, and their cells less
    `first_cell`, written in order without a branch (each member where the next goes,
    which only moves on if this one counts; one spare element). Returns how many."""
    found = 0
    for member in range(len(cells)):
        rows[found], relative[found] = member, cells[member] - first_cell
        found += (not leaving[member]) & (cells[member] >= first_cell)
    return found


@compiled.kernel
def settle_movers(cells: np.ndarray, moved: np.ndarray, move_cells: np.ndarray,
                  destination: np.ndarray, schools: int, first_cell: int,
                  registered: np.ndarray, gone: np.ndarray) -> None:
    """The twin of `sim.phases.stage_draws.settle_moved_members`' numpy: each registered
    mover who found a post takes the cell of their stage at their new school (the stage
    found by comparisons rather than a division), counted into `registered` (flattened);
    one who found none is `gone`."""
    stages = len(registered) // schools
    for mover in range(len(moved)):
        if destination[mover] < 0:
            gone[moved[mover]] = True
            continue
        stage = 0
        for boundary in range(1, stages):
            stage += move_cells[mover] >= boundary * schools
        new_cell = stage * schools + destination[mover]
        cells[moved[mover]] = first_cell + new_cell
        registered[new_cell] += 1


@compiled.kernel
def workload_and_exponents(grade: np.ndarray, trust: np.ndarray, data_reporting: np.ndarray,
                           pressure_by_grade: np.ndarray, extra: np.ndarray,
                           fsm_share: np.ndarray, fsm_mean: float,
                           elasticities: np.ndarray, workload: np.ndarray,
                           exponents: np.ndarray) -> None:
    """Each school's workload, and the exponents of its pull on its teachers and on
    applicants, in one pass: the twin of `sim.phases.workforce.update_workload` and of
    the arguments of `np.exp` in `flow_multipliers` and
    `sim.phases.recruitment.attractiveness`.

    `data_reporting` is indexed by trust row plus one (0 for no trust, as
    `sim.state.per_school` does), `pressure_by_grade` by grade less one; `elasticities`
    are the workload and disadvantage elasticities of the pull on teachers, then of the
    pull on applicants, the latter negated (as numpy's `-elasticity` is).
    """
    for school in range(len(grade)):
        level = (1.0 + data_reporting[trust[school] + 1]
                 + pressure_by_grade[grade[school] - 1] + extra[school])
        workload[school] = level
        disadvantage = fsm_share[school] - fsm_mean
        exponents[0, school] = (elasticities[0] * (level - 1.0)
                                + elasticities[1] * disadvantage)
        exponents[1, school] = (elasticities[2] * (level - 1.0)
                                - elasticities[3] * disadvantage)


@compiled.kernel
def pulls(grade: np.ndarray, exponentials: np.ndarray, leaving_by_grade: np.ndarray,
          moving_by_grade: np.ndarray, attractiveness_by_grade: np.ndarray,
          leaving: np.ndarray, moving: np.ndarray, attractiveness: np.ndarray) -> None:
    """Each school's leaving and moving multipliers and its attractiveness to applicants,
    from the exponentials of `workload_and_exponents`' exponents: the twin of the
    products in `sim.phases.workforce.flow_multipliers` and
    `sim.phases.recruitment.attractiveness`."""
    for school in range(len(grade)):
        by_grade = grade[school] - 1
        leaving[school] = exponentials[0, school] * leaving_by_grade[by_grade]
        moving[school] = exponentials[0, school] * moving_by_grade[by_grade]
        attractiveness[school] = attractiveness_by_grade[by_grade] * exponentials[1, school]


@compiled.kernel
def yearly_staying(yearly_rates: np.ndarray, multiplier: np.ndarray, cap: float,
                   staying: np.ndarray) -> None:
    """1 - min(max(rate x multiplier, 0), cap), each rate's by school: the twin of
    `sim.phases.workforce.termly_probability`'s numpy product, clip and subtraction
    (`np.minimum(np.maximum(...))` rather than a branch, leaving a NaN as np.clip does)."""
    for row in range(len(yearly_rates)):
        for school in range(len(multiplier)):
            rate = np.minimum(np.maximum(yearly_rates[row] * multiplier[school], 0.0), cap)
            staying[row, school] = 1.0 - rate
