"""How near schools are to the others of their group, and to their trust's nearest hub,
kept up to date as schools change trust at a cost that follows the change.

Support between schools weakens with distance (seed 000: collaboration is easier and
cheaper within a geographic hub). The capacity phase reads it every term from two kinds of
table (`sim.network.PartnershipNetwork` holds them):

- `GroupDecay`: a sparse matrix whose entry [a, b] is exp(-distance / decay) for two
  different schools a and b of the same group (the same active MAT; the same peer
  cluster), and absent otherwise;
- `NearestHub`: for each school in a trust, the distance to its trust's nearest hub, and
  the same decay factor for it.

Both are first built from nothing and afterwards brought up to date with `update`, which
rewrites only what a change touches. The invariant, which `tests/test_proximity.py` checks
after years of a run full of joins, transfers, mergers and closures: after `update(group)`
the table is exactly, bit for bit, what building it from scratch for that grouping gives
(`decay_from_scratch`, `nearest_hub_from_scratch`). Exactness matters beyond tidiness: a
row of the matrix is summed in column order when the matrix multiplies a vector, so a row
rewritten in another order would change results in the last bit.

- A group's block depends only on who is in it, so when schools change group, the rows of
  every school now in a group that gained or lost a member, and of the schools that left
  every group, are rewritten; all other rows are copied as they are. The rewrite costs the
  size of the groups touched; the copy is a few array operations over the whole matrix.
  That is the numpy way, for small places; England's rows are only marked stale by an
  update, and each is written when it is read (`sim.mechanics.rewrite`).
- A school's nearest hub depends only on its trust and that trust's hubs, so it is found
  again for the schools that changed trust and the members of trusts whose hubs changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics import hub_kernels, rewrite

# scipy.sparse is loaded where a matrix is made: the broker, which checks part of the config,
# needs `pairs_within_groups` from here, and `python -m sim --help` reads the config without it.
if TYPE_CHECKING:
    from scipy import sparse


def pairs_within_groups(
    items_a: np.ndarray, group_a: np.ndarray, items_b: np.ndarray, group_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) pair whose groups are equal, vectorised (no loop over groups).

    Pairs come in the order of `items_a`, and for each a in the order of `items_b`.
    """
    order_b = np.argsort(group_b, kind="stable")
    items_b, group_b = items_b[order_b], group_b[order_b]
    first = np.searchsorted(group_b, group_a, side="left")
    last = np.searchsorted(group_b, group_a, side="right")
    counts = last - first
    left = np.repeat(items_a, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    right = items_b[np.repeat(first, counts) + within]
    return left, right


def _decay(x_km: np.ndarray, y_km: np.ndarray, rows: np.ndarray, cols: np.ndarray,
           decay_km: float) -> np.ndarray:
    """exp(-distance / decay) between the schools of each (row, col) pair."""
    distance = np.hypot(x_km[rows] - x_km[cols], y_km[rows] - y_km[cols])
    return np.exp(-distance / decay_km)


def _members(group: np.ndarray) -> np.ndarray:
    """The schools in some group, in school order."""
    return np.flatnonzero(group >= 0)


def decay_from_scratch(group: np.ndarray, x_km: np.ndarray, y_km: np.ndarray,
                       decay_km: float) -> sparse.csr_matrix:
    """exp(-distance / decay) between every two different schools of one group (-1: none).

    The pairs come from `pairs_within_groups` sorted by row and, within a row, by column,
    which is already the CSR layout: building it directly skips the sort.
    """
    from scipy import sparse

    n = len(group)
    members = _members(group)
    rows, cols = pairs_within_groups(members, group[members], members, group[members])
    off_diagonal = rows != cols
    rows, cols = rows[off_diagonal], cols[off_diagonal]
    values = _decay(x_km, y_km, rows, cols, decay_km)
    row_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=row_start[1:])
    return sparse.csr_matrix((values, cols, row_start), shape=(n, n))


