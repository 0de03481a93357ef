"""The capacity phase's arithmetic, as two passes over the schools (`sim.phases.capacity`).

The phase reads a dozen school arrays and sums some of them by trust, by authority and by
cluster before it can share anything out. numpy does that as some sixty calls, each a
pass over all the schools with its own temporary array; for England that is most of the
phase. So the work is split in two passes, each written twice (`sim.compiled`):

- `school_pass`: who gives and how much; per trust its givers, takers (graded below good),
  seekers (`is_taker`) and central-team weight; per authority its weight of eligible
  takers; per cluster its takers;
- `support_pass`: the sparse products that spread givers' capacity (summed in the
  compiled loop as scipy sums them), then what each school receives from each source, its
  total, and its givers' drain.

Each has a numpy twin, which small places use; a compiled loop for England. The twins give
the same numbers bit for bit: sums by trust, authority and cluster are sequential in
school order (as `np.bincount` sums), and the loop evaluates every expression in the order
and with the operations numpy does (a mask multiplies as 1.0 or 0.0, as numpy's casts do).
The compiled loops avoid branches on data (who gives, takes, belongs to a trust): in a
loop over schools in no order such a branch is mispredicted often enough to cost more
than the work it would save.
Per-trust arrays here have a slot 0 for "no trust" (`sim.state.trust_index`), left at 0,
the value a school outside any trust reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim import compiled
from sim.state import (
    NEVER,
    TYPICAL_LEADERSHIP,
    Governance,
    Grade,
    count_by_trust,
    trust_index,
)

if TYPE_CHECKING:
    from sim.mechanics.proximity import GroupDecay

# A central team or local authority shares its time among takers by need as it sees it,
# plus this floor, so that a taker whose need it does not see still gets a little
# (judgement: a twentieth of a unit of need).
NEED_WEIGHT_FLOOR = 0.05
# No school's trust capacity (FTE) is anywhere near this; below it, sums of such
# capacities times decay factors are finite (`_support_pass_compiled`).
CAPACITY_BOUND = 1e290


class SchoolPass(NamedTuple):
    """What the first pass finds: per school, per trust (slot 0: no trust), per area and
    per cluster."""

    is_giver: np.ndarray  # bool, per school
    trust_capacity: np.ndarray  # FTE a giver offers its own trust's takers
    peer_capacity: np.ndarray  # FTE a giver offers its cluster partners
    givers: np.ndarray  # per trust slot: members able to give
    takers: np.ndarray  # per trust slot: members graded below good, and contracted schools
    seekers: np.ndarray  # per trust slot: members seeking support, and contracted schools
    weight: np.ndarray  # per school: its claim on its MAT's central team
    weight_by_trust: np.ndarray  # per trust slot
    local_authority_weight: np.ndarray  # per school: its claim on its authority
    local_authority_total: np.ndarray  # per area
    cluster_takers: np.ndarray  # per cluster


def school_pass(grade: np.ndarray, head_tenure_terms: np.ndarray, is_taker: np.ndarray,
                awaiting_sponsor_since: np.ndarray, leadership: np.ndarray, trust: np.ndarray,
                contract_trust: np.ndarray, cluster: np.ndarray, perceived_need: np.ndarray,
                area_view_of_need: np.ndarray, governance: np.ndarray, area: np.ndarray,
                is_mat: np.ndarray, n_areas: int, n_clusters: int, min_head_tenure: int,
                giver_capacity_fte: float, outstanding_bonus: float, peer_share: float,
                ) -> SchoolPass:
    """The first pass (`SchoolPass`); `is_mat` is per trust slot, `n_clusters` 0 when the
    place has no peer clusters."""
    arguments = (grade, head_tenure_terms, is_taker, awaiting_sponsor_since, leadership, trust,
                 contract_trust, cluster, perceived_need, area_view_of_need, governance, area,
                 is_mat, n_areas, n_clusters, min_head_tenure, float(giver_capacity_fte),
                 float(outstanding_bonus), float(peer_share))
    if compiled.worth_compiling(len(grade)):
        return SchoolPass(*_school_pass_compiled(*arguments))
    return _school_pass_numpy(*arguments)


def _school_pass_numpy(grade, head_tenure_terms, is_taker, awaiting_sponsor_since, leadership,
                       trust, contract_trust, cluster, perceived_need, area_view_of_need,
                       governance, area, is_mat, n_areas, n_clusters, min_head_tenure,
                       giver_capacity_fte, outstanding_bonus, peer_share) -> SchoolPass:
    n, n_trusts = len(grade), len(is_mat) - 1
    index = trust_index(trust)
    waiting = awaiting_sponsor_since != NEVER
    # Givers: good or better with stable leadership, not seeking support themselves.
    # Masks select by multiplying (x * mask is x or 0): with masks as irregular as these,
    # that costs a fraction of np.where, and gives the same numbers.
    is_giver = ((grade <= Grade.GOOD) & (head_tenure_terms >= min_head_tenure)
                & ~is_taker & ~waiting)
    capacity = (giver_capacity_fte * (leadership / TYPICAL_LEADERSHIP)
                * (1.0 + outstanding_bonus * (grade == Grade.OUTSTANDING))) * is_giver
    in_cluster = cluster >= 0
    peer_capacity = (capacity * peer_share) * in_cluster if n_clusters else np.zeros(n)
    trust_capacity = capacity - peer_capacity

    def by_trust(values: np.ndarray | None, rows: np.ndarray = index) -> np.ndarray:
        slots = np.zeros(n_trusts + 1)
        slots[1:] = count_by_trust(values, rows, n_trusts)
        return slots

    givers = by_trust(is_giver)
    takers = by_trust(grade >= Grade.REQUIRES_IMPROVEMENT)
    seekers = by_trust(is_taker)
    under_contract = contract_trust >= 0
    if under_contract.any():  # contracted schools draw on the MAT's givers too
        contracted = by_trust(under_contract, trust_index(contract_trust))
        takers += contracted
        seekers += contracted
    weight = (perceived_need + NEED_WEIGHT_FLOOR) * (is_taker & is_mat[index])
    weight_by_trust = by_trust(weight)
    eligible = is_taker & ((governance == Governance.MAINTAINED) | waiting)
    local_authority_weight = (area_view_of_need + NEED_WEIGHT_FLOOR) * eligible
    local_authority_total = np.bincount(area, weights=local_authority_weight, minlength=n_areas)
    if n_clusters:
        cluster_takers = np.bincount(cluster[in_cluster], weights=is_taker[in_cluster],
                                     minlength=n_clusters)
    else:
        cluster_takers = np.zeros(0)
    return SchoolPass(is_giver, trust_capacity, peer_capacity, givers, takers, seekers, weight,
                      weight_by_trust, local_authority_weight, local_authority_total,
                      cluster_takers)


@compiled.kernel
def _school_pass_compiled(grade, head_tenure_terms, is_taker, awaiting_sponsor_since, leadership,
                          trust, contract_trust, cluster, perceived_need, area_view_of_need,
                          governance, area, is_mat, n_areas, n_clusters, min_head_tenure,
                          giver_capacity_fte, outstanding_bonus, peer_share):  # pragma: no cover
    n, n_trusts = len(grade), len(is_mat) - 1
    is_giver = np.empty(n, np.bool_)
    trust_capacity, peer_capacity = np.empty(n), np.empty(n)
    weight, local_authority_weight = np.empty(n), np.empty(n)
    # First the element-wise part, a loop the compiler turns into vector instructions
    # (it reads no other school's values)...
    for i in range(n):
        taker = is_taker[i]
        waiting = awaiting_sponsor_since[i] != NEVER
        giver = (grade[i] <= 2) & (head_tenure_terms[i] >= min_head_tenure) & (not taker) \
            & (not waiting)
        is_giver[i] = giver
        capacity = (giver_capacity_fte * (leadership[i] / TYPICAL_LEADERSHIP)
                    * (1.0 + outstanding_bonus * (1.0 if grade[i] == 1 else 0.0))) \
            * (1.0 if giver else 0.0)
        peer = (capacity * peer_share) * (1.0 if cluster[i] >= 0 else 0.0) if n_clusters else 0.0
        peer_capacity[i] = peer
        trust_capacity[i] = capacity - peer
        eligible = taker & ((governance[i] == 0) | waiting)
        local_authority_weight[i] = (area_view_of_need[i] + NEED_WEIGHT_FLOOR) \
            * (1.0 if eligible else 0.0)
    # ... then the sums, counts as integers, all without a branch on who gives or takes
    # (mispredicted often in a loop over schools in no order). A school in no trust counts
    # into one of 8 spare slots after the trusts', in turn, rather than into slot 0: each
    # addition to a slot waits for the one before, and most schools are in no trust.
    # Zeros are added as numpy's bincount adds them; each authority's weights (the schools
    # come by authority) are summed in a register until the authority changes.
    spare = n_trusts + 1
    givers, takers = np.zeros(spare + 8, np.int64), np.zeros(spare + 8, np.int64)
    seekers, weight_by_trust = np.zeros(spare + 8, np.int64), np.zeros(spare + 8)
    local_authority_total = np.zeros(n_areas)
    cluster_takers = np.zeros(n_clusters + 1, np.int64)  # (the last for schools in none)
    current_area, area_sum = (area[0] if n > 0 else 0), 0.0
    for i in range(n):
        slot = trust[i] + 1
        counted = slot if slot > 0 else spare + (i & 7)
        taker = is_taker[i]
        own_weight = (perceived_need[i] + NEED_WEIGHT_FLOOR) * (1.0 if taker & is_mat[slot]
                                                                else 0.0)
        weight[i] = own_weight
        place = area[i]
        if place != current_area:
            local_authority_total[current_area] = area_sum
            current_area, area_sum = place, local_authority_total[place]
        area_sum += local_authority_weight[i]
        givers[counted] += is_giver[i]
        takers[counted] += grade[i] >= 3
        seekers[counted] += taker
        weight_by_trust[counted] += own_weight
        if contract_trust[i] >= 0:
            takers[contract_trust[i] + 1] += 1
            seekers[contract_trust[i] + 1] += 1
        if n_clusters:
            cluster_takers[cluster[i] if cluster[i] >= 0 else n_clusters] += taker
    if n > 0:
        local_authority_total[current_area] = area_sum
    givers[0] = takers[0] = seekers[0] = 0  # (slot 0, no trust, reads 0)
    return (is_giver, trust_capacity, peer_capacity, givers[:spare].astype(np.float64),
            takers[:spare].astype(np.float64), seekers[:spare].astype(np.float64), weight,
            weight_by_trust[:spare].copy(), local_authority_weight, local_authority_total,
            cluster_takers[:n_clusters].astype(np.float64))


class SupportPass(NamedTuple):
    """What each school receives this term, by source, in FTE, and its givers' drain."""

    trust_givers: np.ndarray
    central_team: np.ndarray
    local_authority: np.ndarray
    peers: np.ndarray
    total: np.ndarray  # all sources, with contract and budget
    school_to_school: np.ndarray  # trust givers plus peers
    giver_drain: np.ndarray


