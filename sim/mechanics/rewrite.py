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
    members in school order."""
    count = 0
    for row in members:
        g = group[row]
        if moved[row]:
            count += group_start[g + 1] - group_start[g] - 1
        else:
            for k in range(group_start[g], group_start[g + 1]):
                count += moved[by_group[k]]
    rows, cols = np.empty(count, np.int64), np.empty(count, np.int64)
    at = 0
    for row in members:
        g = group[row]
        for k in range(group_start[g], group_start[g + 1]):
            column = by_group[k]
            if column != row and (moved[row] or moved[column]):
                rows[at], cols[at] = row, column
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
    for row in range(len(rewritten)):
        at = start[row]
        if not rewritten[row]:
            for old in range(old_start[row], old_start[row + 1]):
                columns[at] = old_columns[old]
                values[at] = old_values[old]
                at += 1
            continue
        g = group[row]
        if g < 0:
            continue  # left every group: an empty row
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
