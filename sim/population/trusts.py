"""Trusts and peer clusters of a synthetic place: who holds which schools, and where.

Multi-academy trusts (MATs) get a skewed size distribution and hold geographically
clustered schools around hubs (seed 000: trusts grow by geographical hubs); academies no
MAT holds are single-academy trusts; a share of maintained schools are in peer clusters of
nearby schools (seed 003). A trust's make-up (`sim.mechanics.trusts`) and the cutting of
schools into clusters (`sim.mechanics.clusters`) are shared with the model and the policies.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.clusters import form_clusters
from sim.mechanics.trusts import empty_trusts, new_trust_values
from sim.scenario import scaled_count
from sim.state import (
    Governance,
    Hubs,
    Phase,
    SchoolArrays,
    TrustArrays,
    TrustKind,
)

# scipy is loaded by the builder that uses it, not with the config, which `python -m sim
# --help` and a refused override read without it.
if TYPE_CHECKING:
    from scipy.spatial import cKDTree

    from sim.population.synthetic import SyntheticPopulation
    from sim.scenario import ScenarioParameters
    from sim.schema import ModelParameters


def form_trusts(
    schools: SchoolArrays, scenario: ScenarioParameters, population: SyntheticPopulation,
    model: ModelParameters, rng: np.random.Generator,
) -> tuple[TrustArrays, Hubs]:
    """Pick the academies, then group them into MATs around hubs and single-academy trusts."""
    from scipy.spatial import cKDTree

    n = schools.n
    # Sponsored academies were the weak schools: weight academy status by grade, keeping
    # each phase's academy share. Otherwise inadequate maintained schools would be as common
    # as anywhere, and every one would get an academy order in the first year at once.
    weight = np.asarray(population.academy_weight_by_grade, dtype=float)[schools.grade - 1]
    chosen = []
    for phase in range(len(scenario.academy_share)):
        in_phase = np.flatnonzero(schools.phase == phase)
        count = round(scenario.academy_share[phase] * len(in_phase))
        if count and weight[in_phase].sum() > 0:
            chosen.append(rng.choice(in_phase, size=count, replace=False,
                                     p=weight[in_phase] / weight[in_phase].sum()))
    academies = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
    n_sats = min(scaled_count(scenario.n_single_academy_trusts, scenario.scale, 0), len(academies))
    # Most single-academy trusts are secondary converters.
    weight = np.where(schools.phase[academies] == Phase.SECONDARY, population.sat_secondary_weight, 1.0)
    sat_schools = (rng.choice(academies, size=n_sats, replace=False, p=weight / weight.sum())
                   if n_sats else np.zeros(0, np.int64))
    mat_schools = np.setdiff1d(academies, sat_schools)
    n_mats = min(scaled_count(scenario.n_multi_academy_trusts, scenario.scale, 0),
                 len(mat_schools) // 2)

    # Trusts and hubs are gathered as rows and made into arrays once at the end: appending
    # row by row to thirty columns took most of the build of England x46's trusts.
    trust_rows: list[dict[str, object]] = []
    hub_trust: list[int] = []
    hub_school: list[int] = []
    if n_mats:
        # Skewed sizes: every MAT has two schools; the rest are shared by log-normal weights.
        weights = rng.lognormal(0, population.mat_size_log_sd, n_mats)
        sizes = 2 + rng.multinomial(len(mat_schools) - 2 * n_mats, weights / weights.sum())
        # Leftover MAT schools (if any) become single-academy trusts below.
        unassigned = np.zeros(n, dtype=bool)
        unassigned[mat_schools] = True
        tracker = _Unassigned(unassigned)
        tree = cKDTree(np.column_stack([schools.x_km, schools.y_km]))
        for size in sorted(sizes, reverse=True):
            members = _take_nearby_schools(size, tracker, tree, population.schools_per_hub, rng)
            if len(members) == 0:
                break
            row = len(trust_rows)
            trust_rows.append(new_trust_values(
                TrustKind.MULTI_ACADEMY_TRUST, len(members), model, rng, 0,
                scenario.trust_strength, trust_id=row + 1))
            schools.trust[members] = row
            schools.governance[members] = Governance.MULTI_ACADEMY_TRUST
            n_hubs = max(1, int(np.ceil(len(members) / population.schools_per_hub)))
            hub_trust.extend([row] * len(members[:n_hubs]))
            hub_school.extend(members[:n_hubs].tolist())
        sat_schools = np.concatenate([sat_schools, np.flatnonzero(unassigned)])
    else:
        # No MAT to hold them (none asked for, or a single academy left for MATs): the
        # academies are single-academy trusts, so each phase keeps its academy share.
        sat_schools = np.concatenate([sat_schools, mat_schools])
    sat_schools = np.sort(sat_schools)
    first = len(trust_rows)
    trust_rows.extend(new_trust_values(
        TrustKind.SINGLE_ACADEMY_TRUST, 1, model, rng, 0, scenario.trust_strength,
        trust_id=first + number + 1) for number in range(len(sat_schools)))
    sat_rows = np.arange(first, len(trust_rows))
    schools.trust[sat_schools] = sat_rows
    schools.governance[sat_schools] = Governance.SINGLE_ACADEMY_TRUST
    hub_trust.extend(sat_rows.tolist())
    hub_school.extend(sat_schools.tolist())
    at = np.asarray(hub_school, dtype=np.int64)
    hubs = Hubs(trust=np.asarray(hub_trust, dtype=np.int32), x_km=schools.x_km[at].astype(np.float64),
                y_km=schools.y_km[at].astype(np.float64))
    return _trusts_from_rows(trust_rows), hubs


def _trusts_from_rows(rows: list[dict[str, object]]) -> TrustArrays:
    """Trust arrays holding `rows` (each a trust's values), with the columns' own types."""
    empty = empty_trusts()
    return TrustArrays(**{
        name: np.array([row[name] for row in rows], dtype=getattr(empty, name).dtype)
        if rows else getattr(empty, name)
        for name in (column.name for column in fields(TrustArrays))})


class _Unassigned:
    """The MAT academies no MAT holds yet: a mask, with counts by block of rows.

    Each hub is a uniform draw among the unassigned schools; finding the k-th of them by
    scanning the whole mask for every hub made building England x14 quadratic (8 of its
    18 s; minutes at x50). The counts by block find the k-th in a few thousand steps and
    give the same school, so the draws and the population are unchanged.
    """

    BLOCK = 1024

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.counts = np.add.reduceat(mask.astype(np.int64), np.arange(0, len(mask), self.BLOCK))
        self.total = int(self.counts.sum())

    def kth(self, k: int) -> int:
        """The row of the k-th unassigned school (0-based, in row order)."""
        cumulative = np.cumsum(self.counts)
        block = int(np.searchsorted(cumulative, k, side="right"))
        before = int(cumulative[block - 1]) if block else 0
        start = block * self.BLOCK
        return start + int(np.flatnonzero(self.mask[start:start + self.BLOCK])[k - before])

    def take(self, rows: np.ndarray) -> None:
        """Mark distinct unassigned `rows` as held by a MAT."""
        self.mask[rows] = False
        np.subtract.at(self.counts, rows // self.BLOCK, 1)
        self.total -= len(rows)


def _take_nearby_schools(
    size: int, unassigned: _Unassigned, tree: cKDTree, schools_per_hub: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Mark and return `size` unassigned schools grouped round one or more hub schools.

    The first school of each hub is listed first, so callers can read the hubs off the
    front of the result.
    """
    n_hubs = max(1, int(np.ceil(size / schools_per_hub)))
    hub_schools: list[int] = []
    others: list[int] = []
    per_hub = np.full(n_hubs, size // n_hubs)
    per_hub[: size % n_hubs] += 1
    mask = unassigned.mask
    for wanted in per_hub:
        if unassigned.total == 0:
            break
        # As rng.choice(np.flatnonzero(mask)) draws: the same stream, the same school.
        hub = unassigned.kth(int(rng.choice(unassigned.total)))
        k = min(len(mask), max(4 * int(wanted), 16))
        while True:
            _, nearest = tree.query(tree.data[hub], k=k)
            nearest = np.atleast_1d(nearest)
            free = nearest[mask[nearest]][: int(wanted)]
            if len(free) == wanted or k >= len(mask):
                break
            k = min(len(mask), k * 4)
        unassigned.take(free)
        hub_schools.append(int(free[0]))
        others.extend(int(s) for s in free[1:])
    return np.asarray(hub_schools + others, dtype=np.int64)


def form_partnership_clusters(
    schools: SchoolArrays, population: SyntheticPopulation, rng: np.random.Generator,
) -> list[np.ndarray]:
    """Peer clusters of nearby maintained schools (Teaching School Alliances and the like)."""
    maintained = np.flatnonzero(schools.governance == Governance.MAINTAINED)
    chosen = maintained[rng.random(len(maintained)) < population.cluster_share_of_maintained]
    return form_clusters(chosen, schools, population.cluster_size, rng)
