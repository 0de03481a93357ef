"""Phase 6, once a year after the summer term: the structure of the system changes.

In order:
1. **Heads replaced**: heads leave (`head_leaving_rate`) and are replaced more often after
   an inadequate grade; a trust appoints from its own pool (seed 002: staff leave, fall
   ill; seed 004: "supporting and deploying leadership"). A new head resets tenure and
   costs the school some self-assessment accuracy.
2. **Academy orders**: inadequate maintained schools are ordered to become sponsored
   academies and wait for a sponsor.
3. **Rebrokering**: academies with two grades below good in a row, the latest from this
   year, are moved to a new trust with `rebrokering_probability`; an academy graded good
   again while it waits is let off.
4. **Brokering**: the regional commissioner asks the trusts with a hub within
   `search_radius_km` to sponsor each waiting school. Each trust applies its due
   diligence (seed 004 finding 4: trusts have become "more disciplined"), in this order:
   `hub_distance` (the school must be within the trust's `hub_radius_km` of a hub; seed
   000), `growth_cap` (schools taken on this year), `giver_taker_ratio` (its givers over its
   members graded below good, counting a weak newcomer, must stay at or above its
   threshold) and `risk_appetite`. The
   school goes to the accepting trust with the best reputation; a school no trust accepts
   is an **orphan** and waits for next year's round. Refusals are logged with the rule.
5. **Voluntary conversions**: good or better maintained schools convert; most join a
   nearby MAT, some found a new MAT with neighbours, the rest become single-academy trusts.
6. **Single-academy trusts join MATs**, a few MAT academies **transfer voluntarily** to
   another nearby MAT that accepts them (DfE academy transfers data counts these with
   rebrokering), and **small MATs merge** into nearby larger ones.
7. **Trusts update**: central teams follow size, reputation is refreshed, prescriptiveness
   adapts to the trust's mix of schools (seed 004 finding 2), and a MAT that takes a school
   far from its hubs opens a new hub (seed 000: growth by geographical hubs).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from sim.parameters import JUDGEMENT, ConfigError, parameter
from sim.scenario import scaled_count
from sim.state import (
    NEVER,
    TERMS_PER_YEAR,
    Governance,
    Grade,
    TrustKind,
    count_by_trust,
    trust_index,
)

if TYPE_CHECKING:
    from sim.config import RunConfig
    from sim.model import SchoolSystemModel

@dataclass(frozen=True)
class StructureParameters:
    """The yearly phase: heads, academy orders, brokering, conversions, mergers (ODD 7.6)."""

    head_leaving_rate: float = parameter(
        0.1, "heads leaving per year", source="NFER/DfE: about 90% of heads stay a year", low=0.0,
        high=1.0, why="natural (NFER/DfE: about 10%)")
    head_replacement_after_inadequate: float = parameter(
        0.6, "chance the head is replaced after an inadequate grade", source=JUDGEMENT, low=0.0,
        high=1.0)
    new_head_sd: float = parameter(
        0.15, "sd of a new head's capacity around the pool's mean", source=JUDGEMENT, low=0.0,
        high=1.0, why="natural: capacity is 0-1")
    academy_order_probability: float = parameter(
        1.0, "chance an inadequate maintained school gets an academy order that year",
        source="Education and Adoption Act 2016: orders are mandatory", low=0.0, high=1.0)
    rebrokering_probability: float = parameter(
        0.45, "chance a two-below-good academy is rebrokered in a year",
        source="calibrated to DfE academy transfers", low=0.0, high=1.0)
    conversion_rate_by_phase: list[float] = parameter(
        [0.004, 0.003, 0.01, 0.01],
        "good or better maintained schools converting per year, "
        "by phase",
        source="calibrated to academy shares 2018-2028 (NAO 2018, DfE)", low=0.0, high=1.0,
        length=4)
    converter_joins_mat_share: float = parameter(
        0.7, "converters that join a nearby MAT ...", source="calibrated to trust counts (DfE)",
        low=0.0, high=1.0, why="natural (with the next, at most 1)")
    converter_forms_mat_share: float = parameter(
        0.15, "... or found a new MAT; the rest become single-academy trusts",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    new_mat_founding_schools: list[int] = parameter(
        [2, 4], "schools founding a new MAT (smallest, largest)", source=JUDGEMENT, low=1, high=50,
        why="judgement", length=2, ordered_pair=True)
    single_academy_trust_joins_mat_rate: float = parameter(
        0.02, "single-academy trusts joining a MAT per year",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    voluntary_transfer_rate: float = parameter(
        0.010, "MAT academies moving to another MAT by choice per year",
        source="calibrated to DfE academy transfers", low=0.0, high=1.0)
    small_mat_merger_rate: float = parameter(
        0.015, "small MATs merging into a nearby larger MAT per year",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    small_mat_max_schools: int = parameter(
        4, "MATs this small may merge", source=JUDGEMENT, low=1, high=1000, why="4; judgement")
    search_radius_km: float = parameter(
        40.0, "the commissioner asks trusts with a hub this close (km)", source=JUDGEMENT, low=0.0,
        high=1000.0, why="40 km; England is 550 km across")
    candidates_logged: int = parameter(
        5, "refusals logged per brokering attempt (nearest trusts)", source=JUDGEMENT, low=0,
        high=100, why="5; judgement")
    new_hub_min_schools: int = parameter(
        8, "a MAT this large opens a new hub where it takes a school far from its hubs",
        source=JUDGEMENT, low=1, high=1000, why="8; judgement")

    def check(self) -> None:
        if self.converter_joins_mat_share + self.converter_forms_mat_share > 1:
            raise ConfigError(
                "model.structure.converter_joins_mat_share + converter_forms_mat_share must "
                "be at most 1 (the rest of converters become single-academy trusts)")


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
    schools = scaled_count(scenario.n_schools, scenario.scale, minimum=10)
    reach = min(model.structure.search_radius_km, model.trusts.hub_radius_km)
    if policy.mat_contracting is not None:
        reach = max(reach, model.structure.search_radius_km,
                    policy.mat_contracting.contract_distance_factor * model.trusts.hub_radius_km)
    width, height = scenario.region_km
    share_in_reach = min(1.0, math.pi * reach**2 / (width * height))
    needed = BROKERING_GB_AT_ENGLAND_SIZE * (schools / 21_750) ** 2 * share_in_reach
    if needed > BROKERING_MEMORY_LIMIT_GB:
        raise ConfigError(
            f"brokering {schools:,} schools with trusts up to {reach:g} km away would need "
            f"about {needed:.0f} GB of memory (at most {BROKERING_MEMORY_LIMIT_GB:g} allowed): "
            f"lower model.trusts.hub_radius_km or model.structure.search_radius_km, or "
            f"scenario.scale")


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



RULES = ("hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite")
_REQUIRES_IMPROVEMENT = int(Grade.REQUIRES_IMPROVEMENT)
_MULTI_ACADEMY_TRUST = int(Governance.MULTI_ACADEMY_TRUST)


def run_year(model: SchoolSystemModel, *, trends: bool = True) -> None:
    """The yearly phase. Without `trends` (the spin-up before a run) only what keeps a
    system at rest happens: heads, academy orders, rebrokering and brokering; conversions,
    SAT joins, transfers and mergers wait for the run."""
    year_start = model.term - (TERMS_PER_YEAR - 1)
    model.trusts.joins_this_year[:] = 0
    model.trust_moves_this_year = 0
    replace_heads(model, year_start)
    drift_accuracy(model)
    broker = Broker(model)
    issue_academy_orders(model)
    flag_for_rebrokering(model, year_start)
    broker.place_waiting_schools()
    if trends:
        convert_voluntarily(model, broker)
        single_academy_trusts_join(model, broker)
        transfer_voluntarily(model, broker)
        merge_small_trusts(model, broker)
    update_trusts(model)
    model.rebuild_structure()


def replace_heads(model: SchoolSystemModel, year_start: int) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.structure
    n = schools.n
    leave_draw, replace_draw, quality_draw = rng.random(n), rng.random(n), rng.standard_normal(n)
    inadequate_this_year = (schools.grade == Grade.INADEQUATE) & (
        schools.last_inspection_term >= year_start)
    replaced = (leave_draw < p.head_leaving_rate) | (
        inadequate_this_year & (replace_draw < p.head_replacement_after_inadequate))
    rows = np.flatnonzero(replaced)
    if len(rows) == 0:
        return
    pool = np.full(n, model.parameters.population.leadership_mean)
    in_trust = schools.trust >= 0
    pool[in_trust] += model.trusts.leadership_pool[schools.trust[in_trust]]
    schools.leadership[rows] = np.clip(pool[rows] + p.new_head_sd * quality_draw[rows], 0.05, 1.0)
    schools.head_tenure_terms[rows] = 0
    loss = model.parameters.model.diagnosis.accuracy_loss_new_head
    schools.self_assessment_accuracy[rows] *= 1.0 - loss
    model.events.record("head_replaced", model.term, school=rows, trust=schools.trust[rows])


def drift_accuracy(model: SchoolSystemModel) -> None:
    schools = model.schools
    drift = model.parameters.model.diagnosis.accuracy_drift_per_year
    schools.self_assessment_accuracy += drift * (model.usual_accuracy
                                                 - schools.self_assessment_accuracy)


def issue_academy_orders(model: SchoolSystemModel) -> None:
    schools = model.schools
    rng = model.streams.structure
    draw = rng.random(schools.n)
    ordered = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade == Grade.INADEQUATE)
        & ~schools.awaiting_sponsor
        & (draw < model.parameters.model.structure.academy_order_probability))
    schools.awaiting_sponsor_since_term[ordered] = model.term
    model.events.record("academy_order", model.term, school=ordered,
                        old_grade=schools.grade[ordered])


def flag_for_rebrokering(model: SchoolSystemModel, year_start: int) -> None:
    """Two-below-good academies are flagged; those graded good again are let off."""
    schools = model.schools
    recovered = np.flatnonzero(schools.is_academy & schools.awaiting_sponsor
                               & (schools.grade <= Grade.GOOD))
    schools.awaiting_sponsor_since_term[recovered] = NEVER
    model.events.record("rebrokering_withdrawn", model.term, school=recovered,
                        trust=schools.trust[recovered], new_grade=schools.grade[recovered])
    draw = model.streams.structure.random(schools.n)
    flagged = np.flatnonzero(
        schools.is_academy & ~schools.awaiting_sponsor
        & (schools.grade >= Grade.REQUIRES_IMPROVEMENT)
        & (schools.previous_grade >= Grade.REQUIRES_IMPROVEMENT)
        & (schools.last_inspection_term >= year_start)
        & (draw < model.parameters.model.structure.rebrokering_probability))
    schools.awaiting_sponsor_since_term[flagged] = model.term
    model.events.record("rebrokering_ordered", model.term, school=flagged,
                        trust=schools.trust[flagged], old_grade=schools.grade[flagged])


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
        self.model = model
        schools, trusts, hubs = model.schools, model.trusts, model.hubs
        # A trust judges its capacity from what it knows: which members give support, and
        # which are graded below good (the schools "needing help", seed 004).
        index = trust_index(schools.trust)
        self.givers = count_by_trust(schools.is_giver, index, trusts.n)
        self.takers = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT, index, trusts.n)
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

    def join(self, school: int, trust: int, reason: str, *, record: bool = True) -> None:
        """Move a school into a MAT, keeping counts, hubs and the graph in step."""
        # Called a few hundred times a year, one school at a time: plain ints throughout,
        # as numpy scalars and enum comparisons cost several times more.
        model = self.model
        schools = model.schools
        old = int(schools.trust[school])
        since = int(schools.awaiting_sponsor_since_term[school])
        weak = int(schools.grade[school]) >= _REQUIRES_IMPROVEMENT
        giver = bool(schools.is_giver[school])
        sizes, givers, takers = self.sizes, self.givers, self.takers
        if old >= 0:
            sizes[old] -= 1
            givers[old] -= giver
            takers[old] -= weak
            model.trust_moves_this_year += 1
        model.network.set_trust(schools, school, trust)
        schools.governance[school] = _MULTI_ACADEMY_TRUST
        schools.awaiting_sponsor_since_term[school] = NEVER
        sizes[trust] += 1
        givers[trust] += giver
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
        if nearest > 0.6 * float(model.trusts.hub_radius_km[trust]):
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

    def place_waiting_schools(self) -> None:
        """One brokering round for every school waiting for a sponsor, longest wait first."""
        model = self.model
        schools = model.schools
        waiting = np.flatnonzero(schools.awaiting_sponsor & ~schools.under_contract)
        waiting = waiting[np.lexsort((schools.urn[waiting],
                                      schools.awaiting_sponsor_since_term[waiting]))]
        academy = schools.is_academy[waiting]
        wait_terms = model.term - schools.awaiting_sponsor_since_term[waiting]
        old_trust = schools.trust[waiting].copy()
        brokering = BrokeringRound(self, waiting, exclude=old_trust)
        taken_by = np.full(len(waiting), -1, np.int64)
        for position, trust in brokering.accepted_in_turn():
            reason = "rebrokered" if academy[position] else "sponsored"
            self.join(int(waiting[position]), trust, reason, record=False)
            taken_by[position] = trust
        self._record_round(brokering, waiting, taken_by, academy, wait_terms, old_trust)

    def _record_round(self, brokering: BrokeringRound, waiting: np.ndarray,
                      taken_by: np.ndarray, academy: np.ndarray, wait_terms: np.ndarray,
                      old_trust: np.ndarray) -> None:
        """The round's events, school by school: the first refusals, then the outcome."""
        model = self.model
        grade = model.schools.grade[waiting]
        position, refusing, code = brokering.logged_refusals(
            model.parameters.model.structure.candidates_logged)
        joined = taken_by >= 0
        outcome = np.where(joined, "join",
                           np.where(academy, "rebrokering_wait", "orphan")).astype(object)
        n_refused, n_schools = len(position), len(waiting)
        order = np.argsort(np.concatenate([2 * position, 2 * np.arange(n_schools) + 1]),
                           kind="stable")
        none = np.full(n_refused, -1)

        def both(refusal_column: np.ndarray, outcome_column: np.ndarray) -> np.ndarray:
            return np.concatenate([refusal_column, outcome_column])[order]

        model.events.record(
            both(np.full(n_refused, "brokering_refusal", dtype=object), outcome), model.term,
            school=both(waiting[position], waiting),
            trust=both(refusing, taken_by),
            rule=both(np.asarray(RULES, dtype=object)[code - 1],
                      np.full(n_schools, None, dtype=object)),
            old_grade=both(grade[position], np.where(joined, -1, grade)),
            wait_terms=both(none, wait_terms),
            old_trust=both(none, np.where(joined, old_trust, -1)),
            detail=both(np.full(n_refused, None, dtype=object),
                        np.where(joined, np.where(academy, "rebrokered", "sponsored"),
                                 None).astype(object)))