def support_pass(found: SchoolPass, is_taker: np.ndarray, trust: np.ndarray,
                 cluster: np.ndarray, area: np.ndarray, same_trust: GroupDecay,
                 partners: GroupDecay | None, central_team_fte: np.ndarray,
                 hub_decay: np.ndarray, local_authority_capacity: np.ndarray,
                 reach_from_area_centre: np.ndarray, contract: np.ndarray, budget: np.ndarray,
                 drain_by_trust: np.ndarray) -> SupportPass:
    """The second pass (`SupportPass`): givers' capacity reaches takers through the
    network's `same_trust_decay` (trust capacity) and `partner_decay` (peer capacity;
    None with no clusters), whose rows the compiled loop reads in place; `central_team_fte`
    and `drain_by_trust` are per trust slot."""
    clustered = partners is not None
    if not compiled.worth_compiling(len(is_taker)):
        return _support_pass_numpy(
            is_taker, trust, cluster, area, found.seekers,
            same_trust.matrix @ found.trust_capacity,
            partners.matrix @ found.peer_capacity if clustered else None, clustered,
            found.cluster_takers, found.weight, found.weight_by_trust, central_team_fte,
            hub_decay, found.local_authority_weight, local_authority_capacity,
            found.local_authority_total, reach_from_area_centre, contract, budget,
            drain_by_trust, found.is_giver)
    # The loop reads only the rows of schools seeking support, while every giver's
    # capacity is plain (`_support_pass_compiled`); the other rows may stay stale.
    capacity = found.trust_capacity
    plain = len(capacity) == 0 or (capacity.min() >= 0.0 and capacity.max() <= CAPACITY_BOUND)
    trust_rows = same_trust.rows(is_taker if plain else None)
    # A school that seeks no support gets nothing from its peers whatever its row holds.
    partner_rows = partners.rows(is_taker) if clustered else trust_rows
    return SupportPass(*_support_pass_compiled(
        is_taker, trust, cluster, area, found.seekers, trust_rows.first, trust_rows.stop,
        trust_rows.columns, trust_rows.values, found.trust_capacity, partner_rows.first,
        partner_rows.stop, partner_rows.columns, partner_rows.values, found.peer_capacity,
        clustered, found.cluster_takers,
        found.weight, found.weight_by_trust, central_team_fte, hub_decay,
        found.local_authority_weight, local_authority_capacity, found.local_authority_total,
        reach_from_area_centre, contract, budget, drain_by_trust, found.is_giver))


