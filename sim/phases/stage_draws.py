"""Teachers' events drawn by (stage, school) cell, with the register's members among them.

Each school counts its teachers by career stage (`sim.phases.careers`); the run's
early-career entrants are also on the register of cohorts (`sim.phases.careers.Cohorts`),
one entry per member. A term's progression, leaving and moving are drawn cell by cell:
the teachers off the register together, one uniform per cell from the phase's stream
(`sim.sampling.binomial_rows`), and each member on their own from a stream of the term's,
since how many members there are depends on the policy (common random numbers: the
phase's stream must draw the same number of values under every policy). The two add up
to a Binomial(count, probability) draw, as if nobody were registered. Movers are then
matched to posts in their own local authority, members keeping their cohort and stage.

For England's arrays the passes over cells and members are compiled loops
(`sim.phases.workforce_kernels`); a small place runs the numpy code they are the twins of.
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.phases import workforce_kernels
from sim.sampling import binomial_rows


def draw_by_stage(rng: np.random.Generator, member_rng: np.random.Generator,
                  counts: np.ndarray, registered: np.ndarray, probability: np.ndarray,
                  member_cells: np.ndarray, log_staying: np.ndarray | None = None,
                  single: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    `log_staying`, log(1 - p), and `single`, p in single precision, shaped as
    `probability`, may be given if known (`sim.phases.workforce.RememberedProbabilities`).
    """
    if compiled.worth_compiling(counts.shape[1]):
        unregistered = np.empty(counts.shape, np.int32)  # half the memory traffic of int64
        largest = workforce_kernels.unregistered_counts(counts, registered, unregistered)
        drawn = binomial_rows(rng, unregistered, probability, largest, log_staying)
        happened = np.empty(len(member_cells), dtype=bool)
        workforce_kernels.take_events(
            counts.reshape(-1), registered.reshape(-1), drawn.reshape(-1),
            _member_uniforms(member_rng, len(member_cells)), member_cells,
            _single_precision(probability if single is None else single, counts.shape),
            happened)
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
    if compiled.worth_compiling(counts.shape[1]):
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
    single precision as the members' uniforms are, flattened. Rounded before it is spread
    over the cells: numpy converts a view whose rows share one row's values (stride 0)
    thirty times slower than the row itself."""
    shared = probability[:1] if probability.strides[0] == 0 else probability
    return np.broadcast_to(shared.astype(np.float32, copy=False), shape).ravel()


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
    if compiled.worth_compiling(movers.shape[1]):
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


def members_who_may_move(cells: np.ndarray, leaving: np.ndarray, first_cell: int,
                         schools: int) -> tuple[np.ndarray, np.ndarray]:
    """The register's members who stay and are at `first_cell` or beyond (experienced
    teachers, who may move): their rows in the register, and their cells counted from
    `first_cell` (flat indices into the experienced stages' counts of a place of
    `schools` schools)."""
    if compiled.worth_compiling(schools):
        # One spare element each: the kernel writes every member where the next goes.
        rows, relative = np.empty(len(cells) + 1, np.int64), np.empty(len(cells) + 1, np.int32)
        found = workforce_kernels.members_at_or_beyond(cells, leaving, first_cell, rows,
                                                       relative)
        return rows[:found], relative[:found]
    rows = np.flatnonzero(~leaving & (cells >= first_cell))
    return rows, cells[rows] - first_cell


def settle_moved_members(cells: np.ndarray, moved: np.ndarray, move_cells: np.ndarray,
                         destination: np.ndarray, first_cell: int, registered: np.ndarray,
                         leaving: np.ndarray) -> np.ndarray:
    """Registered movers keep their stage at their new school: the register's rows
    `moved`, at `move_cells` (counted from `first_cell`), found posts at `destination`
    (-1 for none). Their cells are updated in `cells` and counted into `registered` (the
    members of the stages from `first_cell` on, by cell). Returns who has left: the
    `leaving` members and the movers who found no post."""
    gone = leaving.copy()
    if compiled.worth_compiling(registered.shape[1]):
        workforce_kernels.settle_movers(cells, moved, move_cells, destination,
                                        registered.shape[1], first_cell,
                                        registered.reshape(-1), gone)
        return gone
    schools = registered.shape[1]
    found_post = destination >= 0
    # A member who moved keeps their stage (the row of their cell) at the new school.
    new_cells = move_cells[found_post] // schools * schools + destination[found_post]
    cells[moved[found_post]] = first_cell + new_cells
    registered += np.bincount(new_cells, minlength=registered.size).reshape(registered.shape)
    gone[moved[~found_post]] = True
    return gone
