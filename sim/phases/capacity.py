"""Phase 3, capacity: who gives support, who receives it, and each trust's giver:taker ratio.

Sources of support, each discounted by distance (seed 000: collaboration is easier and
cheaper within a geographic hub):
- **givers in the same MAT**: schools graded good or better, with a head in post for at
  least `giver_min_head_tenure_terms`, that do not seek support themselves (seed 004:
  schools "able to offer school improvement capacity"). Each offers
  `giver_capacity_fte` (more if outstanding, scaled by its head's capacity), shared
  evenly among its trust's takers;
- **the MAT's central team**: `central_team_fte` shared among the trust's takers in
  proportion to their perceived need, discounted by distance from the nearest hub;
- **the local authority**: a pool per authority for maintained takers and for schools
  waiting for a sponsor, shrinking each year (`local_authority_capacity_change_per_year`);
- **peer-cluster partners**: givers offer `peer_support_share` of their capacity to takers
  in their cluster (seed 003);
- **contracts**: a MAT under a fixed-term contract puts `contract_support_fte` into the
  school (seed 003; see `sim.policies.mat_contracting`);
- **the improvement budget** (`sim.phases.improvement_budget`): consultants and specialist
  leaders bought with the place's improvement money, shared by the area's view of need.

The local authority and the improvement budget share their capacity by the area's view of
need (schools' own reports, or a local measuring system's view; see `sim.phases.diagnosis`).

The giver:taker ratio of a MAT is its givers over its takers (Greany 2018, seed 004: a
3:1 or 4:1 rule of thumb). When it is below the trust's threshold the support is spread
thin, because givers' capacity is shared among more takers, and the givers are drained:
each loses `giver_drain_rate x (1 - ratio / threshold)` effectiveness per term (seed 003:
proven MATs fear weak schools "will compromise their educational ... performance"). A
threshold of 0 switches the drain off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.parameters import JUDGEMENT, parameter
from sim.phases import improvement_budget
from sim.state import (
    TERMS_PER_YEAR,
    TYPICAL_LEADERSHIP,
    Governance,
    Grade,
    TrustArrays,
    TrustKind,
    count_by_trust,
    per_school,
    trust_index,
)
from sim.tallies import SPENDING_SOURCES, SupportBySource

if TYPE_CHECKING:  # scipy loads with a run, not with the config (`python -m sim --help`)
    from scipy import sparse

    from sim.model import SchoolSystemModel

# A central team or local authority shares its time among takers by need as it sees it,
# plus this floor, so that a taker whose need it does not see still gets a little
# (judgement: a twentieth of a unit of need).
NEED_WEIGHT_FLOOR = 0.05


@dataclass(frozen=True)
class CapacityParameters:
    """Who gives support and who takes it (docs/ODD.md section 7.3)."""

    giver_min_head_tenure_terms: int = parameter(
        3, "a giver needs a head in post this long (stable leadership), in terms", source=JUDGEMENT,
        low=0, high=30, why="default 3; ten years; judgement")
    giver_capacity_fte: float = parameter(
        0.2, "spare improvement capacity a good giver offers per term (FTE)", source=JUDGEMENT,
        low=0.0, high=2.0, why="0.2 FTE; two staff full time; judgement")
    outstanding_giver_bonus: float = parameter(
        0.5, "outstanding givers offer this much more (a share)", source=JUDGEMENT, low=0.0,
        high=3.0, why="0.5; judgement")
    distance_decay_km: float = parameter(
        15.0, "support falls by a factor e over this distance (km)", source="seed 000", low=0.1,
        high=1000.0, why="seed 000: 15 km; 1,000 is no decay")
    central_team_base_fte: float = parameter(
        0.5, "a MAT's central improvement team: base FTE ...", source=JUDGEMENT, low=0.0, high=20.0,
        why="Greany 2018: 0.5; judgement")
    central_team_fte_per_school: float = parameter(
        0.15, "... plus this per member school (FTE)", source="Greany 2018 (seed 004)", low=0.0,
        high=2.0, why="Greany 2018: 0.15; judgement")
    local_authority_fte_per_maintained_school: float = parameter(
        0.03, "local-authority improvement capacity per maintained school (FTE)", source=JUDGEMENT,
        low=0.0, high=1.0, why="0.03; judgement")
    local_authority_capacity_change_per_year: float = parameter(
        -0.03, "yearly change of local-authority capacity (budget cuts), a share", source=JUDGEMENT,
        low=-1.0, high=0.5, why="-3%; none left to +50%; judgement")
    local_authority_prescriptiveness: float = parameter(
        0.4, "how prescriptive local-authority support is (0-1)", source=JUDGEMENT, low=0.0,
        high=1.0)
    peer_prescriptiveness: float = parameter(
        0.2, "how prescriptive support from cluster partners is (0-1)", source=JUDGEMENT, low=0.0,
        high=1.0)
    peer_support_share: float = parameter(
        0.3, "share of a giver's spare capacity offered to cluster partners", source=JUDGEMENT,
        low=0.0, high=1.0)
    giver_drain_rate: float = parameter(
        0.06,
        "effectiveness a giver loses per term when its trust has takers but no other "
        "givers",
        source="seed 003 (proven MATs fear weak schools compromise them)", low=0.0, high=1.0,
        why="0.06 a term; Morris 0-0.12; effectiveness units (about one sd of England's schools); the high "
            "end is that many sds (judgement)")
    improvement_fte_cost_gbp_per_year: float = parameter(
        75_000,
        "cost of one FTE of improvement capacity (central, local authority or "
        "school), pounds",
        source=JUDGEMENT, low=0.0, high=500_000.0,
        why="£75,000; pounds; the high end is several times the default's source (judgement)")
    budget_fte_cost_gbp_per_year: float = parameter(
        90_000,
        "what the improvement budget pays for one FTE of consultants and specialist "
        "leaders, pounds",
        source="seed 004 finding 6", low=10_000.0, high=1e6,
        why="seed 004: £90,000; pounds; the high end is several times the default's source (judgement)")
    budget_prescriptiveness: float = parameter(
        0.5, "how prescriptive bought-in support is (0-1)", source=JUDGEMENT, low=0.0, high=1.0)



def giver_taker_ratios(model: SchoolSystemModel, index: np.ndarray | None = None,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Givers, takers and giver:taker ratio of every trust (ratio is inf with no takers).

    As seed 004 counts them: givers are the members able to offer improvement capacity
    (`is_giver`), takers the members needing help, those graded below good, the same
    count the trust's due diligence reads (`sim.mechanics.brokering.Broker`). Schools a
    MAT supports under contract count among its takers: they draw on its givers.
    `index` is `trust_index(schools.trust)`, if the caller has it.
    """
    schools, n_trusts = model.schools, model.trusts.n
    index = trust_index(schools.trust) if index is None else index
    givers = count_by_trust(schools.is_giver, index, n_trusts)
    takers = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT, index, n_trusts)
    if schools.under_contract.any():
        takers += count_by_trust(schools.under_contract, trust_index(schools.contract_trust),
                                 n_trusts)
    ratio = np.divide(givers, takers, out=np.full(n_trusts, np.inf), where=takers > 0)
    return givers, takers, ratio