class BrokeringRound:
    """Schools asking for a trust one after another, each judged on the counts the schools
    before it left.

    The result is what brokering the schools one at a time gives (a test checks it against
    that plain loop), at a fraction of the cost. The rules that do not depend on counts,
    `hub_distance` and `risk_appetite` (one uniform draw per pair, made up front), are
    settled for every (school, candidate trust) pair at once (`Broker.candidates`). What
    is left are each school's *options*: the pairs those rules pass, in order of
    preference (best reputation, then nearest). The rules that depend on counts,
    `growth_cap` and `giver_taker_ratio`, come down to two yes-or-no facts about each
    trust (is it at its cap; would one more weak school take it below its ratio). A school
    goes to its first option whose trust passes both, a walk over a short Python list; a
    join re-reads the two facts for the two trusts it touches.

    Each change of a trust's standing is logged with the turn it takes effect from, so
    that `refusal`, the rule each pair was refused on as judged when its school's turn came,
    is rebuilt from the log in a few array operations when the round's events are written.
    """

    def __init__(self, broker: Broker, schools: np.ndarray, *, exclude: np.ndarray) -> None:
        model = broker.model
        self.broker, self.schools, self.exclude = broker, schools, exclude
        trusts = model.trusts
        # Only trusts within some trust's hub radius can accept; those further out, up to
        # the search radius, all refuse on `hub_distance` and matter only to the log.
        self.search_radius_km = model.parameters.model.structure.search_radius_km
        self.radius_km = min(self.search_radius_km, broker.widest_hub_radius_km)
        self.pairs = pairs = broker.candidates(schools, self.radius_km, exclude)
        trust = pairs.trust
        school_grade = model.schools.grade[schools]
        grade = school_grade[pairs.position]
        appetite = trusts.risk_appetite[trust]
        accept_probability = np.where(grade >= Grade.INADEQUATE, appetite,
                                      np.where(grade == Grade.REQUIRES_IMPROVEMENT,
                                               (1 + appetite) / 2, 1.0))
        draw = model.streams.structure.random(len(trust))
        self.too_far = pairs.distance_km > trusts.hub_radius_km[trust]
        self.unwilling = draw > accept_probability
        self.weak = grade >= Grade.REQUIRES_IMPROVEMENT
        self.initial_capped, self.initial_full_for_weak = self._standing(np.arange(trusts.n))
        # Options: pairs neither too far nor unwilling, by school, then best reputation
        # (lowest mean grade), then pair order (nearest, then trust row). Reputations are
        # fixed until the trusts update, after brokering.
        options = np.flatnonzero(~self.too_far & ~self.unwilling)
        # One sort on an integer key (school, rank of the trust's reputation); a stable sort
        # keeps pair order among equal reputations.
        by_reputation = np.argsort(trusts.reputation, kind="stable")
        reputation_rank = np.empty(trusts.n, np.int64)
        reputation_rank[by_reputation] = np.cumsum(
            np.r_[0, np.diff(trusts.reputation[by_reputation]) != 0])
        options = options[np.argsort(pairs.position[options] * (trusts.n + 1)
                                     + reputation_rank[trust[options]], kind="stable")]
        self._option_trust = trust[options].tolist()
        option_start = np.searchsorted(pairs.position[options], np.arange(len(schools) + 1))
        self._option_start = option_start.tolist()
        self._positions_with_options = np.flatnonzero(np.diff(option_start)).tolist()
        self._school_weak = (school_grade >= Grade.REQUIRES_IMPROVEMENT).tolist()
        self._capped = self.initial_capped.tolist()
        self._full_for_weak = self.initial_full_for_weak.tolist()
        # The log of standings that changed: trust, first position judged on the change,
        # and the new standing.
        self._log: list[tuple[int, int, bool, bool]] = []
        self.next_position = 0
        self._changed: tuple[int, ...] = ()

    def _standing(self, trust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each trust is at its growth cap, and whether one more weak school would
        take its giver:taker ratio below its threshold."""
        trusts, broker = self.broker.model.trusts, self.broker
        capped = trusts.joins_this_year[trust] >= trusts.growth_cap_per_year[trust]
        full_for_weak = broker.givers[trust] / (broker.takers[trust] + 1) \
            < trusts.giver_taker_threshold[trust]
        return capped, full_for_weak

    def _judge_changed_trusts(self) -> None:
        """Read again the standing of the trusts the last decision touched (the caller has
        joined the school since), for the schools yet to have their turn."""
        n_trusts = len(self._capped)
        for trust in self._changed:
            if trust < 0 or trust >= n_trusts:
                continue  # no trust, or one founded since the round began (not a candidate)
            capped, full_for_weak = (bool(fact) for fact in self._standing(trust))
            if capped != self._capped[trust] or full_for_weak != self._full_for_weak[trust]:
                self._capped[trust], self._full_for_weak[trust] = capped, full_for_weak
                self._log.append((trust, self.next_position, capped, full_for_weak))
        self._changed = ()

    def decide(self, position: int) -> int:
        """The trust that takes the school at `position`, or -1. Positions are decided in
        order; the caller joins the school (or not) before deciding the next."""
        if position < self.next_position:
            raise ValueError("schools in a brokering round are decided in order")
        self._judge_changed_trusts()
        self.next_position = position + 1
        weak, capped, full_for_weak = self._school_weak[position], self._capped, self._full_for_weak
        for trust in self._option_trust[self._option_start[position]:
                                        self._option_start[position + 1]]:
            if not capped[trust] and not (weak and full_for_weak[trust]):
                self._changed = (trust, int(self.broker.model.schools.trust[self.schools[position]]))
                return trust
        return -1

    def accepted_in_turn(self) -> Iterator[tuple[int, int]]:
        """(position, trust) for each school a trust takes, in turn, skipping the schools
        no trust takes; the caller joins each before the next is judged."""
        for position in self._positions_with_options:
            if position >= self.next_position:
                trust = self.decide(position)
                if trust >= 0:
                    yield position, trust
        self._judge_changed_trusts()
        self.next_position = len(self.schools)

    @property
    def refusal(self) -> np.ndarray:
        """For each pair, 0 where the trust accepts the school and otherwise 1 + the index
        in `RULES` of the first rule it refuses on, as judged when the school's turn came
        (or as things stand, for schools yet to have it)."""
        self._judge_changed_trusts()
        pairs = self.pairs
        capped = self.initial_capped[pairs.trust]
        full_for_weak = self.initial_full_for_weak[pairs.trust]
        if self._log:
            # Each pair takes its trust's latest change from the school's position or
            # before: a search on the key (trust, position).
            trust, since, log_capped, log_full = (np.array(column) for column in zip(*self._log, strict=True))
            span = len(self.schools) + 1
            order = np.argsort(trust, kind="stable")  # logged in position order already
            key = trust[order] * span + since[order]
            latest = np.searchsorted(key, pairs.trust * span + pairs.position, side="right") - 1
            changed = latest >= 0
            changed[changed] = trust[order][latest[changed]] == pairs.trust[changed]
            capped[changed] = log_capped[order][latest[changed]]
            full_for_weak[changed] = log_full[order][latest[changed]]
        refusal = np.where(self.unwilling, 4, 0).astype(np.int8)
        refusal[self.weak & full_for_weak] = 3
        refusal[capped] = 2
        refusal[self.too_far] = 1
        return refusal

    def logged_refusals(self, per_school: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first `per_school` refusals of each school, nearest trust first: positions,
        trusts and refusal codes (1 + index in `RULES`), in position order."""
        refusal = self.refusal
        is_refused = refusal > 0
        refused = np.flatnonzero(is_refused)
        position = self.pairs.position[refused]
        # Each refusal's rank among its school's: refusals before it in the pair list,
        # less those before the school's first pair.
        refusals_before = np.r_[0, np.cumsum(is_refused)]
        keep = (refusals_before[refused] - refusals_before[self.pairs.start[position]]
                < per_school)
        refused, position = refused[keep], position[keep]
        trust, code = self.pairs.trust[refused], refusal[refused]
        if self.radius_km >= self.search_radius_km:
            return position, trust, code
        # Schools with room left in their log: the nearest trusts beyond every hub radius.
        shown = np.bincount(position, minlength=len(self.schools))
        short = np.flatnonzero(shown < per_school)
        far = self.broker.candidates(self.schools[short], self.search_radius_km,
                                     self.exclude[short])
        beyond = far.distance_km > self.radius_km
        far_position, far_trust = short[far.position[beyond]], far.trust[beyond]
        keep = _rank_within(far_position) < per_school - shown[far_position]
        far_position, far_trust = far_position[keep], far_trust[keep]
        order = np.argsort(np.concatenate([position, far_position]), kind="stable")
        hub_distance = np.full(len(far_trust), 1 + RULES.index("hub_distance"), np.int8)
        return (np.concatenate([position, far_position])[order],
                np.concatenate([trust, far_trust])[order],
                np.concatenate([code, hub_distance])[order])


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    return np.arange(len(group)) - np.searchsorted(group, group)


def convert_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.structure
    draw, route = rng.random(schools.n), rng.random(schools.n)
    rate = np.asarray(p.conversion_rate_by_phase)[schools.phase]
    converting = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade <= Grade.GOOD)
        & ~schools.awaiting_sponsor & (draw < rate))
    joins_mat = route[converting] < p.converter_joins_mat_share
    forms_mat = ~joins_mat & (route[converting] < p.converter_joins_mat_share
                              + p.converter_forms_mat_share)
    joining = converting[joins_mat]
    brokering = BrokeringRound(broker, joining, exclude=np.full(len(joining), -1))
    founding_sizes = rng.integers(p.new_mat_founding_schools[0],
                                  p.new_mat_founding_schools[1] + 1, size=len(converting))
    joining_position = np.cumsum(joins_mat) - 1
    for index, school in enumerate(converting):
        if schools.governance[school] != Governance.MAINTAINED:
            continue  # already swept into a new MAT founded by a neighbour this year
        if joins_mat[index]:
            trust = brokering.decide(int(joining_position[index]))
            if trust >= 0:
                broker.join(int(school), trust, "converted")
                continue
        elif forms_mat[index]:
            found_new_mat(model, broker, int(school), int(founding_sizes[index]))
            continue
        become_single_academy_trust(model, broker, int(school))


