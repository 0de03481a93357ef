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


@compiled.kernel
def unregistered_counts(counts: np.ndarray, registered: np.ndarray,
                        unregistered: np.ndarray) -> np.ndarray:
    """Teachers off the register in each (stage, school) cell, into `unregistered`, and
    the largest of each stage: numpy's `counts - registered` and `.max(axis=1)` in one
    pass."""
    rows, schools = counts.shape
    largest = np.zeros(rows, np.int64)
    for row in range(rows):
        for school in range(schools):
            count = counts[row, school] - registered[row, school]
            unregistered[row, school] = count
            largest[row] = max(largest[row], count)
    return largest


@compiled.kernel
def take_events(counts: np.ndarray, registered: np.ndarray, events: np.ndarray,
                uniform: np.ndarray, member_cells: np.ndarray, chance: np.ndarray,
                happened: np.ndarray) -> None:
    """Draw the register's members and take a draw's events out of the counts: the twin of
    the numpy end of `sim.phases.careers.draw_by_stage`.

    All but `uniform`, `member_cells` and `happened` are (stage, school) arrays flattened;
    `events` holds the events of the teachers off the register. Each member, at a cell of
    `member_cells`, has an event if their uniform is below the cell's `chance` (both in
    single precision). Members' events are added to `events` and taken out of
    `registered`; then all events are taken out of `counts`.
    """
    for member in range(len(member_cells)):
        cell = member_cells[member]
        hit = uniform[member] < chance[cell]
        happened[member] = hit
        events[cell] += hit
        registered[cell] -= hit
    for cell in range(len(counts)):
        counts[cell] -= events[cell]


@compiled.kernel
def promote_events(counts: np.ndarray, registered: np.ndarray, events: np.ndarray,
                   uniform: np.ndarray, cells: np.ndarray, chance: np.ndarray) -> None:
    """Move a draw's teachers up a stage, and draw the register's members: the twin of
    the numpy end of `sim.phases.careers.promote_by_stage`.

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
    for cell in range(below_top):
        counts[cell] -= events[cell]
        counts[cell + schools] += events[cell]
    drawn = 0
    for member in range(len(cells)):
        cell = cells[member]
        if cell >= below_top:
            continue
        hit = uniform[drawn] < chance[cell]
        drawn += 1
        if hit:
            cells[member] = cell + schools
            counts[cell] -= 1
            counts[cell + schools] += 1
            registered[cell] -= 1
            registered[cell + schools] += 1
