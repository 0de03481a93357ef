"""`GroupDecay.update`'s rewrite of a matrix's rows as compiled passes (`sim.compiled`),
for England's matrices.

Every term some hundreds of schools change trust, and the rows of every school in a group
that gained or lost a member are rewritten; the other rows, most of the matrix, stay as
they are. The numpy twin in `sim.mechanics.proximity` does this in a few dozen calls over
the touched rows' pairs and the whole matrix, and copies the matrix whole. Here the rows
live in a pool (`sim.mechanics.proximity.DecayRows`: row i's entries are
`columns[first[i]:stop[i]]`, with old rows' entries left between), so a rewritten row is
written after the pool's last entry and every other row stays where it is: the cost
follows the change, not the matrix. When the pool is full, every row is written afresh
into a new pool, in row order (`pack`), as a matrix built whole is laid out. The pool's
entries are only ever written past the last one in use, so a reader holding an earlier
update's rows keeps its values.

One pass lists the pairs whose value must be worked out afresh (`fresh_pairs`: numpy then
computes exp(-distance / decay) for them, as a rebuild from scratch would) and one pass
writes the rewritten rows (`splice`), taking every other value from the old ones. Each
row's entries are in column order, as a matrix built whole has them, so the result is the
twin's bit for bit (a test compares them).

Both passes walk the members of the touched groups grouped by group, in school order
within each: `by_group[group_start[g]:group_start[g + 1]]` are group g's members. A first
pass (`touched_rows`) finds them, and where each row's entries go, from the old and new
grouping: in numpy that is a score of calls over every school, each a pass of its own.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import compiled


class Touched(NamedTuple):
    """What a rewrite touches (`touched_rows`)."""

    n_moved: int  # schools that changed group
    moved: np.ndarray  # per school: whether it changed group
    rewritten: np.ndarray  # per school: whether its row is written anew
    group_start: np.ndarray  # where each group's touched members start in `by_group`
    first: np.ndarray  # the new rows' first entry in the pool
    stop: np.ndarray  # ... and one past their last
    members: np.ndarray  # the touched groups' members, in school order
    by_group: np.ndarray  # the same grouped by group, in school order within each
    used: int  # the pool's entries in use once the rewritten rows are written


def touched_rows(group: np.ndarray, old_group: np.ndarray, old_first: np.ndarray,
                 old_stop: np.ndarray, used: int, pack: bool) -> Touched:
    """What a rewrite touches, from the new and old `group` of each school (-1: none), the
    old rows' places in the pool (`old_first`, `old_stop`) and the pool's entries in use.
    Rewritten rows are every member of a group that gained or lost one (each holds every
    other member of its group) and every school that moved (in no group: empty). They go
    after the `used` entries, in row order; with `pack`, every row does, from the pool's
    start (the other rows keep their length)."""
    return Touched(*_touched_rows(group, old_group, old_first, old_stop, used, pack))


@compiled.kernel
def _touched_rows(group, old_group, old_first, old_stop, used, pack):  # pragma: no cover
    n = len(group)
    n_groups = 0
    for school in range(n):
        n_groups = max(n_groups, group[school] + 1, old_group[school] + 1)
    moved, rewritten = np.empty(n, np.bool_), np.empty(n, np.bool_)
    # Slot g + 1 for group g, slot 0 for none (never touched).
    touched = np.zeros(n_groups + 1, np.bool_)
    n_moved = 0
    for school in range(n):
        moved[school] = group[school] != old_group[school]
        if moved[school]:
            n_moved += 1
            touched[old_group[school] + 1] = True
            touched[group[school] + 1] = True
    touched[0] = False
    group_size = np.zeros(n_groups, np.int64)
    n_members = 0
    for school in range(n):
        if touched[group[school] + 1]:
            group_size[group[school]] += 1
            n_members += 1
    group_start = np.empty(n_groups + 1, np.int64)
    group_start[0] = 0
    for g in range(n_groups):
        group_start[g + 1] = group_start[g] + group_size[g]
    members, by_group = np.empty(n_members, np.int64), np.empty(n_members, np.int64)
    first, stop = np.empty(n, np.int64), np.empty(n, np.int64)
    filled = group_start[:-1].copy()
    at = 0
    end = 0 if pack else used
    for school in range(n):
        g = group[school]
        in_touched = touched[g + 1]
        rewritten[school] = in_touched or moved[school]
        if in_touched:
            members[at] = school
            at += 1
            by_group[filled[g]] = school
            filled[g] += 1
            length = group_size[g] - 1
        elif moved[school]:
            length = 0  # left every group
        elif not pack:
            first[school], stop[school] = old_first[school], old_stop[school]
            continue
        else:
            length = old_stop[school] - old_first[school]
        first[school] = end
        end += length
        stop[school] = end
    return n_moved, moved, rewritten, group_start, first, stop, members, by_group, end


@compiled.kernel
def fresh_pairs(members: np.ndarray, group: np.ndarray, moved: np.ndarray,
                by_group: np.ndarray, group_start: np.ndarray, x_km: np.ndarray,
                y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) pairs of two different schools of one touched group with at
    least one of them moved, by row then column, as the differences of their coordinates
    (row minus column: what `proximity._decay` works out, for numpy to take the distance
    and its decay); `members` are the touched groups' members in school order. A school
    that moved pairs with every other member of its group, one that stayed with the
    members that moved in: those are listed first, by group (in school order), so that a
    school that stayed reads only them."""
    n_groups = len(group_start) - 1
    moved_start = np.zeros(n_groups + 1, np.int64)
    for g in range(n_groups):
        moved_start[g + 1] = moved_start[g]
        for k in range(group_start[g], group_start[g + 1]):
            moved_start[g + 1] += moved[by_group[k]]
    moved_by_group = np.empty(moved_start[n_groups], np.int64)
    at = 0
    for k in range(len(by_group)):
        if moved[by_group[k]]:
            moved_by_group[at] = by_group[k]
            at += 1
    count = 0
    for row in members:
        g = group[row]
        if moved[row]:
            count += group_start[g + 1] - group_start[g] - 1
        else:
            count += moved_start[g + 1] - moved_start[g]
    along_x, along_y = np.empty(count), np.empty(count)
    at = 0
    for row in members:
        g = group[row]
        if moved[row]:
            for k in range(group_start[g], group_start[g + 1]):
                column = by_group[k]
                if column != row:
                    along_x[at] = x_km[row] - x_km[column]
                    along_y[at] = y_km[row] - y_km[column]
                    at += 1
        else:
            for k in range(moved_start[g], moved_start[g + 1]):
                column = moved_by_group[k]
                along_x[at] = x_km[row] - x_km[column]
                along_y[at] = y_km[row] - y_km[column]
                at += 1
    return along_x, along_y


