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

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

from sim.phases.capacity import count_by_trust
from sim.state import NEVER, TERMS_PER_YEAR, Governance, Grade, TrustKind

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

RULES = ("hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite")


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


class Broker:
    """The commissioner's view of trusts this year: hubs, sizes, givers and takers."""

    def __init__(self, model: SchoolSystemModel) -> None:
        self.model = model
        schools, trusts = model.schools, model.trusts
        # A trust judges its capacity from what it knows: which members give support, and
        # which are graded below good (the schools "needing help", seed 004).
        self.givers = count_by_trust(schools.is_giver, schools.trust, trusts.n)
        self.takers = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT,
                                     schools.trust, trusts.n)
        self.sizes = count_by_trust(np.ones(schools.n, bool), schools.trust, trusts.n)
        self._index_hubs()

    def create_trust(self, kind: TrustKind, hub_school: int) -> int:
        """Found a trust with its hub at a school, and start counting it."""
        trust = self.model.create_trust(kind, hub_school=hub_school)
        for name in ("givers", "takers", "sizes"):
            setattr(self, name, np.append(getattr(self, name), 0.0))
        self._index_hubs()
        return trust

    def _index_hubs(self) -> None:
        hubs, trusts = self.model.hubs, self.model.trusts
        live = trusts.active[hubs.trust] & (trusts.kind[hubs.trust] == TrustKind.MULTI_ACADEMY_TRUST)
        self.hub_rows = np.flatnonzero(live)
        points = np.column_stack([hubs.x_km[self.hub_rows], hubs.y_km[self.hub_rows]])
        self.tree = cKDTree(points) if len(points) else None

    def candidates(self, school: int, radius_km: float) -> tuple[np.ndarray, np.ndarray]:
        """MATs with a hub within `radius_km` of a school, nearest first, and that distance."""
        if self.tree is None:
            return np.zeros(0, np.int64), np.zeros(0)
        schools, hubs = self.model.schools, self.model.hubs
        point = (schools.x_km[school], schools.y_km[school])
        found = self.tree.query_ball_point(point, radius_km)
        if not found:
            return np.zeros(0, np.int64), np.zeros(0)
        rows = self.hub_rows[np.asarray(found)]
        distance = np.hypot(hubs.x_km[rows] - point[0], hubs.y_km[rows] - point[1])
        trust_of_hub = hubs.trust[rows]
        order = np.lexsort((trust_of_hub, distance))
        trust_sorted, first = np.unique(trust_of_hub[order], return_index=True)
        nearest = distance[order][first]
        by_distance = np.lexsort((trust_sorted, nearest))
        return trust_sorted[by_distance].astype(np.int64), nearest[by_distance]

    def due_diligence(self, school: int, candidates: np.ndarray, distance: np.ndarray,
                      *, weak: bool) -> np.ndarray:
        """The first rule each candidate trust refuses on, or '' where it accepts."""
        trusts = self.model.trusts
        grade = self.model.schools.grade[school]
        appetite = trusts.risk_appetite[candidates]
        accept_probability = np.where(grade >= Grade.INADEQUATE, appetite,
                                      np.where(grade == Grade.REQUIRES_IMPROVEMENT,
                                               (1 + appetite) / 2, 1.0))
        draw = self.model.streams.structure.random(len(candidates))
        takers_after = self.takers[candidates] + (1 if weak else 0)
        ratio_after = np.divide(self.givers[candidates], takers_after,
                                out=np.full(len(candidates), np.inf), where=takers_after > 0)
        checks = [
            distance > trusts.hub_radius_km[candidates],
            trusts.joins_this_year[candidates] >= trusts.growth_cap_per_year[candidates],
            weak & (ratio_after < trusts.giver_taker_threshold[candidates]),
            draw > accept_probability,
        ]
        refusal = np.full(len(candidates), "", dtype=object)
        for rule, failed in zip(RULES, checks, strict=True):
            refusal[(refusal == "") & failed] = rule
        return refusal

    def find_trust(self, school: int, *, exclude: int = -1, log: bool = True) -> int:
        """A trust that accepts the school after due diligence, or -1."""
        model = self.model
        structure = model.parameters.model.structure
        candidates, distance = self.candidates(school, structure.search_radius_km)
        keep = candidates != exclude
        candidates, distance = candidates[keep], distance[keep]
        if len(candidates) == 0:
            return -1
        weak = bool(model.schools.grade[school] >= Grade.REQUIRES_IMPROVEMENT)
        refusal = self.due_diligence(school, candidates, distance, weak=weak)
        accepted = np.flatnonzero(refusal == "")
        if log:
            shown = np.flatnonzero(refusal != "")[: structure.candidates_logged]
            if len(shown):
                model.events.record(
                    "brokering_refusal", model.term, school=np.full(len(shown), school),
                    trust=candidates[shown], rule=refusal[shown],
                    old_grade=np.full(len(shown), model.schools.grade[school]))
        if len(accepted) == 0:
            return -1
        reputation = model.trusts.reputation[candidates[accepted]]
        best = accepted[np.lexsort((distance[accepted], reputation))[0]]
        return int(candidates[best])

    def join(self, school: int, trust: int, reason: str) -> None:
        """Move a school into a MAT, keeping counts, hubs and the graph in step."""
        model = self.model
        schools, trusts = model.schools, model.trusts
        old = int(schools.trust[school])
        waited = model.term - schools.awaiting_sponsor_since_term[school] \
            if schools.awaiting_sponsor[school] else 0
        weak = schools.grade[school] >= Grade.REQUIRES_IMPROVEMENT
        if old >= 0:
            self.sizes[old] -= 1
            self.givers[old] -= schools.is_giver[school]
            self.takers[old] -= weak
            model.trust_moves_this_year += 1
        model.network.set_trust(schools, school, trust)
        schools.governance[school] = Governance.MULTI_ACADEMY_TRUST
        schools.awaiting_sponsor_since_term[school] = NEVER
        self.sizes[trust] += 1
        self.givers[trust] += schools.is_giver[school]
        self.takers[trust] += weak
        trusts.joins_this_year[trust] += 1
        self._maybe_open_hub(school, trust)
        model.events.record("join", model.term, school=np.array([school]),
                            trust=np.array([trust]), detail=np.array([reason], dtype=object),
                            wait_terms=np.array([waited]), old_trust=np.array([old]))

    def _maybe_open_hub(self, school: int, trust: int) -> None:
        model = self.model
        hubs, schools = model.hubs, model.schools
        own = hubs.of_trust(trust)
        distance = np.hypot(hubs.x_km[own] - schools.x_km[school],
                            hubs.y_km[own] - schools.y_km[school]).min() if len(own) else np.inf
        big_enough = self.sizes[trust] >= model.parameters.model.structure.new_hub_min_schools
        if distance > 0.6 * model.trusts.hub_radius_km[trust] and big_enough:
            hubs.add(trust, schools.x_km[school], schools.y_km[school])
            self._index_hubs()

    def place_waiting_schools(self) -> None:
        """One brokering round for every school waiting for a sponsor, longest wait first."""
        model = self.model
        schools = model.schools
        waiting = np.flatnonzero(schools.awaiting_sponsor & ~schools.under_contract)
        order = np.lexsort((schools.urn[waiting], schools.awaiting_sponsor_since_term[waiting]))
        for school in waiting[order]:
            exclude = int(schools.trust[school])
            trust = self.find_trust(school, exclude=exclude)
            reason = "rebrokered" if schools.is_academy[school] else "sponsored"
            if trust >= 0:
                self.join(school, trust, reason)
            else:
                kind = "rebrokering_wait" if schools.is_academy[school] else "orphan"
                model.events.record(
                    kind, model.term, school=np.array([school]),
                    wait_terms=np.array([model.term - schools.awaiting_sponsor_since_term[school]]),
                    old_grade=np.array([schools.grade[school]]))


