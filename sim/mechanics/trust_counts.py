"""The broker's per-trust counts: its givers, takers and sizes, kept in step with joins.

A broker counts each trust's members, givers and takers when it is made
(`count_members`), and keeps them in step with every join (`count_joins`, the numpy twin
of `sim.mechanics.joins`, for `Broker.join`), along with the trusts' joins this year and
the size of each joining school's trust just after it joins (which decides whether the
trust opens a hub). Once a year the trusts' update counts each trust's members, their
grades and the weak among them (`tally_grades`).

For England each is one compiled pass (`sim.compiled`); the numpy twins, for smaller
places, make several counts over every school or every join. Every count is a whole number
held in float64, so the order the counts are made in does not change them: the kernels'
results equal their twins' exactly (tests compare the two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from sim import compiled
from sim.state import Grade, count_by_trust, trust_index

if TYPE_CHECKING:
    from sim.state import SchoolArrays

_REQUIRES_IMPROVEMENT = int(Grade.REQUIRES_IMPROVEMENT)


class Counts(Protocol):
    """Per-trust counts, float64, changed in place."""

    givers: np.ndarray
    takers: np.ndarray
    sizes: np.ndarray


def count_members(schools: SchoolArrays, n_trusts: int) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Each trust's givers, takers (members graded below good, and weak schools placed
    with it and not yet open) and size, as float64."""
    if compiled.worth_compiling(schools.n):
        givers, takers, sizes = (np.zeros(n_trusts) for _ in range(3))
        _count_members(schools.trust, schools.sponsor_trust, schools.is_giver, schools.grade,
                       givers, takers, sizes)
        return givers, takers, sizes
    weak = schools.grade >= Grade.REQUIRES_IMPROVEMENT
    index = trust_index(schools.trust)
    takers = count_by_trust(weak, index, n_trusts) + count_by_trust(
        weak & schools.placed_with_sponsor, trust_index(schools.sponsor_trust), n_trusts)
    return (count_by_trust(schools.is_giver, index, n_trusts), takers,
            count_by_trust(None, index, n_trusts))


def tally_grades(schools: SchoolArrays, n_trusts: int) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Each trust's members, the sum of their grades, and how many are graded below good,
    as float64."""
    if compiled.worth_compiling(schools.n):
        sizes, grade_sum, weak = (np.zeros(n_trusts) for _ in range(3))
        _tally_grades(schools.trust, schools.grade, sizes, grade_sum, weak)
        return sizes, grade_sum, weak
    index = trust_index(schools.trust)
    in_trust = schools.trust >= 0
    return (count_by_trust(None, index, n_trusts),
            np.bincount(schools.trust[in_trust], weights=schools.grade[in_trust],
                        minlength=n_trusts),
            count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT, index, n_trusts))


def count_joins(counts: Counts, joins: np.ndarray, old: np.ndarray, trust: np.ndarray,
                giver: np.ndarray, weak: np.ndarray, into_mat: np.ndarray, placed: bool,
                hub_min_schools: int) -> tuple[np.ndarray, np.ndarray]:
    """Count schools moving from their `old` trusts (-1: none) into `trust` in turn: out
    of the old trust's size, givers and takers and into the new one's, with a join this
    year for a school into a MAT (a `placed` school is already among its sponsor's takers
    and joins). Returns the joins into a MAT whose trust has `hub_min_schools` or more just
    after it (those may open a hub), and those sizes. The numpy twin of England's compiled
    joins (`sim.mechanics.joins`)."""
    sizes_before = counts.sizes.copy()
    n_trusts = len(sizes_before)
    leaving = old >= 0
    left = old[leaving]
    counts.sizes -= np.bincount(left, minlength=n_trusts)
    counts.givers -= np.bincount(left, weights=giver[leaving], minlength=n_trusts)
    counts.takers -= np.bincount(left, weights=weak[leaving], minlength=n_trusts)
    counts.sizes += np.bincount(trust, minlength=n_trusts)
    counts.givers += np.bincount(trust, weights=giver, minlength=n_trusts)
    if not placed:
        counts.takers += np.bincount(trust, weights=weak, minlength=n_trusts)
        joins += np.bincount(trust[into_mat], minlength=len(joins)).astype(joins.dtype)
    # Only a trust that may reach the size to open hubs during these joins is followed.
    may_open = np.flatnonzero(into_mat & (sizes_before[trust] + np.bincount(trust)[trust]
                                          >= hub_min_schools))
    if len(may_open) == 0:
        return may_open, np.zeros(0)
    size_after = _sizes_after_each(sizes_before, trust, old)[may_open]
    large = size_after >= hub_min_schools
    return may_open[large], size_after[large]


def _sizes_after_each(before: np.ndarray, trust: np.ndarray, old: np.ndarray) -> np.ndarray:
    """The size of each join's trust just after it, the joins taken in turn: its size
    before them all, plus the joins into it and less the schools that left it, up to and
    including this one."""
    steps = np.arange(len(trust))
    leaving = old >= 0
    rows = np.concatenate([trust, old[leaving]])
    # A school leaves its old trust before it joins the new one.
    order = np.lexsort((np.concatenate([2 * steps + 1, 2 * steps[leaving]]), rows))
    change = np.concatenate([np.ones(len(trust)), -np.ones(int(leaving.sum()))])[order]
    rows = rows[order]
    running = np.cumsum(change)
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    running -= np.repeat(running[first] - change[first], np.diff(np.r_[first, len(rows)]))
    after = np.empty(len(rows))
    after[order] = before[rows] + running
    return after[:len(trust)]


@compiled.kernel
def _count_members(trust: np.ndarray, sponsor_trust: np.ndarray, is_giver: np.ndarray,
                   grade: np.ndarray, givers: np.ndarray, takers: np.ndarray,
                   sizes: np.ndarray) -> None:
    """Add each school in a trust to its trust's `sizes`, `givers` (if it gives support)
    and `takers` (if weak, graded below good); a weak school placed with a sponsor and not
    yet open is also among its sponsor's takers. A school in no trust, or with no sponsor,
    is skipped by a branch: adding it to a slot of its own instead would make every such
    school wait for the one before it to finish adding to that slot (a chain through
    memory), several times the cost of the branches (measured: 107 -> 14 us for England)."""
    for school in range(len(trust)):
        row = trust[school]
        weak = grade[school] >= _REQUIRES_IMPROVEMENT
        if row >= 0:
            sizes[row] += 1.0
            givers[row] += is_giver[school]
            takers[row] += weak
        sponsor = sponsor_trust[school]
        if sponsor >= 0:
            takers[sponsor] += weak


@compiled.kernel
def _tally_grades(trust: np.ndarray, grade: np.ndarray, sizes: np.ndarray,
                  grade_sum: np.ndarray, weak: np.ndarray) -> None:
    """Add each school in a trust to its trust's `sizes`, its grade to `grade_sum`, and
    itself to `weak` if graded below good; a school in no trust is skipped (a branch, as
    in `_count_members`)."""
    for school in range(len(trust)):
        row = trust[school]
        if row >= 0:
            sizes[row] += 1.0
            grade_sum[row] += grade[school]
            weak[row] += grade[school] >= _REQUIRES_IMPROVEMENT