def found_new_mat(model: SchoolSystemModel, broker: Broker, school: int, size: int) -> None:
    """A converter founds a MAT of `size` with nearby good maintained schools of the same phase."""
    schools = model.schools
    radius_km = model.parameters.model.trusts.hub_radius_km / 2
    point = (schools.x_km[school], schools.y_km[school])
    nearby = np.sort(np.asarray(model.school_tree.query_ball_point(point, radius_km), np.int64))
    near = np.hypot(schools.x_km[nearby] - point[0], schools.y_km[nearby] - point[1])
    eligible = ((schools.governance[nearby] == Governance.MAINTAINED)
                & (schools.grade[nearby] <= Grade.GOOD) & ~schools.awaiting_sponsor[nearby]
                & (near < radius_km) & (nearby != school))
    partners, near = nearby[eligible], near[eligible]
    partners = partners[np.argsort(near, kind="stable")][: size - 1]
    founders = np.concatenate([[school], partners]).astype(np.int64)
    trust = broker.create_trust(TrustKind.MULTI_ACADEMY_TRUST, hub_school=school)
    for founder in founders:
        broker.join(int(founder), trust, "founded_mat")


def become_single_academy_trust(model: SchoolSystemModel, broker: Broker, school: int) -> None:
    trust = broker.create_trust(TrustKind.SINGLE_ACADEMY_TRUST, hub_school=school)
    broker.sizes[trust] = 1
    model.network.set_trust(model.schools, school, trust)
    model.schools.governance[school] = Governance.SINGLE_ACADEMY_TRUST
    model.events.record_one("join", model.term, school=school, trust=trust,
                            detail="converted_single", old_trust=-1)


