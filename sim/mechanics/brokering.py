"""The commissioner's broker: the map of MAT hubs, each trust's size, givers and takers,
and the move of a school into a trust.

The broker is the seam through which schools change trust. The yearly phase
(`sim.phases.structure`) uses it for academy orders, rebrokering, conversions, transfers
and mergers, with due diligence judged in brokering rounds; the MAT-contracting policy uses
it to find nearby trusts and to convert contracted schools. Keeping the counts here, in
step with every join, is what lets a round judge thousands of schools in turn cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ConfigError
from sim.scenario import scaled_region_km, schools_built
from sim.state import NEVER, Governance, Grade, TrustKind, count_by_trust, trust_index

# scipy is loaded by the broker that uses it, not with the config (this module checks a
# part of it), which `python -m sim --help` and a refused override read without it.
if TYPE_CHECKING:
    from sim.model import SchoolSystemModel
    from sim.schema import RunConfig

_REQUIRES_IMPROVEMENT = int(Grade.REQUIRES_IMPROVEMENT)
_MULTI_ACADEMY_TRUST = int(Governance.MULTI_ACADEMY_TRUST)
_MAINTAINED = int(Governance.MAINTAINED)
# A MAT of `new_hub_min_schools` or more that takes a school further than this share of
# its hub radius from every hub it has opens a hub there (seed 000: trusts grow by
# geographical hubs; the share is a judgement: beyond it the school would sit at the
# edge of what the trust can reach).
NEW_HUB_DISTANCE_SHARE = 0.6
ENGLAND_SCHOOLS = 21_750  # state-funded schools in England (DfE, Schools, pupils 2019)

# A brokering round holds every (school, trust hub) pair within reach, so its memory grows
# with the square of the place's size where every trust is in reach of every school:
# measured here, about 0.2 GB per (England's 21,750 schools)^2 (England x3 with reach over
# the whole map: 1.9 GB of memory; x5: 4.7 GB). A run that would need more than a laptop
# has is refused before it starts, rather than killed by the system after minutes
# (judgement: 8 GB).
BROKERING_GB_AT_ENGLAND_SIZE = 0.2
BROKERING_MEMORY_LIMIT_GB = 8.0


def check_brokering_memory(run: RunConfig) -> None:
    """Refuse, in one line, a synthetic place whose brokering would exhaust memory."""
    scenario, model, policy = run.scenario, run.model, run.policy
    schools = schools_built(scenario)
    reach = min(model.structure.search_radius_km, model.trusts.hub_radius_km)
    if policy.mat_contracting is not None:
        reach = max(reach, model.structure.search_radius_km,
                    policy.mat_contracting.contract_distance_factor * model.trusts.hub_radius_km)
    width, height = scaled_region_km(scenario)  # grows with the scale: pairs grow ~linearly
    share_in_reach = min(1.0, math.pi * reach**2 / (width * height))
    needed = BROKERING_GB_AT_ENGLAND_SIZE * (schools / ENGLAND_SCHOOLS) ** 2 * share_in_reach
    if needed > BROKERING_MEMORY_LIMIT_GB:
        raise ConfigError(
            f"brokering {schools:,} schools with trusts up to {reach:g} km away would need "
            f"about {needed:.0f} GB of memory (at most {BROKERING_MEMORY_LIMIT_GB:g} allowed): "
            f"lower model.trusts.hub_radius_km or model.structure.search_radius_km, or "
            f"scenario.scale")



@dataclass
class Candidates:
    """For each of a list of schools, the MATs with a hub near it, nearest first.

    Flat arrays of (school, trust) pairs: the pairs of the school at `position` i are
    `start[i]:start[i + 1]`, ordered by the distance to the trust's nearest hub, then by
    trust row.
    """

    position: np.ndarray  # int64, index into the list of schools asked about
    trust: np.ndarray  # int64, trust row
    distance_km: np.ndarray  # float64, from the school to the trust's nearest hub
    start: np.ndarray  # int64, one more entry than there are schools

    def of(self, position: int) -> slice:
        return slice(int(self.start[position]), int(self.start[position + 1]))



class Broker:
    """The commissioner's view of trusts this year: the map of hubs, and each trust's size,
    givers and takers.

    The map is the MAT hubs as they stood when the yearly phase began: hubs opened and
    MATs founded during the year join it next year, as the commissioner's annual round
    works from one list of sponsors. A trust that closes during the year leaves it at once.
    """

    def __init__(self, model: SchoolSystemModel) -> None:
        from scipy.spatial import cKDTree

        self.model = model
        schools, trusts, hubs = model.schools, model.trusts, model.hubs
        # A trust judges its capacity from what it knows: which members give support, and
        # which are graded below good (the schools "needing help", seed 004).
        index = trust_index(schools.trust)
        weak = schools.grade >= Grade.REQUIRES_IMPROVEMENT
        self.givers = count_by_trust(schools.is_giver, index, trusts.n)
        # A school placed with a sponsor and not yet open is already the sponsor's to help.
        self.takers = count_by_trust(weak, index, trusts.n) + count_by_trust(
            weak & schools.placed_with_sponsor, trust_index(schools.sponsor_trust), trusts.n)
        self.sizes = count_by_trust(None, index, trusts.n)
        on_map = trusts.active[hubs.trust] & (trusts.kind[hubs.trust] == TrustKind.MULTI_ACADEMY_TRUST)
        self.hub_rows = np.flatnonzero(on_map)
        points = np.column_stack([hubs.x_km[self.hub_rows], hubs.y_km[self.hub_rows]])
        self.tree = cKDTree(points) if len(points) else None
        self.hub_trust = hubs.trust[self.hub_rows].astype(np.int64)
        hubs_on_map = np.bincount(self.hub_trust, minlength=trusts.n)
        self.hub_of_trust_with_several = hubs_on_map[self.hub_trust] > 1
        self._own_hubs: dict[int, list[tuple[float, float]]] = {}
        self._hubs_by_trust = np.argsort(hubs.trust, kind="stable")
        self._hub_start = np.searchsorted(hubs.trust[self._hubs_by_trust], np.arange(trusts.n + 1))
        self._new_hub_min_schools = model.parameters.model.structure.new_hub_min_schools
        # No trust on the map takes a school further than this from its nearest hub.
        self.widest_hub_radius_km = float(
            trusts.hub_radius_km[hubs.trust[self.hub_rows]].max(initial=0.0))

    def create_trust(self, kind: TrustKind, hub_school: int) -> int:
        """Found a trust with its hub at a school, and start counting it."""
        trust = self.model.create_trust(kind, hub_school=hub_school)
        for name in ("givers", "takers", "sizes"):
            setattr(self, name, np.append(getattr(self, name), 0.0))
        return trust

    def candidates(self, schools: np.ndarray, radius_km: float,
                   exclude: np.ndarray | None = None) -> Candidates:
        """Active MATs on the map with a hub within `radius_km` of each school, nearest
        first, leaving out each school's `exclude` trust (its own, when moving)."""
        from scipy.spatial import cKDTree

        model = self.model
        schools = np.asarray(schools, dtype=np.int64)
        empty = np.zeros(0, np.int64)
        none_near = Candidates(empty, empty, np.zeros(0), np.zeros(len(schools) + 1, np.int64))
        if self.tree is None or len(schools) == 0:
            return none_near
        x, y = model.schools.x_km[schools], model.schools.y_km[schools]
        near = cKDTree(np.column_stack([x, y])).sparse_distance_matrix(
            self.tree, radius_km, output_type="ndarray")
        if len(near) == 0:
            return none_near
        position = near["i"].astype(np.int64)
        trust = self.hub_trust[near["j"]]
        distance = near["v"]
        # Each trust's nearest hub to each school: most trusts have one hub on the map, so
        # only the pairs of those with several are grouped by (school, trust), keeping the
        # least distance.
        several = self.hub_of_trust_with_several[near["j"]]
        if several.any():
            single = ~several
            position_several, trust_several = position[several], trust[several]
            order = np.argsort(position_several * model.trusts.n + trust_several)
            position_several, trust_several = position_several[order], trust_several[order]
            distance_several = distance[several][order]
            first = np.flatnonzero(np.r_[True, (position_several[1:] != position_several[:-1])
                                         | (trust_several[1:] != trust_several[:-1])])
            position = np.concatenate([position[single], position_several[first]])
            trust = np.concatenate([trust[single], trust_several[first]])
            distance = np.concatenate([distance[single],
                                       np.minimum.reduceat(distance_several, first)])
        keep = model.trusts.active[trust]
        if exclude is not None:
            keep &= trust != exclude[position]
        if not keep.any():
            return none_near
        position, trust, distance = position[keep], trust[keep], distance[keep]
        # Nearest first within each school, ties (two hubs on one spot) by trust row: one
        # sort on an integer key (school, rank of distance, trust), much faster than a
        # sort on three keys.
        by_distance = np.argsort(distance)
        rank = np.empty(len(distance), np.int64)
        rank[by_distance] = np.cumsum(np.r_[0, np.diff(distance[by_distance]) != 0])
        n_trusts = model.trusts.n
        if len(schools) * (len(distance) + 1) * n_trusts < 2**62:
            order = np.argsort((position * (len(distance) + 1) + rank) * n_trusts + trust)
        else:  # the key would overflow
            order = np.lexsort((trust, distance, position))
        position, trust, distance = position[order], trust[order], distance[order]
        start = np.searchsorted(position, np.arange(len(schools) + 1))
        return Candidates(position, trust, distance, start)

    def place(self, school: int, trust: int) -> None:
        """Match a maintained school under an academy order with its sponsor: it opens as
        the trust's academy `sponsored_opening_lag_terms` later (`open_placed_schools`).
        The trust counts it among its takers, and its joins this year, from now."""
        model = self.model
        schools = model.schools
        schools.sponsor_trust[school] = trust
        lag = model.parameters.model.structure.sponsored_opening_lag_terms
        schools.opening_term[school] = model.term + lag
        schools.awaiting_sponsor_since_term[school] = NEVER
        self.takers[trust] += int(schools.grade[school]) >= _REQUIRES_IMPROVEMENT
        model.trusts.joins_this_year[trust] += 1

    def open_placed_schools(self) -> int:
        """Placed schools whose opening term has come open as their sponsor's academies
        (a `conversion` and a `join`); one whose sponsor has closed since waits again, from
        its order. Returns how many schools changed trust."""
        model = self.model
        schools, trusts = model.schools, model.trusts
        opening = np.flatnonzero(schools.placed_with_sponsor & (schools.opening_term <= model.term))
        opened = 0
        for school in opening.tolist():
            trust = int(schools.sponsor_trust[school])
            if not trusts.active[trust]:
                schools.sponsor_trust[school] = -1
                schools.opening_term[school] = NEVER
                schools.awaiting_sponsor_since_term[school] = schools.academy_order_term[school]
                continue
            self.join(school, trust, "sponsored", placed=True)
            opened += 1
        return opened

    def join(self, school: int, trust: int, reason: str, *, record: bool = True,
             placed: bool = False) -> None:
        """Move a school into a MAT, keeping counts, hubs and the graph in step. A `placed`
        school is already counted among its sponsor's takers and joins."""
        # Called a few hundred times a year, one school at a time: plain ints throughout,
        # as numpy scalars and enum comparisons cost several times more.
        model = self.model
        schools = model.schools
        old = int(schools.trust[school])
        since = int(schools.academy_order_term[school]) if placed \
            else int(schools.awaiting_sponsor_since_term[school])
        weak = int(schools.grade[school]) >= _REQUIRES_IMPROVEMENT
        giver = bool(schools.is_giver[school])
        ordered = int(schools.academy_order_term[school])
        if int(schools.governance[school]) == _MAINTAINED:
            # A maintained school opens as an academy: sponsored if it was under an order.
            model.events.record_one(
                "conversion", model.term, school=school, trust=trust,
                detail="sponsored" if ordered != NEVER else "converter",
                wait_terms=model.term - ordered if ordered != NEVER else -1)
        sizes, givers, takers = self.sizes, self.givers, self.takers
        if old >= 0:
            sizes[old] -= 1
            givers[old] -= giver
            takers[old] -= weak
            model.tallies.trust_moves_this_year += 1
        model.network.set_trust(schools, school, trust)
        schools.governance[school] = _MULTI_ACADEMY_TRUST
        schools.awaiting_sponsor_since_term[school] = NEVER
        sizes[trust] += 1
        givers[trust] += giver
        schools.academy_order_term[school] = NEVER  # an order ends when the school joins
        if placed:
            schools.sponsor_trust[school] = -1
            schools.opening_term[school] = NEVER
        else:
            takers[trust] += weak
            model.trusts.joins_this_year[trust] += 1
        if sizes[trust] >= self._new_hub_min_schools:
            self._maybe_open_hub(school, trust)
        if record:
            model.events.record_one("join", model.term, school=school, trust=trust,
                                    detail=reason, old_trust=old,
                                    wait_terms=model.term - since if since != NEVER else 0)

    def _maybe_open_hub(self, school: int, trust: int) -> None:
        """A trust that takes a school far from all its hubs opens one there."""
        model = self.model
        x, y = float(model.schools.x_km[school]), float(model.schools.y_km[school])
        own = self._hubs_of(trust)
        nearest = min((math.hypot(hub_x - x, hub_y - y) for hub_x, hub_y in own), default=math.inf)
        if nearest > NEW_HUB_DISTANCE_SHARE * float(model.trusts.hub_radius_km[trust]):
            model.hubs.add(trust, x, y)
            own.append((x, y))

    def _hubs_of(self, trust: int) -> list[tuple[float, float]]:
        """A trust's hubs as (x, y) km, kept as it opens more during the year."""
        own = self._own_hubs.get(trust)
        if own is None:
            hubs = self.model.hubs
            if trust < len(self._hub_start) - 1:  # on the books when the year began
                rows = self._hubs_by_trust[self._hub_start[trust]:self._hub_start[trust + 1]]
            else:  # founded this year
                rows = hubs.of_trust(trust)
            own = self._own_hubs[trust] = list(zip(hubs.x_km[rows].tolist(),
                                                   hubs.y_km[rows].tolist(), strict=True))
        return own