def as_csr(rows: rewrite.DecayRows) -> sparse.csr_matrix:
    """Rows in a pool (`sim.mechanics.rewrite.DecayRows`) as a scipy CSR matrix."""
    from scipy import sparse

    n = len(rows.first)
    length = rows.stop - rows.first
    row_start = np.zeros(n + 1, np.int64)
    np.cumsum(length, out=row_start[1:])
    nnz = int(row_start[-1])
    source = np.arange(nnz) + np.repeat(rows.first - row_start[:-1], length)
    limit = np.iinfo(np.int32).max
    index_type = np.int32 if nnz < limit and n < limit else np.int64
    return sparse.csr_matrix((rows.values[source], rows.columns[source].astype(index_type),
                              row_start.astype(index_type)), shape=(n, n))


class FrozenDecay:
    """A decay matrix as it stood for one grouping, for a reader that keeps it past later
    updates: made (from scratch) only if read, unless it was made already."""

    def __init__(self, group: np.ndarray, x_km: np.ndarray, y_km: np.ndarray, decay_km: float,
                 matrix: sparse.csr_matrix | None) -> None:
        self.group, self.x_km, self.y_km, self.decay_km = group, x_km, y_km, decay_km
        self._matrix = matrix

    @property
    def matrix(self) -> sparse.csr_matrix:
        if self._matrix is None:
            self._matrix = decay_from_scratch(self.group, self.x_km, self.y_km, self.decay_km)
        return self._matrix


class GroupDecay:
    """The matrix of `decay_from_scratch`, kept in step with a grouping of the schools.

    `group` is the grouping it reflects, replaced (never changed in place) at each update.
    Small places keep the matrix as scipy's CSR matrix, replaced at each update (the numpy
    way below); England keeps its rows in a pool, each written when it is read (`rows`,
    `sim.mechanics.rewrite`), and makes the CSR matrix only when it is asked for
    (`matrix`). A reader that keeps the matrix past the next update takes `frozen()`.
    """

    def __init__(self, x_km: np.ndarray, y_km: np.ndarray, decay_km: float) -> None:
        n = len(x_km)
        self.x_km, self.y_km, self.decay_km = x_km, y_km, decay_km
        self.group = np.full(n, -1, np.int64)
        limit = np.iinfo(np.int32).max
        self._pooled = rewrite.PooledRows(rewrite.DecayRows(
            np.zeros(n, np.int64), np.zeros(n, np.int64),
            np.zeros(0, np.int32 if n < limit else np.int64), np.zeros(0)), 0)
        self._matrix: sparse.csr_matrix | None = None

    @property
    def matrix(self) -> sparse.csr_matrix:
        if self._matrix is None:
            self._matrix = as_csr(self.rows())
        return self._matrix

    def rows(self, wanted: np.ndarray | None = None) -> rewrite.DecayRows:
        """The matrix's rows in their pool, every one `wanted` (every one if None) as it
        should be; the others may be stale. For a compiled loop to read in place, before
        the next update."""
        return self._pooled.refresh(self.group, wanted, self.x_km, self.y_km, self.decay_km)

    def frozen(self) -> FrozenDecay:
        """The matrix as it stands, for a reader that keeps it past later updates."""
        return FrozenDecay(self.group, self.x_km, self.y_km, self.decay_km, self._matrix)

    def update(self, group: np.ndarray) -> bool:
        """Bring the matrix in line with `group`; returns whether anything changed."""
        old_group = self.group
        if compiled.worth_compiling(len(group)):
            group = np.array(group, dtype=np.int64)
            if not self._pooled.mark(group, old_group):
                return False
            self.group, self._matrix = group, None
            return True
        moved = group != old_group
        moved_schools = np.flatnonzero(moved)
        if len(moved_schools) == 0:
            return False
        # Groups that gained or lost a member: every row of their members is rewritten, and
        # so is the (now empty) row of each school that left all groups.
        is_touched = np.zeros(max(int(group.max()), int(old_group.max())) + 2, bool)
        is_touched[old_group[moved_schools] + 1] = True
        is_touched[group[moved_schools] + 1] = True
        is_touched[0] = False
        in_touched = is_touched[group + 1]
        members = np.flatnonzero(in_touched)
        rows, cols = pairs_within_groups(members, group[members], members, group[members])
        off_diagonal = rows != cols
        rows, cols = rows[off_diagonal], cols[off_diagonal]
        # A pair of two schools that stayed in their group keeps its old value, and those
        # pairs come in the same order (row, then column) in the old rows as in the new:
        # only the pairs with a school that moved are worked out.
        fresh = moved[rows] | moved[cols]
        values = np.empty(len(rows))
        old = self.matrix
        kept = _entries_of_rows(old.indptr, np.flatnonzero(in_touched & ~moved))
        values[~fresh] = old.data[kept[~moved[old.indices[kept]]]]
        fresh_rows, fresh_cols = rows[fresh], cols[fresh]
        values[fresh] = _decay(self.x_km, self.y_km, fresh_rows, fresh_cols, self.decay_km)
        self._matrix = matrix = _splice_rows(old, np.flatnonzero(in_touched | moved), rows,
                                             cols, values)
        # (the compiled way reads the same rows, none stale, should the place's size be
        # judged otherwise later: a test switches mid-run)
        # (copies: the compiled way moves rows in place)
        row_start = matrix.indptr.astype(np.int64)
        self._pooled = rewrite.PooledRows(rewrite.DecayRows(
            row_start[:-1].copy(), row_start[1:].copy(), matrix.indices, matrix.data),
            matrix.nnz)
        self.group = np.array(group, dtype=np.int64)
        return True