def local_authority_capacity_fte(model: SchoolSystemModel) -> np.ndarray:
    """Improvement capacity (FTE) of each local authority this term.

    The yearly change is a trend of the run: before term 0 (the spin-up, a system at
    rest) capacity stays at its starting level rather than being extrapolated backwards,
    which for a cut of 100% a year would be infinite.
    """
    p = model.parameters.model.capacity
    years = max(model.term, 0) / TERMS_PER_YEAR
    factor = (1.0 + p.local_authority_capacity_change_per_year) ** years
    return (p.local_authority_fte_per_maintained_school * model.maintained_at_start_by_area
            * model.parameters.scenario.local_authority_capacity * factor)


def run_term(model: SchoolSystemModel) -> None:
    schools, trusts, network = model.schools, model.trusts, model.network
    p = model.parameters.model.capacity
    n = schools.n
    # Masks select by multiplying (x * mask is x or 0): with masks as irregular as these,
    # that costs a fraction of np.where, and gives the same numbers.

    # Givers: good or better with stable leadership, not seeking support themselves (seed
    # 004: schools "able to offer school improvement capacity").
    grade = schools.grade
    schools.is_giver = ((grade <= Grade.GOOD)
                        & (schools.head_tenure_terms >= p.giver_min_head_tenure_terms)
                        & ~schools.is_taker & ~schools.awaiting_sponsor)
    capacity = (p.giver_capacity_fte * (schools.leadership / TYPICAL_LEADERSHIP)
                * (1.0 + p.outstanding_giver_bonus * (grade == Grade.OUTSTANDING))) \
        * schools.is_giver
    clustered = network.n_clusters > 0
    in_cluster = network.cluster_of_school >= 0
    peer_share = model.policy_effects.peer_support_share
    peer_share = p.peer_support_share if peer_share is None else peer_share
    peer_capacity = (capacity * peer_share) * in_cluster if clustered else np.zeros(n)
    trust_capacity = capacity - peer_capacity

    trust = trust_index(schools.trust)
    _, _, ratio = giver_taker_ratios(model, trust)
    # Support goes to the schools seeking it (`is_taker`), which include good schools that
    # see a need of their own; the ratio's takers are those graded below good.
    taker = schools.is_taker
    seekers = count_by_trust(taker, trust, trusts.n)
    if schools.under_contract.any():  # contracted schools draw on the MAT's givers too
        seekers += count_by_trust(schools.under_contract, trust_index(schools.contract_trust),
                                  trusts.n)
    takers_in_own_trust = per_school(seekers, trust)

    # Givers in the same MAT share their capacity evenly among the trust's takers.
    reach = network.same_trust_decay @ trust_capacity
    from_givers = (reach / np.maximum(takers_in_own_trust, 1)) \
        * (taker & (takers_in_own_trust > 0))

    # The central team is shared among takers by perceived need, weakened by distance.
    is_mat = trusts.kind == TrustKind.MULTI_ACADEMY_TRUST
    weight = (schools.perceived_need + NEED_WEIGHT_FLOOR) * (taker & per_school(is_mat, trust, False))
    weight_by_trust = count_by_trust(weight, trust, trusts.n)
    # Where the weight is 0 the share is 0; elsewhere the trust's total is at least the floor.
    share = weight / np.maximum(per_school(weight_by_trust, trust), NEED_WEIGHT_FLOOR)
    from_central = share * per_school(trusts.central_team_fte, trust) * network.hub_decay

    # The local authority supports maintained takers and schools waiting for a sponsor.
    area = model.area_index
    eligible = taker & ((schools.governance == Governance.MAINTAINED) | schools.awaiting_sponsor)
    la_weight = (schools.area_view_of_need + NEED_WEIGHT_FLOOR) * eligible
    la_total_weight = np.bincount(area, weights=la_weight, minlength=model.n_areas)
    la_capacity = local_authority_capacity_fte(model)
    from_local_authority = (la_weight * la_capacity[area]) \
        / np.maximum(la_total_weight[area], NEED_WEIGHT_FLOOR)
    from_local_authority *= model.reach_from_area_centre(p.distance_decay_km)

    # Peer-cluster partners (none until a policy forms clusters).
    if clustered:
        cluster = network.cluster_of_school
        takers_in_cluster = np.bincount(cluster[in_cluster], weights=taker[in_cluster],
                                        minlength=max(1, cluster.max() + 1))
        own_cluster_takers = np.where(in_cluster, takers_in_cluster[np.maximum(cluster, 0)], 0.0)
        from_peers = np.where(taker & (own_cluster_takers > 0),
                              (network.partner_decay @ peer_capacity)
                              / np.maximum(own_cluster_takers, 1), 0.0)
    else:
        own_cluster_takers = from_peers = np.zeros(n)

    model.support.by_source = SupportBySource(
        trust_givers=from_givers, central_team=from_central,
        local_authority=from_local_authority, peers=from_peers,
        contract=schools.contract_support_fte.copy(),
        budget=improvement_budget.allocate(model))
    schools.support_received = model.support.by_source.total

    # Overloaded trusts drain their givers, in proportion to how far their ratio falls
    # short of their threshold. No ratio falls short of a threshold of 0 (the rule switched
    # off), nor is a trust with no takers (ratio inf) overloaded.
    threshold = trusts.giver_taker_threshold
    below = ratio < threshold
    shortfall = np.zeros(trusts.n)
    shortfall[below] = 1.0 - ratio[below] / threshold[below]
    schools.giver_drain = per_school(p.giver_drain_rate * shortfall, trust) * schools.is_giver

    # The school-to-school flow matrix is only built if someone reads the graph's support edges.
    same_trust, partners = network.same_trust_decay, network.partner_decay
    network.set_support(lambda: _support_matrix(
        taker, same_trust, partners, trust_capacity, takers_in_own_trust, peer_capacity,
        own_cluster_takers))
    _record_spending(model, trusts, la_capacity, from_givers + from_peers)
    model.support.spending_gbp.update(model.policy_effects.spending)