def _support_pass_numpy(is_taker, trust, cluster, area, seekers, reach, peer_reach, clustered,
                        cluster_takers, weight, weight_by_trust, central_team_fte, hub_decay,
                        local_authority_weight, local_authority_capacity, local_authority_total,
                        reach_from_area_centre, contract, budget, drain_by_trust,
                        is_giver) -> SupportPass:
    index = trust_index(trust)
    # Givers in the same MAT share their capacity evenly among the trust's takers.
    takers_in_own_trust = seekers[index]
    trust_givers = (reach / np.maximum(takers_in_own_trust, 1)) \
        * (is_taker & (takers_in_own_trust > 0))
    # The central team is shared among takers by perceived need, weakened by distance.
    # Where the weight is 0 the share is 0; elsewhere the trust's total is at least the floor.
    share = weight / np.maximum(weight_by_trust[index], NEED_WEIGHT_FLOOR)
    central_team = share * central_team_fte[index] * hub_decay
    local_authority = (local_authority_weight * local_authority_capacity[area]) \
        / np.maximum(local_authority_total[area], NEED_WEIGHT_FLOOR)
    local_authority *= reach_from_area_centre
    if clustered:
        in_cluster = cluster >= 0
        own_cluster_takers = np.where(in_cluster, cluster_takers[np.maximum(cluster, 0)], 0.0)
        peers = np.where(is_taker & (own_cluster_takers > 0),
                         peer_reach / np.maximum(own_cluster_takers, 1), 0.0)
    else:
        peers = np.zeros(len(is_taker))
    total = trust_givers + central_team + local_authority + peers + contract + budget
    giver_drain = drain_by_trust[index] * is_giver
    return SupportPass(trust_givers, central_team, local_authority, peers, total,
                       trust_givers + peers, giver_drain)