def _entries_of_rows(row_start: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The positions of the entries of `rows` (sorted) in a CSR matrix, in order."""
    start, stop = row_start[rows], row_start[rows + 1]
    length = stop - start
    return np.arange(int(length.sum())) + np.repeat(start - (np.cumsum(length) - length), length)


def _splice_rows(matrix: sparse.csr_matrix, rewritten: np.ndarray, rows: np.ndarray,
                 cols: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
    """`matrix` with the rows `rewritten` (sorted) replaced by the entries (rows, cols,
    values), which are sorted by row, then column, and lie in those rows only.

    The new entries are put after the old ones, and every entry of the result is taken
    from one or the other in a single gather: rows not rewritten keep their entries in
    their order, so the result is laid out as a matrix built whole would be.
    """
    n = matrix.shape[0]
    old_start = matrix.indptr
    length = np.diff(old_start)
    # Where each row's entries come from: its old place, or its place among the new.
    source_start = old_start[:-1].copy()
    new_length = np.bincount(rows, minlength=n)[rewritten]
    source_start[rewritten] = matrix.nnz + np.cumsum(new_length) - new_length
    length[rewritten] = new_length
    start = np.zeros(n + 1, np.int64)
    np.cumsum(length, out=start[1:])
    source = np.arange(int(start[-1])) + np.repeat(source_start - start[:-1], length)
    data = np.concatenate([matrix.data, values])[source]
    indices = np.concatenate([matrix.indices, cols.astype(matrix.indices.dtype)])[source]
    from scipy import sparse

    return sparse.csr_matrix((data, indices, start), shape=(n, n))


def nearest_hub_from_scratch(trust: np.ndarray, hub_trust: np.ndarray, hub_x_km: np.ndarray,
                             hub_y_km: np.ndarray, x_km: np.ndarray,
                             y_km: np.ndarray) -> np.ndarray:
    """For each school in a trust, the distance to its trust's nearest hub (inf for a
    school in no trust, or in a trust with no hub)."""
    return _nearest_hub(np.flatnonzero(trust >= 0), trust, hub_trust, hub_x_km, hub_y_km,
                        x_km, y_km, np.full(len(trust), np.inf))


def _nearest_hub(schools: np.ndarray, trust: np.ndarray, hub_trust: np.ndarray,
                 hub_x_km: np.ndarray, hub_y_km: np.ndarray, x_km: np.ndarray,
                 y_km: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """`nearest` with the entries of `schools` (sorted, each in a trust) found again."""
    nearest[schools] = np.inf
    school_side, hub_side = pairs_within_groups(schools, trust[schools],
                                                np.arange(len(hub_trust)), hub_trust)
    distance = np.hypot(x_km[school_side] - hub_x_km[hub_side],
                        y_km[school_side] - hub_y_km[hub_side])
    if len(school_side):  # pairs come grouped by school, in school order
        first = np.flatnonzero(np.r_[True, school_side[1:] != school_side[:-1]])
        nearest[school_side[first]] = np.minimum.reduceat(distance, first)
    return nearest


def hub_decay_of(nearest_km: np.ndarray, decay_km: float) -> np.ndarray:
    """exp(-distance / decay) from each school's nearest hub; 0 for a school with none."""
    return np.where(np.isfinite(nearest_km), np.exp(-nearest_km / decay_km), 0.0)