@compiled.kernel
def splice(old_first: np.ndarray, old_columns: np.ndarray, old_values: np.ndarray,
           rewritten: np.ndarray, moved: np.ndarray, group: np.ndarray, by_group: np.ndarray,
           group_start: np.ndarray, fresh_values: np.ndarray, first: np.ndarray,
           stop: np.ndarray, columns: np.ndarray, values: np.ndarray, packed: bool) -> None:
    """Write the new rows' entries into the pool (`columns`, `values`) where `first` and
    `stop` place them (`touched_rows`): a rewritten row in a group, one entry per other
    member in column order, the next of `fresh_values` (in `fresh_pairs` order) for a pair
    with a school that moved and the old entry otherwise (a school that stayed in its
    group has an old entry for each other member that stayed). A row not rewritten stays
    where it is, unless the rows are being `packed` into a new pool: then it is copied."""
    fresh = 0
    for row in range(len(rewritten)):
        at = first[row]
        old = old_first[row]
        if not rewritten[row]:
            if packed:
                for entry in range(stop[row] - at):
                    columns[at + entry] = old_columns[old + entry]
                    values[at + entry] = old_values[old + entry]
            continue
        g = group[row]
        if g < 0:
            continue  # a school that left every group: an empty row
        for k in range(group_start[g], group_start[g + 1]):
            column = by_group[k]
            if column == row:
                continue
            columns[at] = column
            if moved[row] or moved[column]:
                values[at] = fresh_values[fresh]
                fresh += 1
            else:
                while old_columns[old] != column:
                    old += 1  # past the members that left
                values[at] = old_values[old]
            at += 1