@compiled.kernel
def _support_pass_compiled(is_taker, trust, cluster, area, seekers, same_trust_first,
                           same_trust_stop, same_trust_columns, same_trust_decay,
                           trust_capacity, partner_first, partner_stop, partner_columns,
                           partner_decay, peer_capacity, clustered,
                           cluster_takers, weight, weight_by_trust, central_team_fte, hub_decay,
                           local_authority_weight, local_authority_capacity,
                           local_authority_total, reach_from_area_centre, contract, budget,
                           drain_by_trust, is_giver):  # pragma: no cover
    """`_support_pass_numpy`, with the sparse products summed row by row as scipy's
    `csr_matvec` sums them (from 0.0, adding each stored entry's product in order; row i's
    entries lie from `first[i]` to `stop[i]`, `sim.mechanics.rewrite.DecayRows`), each
    in a tight loop of its own, and no branch on which schools seek support (the branches
    of a loop over schools in no order are mispredicted often enough to cost more than
    the arithmetic they would save)."""
    n = len(is_taker)
    # A school that seeks no support gets (reach / takers) * 0.0 from its trust's givers,
    # which is +0.0 whenever its reach is a finite sum of products that are not negative:
    # decay factors are in [0, 1] (exp of minus a distance), so when every giver's trust
    # capacity is in [0, CAPACITY_BOUND] (a bound no sum of 21,750 such products can
    # overflow from), such rows of the product are left at 0 (and `support_pass` has
    # written only the takers' rows then, `GroupDecay.rows`). Otherwise all are summed.
    every_reach_plain = True
    for i in range(n):
        every_reach_plain &= (trust_capacity[i] >= 0.0) & (trust_capacity[i] <= CAPACITY_BOUND)
    reach = np.empty(n)
    for i in range(n):
        row_sum = 0.0
        stop = same_trust_stop[i] if is_taker[i] or not every_reach_plain \
            else same_trust_first[i]
        for entry in range(same_trust_first[i], stop):
            row_sum += same_trust_decay[entry] * trust_capacity[same_trust_columns[entry]]
        reach[i] = row_sum
    peer_reach = np.empty(n if clustered else 0)
    if clustered:
        for i in range(n):
            row_sum = 0.0
            # (only takers' rows are read: a school seeking no support takes 0.0 from its
            # peers below whatever its sum; `support_pass` wrote only those rows)
            stop = partner_stop[i] if is_taker[i] else partner_first[i]
            for entry in range(partner_first[i], stop):
                row_sum += partner_decay[entry] * peer_capacity[partner_columns[entry]]
            peer_reach[i] = row_sum
    trust_givers, central_team = np.empty(n), np.empty(n)
    local_authority, peers = np.empty(n), np.empty(n)
    total, school_to_school, giver_drain = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        slot = trust[i] + 1
        taker = is_taker[i]
        in_own_trust = seekers[slot]
        from_givers = (reach[i] / max(in_own_trust, 1.0)) \
            * (1.0 if taker & (in_own_trust > 0) else 0.0)
        share = weight[i] / max(weight_by_trust[slot], NEED_WEIGHT_FLOOR)
        from_central = share * central_team_fte[slot] * hub_decay[i]
        place = area[i]
        from_authority = ((local_authority_weight[i] * local_authority_capacity[place])
                          / max(local_authority_total[place], NEED_WEIGHT_FLOOR)) \
            * reach_from_area_centre[i]
        from_peers = 0.0
        if clustered:
            # (a school in no cluster reads its cluster's takers as 0, as numpy's does)
            in_own_cluster = cluster_takers[max(cluster[i], 0)] \
                * (1.0 if cluster[i] >= 0 else 0.0)
            quotient = peer_reach[i] / max(in_own_cluster, 1.0)
            from_peers = quotient if taker & (in_own_cluster > 0) else 0.0
        trust_givers[i], central_team[i] = from_givers, from_central
        local_authority[i], peers[i] = from_authority, from_peers
        total[i] = from_givers + from_central + from_authority + from_peers + contract[i] \
            + budget[i]
        school_to_school[i] = from_givers + from_peers
        giver_drain[i] = drain_by_trust[slot] * (1.0 if is_giver[i] else 0.0)
    return (trust_givers, central_team, local_authority, peers, total, school_to_school,
            giver_drain)


