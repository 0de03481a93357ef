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

from sim import compiled
from sim.parameters import JUDGEMENT, fitted, parameter
from sim.phases import capacity_passes, improvement_budget
from sim.state import TERMS_PER_YEAR, TrustArrays, TrustKind, trust_index
from sim.tallies import SPENDING_SOURCES, SupportBySource

if TYPE_CHECKING:  # scipy loads with a run, not with the config (`python -m sim --help`)
    from scipy import sparse

    from sim.mechanics.proximity import FrozenDecay
    from sim.model import SchoolSystemModel

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
        source=fitted("0-0.12", "seed 003 (proven MATs fear weak schools compromise them)"),
        low=0.0, high=1.0,
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



def giver_taker_ratios(model: SchoolSystemModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Givers, takers and giver:taker ratio of every trust (ratio is inf with no takers).

    As seed 004 counts them: givers are the members able to offer improvement capacity
    (`is_giver`), takers the members needing help, those graded below good, the same
    count the trust's due diligence reads (`sim.mechanics.brokering.Broker`). Schools a
    MAT supports under contract count among its takers: they draw on its givers.
    """
    schools = model.schools
    givers, takers = capacity_passes.givers_and_takers(
        schools.is_giver, schools.grade, schools.trust, schools.contract_trust, model.trusts.n)
    return givers, takers, _ratio(givers, takers)


def _ratio(givers: np.ndarray, takers: np.ndarray) -> np.ndarray:
    return np.divide(givers, takers, out=np.full(len(givers), np.inf), where=takers > 0)


def giver_drain_by_trust(givers: np.ndarray, takers: np.ndarray, threshold: np.ndarray,
                         drain_rate: float, compiled_pass: bool) -> np.ndarray:
    """Per trust slot, the effectiveness each of its givers loses this term: `drain_rate`
    times how far the trust's giver:taker ratio falls short of its threshold, as a share
    of it. No ratio falls short of a threshold of 0 (the rule switched off), nor is a
    trust with no takers (ratio inf) overloaded. `givers` and `takers` are per slot
    (`SchoolPass`), `threshold` per trust; one compiled pass over the trusts for a big
    place (`compiled_pass`), a dozen numpy calls otherwise."""
    if compiled_pass:
        return _giver_drain_compiled(givers, takers, threshold, drain_rate)
    ratio = _ratio(givers[1:], takers[1:])
    below = ratio < threshold
    shortfall = np.zeros(len(threshold))
    shortfall[below] = 1.0 - ratio[below] / threshold[below]
    return np.concatenate(([0.0], drain_rate * shortfall))


@compiled.kernel
def _giver_drain_compiled(givers, takers, threshold, drain_rate):  # pragma: no cover
    drain = np.zeros(len(threshold) + 1)
    for t in range(len(threshold)):
        ratio = givers[t + 1] / takers[t + 1] if takers[t + 1] > 0 else np.inf
        shortfall = 1.0 - ratio / threshold[t] if ratio < threshold[t] else 0.0
        drain[t + 1] = drain_rate * shortfall
    return drain


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
    peer_share = model.policy_effects.peer_support_share
    n_clusters = network.n_clusters
    cluster = network.cluster_of_school
    # Each school's authority: numpy gathers and counts faster with a native index, a
    # compiled loop reads the stored int32 rows, half the bytes.
    area = schools.local_authority if compiled.worth_compiling(schools.n) else model.area_index
    # Per trust slot (slot 0: no trust, `trust_index`): whether it is a MAT.
    is_mat = np.concatenate(([False], trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    # Givers (good or better with stable leadership, not seeking support themselves; seed
    # 004: schools "able to offer school improvement capacity"), takers and their weights.
    found = capacity_passes.school_pass(
        schools.grade, schools.head_tenure_terms, schools.is_taker,
        schools.awaiting_sponsor_since_term, schools.leadership, schools.trust,
        schools.contract_trust, cluster, schools.perceived_need, schools.area_view_of_need,
        schools.governance, area, is_mat, model.n_areas, n_clusters,
        p.giver_min_head_tenure_terms, p.giver_capacity_fte, p.outstanding_giver_bonus,
        p.peer_support_share if peer_share is None else peer_share)
    schools.is_giver = found.is_giver
    # Overloaded trusts drain their givers, in proportion to how far their ratio falls
    # short of their threshold (`giver_drain_by_trust`).
    drain_by_trust = giver_drain_by_trust(
        found.givers, found.takers, trusts.giver_taker_threshold, float(p.giver_drain_rate),
        compiled.worth_compiling(schools.n))

    # Givers in the same MAT share their capacity evenly among the trust's takers (support
    # goes to the schools seeking it, `is_taker`, which include good schools that see a
    # need of their own; the ratio's takers are those graded below good); the central team
    # by perceived need, weakened by distance; the local authority supports maintained
    # takers and schools waiting for a sponsor; peer-cluster partners (none until a policy
    # forms clusters) their cluster's takers.
    same_trust, partners = network.same_trust, network.partners
    la_capacity = local_authority_capacity_fte(model)
    budget = improvement_budget.allocate(model)
    contract = schools.contract_support_fte.copy()
    received = capacity_passes.support_pass(
        found, schools.is_taker, schools.trust, cluster, area, same_trust,
        partners if n_clusters else None,
        np.concatenate(([0.0], trusts.central_team_fte)), network.hub_decay, la_capacity,
        model.reach_from_area_centre(p.distance_decay_km), contract, budget, drain_by_trust)
    model.support.by_source = SupportBySource(
        trust_givers=received.trust_givers, central_team=received.central_team,
        local_authority=received.local_authority, peers=received.peers, contract=contract,
        budget=budget)
    schools.support_received = received.total
    schools.giver_drain = received.giver_drain

    # The school-to-school flow matrix is only built if someone reads the graph's support edges.
    # (The arrays it reads are this term's: trust rows and clusters are copied, as they
    # change in place, and the decay matrices kept as they stand, `GroupDecay.frozen`.)
    taker, trust, cluster = schools.is_taker, schools.trust.copy(), cluster.copy()
    same_trust_now, partners_now = same_trust.frozen(), partners.frozen()
    network.set_support(lambda: _support_matrix(
        taker, same_trust_now, partners_now, found.trust_capacity,
        found.seekers[trust_index(trust)],
        found.peer_capacity, cluster, found.cluster_takers))
    _record_spending(model, trusts, la_capacity, received.school_to_school)
    model.support.spending_gbp.update(model.policy_effects.spending)


def _support_matrix(taker: np.ndarray, same_trust: FrozenDecay, partners: FrozenDecay,
                    trust_capacity: np.ndarray,
                    takers_in_own_trust: np.ndarray, peer_capacity: np.ndarray,
                    cluster: np.ndarray, cluster_takers: np.ndarray) -> sparse.csr_matrix:
    """support[taker, giver] in FTE: the school-to-school flows behind `support` edges."""
    from scipy import sparse

    own_cluster_takers = (np.where(cluster >= 0, cluster_takers[np.maximum(cluster, 0)], 0.0)
                          if len(cluster_takers) else np.zeros(len(taker)))

    row_scale_trust = np.where(taker, 1.0 / np.maximum(takers_in_own_trust, 1), 0.0)
    row_scale_peer = np.where(taker, 1.0 / np.maximum(own_cluster_takers, 1), 0.0)
    flows = (sparse.diags(row_scale_trust) @ same_trust.matrix @ sparse.diags(trust_capacity)
             + sparse.diags(row_scale_peer) @ partners.matrix @ sparse.diags(peer_capacity))
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
        # (a count of a mask: count_nonzero, several times faster than a sum of booleans)
        "contracts": float(np.count_nonzero(model.schools.contract_trust >= 0) * fee
                           / TERMS_PER_YEAR),
    })