def _support_matrix(taker: np.ndarray, same_trust_decay: sparse.csr_matrix,
                    partner_decay: sparse.csr_matrix, trust_capacity: np.ndarray,
                    takers_in_own_trust: np.ndarray, peer_capacity: np.ndarray,
                    own_cluster_takers: np.ndarray) -> sparse.csr_matrix:
    """support[taker, giver] in FTE: the school-to-school flows behind `support` edges."""
    from scipy import sparse

    row_scale_trust = np.where(taker, 1.0 / np.maximum(takers_in_own_trust, 1), 0.0)
    row_scale_peer = np.where(taker, 1.0 / np.maximum(own_cluster_takers, 1), 0.0)
    flows = (sparse.diags(row_scale_trust) @ same_trust_decay @ sparse.diags(trust_capacity)
             + sparse.diags(row_scale_peer) @ partner_decay @ sparse.diags(peer_capacity))
    flows.eliminate_zeros()
    return flows.tocsr()


def _record_spending(model: SchoolSystemModel, trusts: TrustArrays, la_capacity: np.ndarray,
                     school_to_school_fte: np.ndarray) -> None:
    """Spending this term, in pounds, by source."""
    cost_per_term = model.parameters.model.capacity.improvement_fte_cost_gbp_per_year / TERMS_PER_YEAR
    active_mats = trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    contracting = getattr(model.parameters.policy, "mat_contracting", None)
    fee = contracting.contract_fee_gbp_per_year if contracting is not None else 0.0
    spending = model.support.spending_gbp = dict.fromkeys(SPENDING_SOURCES, 0.0)
    spending.update({
        "central_teams": float(trusts.central_team_fte[active_mats].sum() * cost_per_term),
        "local_authority": float(la_capacity.sum() * cost_per_term),
        "school_to_school": float(school_to_school_fte.sum() * cost_per_term),
        "improvement_budget": improvement_budget.spending_per_term(model),
        "contracts": float(model.schools.under_contract.sum() * fee / TERMS_PER_YEAR),
    })