def givers_and_takers(is_giver: np.ndarray, grade: np.ndarray, trust: np.ndarray,
                      contract_trust: np.ndarray, n_trusts: int) -> tuple[np.ndarray, np.ndarray]:
    """Per trust, its givers and its takers (members graded below good, and schools it
    supports under contract): `SchoolPass.givers` and `.takers` without slot 0."""
    if compiled.worth_compiling(len(grade)):
        return _givers_and_takers_compiled(is_giver, grade, trust, contract_trust, n_trusts)
    return _givers_and_takers_numpy(is_giver, grade, trust, contract_trust, n_trusts)


def _givers_and_takers_numpy(is_giver, grade, trust, contract_trust, n_trusts):
    index = trust_index(trust)
    givers = count_by_trust(is_giver, index, n_trusts)
    takers = count_by_trust(grade >= Grade.REQUIRES_IMPROVEMENT, index, n_trusts)
    under_contract = contract_trust >= 0
    if under_contract.any():
        takers += count_by_trust(under_contract, trust_index(contract_trust), n_trusts)
    return givers, takers


@compiled.kernel
def _givers_and_takers_compiled(is_giver, grade, trust, contract_trust,
                                n_trusts):  # pragma: no cover
    # (a school in no trust counts into one of 8 spare slots, as in `_school_pass_compiled`)
    spare = n_trusts + 1
    givers, takers = np.zeros(spare + 8, np.int64), np.zeros(spare + 8, np.int64)
    for i in range(len(grade)):
        slot = trust[i] + 1
        counted = slot if slot > 0 else spare + (i & 7)
        givers[counted] += is_giver[i]
        takers[counted] += grade[i] >= 3
        if contract_trust[i] >= 0:
            takers[contract_trust[i] + 1] += 1
    return givers[1:spare].astype(np.float64), takers[1:spare].astype(np.float64)
