"""`GroupDecay`'s matrix kept row by row in a pool, each row written when it is read, as
compiled passes (`sim.compiled`), for England's matrices.

Every term some hundreds of schools change trust, and every row of a school in a group that
gained or lost a member (and of each school that moved) no longer holds what it should.
The numpy twin in `sim.mechanics.proximity` rewrites all of those rows at once and copies
the rest of the matrix. Here such rows are only marked stale (`PooledRows.mark`); a row is
written again when a reader needs it (`PooledRows.refresh`): each term the capacity phase
reads the rows of the schools that seek support, about a quarter of them, and a row left
stale over several terms is written once. The matrix as a whole (`proximity.GroupDecay
.matrix`) writes every stale row first.

The rows live in a pool (`DecayRows`): row i's entries are `columns[first[i]:stop[i]]`
and `values[first[i]:stop[i]]`, in column order, with other rows' (and older) entries
between. A row written again goes after the pool's last entry in use, and every other row
stays where it is: the cost follows the rows written, not the matrix. When the pool is
full, the rows are packed into a new pool first.

A row written again holds every other member of its school's group, in school order (the
column order of a matrix built whole), each value taken from the row as it was where it
had that column (the value for two schools is a function of where they are, worked out
by numpy the same way each time) and worked out afresh otherwise (`_write_rows` lists
those pairs, as coordinate differences, for numpy to take exp(-distance / decay) of and
put in place). So the matrix is the twin's bit for bit (`tests/test_proximity.py`
compares them).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import compiled

# A new pool has room for this many times its rows' entries: rows written in the terms
# until it is full go after them, then the rows are packed into a new pool.
POOL_ROOM = 6
# Spare slots of a count by group for the schools in none (`_stale_rows`).
SPARE = 8


class DecayRows(NamedTuple):
    """A decay matrix's rows in a pool of entries (module docstring)."""

    first: np.ndarray
    stop: np.ndarray
    columns: np.ndarray
    values: np.ndarray


class PooledRows:
    """The rows of a decay matrix for one grouping of n schools, each row written when
    read (module docstring). `stale` marks the rows not yet written for the grouping."""

    def __init__(self, rows: DecayRows, used: int) -> None:
        self.rows, self.used = rows, used
        self.stale = np.zeros(len(rows.first), np.bool_)
        self.any_stale = False

    def mark(self, group: np.ndarray, old_group: np.ndarray) -> bool:
        """Mark stale the rows a change of grouping touches; returns whether any school
        moved."""
        moved = _mark_stale(group, old_group, self.stale) > 0
        self.any_stale |= moved
        return moved

    def refresh(self, group: np.ndarray, wanted: np.ndarray | None, x_km: np.ndarray,
                y_km: np.ndarray, decay_km: float) -> DecayRows:
        """The rows, with every stale row that is `wanted` (every one if None) written."""
        if not self.any_stale:
            return self.rows
        every = wanted is None
        written, writing, group_start, by_group, new_entries = _stale_rows(
            group, self.stale, self.stale if every else wanted)
        if every:
            self.any_stale = False
        if len(written) == 0:
            return self.rows
        old = self.rows
        first, stop, used = old.first, old.stop, self.used
        columns, values = old.columns, old.values
        if used + new_entries > len(columns):
            # A new pool, the rows not written now packed at its start, in row order.
            kept = _kept_entries(first, stop, writing)
            room = POOL_ROOM * (kept + new_entries) + len(first)
            columns, values = np.empty(room, old.columns.dtype), np.empty(room)
            # (copies; 32-bit while the pool allows, half the bytes for a loop to read)
            index_type = np.int32 if room < np.iinfo(np.int32).max else np.int64
            first, stop = first.astype(index_type), stop.astype(index_type)
            used = _pack(first, stop, writing, old.columns, old.values, columns, values)
        self.used, fresh_at, along_x, along_y = _write_rows(
            written, group, group_start, by_group, old.first, old.columns, old.values, first,
            stop, columns, values, used, self.stale, x_km, y_km, new_entries)
        # exp(-distance / decay) for the pairs not in the rows as they were, as
        # `proximity._decay` works it out.
        values[fresh_at] = np.exp(-np.hypot(along_x, along_y) / decay_km)
        self.rows = DecayRows(first, stop, columns, values)
        return self.rows