def convert_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools, p = model.schools, model.parameters.model.structure
    rng = model.streams.structure
    draw, route = rng.random(schools.n), rng.random(schools.n)
    rate = np.asarray(p.conversion_rate_by_phase)[schools.phase]
    converting = np.flatnonzero(
        (schools.governance == Governance.MAINTAINED) & (schools.grade <= Grade.GOOD)
        & ~schools.awaiting_sponsor & (draw < rate))
    for school in converting:
        if schools.governance[school] != Governance.MAINTAINED:
            continue  # already swept into a new MAT founded by a neighbour this year
        if route[school] < p.converter_joins_mat_share:
            trust = broker.find_trust(school, log=False)
            if trust >= 0:
                broker.join(school, trust, "converted")
                continue
        elif route[school] < p.converter_joins_mat_share + p.converter_forms_mat_share:
            found_new_mat(model, broker, school)
            continue
        become_single_academy_trust(model, broker, school)


def found_new_mat(model: SchoolSystemModel, broker: Broker, school: int) -> None:
    """A converter founds a MAT with nearby good maintained schools of the same phase."""
    schools, p = model.schools, model.parameters.model.structure
    low, high = p.new_mat_founding_schools
    size = int(model.streams.structure.integers(low, high + 1))
    near = np.hypot(schools.x_km - schools.x_km[school], schools.y_km - schools.y_km[school])
    eligible = ((schools.governance == Governance.MAINTAINED) & (schools.grade <= Grade.GOOD)
                & ~schools.awaiting_sponsor
                & (near < model.parameters.model.trusts.hub_radius_km / 2))
    eligible[school] = False
    partners = np.flatnonzero(eligible)
    partners = partners[np.argsort(near[partners], kind="stable")][: size - 1]
    founders = np.concatenate([[school], partners]).astype(np.int64)
    trust = broker.create_trust(TrustKind.MULTI_ACADEMY_TRUST, hub_school=school)
    for founder in founders:
        broker.join(int(founder), trust, "founded_mat")


