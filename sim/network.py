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
structure phase and the policies' yearly actions. Numeric work never walks the graph: it
uses the per-school `trust` array and scipy sparse matrices brought up to date after each
structural change, at a cost that follows the change (`update_matrices`, with the
bookkeeping of `sim.mechanics.proximity`).
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

from sim import compiled
from sim.mechanics.proximity import GroupDecay, NearestHub
from sim.state import Hubs, SchoolArrays, TrustArrays, TrustKind, trust_index


def school_node(row: int) -> tuple[str, int]:
    return ("school", int(row))


def trust_node(row: int) -> tuple[str, int]:
    return ("trust", int(row))


def same_mat(trust: np.ndarray, trusts: TrustArrays) -> np.ndarray:
    """Each school's trust if that is an active MAT, else -1: the groups whose members
    support one another."""
    if compiled.worth_compiling(len(trust)):
        return _same_mat_compiled(trust, trusts.kind, trusts.active)
    # Per trust row + 1 (0: no trust), the group its members are in.
    group_of = np.full(trusts.n + 1, -1, np.int64)
    open_mat = np.flatnonzero((trusts.kind == TrustKind.MULTI_ACADEMY_TRUST) & trusts.active)
    group_of[open_mat + 1] = open_mat
    return group_of[trust_index(trust)]


@compiled.kernel
def _same_mat_compiled(trust, kind, active):  # pragma: no cover
    """`same_mat`: each trust's group in one pass over the trusts, then
    `group_of[trust_index(trust)]` in one over the schools, without the index array."""
    group_of = np.empty(len(kind) + 1, np.int64)
    group_of[0] = -1
    for row in range(len(kind)):
        group_of[row + 1] = row if (kind[row] == 2) & active[row] else -1
    group = np.empty(len(trust), np.int64)
    for school in range(len(trust)):
        group[school] = group_of[trust[school] + 1]
    return group