@compiled.kernel
def _mark_stale(group, old_group, stale):  # pragma: no cover
    """Mark each school that changed group, and every member of a group that gained or
    lost one; returns how many schools moved."""
    n = len(group)
    n_groups = 0
    for school in range(n):
        n_groups = max(n_groups, group[school] + 1, old_group[school] + 1)
    # Slot g + 1 for group g, slot 0 for none (never touched).
    touched = np.zeros(n_groups + 1, np.bool_)
    n_moved = 0
    for school in range(n):
        if group[school] != old_group[school]:
            n_moved += 1
            stale[school] = True
            touched[old_group[school] + 1] = True
            touched[group[school] + 1] = True
    if n_moved == 0:
        return 0
    touched[0] = False
    for school in range(n):  # (without a branch: see `_stale_rows`)
        stale[school] |= touched[group[school] + 1]
    return n_moved


@compiled.kernel
def _stale_rows(group, stale, wanted):  # pragma: no cover
    """The stale rows to write (those `wanted`), in school order, and whether each
    school's is written; every group's members by group (`by_group[group_start[g]:
    group_start[g + 1]]`, in school order); and how many entries the rows written hold."""
    # Branch-free passes over the schools (a branch on which rows are written, or which
    # schools are in a group, is mispredicted often in a loop over schools in no order):
    # each school is written at the next free place, which moves on only if it counts.
    n = len(group)
    writing = np.empty(n, np.bool_)
    written = np.empty(n, np.int64)
    n_written = n_groups = 0
    for school in range(n):
        writes = stale[school] & wanted[school]
        writing[school] = writes
        written[n_written] = school
        n_written += writes
        n_groups = max(n_groups, group[school] + 1)
    written = written[:n_written]
    # Every group's members, in school order: group g's in slot g + SPARE; a school in
    # none counts into one of the SPARE slots before, in turn (each addition to a slot
    # waits for the one before, and many schools are in none).
    slot_size = np.zeros(n_groups + SPARE, np.int64)
    for school in range(n):
        slot_size[group[school] + SPARE if group[school] >= 0 else school & (SPARE - 1)] += 1
    slot_start = np.zeros(n_groups + SPARE + 1, np.int64)
    for slot in range(n_groups + SPARE):
        slot_start[slot + 1] = slot_start[slot] + slot_size[slot]
    by_group = np.empty(n, np.int64)
    filled = slot_start[:-1].copy()
    for school in range(n):
        slot = group[school] + SPARE if group[school] >= 0 else school & (SPARE - 1)
        by_group[filled[slot]] = school
        filled[slot] += 1
    group_start, group_size = slot_start[SPARE:], slot_size[SPARE:]
    new_entries = 0
    for school in written:
        if group[school] >= 0:
            new_entries += group_size[group[school]] - 1
    return written, writing, group_start, by_group, new_entries


@compiled.kernel
def _kept_entries(first, stop, writing):  # pragma: no cover
    """How many entries the rows not being written hold."""
    kept = 0
    for school in range(len(first)):
        if not writing[school]:
            kept += stop[school] - first[school]
    return kept


@compiled.kernel
def _pack(first, stop, writing, old_columns, old_values, columns, values):  # pragma: no cover
    """Copy the rows not being written into the new pool (`columns`, `values`), in row
    order from its start, moving their `first` and `stop`; returns the entries used."""
    at = 0
    for school in range(len(first)):
        if writing[school]:
            continue
        start, end = first[school], stop[school]
        first[school] = at
        for entry in range(start, end):
            columns[at] = old_columns[entry]
            values[at] = old_values[entry]
            at += 1
        stop[school] = at
    return at


@compiled.kernel
def _write_rows(written, group, group_start, by_group, old_first, old_columns, old_values,
                first, stop, columns, values, used, stale, x_km, y_km,
                new_entries):  # pragma: no cover
    """Write each row of `written` after the `used` entries of the pool (`columns`,
    `values`): every other member of its group in school order, each value from the row as
    it was (from `old_first`, in `old_columns`) where it had that column. Returns the
    entries used, and where each value still to be worked out goes, with the coordinate
    differences of its pair (row minus column)."""
    fresh_at = np.empty(new_entries, np.int64)
    along_x, along_y = np.empty(new_entries), np.empty(new_entries)
    at = used
    fresh = 0
    for school in written:
        g = group[school]
        entry, end = old_first[school], old_first[school] + (stop[school] - first[school])
        first[school] = at
        stale[school] = False
        if g < 0:
            stop[school] = at  # in no group: an empty row
            continue
        for k in range(group_start[g], group_start[g + 1]):
            member = by_group[k]
            if member == school:
                continue
            while entry < end and old_columns[entry] < member:
                entry += 1
            columns[at] = member
            if entry < end and old_columns[entry] == member:
                values[at] = old_values[entry]
            else:
                fresh_at[fresh] = at
                along_x[fresh] = x_km[school] - x_km[member]
                along_y[fresh] = y_km[school] - y_km[member]
                fresh += 1
            at += 1
        stop[school] = at
    return at, fresh_at[:fresh], along_x[:fresh], along_y[:fresh]
