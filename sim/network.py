"""The partnership graph: who is linked to whom, and the sparse matrices derived from it.

Nodes are schools, `("school", row)`, and trusts, `("trust", row)`. Edges carry a `kind`
(docs/ODD.md section 2):
- `member`: school to its trust;
- `partner`: school to school within a peer cluster (seed 003, the Schools Partnership
  Programme model);
- `contract`: a MAT to a school it supports under a fixed-term contract (seed 003);
- `support`: giver school to taker school, with the `intensity` (FTE) it gave in the
  latest term.

The graph is a networkx `MultiGraph` so that two schools can be partners and have a
support edge at once. Structural edges (member, partner, contract) change only in the
yearly phase. Numeric work never walks the graph: it uses the per-school `trust` array
and scipy sparse matrices rebuilt from the structure once a year (`rebuild_matrices`).
Edges that change often are brought into the graph when it is read
(`PartnershipNetwork.graph`): member edges from the `trust` array, support edges from the
latest term's sparse support matrix. So a school changing trust, or a term's support,
costs an array write unless someone looks at the graph.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np
from scipy import sparse

from sim.state import Hubs, SchoolArrays, TrustArrays, TrustKind


def school_node(row: int) -> tuple[str, int]:
    return ("school", int(row))


def trust_node(row: int) -> tuple[str, int]:
    return ("trust", int(row))


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


class PartnershipNetwork:
    """The graph of schools and trusts, plus sparse views of it for the per-term phases."""

    def __init__(self, schools: SchoolArrays, trusts: TrustArrays,
                 partnership_clusters: list[np.ndarray]) -> None:
        self._graph = nx.MultiGraph()
        self._graph.add_nodes_from((school_node(i), {"kind": "school"}) for i in range(schools.n))
        self._graph.add_nodes_from((trust_node(t), {"kind": "trust"}) for t in range(trusts.n))
        self._schools = schools
        self._trust_in_graph = np.full(schools.n, -1, dtype=np.int64)  # member edges drawn
        self.cluster_of_school = np.full(schools.n, -1, dtype=np.int32)
        self.n_clusters = 0
        for cluster in partnership_clusters:
            self.add_cluster(cluster)
        self._support_builder: Callable[[], sparse.csr_matrix] | None = None
        self._support: sparse.csr_matrix | None = None
        self._support_synced = True
        n = schools.n
        self.same_trust_decay = sparse.csr_matrix((n, n))
        self.partner_decay = sparse.csr_matrix((n, n))
        self._partner_decay_clusters = -1  # clusters counted when partner_decay was built
        self.hub_decay = np.zeros(n)
        self.nearest_hub_km = np.full(n, np.inf)

    # -- structure ---------------------------------------------------------------------

    def add_trust(self, row: int) -> None:
        self._graph.add_node(trust_node(row), kind="trust")

    def set_trust(self, schools: SchoolArrays, school: int, trust: int) -> None:
        """Move a school to a trust (or to none with -1); the graph follows when read."""
        schools.trust[school] = trust

    def _sync_members(self) -> None:
        """Bring member edges into line with the schools' `trust` array."""
        trust = self._schools.trust
        moved = np.flatnonzero(trust != self._trust_in_graph)
        old, new = self._trust_in_graph[moved], trust[moved]
        self._graph.remove_edges_from(
            (school_node(s), trust_node(t), "member") for s, t in zip(moved, old, strict=True)
            if t >= 0)
        self._graph.add_edges_from(
            (school_node(s), trust_node(t), "member", {"kind": "member"})
            for s, t in zip(moved, new, strict=True) if t >= 0)
        self._trust_in_graph[moved] = new

    def add_cluster(self, members: np.ndarray) -> int:
        """A new peer cluster of schools not yet in one; returns its number."""
        number = self.n_clusters
        self.cluster_of_school[members] = number
        self._graph.add_edges_from(
            (school_node(a), school_node(b), "partner", {"kind": "partner"})
            for i, a in enumerate(members) for b in members[i + 1:])
        self.n_clusters += 1
        return number

    def set_contract(self, school: int, trust: int) -> None:
        """A fixed-term contract between a MAT and a school (seed 003)."""
        self._graph.add_edge(school_node(school), trust_node(trust), "contract", kind="contract")

    def end_contract(self, school: int, trust: int) -> None:
        if self._graph.has_edge(school_node(school), trust_node(trust), "contract"):
            self._graph.remove_edge(school_node(school), trust_node(trust), "contract")

    def partners_of(self, school: int) -> list[int]:
        return [node[1] for _, node, key in self.graph.edges(school_node(school), keys=True)
                if key == "partner"]

    def members_of(self, trust: int) -> list[int]:
        return sorted(node[1] for _, node, key in self.graph.edges(trust_node(trust), keys=True)
                      if key == "member")

    # -- sparse views ----------------------------------------------------------------

    def rebuild_matrices(self, schools: SchoolArrays, trusts: TrustArrays, hubs: Hubs,
                         distance_decay_km: float) -> None:
        """Rebuild the distance-decayed sparse matrices after structural change.

        `same_trust_decay[t, g]` is exp(-distance / decay) for two different schools in
        the same active MAT: how much of giver g's capacity reaches taker t (seed 000:
        collaboration is easier and cheaper within a geographic hub). `partner_decay` is
        the same for peer-cluster partners. `hub_decay` is the same factor from a member's
        nearest hub of its own trust, for central-team support.
        """
        n = schools.n
        trust = schools.trust
        in_trust = trust >= 0
        in_mat = in_trust.copy()
        in_mat[in_trust] = (trusts.kind[trust[in_trust]] == TrustKind.MULTI_ACADEMY_TRUST) & \
            trusts.active[trust[in_trust]]
        mat_schools = np.flatnonzero(in_mat)
        rows, cols = pairs_within_groups(mat_schools, trust[mat_schools],
                                         mat_schools, trust[mat_schools])
        self.same_trust_decay = self._decay_matrix(schools, rows, cols, n, distance_decay_km)

        if self._partner_decay_clusters != self.n_clusters:  # clusters only ever grow
            clustered = np.flatnonzero(self.cluster_of_school >= 0)
            rows, cols = pairs_within_groups(clustered, self.cluster_of_school[clustered],
                                             clustered, self.cluster_of_school[clustered])
            self.partner_decay = self._decay_matrix(schools, rows, cols, n, distance_decay_km)
            self._partner_decay_clusters = self.n_clusters

        members = np.flatnonzero(in_trust)
        school_side, hub_side = pairs_within_groups(members, trust[members],
                                                    np.arange(len(hubs.trust)), hubs.trust)
        distance = np.hypot(schools.x_km[school_side] - hubs.x_km[hub_side],
                            schools.y_km[school_side] - hubs.y_km[hub_side])
        nearest = np.full(n, np.inf)
        if len(school_side):  # pairs come grouped by school, in school order
            first = np.flatnonzero(np.r_[True, school_side[1:] != school_side[:-1]])
            nearest[school_side[first]] = np.minimum.reduceat(distance, first)
        self.nearest_hub_km = nearest
        self.hub_decay = np.where(np.isfinite(nearest), np.exp(-nearest / distance_decay_km), 0.0)

    @staticmethod
    def _decay_matrix(schools: SchoolArrays, rows: np.ndarray, cols: np.ndarray, n: int,
                      decay_km: float) -> sparse.csr_matrix:
        """exp(-distance / decay) for each (row, col) pair but a school with itself.

        The pairs come from `pairs_within_groups` sorted by row and, within a row, by
        column, which is already the CSR layout: building it directly skips the sort.
        """
        different = rows != cols
        rows, cols = rows[different], cols[different]
        distance = np.hypot(schools.x_km[rows] - schools.x_km[cols],
                            schools.y_km[rows] - schools.y_km[cols])
        row_start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=row_start[1:])
        return sparse.csr_matrix((np.exp(-distance / decay_km), cols, row_start), shape=(n, n))

    # -- support ---------------------------------------------------------------------

    def set_support(self, builder: Callable[[], sparse.csr_matrix]) -> None:
        """Record how to build this term's support matrix, `support[taker, giver]` in FTE.

        Building it costs more than the rest of the capacity phase, so it is built only
        when read.
        """
        self._support_builder = builder
        self._support = None
        self._support_synced = False

    @property
    def support(self) -> sparse.csr_matrix | None:
        if self._support is None and self._support_builder is not None:
            self._support = self._support_builder()
        return self._support

    @property
    def graph(self) -> nx.MultiGraph:
        """The partnership graph, with member edges as the schools stand now and support
        edges from the latest term."""
        self._sync_members()
        if not self._support_synced:
            old = [(u, v, k) for u, v, k in self._graph.edges(keys=True) if k == "support"]
            self._graph.remove_edges_from(old)
            if self.support is not None:
                coo = self.support.tocoo()
                self._graph.add_edges_from(
                    (school_node(g), school_node(t), "support",
                     {"kind": "support", "intensity": float(w), "giver": int(g), "taker": int(t)})
                    for t, g, w in zip(coo.row, coo.col, coo.data, strict=True) if w > 0)
            self._support_synced = True
        return self._graph
