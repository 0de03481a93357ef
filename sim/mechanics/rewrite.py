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
within each: `by_group[group_start[g]:group_start[g + 1]]` are group g's members.
"""

from __future__ import annotations

import numpy as np

from sim import compiled


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