class NearestHub:
    """`nearest_hub_from_scratch` and its decay, kept in step with the schools' trusts and
    the trusts' hubs.

    `trust` and `hubs_per_trust` are what the distances reflect. Hubs are only opened while
    a trust is open, and a closed trust, whose hubs are dropped, has no schools; so a
    school's nearest hub changes only when it changes trust or its trust opens a hub.
    """

    def __init__(self, x_km: np.ndarray, y_km: np.ndarray, decay_km: float) -> None:
        n = len(x_km)
        self.x_km, self.y_km, self.decay_km = x_km, y_km, decay_km
        self.trust = np.full(n, -1, np.int64)
        self.hubs_per_trust = np.zeros(0, np.int64)
        self.nearest_km = np.full(n, np.inf)
        self.decay = np.zeros(n)

    def update(self, trust: np.ndarray, hub_trust: np.ndarray, hub_x_km: np.ndarray,
               hub_y_km: np.ndarray, n_trusts: int) -> None:
        if compiled.worth_compiling(len(trust)):
            self._update_compiled(trust, hub_trust, hub_x_km, hub_y_km, n_trusts)
            return
        hubs_per_trust = np.bincount(hub_trust, minlength=n_trusts)
        known = np.zeros(n_trusts, np.int64)
        known[:len(self.hubs_per_trust)] = self.hubs_per_trust
        new_hubs = np.flatnonzero(hubs_per_trust != known)
        moved = trust != self.trust
        if len(new_hubs):
            has_new_hubs = np.zeros(n_trusts + 1, bool)
            has_new_hubs[new_hubs + 1] = True
            moved |= has_new_hubs[trust + 1]
        self.hubs_per_trust, self.trust = hubs_per_trust, np.array(trust, dtype=np.int64)
        stale = np.flatnonzero(moved)
        if len(stale) == 0:
            return
        self.nearest_km = nearest = self.nearest_km.copy()
        nearest[stale] = np.inf
        in_trust = stale[trust[stale] >= 0]
        # Only the hubs of the stale schools' trusts can be anyone's nearest.
        wanted = np.zeros(n_trusts, bool)
        wanted[trust[in_trust]] = True
        hubs = np.flatnonzero(wanted[hub_trust])
        _nearest_hub(in_trust, trust, hub_trust[hubs], hub_x_km[hubs], hub_y_km[hubs],
                     self.x_km, self.y_km, nearest)
        self.decay = self.decay.copy()
        self.decay[stale] = hub_decay_of(nearest[stale], self.decay_km)

    def _update_compiled(self, trust: np.ndarray, hub_trust: np.ndarray, hub_x_km: np.ndarray,
                         hub_y_km: np.ndarray, n_trusts: int) -> None:
        """`update` by the compiled passes of `sim.mechanics.hub_kernels`: the same schools
        found again, to the same distances, as the numpy way above (written in place: no
        reader keeps them past an update)."""
        stale, self.hubs_per_trust, pairs_per_school, along_x, along_y = \
            hub_kernels.stale_pairs(trust, self.trust, hub_trust, self.hubs_per_trust,
                                    n_trusts, hub_x_km, hub_y_km, self.x_km, self.y_km)
        if len(stale) == 0:
            return
        hub_kernels.nearest(stale, pairs_per_school, np.hypot(along_x, along_y),
                            self.nearest_km)
        self.decay[stale] = hub_decay_of(self.nearest_km[stale], self.decay_km)
