"""Trusts' rules and a new trust's make-up, shared by the population builders (trusts on
the books at the start), the yearly phase (MATs and single-academy trusts founded during a
run) and the policies (seed 004; docs/ODD.md section 7.6)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.parameters import JUDGEMENT, parameter
from sim.state import Grade, TrustArrays, TrustKind

if TYPE_CHECKING:
    from sim.schema import ModelParameters

# A trust's prescriptiveness and risk appetite are drawn round the configured means with
# this spread, then clipped to 0-1 (judgement: trusts differ, most within +-0.3 of the mean).
TRAIT_SD = 0.15
# A trust's reputation is the mean grade of its schools (refreshed yearly); a new trust has
# none graded under it yet and starts as good.
NEW_TRUST_REPUTATION = float(Grade.GOOD)
# The MAT-contracting policy's record of a trust as a supplier runs from 0 to 1; a trust
# with no contracts yet has a clean record.
NEW_SUPPLIER_RECORD = 1.0


@dataclass(frozen=True)
class TrustParameters:
    """Trusts' own rules and make-up (seed 004; docs/ODD.md section 7.6)."""

    giver_taker_threshold: float = parameter(
        3.0, "minimum giver:taker ratio after taking a school on",
        source="Greany 2018 (seed 004): 3:1 or 4:1", low=0.0, high=100.0,
        why="Greany 2018: 3-4; 0 off, 100 shuts")
    hub_radius_km: float = parameter(
        25.0, "due diligence: furthest a new school may be from a hub (km)", source="seed 000",
        low=0.0, high=1000.0, why="seed 000: 25 km; sweeps 10-50")
    growth_cap_per_year: int = parameter(
        3, "schools a MAT may take on in a year", source=JUDGEMENT, low=0, high=1000,
        why="3; judgement")
    risk_appetite_mean: float = parameter(
        0.6, "mean appetite for taking on weak schools (0-1)", source=JUDGEMENT, low=0.0, high=1.0)
    prescriptiveness_mean: float = parameter(
        0.5, "mean prescriptiveness of curriculum and pedagogy (0-1)", source="seed 004 finding 2",
        low=0.0, high=1.0)
    data_reporting_intensity: float = parameter(
        0.08, "workload a MAT's data reporting adds to its schools", source="seed 004 finding 1",
        low=0.0, high=1.0,
        why="seed 004: 0.08; added to a typical workload of 1; at most doubling it (judgement)")
    single_academy_trust_data_reporting: float = parameter(
        0.04, "the same for a single-academy trust", source=JUDGEMENT, low=0.0, high=1.0,
        why="0.04; added to a typical workload of 1; at most doubling it (judgement)")
    leadership_pool_bonus: float = parameter(
        0.0, "capacity advantage of heads a MAT appoints over the national pool",
        source=f"{JUDGEMENT} (a knob; no published estimate)", low=-0.5, high=0.5,
        why="0; natural: head capacity is 0-1 round 0.6")
    prescriptiveness_adaptation_per_year: float = parameter(
        0.2, "share of the gap to its preferred prescriptiveness a trust closes each year",
        source="seed 004 finding 2", low=0.0, high=1.0)
    prescriptiveness_mix_slope: float = parameter(
        1.5,
        "preferred prescriptiveness rises by this per unit of the share of members "
        "below good, above 0.14",
        source=JUDGEMENT, low=0.0, high=10.0, why="1.5; the result is clipped; judgement")



def empty_trusts() -> TrustArrays:
    return TrustArrays(
        trust_id=np.zeros(0, np.int64), name=np.zeros(0, object), kind=np.zeros(0, np.int8),
        active=np.zeros(0, bool), founded_term=np.zeros(0, np.int32),
        central_team_fte=np.zeros(0), prescriptiveness=np.zeros(0),
        giver_taker_threshold=np.zeros(0), hub_radius_km=np.zeros(0),
        growth_cap_per_year=np.zeros(0, np.int32), risk_appetite=np.zeros(0),
        data_reporting_intensity=np.zeros(0), leadership_pool=np.zeros(0),
        joins_this_year=np.zeros(0, np.int32), reputation=np.zeros(0),
        supplier_record=np.zeros(0),
    )


def new_trust_values(
    kind: TrustKind, n_members: int, model: ModelParameters, rng: np.random.Generator,
    founded_term: int, trust_strength: float, trust_id: int,
) -> dict[str, object]:
    """Attributes of one new trust, drawn around the configured defaults (seed 004)."""
    rules = model.trusts
    is_mat = kind == TrustKind.MULTI_ACADEMY_TRUST
    capacity = model.capacity
    return {
        "trust_id": trust_id,
        "name": f"{'Multi' if is_mat else 'Single'} Academy Trust {trust_id}",
        "kind": int(kind),
        "active": True,
        "founded_term": founded_term,
        "central_team_fte": (capacity.central_team_base_fte
                             + capacity.central_team_fte_per_school * n_members) if is_mat else 0.0,
        "prescriptiveness": min(max(float(rng.normal(rules.prescriptiveness_mean, TRAIT_SD)), 0.0), 1.0),
        "giver_taker_threshold": rules.giver_taker_threshold,
        "hub_radius_km": rules.hub_radius_km,
        "growth_cap_per_year": rules.growth_cap_per_year,
        "risk_appetite": min(max(float(rng.normal(rules.risk_appetite_mean, TRAIT_SD)), 0.0), 1.0),
        "data_reporting_intensity": (rules.data_reporting_intensity if is_mat
                                     else rules.single_academy_trust_data_reporting),
        "leadership_pool": trust_strength + (rules.leadership_pool_bonus if is_mat else 0.0),
        "joins_this_year": 0,
        "reputation": NEW_TRUST_REPUTATION,
        "supplier_record": NEW_SUPPLIER_RECORD,
    }