class PartnershipNetwork:
    """The graph of schools and trusts, plus sparse views of it for the per-term phases."""

    def __init__(self, schools: SchoolArrays, trusts: TrustArrays,
                 partnership_clusters: list[np.ndarray]) -> None:
        self._graph = nx.MultiGraph()
        self._graph.add_nodes_from((school_node(i), {"kind": "school"}) for i in range(schools.n))
        self._graph.add_nodes_from((trust_node(t), {"kind": "trust"}) for t in range(trusts.n))
        self._schools = schools
        self._trust_in_graph = np.full(schools.n, -1, dtype=np.int64)  # member edges drawn
        self._trusts_to_draw: list[int] = []  # trusts opened since the graph was last drawn
        self.cluster_of_school = np.full(schools.n, -1, dtype=np.int32)
        self.n_clusters = 0
        # Whether `cluster_of_school` has changed since the partner matrix was brought up
        # to date: clusters form seldom (`add_cluster`, the only writer), so most terms
        # skip the partner matrix's update.
        self._clusters_changed = True
        for cluster in partnership_clusters:
            self.add_cluster(cluster)
        self._support_builder: Callable[[], sparse.csr_matrix] | None = None
        self._support: sparse.csr_matrix | None = None
        self._support_synced = True
        # The distance-decayed views (`update_matrices`), made when the decay is known, and
        # what they are brought up to date from when next read.
        self._same_trust: GroupDecay | None = None
        self._partners: GroupDecay | None = None
        self._nearest_hub: NearestHub | None = None
        self._stale_since: tuple[SchoolArrays, TrustArrays, Hubs] | None = None

    # -- structure ---------------------------------------------------------------------

    def add_trust(self, row: int) -> None:
        """A new trust's node, drawn into the graph when the graph is next read or edited
        (`_draw_trusts`): trusts open every term, the graph is seldom read."""
        self._trusts_to_draw.append(row)

    def _draw_trusts(self) -> None:
        if self._trusts_to_draw:
            self._graph.add_nodes_from((trust_node(t), {"kind": "trust"})
                                       for t in self._trusts_to_draw)
            self._trusts_to_draw = []

    def _sync_members(self) -> None:
        """Bring member edges into line with the schools' `trust` array."""
        self._draw_trusts()
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
        self._clusters_changed = True
        self._graph.add_edges_from(
            (school_node(a), school_node(b), "partner", {"kind": "partner"})
            for i, a in enumerate(members) for b in members[i + 1:])
        self.n_clusters += 1
        return number

    def set_contract(self, school: int, trust: int) -> None:
        """A fixed-term contract between a MAT and a school (seed 003)."""
        self._draw_trusts()
        self._graph.add_edge(school_node(school), trust_node(trust), "contract", kind="contract")

    def end_contract(self, school: int, trust: int) -> None:
        self._draw_trusts()
        if self._graph.has_edge(school_node(school), trust_node(trust), "contract"):
            self._graph.remove_edge(school_node(school), trust_node(trust), "contract")

    def partners_of(self, school: int) -> list[int]:
        return [node[1] for _, node, key in self.graph.edges(school_node(school), keys=True)
                if key == "partner"]

    def members_of(self, trust: int) -> list[int]:
        return sorted(node[1] for _, node, key in self.graph.edges(trust_node(trust), keys=True)
                      if key == "member")

    # -- sparse views ----------------------------------------------------------------

    def update_matrices(self, schools: SchoolArrays, trusts: TrustArrays, hubs: Hubs,
                        distance_decay_km: float) -> None:
        """Say the structure has changed: the distance-decayed views are brought up to date
        when next read, rewriting only what changed since they were last (so two changes
        before a read, the summer term's brokering and the yearly phase, cost one update;
        `sim.mechanics.proximity`, whose invariant is that the views equal what building
        them from scratch gives).

        `same_trust_decay[t, g]` is exp(-distance / decay) for two different schools in
        the same active MAT: how much of giver g's capacity reaches taker t (seed 000:
        collaboration is easier and cheaper within a geographic hub). `partner_decay` is
        the same for peer-cluster partners. `hub_decay` is the same factor from a member's
        nearest hub of its own trust, for central-team support.
        """
        if self._same_trust is None or self._same_trust.decay_km != distance_decay_km:
            x, y = schools.x_km, schools.y_km
            self._same_trust = GroupDecay(x, y, distance_decay_km)
            self._partners = GroupDecay(x, y, distance_decay_km)
            self._nearest_hub = NearestHub(x, y, distance_decay_km)
            self._clusters_changed = True
        # The model may hold new arrays since (a real place is settled on copies of its
        # schools and trusts): the views and the graph follow the ones given.
        self._schools = schools
        self._stale_since = (schools, trusts, hubs)

    def _bring_up_to_date(self) -> None:
        if self._stale_since is None:
            if self._same_trust is None:
                raise RuntimeError("the network's matrices are read before update_matrices")
            return
        schools, trusts, hubs = self._stale_since
        trust = schools.trust
        self._same_trust.update(same_mat(trust, trusts))
        if self._clusters_changed:
            self._partners.update(self.cluster_of_school)
            self._clusters_changed = False
        self._nearest_hub.update(trust, hubs.trust, hubs.x_km, hubs.y_km, trusts.n)
        self._stale_since = None

    def rebuild_matrices(self, schools: SchoolArrays, trusts: TrustArrays, hubs: Hubs,
                         distance_decay_km: float) -> None:
        """Build the distance-decayed views anew (`update_matrices` says what they hold)."""
        self._same_trust = self._partners = self._nearest_hub = None
        self.update_matrices(schools, trusts, hubs, distance_decay_km)

    @property
    def same_trust_decay(self) -> sparse.csr_matrix:
        self._bring_up_to_date()
        return self._same_trust.matrix

    @property
    def same_trust(self) -> GroupDecay:
        """`same_trust_decay` as it is kept: its rows, for a compiled loop to read in place
        (`GroupDecay.rows`), or the matrix."""
        self._bring_up_to_date()
        return self._same_trust

    @property
    def partners(self) -> GroupDecay:
        """`partner_decay` as it is kept."""
        self._bring_up_to_date()
        return self._partners

    @property
    def partner_decay(self) -> sparse.csr_matrix:
        self._bring_up_to_date()
        return self._partners.matrix

    @property
    def hub_decay(self) -> np.ndarray:
        self._bring_up_to_date()
        return self._nearest_hub.decay

    @property
    def nearest_hub_km(self) -> np.ndarray:
        self._bring_up_to_date()
        return self._nearest_hub.nearest_km

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