def single_academy_trusts_join(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts = model.schools, model.trusts
    rate = model.parameters.model.structure.single_academy_trust_joins_mat_rate
    draw = model.streams.structure.random(trusts.n)
    asking = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.SINGLE_ACADEMY_TRUST)
                            & (draw < rate) & (broker.sizes == 1))
    in_trust = np.flatnonzero(schools.trust >= 0)
    school_of_trust = np.full(trusts.n, -1, np.int64)
    school_of_trust[schools.trust[in_trust]] = in_trust  # the only member, for a SAT
    members = school_of_trust[asking]
    free = ~schools.awaiting_sponsor[members]
    asking, members = asking[free], members[free]
    brokering = BrokeringRound(broker, members, exclude=asking)
    for position, target in brokering.accepted_in_turn():
        broker.join(int(members[position]), target, "single_academy_trust_joined")
        model.close_trust(int(asking[position]))


def transfer_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools = model.schools
    rate = model.parameters.model.structure.voluntary_transfer_rate
    draw = model.streams.structure.random(schools.n)
    movers = np.flatnonzero((schools.governance == Governance.MULTI_ACADEMY_TRUST)
                            & ~schools.awaiting_sponsor & (draw < rate))
    brokering = BrokeringRound(broker, movers, exclude=schools.trust[movers].astype(np.int64))
    for position, target in brokering.accepted_in_turn():
        broker.join(int(movers[position]), target, "voluntary_transfer")


