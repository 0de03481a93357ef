"""The commissioner's broker: the map of MAT hubs, each trust's size, givers and takers,
and the move of a school into a trust.

The broker is the seam through which schools change trust. The structure phase
(`sim.phases.structure`) uses it for academy orders, rebrokering, conversions, transfers
and mergers, with due diligence judged in brokering rounds; the MAT-contracting policy uses
it to find nearby trusts and to convert contracted schools. Keeping the counts here, in
step with every join, is what lets a round judge thousands of schools in turn cheaply.
`Broker.join` moves a list of schools in a few array operations, with the result of moving
them one at a time (the counts, the hubs each trust opens as it grows, the events in turn).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.errors import ConfigError
from sim.events import interleave, interleaved, text_code
from sim.mechanics import joins, new_hubs, trust_counts
from sim.mechanics.shortlist import HubGrid, grid_shortlists, hub_map, nearest_hubs
from sim.scenario import scaled_region_km, schools_built
from sim.state import NEVER, Grade, TrustKind

# scipy is loaded by the broker that uses it, not with the config (this module checks a
# part of it), which `python -m sim --help` and a refused override read without it.
if TYPE_CHECKING:
    from scipy.spatial import cKDTree

    from sim.model import SchoolSystemModel
    from sim.schema import RunConfig

_REQUIRES_IMPROVEMENT = int(Grade.REQUIRES_IMPROVEMENT)
# The texts of join events, as the event log's codes (`sim.events.text_code`).
_CONVERSION, _JOIN = text_code("conversion"), text_code("join")
_SPONSORED, _CONVERTER = text_code("sponsored"), text_code("converter")
_NO_REASONS = np.zeros(0, np.int16)  # a join's detail is then one for all
ENGLAND_SCHOOLS = 21_750  # state-funded schools in England (DfE, Schools, pupils 2019)

# A brokering round holds at most `candidates_per_school` (school, trust) pairs per school,
# however dense the map. The MAT-contracting policy's search for contractors holds every
# (school, trust hub) pair within reach, so its memory grows with the square of the
# place's size where every trust is in reach of every school: measured on brokering rounds
# that held every pair in reach, about 0.2 GB per (England's 21,750 schools)^2 (England x3
# with reach over the whole map: 1.9 GB of memory; x5: 4.7 GB), an upper bound for the
# contract search, which asks only the orphans and weak maintained schools. A run that
# would need more than a laptop has is refused before it starts, rather than killed by the
# system after minutes (judgement: 8 GB).
BROKERING_GB_AT_ENGLAND_SIZE = 0.2
BROKERING_MEMORY_LIMIT_GB = 8.0


def check_brokering_memory(run: RunConfig) -> None:
    """Refuse, in one line, a synthetic place whose contract search would exhaust memory."""
    scenario, model, policy = run.scenario, run.model, run.policy
    if policy.mat_contracting is None:
        return  # brokering rounds hold a bounded shortlist per school
    schools = schools_built(scenario)
    reach = max(model.structure.search_radius_km,
                policy.mat_contracting.contract_distance_factor * model.trusts.hub_radius_km)
    width, height = scaled_region_km(scenario)  # grows with the scale: pairs grow ~linearly
    share_in_reach = min(1.0, math.pi * reach**2 / (width * height))
    needed = BROKERING_GB_AT_ENGLAND_SIZE * (schools / ENGLAND_SCHOOLS) ** 2 * share_in_reach
    if needed > BROKERING_MEMORY_LIMIT_GB:
        raise ConfigError(
            f"contracting {schools:,} schools with trusts up to {reach:g} km away would need "
            f"about {needed:.0f} GB of memory (at most {BROKERING_MEMORY_LIMIT_GB:g} allowed): "
            f"lower model.trusts.hub_radius_km, "
            f"policy.mat_contracting.contract_distance_factor or "
            f"model.structure.search_radius_km, or scenario.scale")



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



def _none_near(n_schools: int) -> Candidates:
    """No candidates for any of `n_schools` schools."""
    empty = np.zeros(0, np.int64)
    return Candidates(empty, empty, np.zeros(0), np.zeros(n_schools + 1, np.int64))


class Broker:
    """The commissioner's view of trusts for one term's (or one year's) work: the map of
    hubs, and each trust's size, givers and takers.

    The map is the MAT hubs as they stood when the broker was made: hubs opened and MATs
    founded meanwhile join it with the next broker, as the commissioner works from one
    list of sponsors at a time. A trust that closes meanwhile leaves it at once.
    """

    def __init__(self, model: SchoolSystemModel) -> None:
        self.model = model
        schools, trusts, hubs = model.schools, model.trusts, model.hubs
        # A trust judges its capacity from what it knows: which members give support, and
        # which are graded below good (the schools "needing help", seed 004).
        self.givers, self.takers, self.sizes = trust_counts.count_members(schools, trusts.n)
        # The map: the hubs of active MATs, whether each one's trust has several, and the
        # widest hub radius (no trust on the map takes a school further from its nearest).
        (self.hub_rows, self.hub_x, self.hub_y, self.hub_trust, self.hub_of_trust_with_several,
         self.widest_hub_radius_km) = hub_map(
            hubs.trust, hubs.x_km, hubs.y_km, trusts.active, trusts.kind, trusts.hub_radius_km,
            compiled.worth_compiling(schools.n))
        # The map's search structures, made when first asked: a k-d tree (scipy), and for
        # England's shortlists a grid of hubs per search radius (`shortlist.HubGrid`).
        self._tree: cKDTree | None = None
        self._grids: dict[float, HubGrid] = {}

    def create_trust(self, kind: TrustKind, hub_school: int) -> int:
        """Found a trust with its hub at a school, and start counting it."""
        trust = self.model.create_trust(kind, hub_school=hub_school)
        for name in ("givers", "takers", "sizes"):
            setattr(self, name, np.append(getattr(self, name), 0.0))
        return trust

    def create_trusts(self, kinds: list[TrustKind], hub_schools: list[int]) -> list[int]:
        """Found trusts in turn, as `create_trust` one after another would; their rows."""
        rows = self.model.create_trusts(kinds, hub_schools)
        for name in ("givers", "takers", "sizes"):
            setattr(self, name, np.append(getattr(self, name), np.zeros(len(rows))))
        return rows

    @property
    def tree(self) -> cKDTree:
        """A k-d tree of the hubs on the map (at least one), built when first asked."""
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(np.column_stack([self.hub_x, self.hub_y]))
        return self._tree

    def candidates(self, schools: np.ndarray, radius_km: float,
                   exclude: np.ndarray | None = None, nearest: int | None = None) -> Candidates:
        """Active MATs on the map with a hub within `radius_km` of each school, nearest
        first, leaving out each school's `exclude` trust (its own, when moving). With
        `nearest`, a brokering round's shortlist (`candidates_per_school`), so that the
        work per school does not grow with the density of trusts: only the trusts of the
        hubs on the map within the radius no further than the school's `nearest`-th
        nearest there, exact ties included (`sim.mechanics.shortlist`)."""
        model = self.model
        schools = np.asarray(schools, dtype=np.int64)
        if len(self.hub_rows) == 0 or len(schools) == 0:
            return _none_near(len(schools))
        school_x = model.schools.x_km[schools].astype(np.float64, copy=False)
        school_y = model.schools.y_km[schools].astype(np.float64, copy=False)
        if nearest is None and compiled.worth_compiling(model.schools.n):
            # Every hub in reach is a shortlist as long as the map.
            return self._shortlists(school_x, school_y, radius_km, exclude, len(self.hub_rows),
                                    squared_reach=True)
        if nearest is None:
            from scipy.spatial import cKDTree

            near = cKDTree(np.column_stack([school_x, school_y])).sparse_distance_matrix(
                self.tree, radius_km, output_type="ndarray")
            position, hub, distance = near["i"].astype(np.int64), near["j"], near["v"]
            sorted_by_distance = False
        elif compiled.worth_compiling(model.schools.n):
            return self._shortlists(school_x, school_y, radius_km, exclude, nearest)
        else:
            position, hub, distance = nearest_hubs(school_x, school_y, self.tree, self.hub_x,
                                                   self.hub_y, radius_km, nearest)
            sorted_by_distance = True  # row by row, each school's hubs nearest first
        if len(position) == 0:
            return _none_near(len(schools))
        trust = self.hub_trust[hub]
        n_trusts = model.trusts.n
        keep = model.trusts.active[trust]
        if exclude is not None:
            keep &= trust != exclude[position]
        # Each trust's nearest hub to each school: most trusts have one hub on the map, so
        # only the pairs of those with several are grouped by (school, trust), keeping the
        # least distance (with pairs nearest first, the first).
        several = np.flatnonzero(self.hub_of_trust_with_several[hub] & keep)
        if len(several):
            if sorted_by_distance:
                by_pair = several[np.argsort(position[several] * n_trusts + trust[several],
                                             kind="stable")]
            else:
                by_pair = several[np.lexsort((distance[several],
                                              position[several] * n_trusts + trust[several]))]
            pair = position[by_pair] * n_trusts + trust[by_pair]
            keep[by_pair[1:][pair[1:] == pair[:-1]]] = False
        if not keep.any():
            return _none_near(len(schools))
        position, trust, distance = position[keep], trust[keep], distance[keep]
        # Nearest first within each school, ties (two hubs on one spot) by trust row. Pairs
        # found nearest first need sorting only where two of a school's are equally near.
        tie = (position[1:] == position[:-1]) & (distance[1:] == distance[:-1])
        if not sorted_by_distance or tie.any():
            # One sort on an integer key (school, rank of distance, trust), much faster
            # than a sort on three keys.
            by_distance = np.argsort(distance)
            rank = np.empty(len(distance), np.int64)
            rank[by_distance] = np.cumsum(np.r_[0, np.diff(distance[by_distance]) != 0])
            if len(schools) * (len(distance) + 1) * n_trusts < 2**62:
                order = np.argsort((position * (len(distance) + 1) + rank) * n_trusts + trust)
            else:  # the key would overflow
                order = np.lexsort((trust, distance, position))
            position, trust, distance = position[order], trust[order], distance[order]
        start = np.searchsorted(position, np.arange(len(schools) + 1))
        return Candidates(position, trust, distance, start)

    def _shortlists(self, school_x: np.ndarray, school_y: np.ndarray, radius_km: float,
                    exclude: np.ndarray | None, nearest: int,
                    squared_reach: bool = False) -> Candidates:
        """`candidates` by the compiled `grid_shortlists`, on a grid of the map's hubs made
        for the radius when first asked. Without a shortlist (`nearest` is the number of
        hubs), a hub is in reach as the twin's k-d tree judges it (`squared_reach`)."""
        grid = self._grids.get(radius_km)
        if grid is None:
            grid = self._grids[radius_km] = HubGrid.of(self.hub_x, self.hub_y, radius_km)
        n_schools, n_hubs = len(school_x), len(self.hub_rows)
        exclude = np.full(n_schools, -1, np.int64) if exclude is None \
            else np.asarray(exclude, np.int64)
        near_distance, near_trust = np.empty(n_hubs), np.empty(n_hubs, np.int64)
        start = np.empty(n_schools + 1, np.int64)
        # Room for `nearest` trusts a school; only exact ties at the cut need more (then
        # room for every hub a school, the most there can be).
        for room in (n_schools * min(nearest, n_hubs), n_schools * n_hubs):
            position, trust = np.empty(room, np.int64), np.empty(room, np.int64)
            distance_km = np.empty(room)
            count = grid_shortlists(
                school_x, school_y, exclude, self.hub_x, self.hub_y, self.hub_trust,
                self.model.trusts.active, grid.origin_x, grid.origin_y, grid.cell_km,
                grid.columns, grid.rows, grid.cell_start, grid.cell_hubs, float(radius_km),
                squared_reach, int(nearest), position, trust, distance_km, start,
                near_distance, near_trust)
            if count >= 0:
                break
        return Candidates(position[:count], trust[:count], distance_km[:count], start)

    def place(self, schools: np.ndarray, trusts: np.ndarray) -> None:
        """Match maintained schools under an academy order with their sponsors: each opens
        as its trust's academy `sponsored_opening_lag_terms` later (`open_placed_schools`).
        The trust counts it among its takers, and its joins this year, from now."""
        model = self.model
        schools_, n_trusts = model.schools, len(self.takers)
        schools_.sponsor_trust[schools] = trusts
        lag = model.parameters.model.structure.sponsored_opening_lag_terms
        schools_.opening_term[schools] = model.term + lag
        schools_.awaiting_sponsor_since_term[schools] = NEVER
        self.takers += np.bincount(trusts, weights=schools_.grade[schools] >= _REQUIRES_IMPROVEMENT,
                                   minlength=n_trusts)
        joins = model.trusts.joins_this_year
        joins += np.bincount(trusts, minlength=len(joins)).astype(joins.dtype)

    def open_placed_schools(self, opening: np.ndarray | None = None) -> int:
        """Placed schools whose opening term has come (`opening`, if the caller has found
        them) open as their sponsor's academies (a `conversion` and a `join`); one whose
        sponsor has closed since waits again, from its order. Returns how many schools
        changed trust."""
        model = self.model
        schools, trusts = model.schools, model.trusts
        if opening is None:
            opening = np.flatnonzero(schools.placed_with_sponsor
                                     & (schools.opening_term <= model.term))
        sponsor = schools.sponsor_trust[opening].astype(np.int64)
        opened = trusts.active[sponsor]
        orphaned = opening[~opened]
        schools.sponsor_trust[orphaned] = -1
        schools.opening_term[orphaned] = NEVER
        schools.awaiting_sponsor_since_term[orphaned] = schools.academy_order_term[orphaned]
        self.join(opening[opened], sponsor[opened], "sponsored", placed=True)
        return int(opened.sum())

    def join(self, schools: np.ndarray | int, trusts: np.ndarray | int,
             reason: str | np.ndarray, *, record: bool = True, placed: bool = False,
             single: np.ndarray | None = None) -> None:
        """Move schools into trusts one after another, in the order given, keeping counts,
        hubs and the graph in step; in a few array operations, with the result of moving
        them one at a time. A school appears once. `reason` is the join event's detail,
        one text for all or one code per school (`sim.events.text_codes`). A `placed`
        school is already counted among its sponsor's takers and joins. Schools marked
        `single` convert into the single-academy trust just founded for each (counted as
        its one member, nothing more)."""
        model = self.model
        school = np.atleast_1d(np.asarray(schools, dtype=np.int64))
        trust = np.atleast_1d(np.asarray(trusts, dtype=np.int64))
        if len(school) == 0:
            return
        single = np.zeros(len(school), bool) if single is None else single
        joined = joins.apply_joins(self, school, trust, single, placed)
        if len(joined.opening):
            new_hubs.open_hubs(model, school[joined.opening], trust[joined.opening])
        self._record_joins(school, trust, joined.old, reason, joined.since, joined.ordered,
                           joined.converting, single, record)

    def _record_joins(self, school: np.ndarray, trust: np.ndarray, old: np.ndarray,
                      reason: str | np.ndarray, since: np.ndarray, ordered: np.ndarray,
                      converting: np.ndarray, single: np.ndarray, record: bool) -> None:
        """`join`'s events, school by school: its conversion if it was maintained, then its
        join (if `record`). `reason` is one text for all, or one code a school
        (`sim.events.text_codes`). For England in one compiled pass (`joins.join_events`),
        else by interleaving numpy columns."""
        model = self.model
        term, n = model.term, len(school)
        converted = np.flatnonzero(converting)
        if len(converted) == 0 and not record:
            return  # academies moving, their joins recorded by the caller
        if compiled.worth_compiling(model.schools.n):
            one_for_all = isinstance(reason, str)
            kind, school_of, trust_of, old_trust, detail, wait = joins.join_events(
                school, trust, old, since, ordered, converting, single,
                _NO_REASONS if one_for_all else reason, text_code(reason) if one_for_all else 0,
                term, record, _CONVERSION, _JOIN, _SPONSORED, _CONVERTER)
            model.events.record(kind, term, school=school_of, trust=trust_of,
                                old_trust=old_trust, detail=detail, wait_terms=wait)
            return
        if len(converted):
            was_ordered = ordered[converted] != NEVER
            conversion_detail = np.where(was_ordered, _SPONSORED, _CONVERTER)
            conversion_wait = np.where(was_ordered, term - ordered[converted], -1)
        if not record:
            model.events.record("conversion", term, school=school[converted],
                                trust=trust[converted], old_trust=-1,
                                detail=conversion_detail, wait_terms=conversion_wait)
            return
        join_wait = np.where(single, -1, np.where(since != NEVER, term - since, 0))
        if len(converted) == 0:
            # Copies: the log keeps what it is given, and the caller may change its arrays.
            model.events.record("join", term, school=school.copy(), trust=trust.copy(),
                                old_trust=old, detail=reason, wait_terms=join_wait)
            return
        # A school's conversion comes just before its join.
        conversion_at, join_at = interleave(converted, n)

        def both(dtype: type, conversion_column: object, join_column: object) -> np.ndarray:
            return interleaved(conversion_at, join_at, dtype, conversion_column, join_column)

        model.events.record(
            both(np.int16, _CONVERSION, _JOIN), term,
            school=both(np.int64, school[converted], school),
            trust=both(np.int64, trust[converted], trust),
            old_trust=both(np.int64, -1, old),
            detail=both(np.int16, conversion_detail,
                        text_code(reason) if isinstance(reason, str) else reason),
            wait_terms=both(np.int64, conversion_wait, join_wait))
