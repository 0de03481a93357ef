"""`GroupDecay.update`'s rewrite of a matrix's rows as compiled passes (`sim.compiled`),
for England's matrices.

Every term some hundreds of schools change trust, and the rows of every school in a group
that gained or lost a member are rewritten; the other rows, most of the matrix, are copied.
The numpy twin in `sim.mechanics.proximity` does this in a few dozen calls over the
touched rows' pairs and the whole matrix; here one pass lists the pairs whose value must be
worked out afresh (`fresh_pairs`: numpy then computes exp(-distance / decay) for them,
as a rebuild from scratch would) and one pass writes the new matrix (`splice`), taking
every other value from the old one. Each row's entries are in column order, as a matrix
built whole has them, so the result is the twin's bit for bit (a test compares them).

Both passes walk the members of the touched groups grouped by group, in school order
within each: `by_group[group_start[g]:group_start[g + 1]]` are group g's members. A first
pass (`touched_rows`) finds them, and each row's new length, from the old and new grouping:
in numpy that is a score of calls over every school, each a pass of its own.
"""

from __future__ import annotations

import numpy as np

from sim import compiled


@compiled.kernel
def touched_rows(group: np.ndarray, old_group: np.ndarray, old_start: np.ndarray,
                 moved: np.ndarray, rewritten: np.ndarray, group_start: np.ndarray,
                 start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a rewrite touches, from the new and old `group` of each school (-1: none) and
    the old matrix's row pointer `old_start`. Writes whether each school `moved` (changed
    group), which rows are `rewritten` (every member of a group that gained or lost one,
    and every school that moved), `group_start` (room for `group.max() + 2` entries: where
    each group's touched members start in `by_group`, 0 members for an untouched group)
    and the new matrix's row pointer `start` (a rewritten row holds every other member of
    its group, none if it is in none; other rows keep their length). Returns `members`,
    the touched groups' members in school order, and `by_group`, the same grouped by group
    in school order within each."""
    n = len(group)
    n_groups = len(group_start) - 1
    # Slot g + 1 for group g, slot 0 for none (never touched).
    touched = np.zeros(n_groups + 1, np.bool_)
    for school in range(n):
        moved[school] = group[school] != old_group[school]
        if moved[school]:
            touched[old_group[school] + 1] = True
            touched[group[school] + 1] = True
    touched[0] = False
    group_size = np.zeros(n_groups, np.int64)
    n_members = 0
    for school in range(n):
        if touched[group[school] + 1]:
            group_size[group[school]] += 1
            n_members += 1
    group_start[0] = 0
    for g in range(n_groups):
        group_start[g + 1] = group_start[g] + group_size[g]
    members, by_group = np.empty(n_members, np.int64), np.empty(n_members, np.int64)
    filled = group_start[:-1].copy()
    at = 0
    start[0] = 0
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
        else:
            length = old_start[school + 1] - old_start[school]
        start[school + 1] = start[school] + length
    return members, by_group


@compiled.kernel
def fresh_pairs(members: np.ndarray, group: np.ndarray, moved: np.ndarray,
                by_group: np.ndarray, group_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, column) pairs of two different schools of one touched group with at
    least one of them moved, by row then column; `members` are the touched groups'
    members in school order. A school that moved pairs with every other member of its
    group, one that stayed with the members that moved in: those are listed first, by
    group (in school order), so that a school that stayed reads only them."""
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
    rows, cols = np.empty(count, np.int64), np.empty(count, np.int64)
    at = 0
    for row in members:
        g = group[row]
        if moved[row]:
            for k in range(group_start[g], group_start[g + 1]):
                if by_group[k] != row:
                    rows[at], cols[at] = row, by_group[k]
                    at += 1
        else:
            for k in range(moved_start[g], moved_start[g + 1]):
                rows[at], cols[at] = row, moved_by_group[k]
                at += 1
    return rows, cols


@compiled.kernel
def splice(old_start: np.ndarray, old_columns: np.ndarray, old_values: np.ndarray,
           rewritten: np.ndarray, moved: np.ndarray, group: np.ndarray, by_group: np.ndarray,
           group_start: np.ndarray, fresh_values: np.ndarray, start: np.ndarray,
           columns: np.ndarray, values: np.ndarray) -> None:
    """Write the new matrix's entries (`start` is its row pointer, worked out already):
    rows not `rewritten` as they were; a rewritten row in a group, one entry per other
    member in column order, the next of `fresh_values` (in `fresh_pairs` order) for a pair
    with a school that moved and the old entry otherwise (a school that stayed in its
    group has an old entry for each other member that stayed)."""
    fresh = 0
    # Rows not rewritten are copied a run of rows at a time (`copy_from`: the first row of
    # the run under way), as one block.
    copy_from = 0
    n = len(rewritten)
    for row in range(n + 1):
        if row < n and not rewritten[row]:
            continue
        if copy_from < row:
            first, last = old_start[copy_from], old_start[row]
            at = start[copy_from]
            columns[at:at + last - first] = old_columns[first:last]
            values[at:at + last - first] = old_values[first:last]
        copy_from = row + 1
        if row == n or group[row] < 0:
            continue  # the end, or a school that left every group: an empty row
        g = group[row]
        at = start[row]
        old = old_start[row]
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