def merge_small_trusts(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.structure
    draw = model.streams.structure.random(trusts.n)
    small = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
                           & (broker.sizes <= p.small_mat_max_schools)
                           & (draw < p.small_mat_merger_rate))
    # A trust looks for partners round its first school (the lowest row) on this year's map.
    in_trust = np.flatnonzero(schools.trust >= 0)
    first_school = np.full(trusts.n, -1, np.int64)
    first_school[schools.trust[in_trust[::-1]]] = in_trust[::-1]
    small = small[first_school[small] >= 0]
    pairs = broker.candidates(first_school[small], p.search_radius_km)
    for position, trust in enumerate(small):
        members = np.flatnonzero(schools.trust == trust)
        if len(members) == 0:
            continue
        candidates = pairs.trust[pairs.of(position)]
        larger = candidates[(candidates != trust) & trusts.active[candidates]
                            & (broker.sizes[candidates] > len(members))]
        if len(larger) == 0:
            continue
        for school in members:  # mergers are agreed whole, outside the growth cap
            broker.join(int(school), int(larger[0]), "merger")
        model.close_trust(int(trust))


def adapt_prescriptiveness(model: SchoolSystemModel, sizes: np.ndarray) -> None:
    """Trusts become more prescriptive the more weak schools they hold (seed 004 finding 2).

    "Below average performing" trusts "working to stabilise underperforming schools tended
    to be more prescriptive", while "above average performers" were "consciously resisting"
    standardisation. Each MAT closes `prescriptiveness_adaptation_per_year` of the gap to
    `prescriptiveness_mean + prescriptiveness_mix_slope x (share below good - 0.14)`.
    """
    schools, trusts, rules = model.schools, model.trusts, model.parameters.model.trusts
    weak = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT,
                          trust_index(schools.trust), trusts.n)
    weak_share = np.divide(weak, sizes, out=np.zeros(trusts.n), where=sizes > 0)
    preferred = np.clip(rules.prescriptiveness_mean
                        + rules.prescriptiveness_mix_slope * (weak_share - 0.14), 0.05, 0.95)
    mats = trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
    trusts.prescriptiveness = np.where(
        mats, trusts.prescriptiveness + rules.prescriptiveness_adaptation_per_year
        * (preferred - trusts.prescriptiveness), trusts.prescriptiveness)


def update_trusts(model: SchoolSystemModel) -> None:
    schools, trusts = model.schools, model.trusts
    capacity = model.parameters.model.capacity
    sizes = count_by_trust(None, trust_index(schools.trust), trusts.n)
    mat = trusts.kind == TrustKind.MULTI_ACADEMY_TRUST
    trusts.central_team_fte = np.where(
        mat & trusts.active,
        capacity.central_team_base_fte + capacity.central_team_fte_per_school * sizes, 0.0)
    grade_sum = np.bincount(schools.trust[schools.trust >= 0],
                            weights=schools.grade[schools.trust >= 0], minlength=trusts.n)
    trusts.reputation = np.divide(grade_sum, sizes, out=np.full(trusts.n, 2.0), where=sizes > 0)
    adapt_prescriptiveness(model, sizes)
    # A MAT left with no schools closes.
    for trust in np.flatnonzero(trusts.active & mat & (sizes == 0)):
        model.close_trust(int(trust))