def become_single_academy_trust(model: SchoolSystemModel, broker: Broker, school: int) -> None:
    trust = broker.create_trust(TrustKind.SINGLE_ACADEMY_TRUST, hub_school=school)
    broker.sizes[trust] = 1
    model.network.set_trust(model.schools, school, trust)
    model.schools.governance[school] = Governance.SINGLE_ACADEMY_TRUST
    model.events.record("join", model.term, school=np.array([school]), trust=np.array([trust]),
                        detail=np.array(["converted_single"], dtype=object),
                        old_trust=np.array([-1]))


def single_academy_trusts_join(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts = model.schools, model.trusts
    rate = model.parameters.model.structure.single_academy_trust_joins_mat_rate
    draw = model.streams.structure.random(trusts.n)
    for trust in np.flatnonzero(trusts.active & (trusts.kind == TrustKind.SINGLE_ACADEMY_TRUST)
                                & (draw < rate)):
        members = np.flatnonzero(schools.trust == trust)
        if len(members) != 1 or schools.awaiting_sponsor[members[0]]:
            continue
        target = broker.find_trust(int(members[0]), exclude=int(trust), log=False)
        if target >= 0:
            broker.join(int(members[0]), target, "single_academy_trust_joined")
            model.close_trust(int(trust))


def transfer_voluntarily(model: SchoolSystemModel, broker: Broker) -> None:
    schools = model.schools
    rate = model.parameters.model.structure.voluntary_transfer_rate
    draw = model.streams.structure.random(schools.n)
    movers = np.flatnonzero((schools.governance == Governance.MULTI_ACADEMY_TRUST)
                            & ~schools.awaiting_sponsor & (draw < rate))
    for school in movers:
        target = broker.find_trust(int(school), exclude=int(schools.trust[school]), log=False)
        if target >= 0:
            broker.join(int(school), target, "voluntary_transfer")


def merge_small_trusts(model: SchoolSystemModel, broker: Broker) -> None:
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.structure
    draw = model.streams.structure.random(trusts.n)
    small = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST)
                           & (broker.sizes <= p.small_mat_max_schools)
                           & (draw < p.small_mat_merger_rate))
    for trust in small:
        members = np.flatnonzero(schools.trust == trust)
        if len(members) == 0:
            continue
        candidates, _ = broker.candidates(int(members[0]), p.search_radius_km)
        larger = candidates[(candidates != trust) & (broker.sizes[candidates] > len(members))]
        if len(larger) == 0:
            continue
        for school in members:  # mergers are agreed whole, outside the growth cap
            broker.join(int(school), int(larger[0]), "merger")
        model.close_trust(int(trust))
        broker._index_hubs()


def adapt_prescriptiveness(model: SchoolSystemModel, sizes: np.ndarray) -> None:
    """Trusts become more prescriptive the more weak schools they hold (seed 004 finding 2).

    "Below average performing" trusts "working to stabilise underperforming schools tended
    to be more prescriptive", while "above average performers" were "consciously resisting"
    standardisation. Each MAT closes `prescriptiveness_adaptation_per_year` of the gap to
    `prescriptiveness_mean + prescriptiveness_mix_slope x (share below good - 0.14)`.
    """
    schools, trusts, rules = model.schools, model.trusts, model.parameters.model.trusts
    weak = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT, schools.trust, trusts.n)
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
    sizes = count_by_trust(np.ones(schools.n, bool), schools.trust, trusts.n)
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
