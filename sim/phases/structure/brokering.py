"""Brokering (step 4 of the structure phase, every term): the regional commissioner finds
trusts for the schools waiting for one, and trusts apply their due diligence.

The commissioner asks a shortlist of trusts to sponsor each waiting school, longest wait
first: those of the school's `candidates_per_school` nearest hubs within
`search_radius_km`, so that the work per school does not grow with the density of trusts.
Each trust applies its due diligence (seed 004 finding 4: trusts have become "more
disciplined"), in the order of `RULES`: `hub_distance` (the school must be within the
trust's `hub_radius_km` of a hub; seed 000), `growth_cap` (schools taken on this year),
`giver_taker_ratio` (its givers over its members graded below good, counting a weak
newcomer, must stay at or above its threshold) and `risk_appetite`. The school goes to the
accepting trust with the best reputation; a school no trust accepts is an orphan and waits
for next term's round. The first `candidates_logged` refusals of each school are logged
with the rule. A `BrokeringRound` is also how converters, single-academy trusts and
voluntary movers find a trust (`growth`).
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.events import interleave, interleaved, text_code, text_codes
from sim.mechanics.brokering import Broker
from sim.phases.structure.walk import judge_pairs, round_events, standing, walk
from sim.state import Governance, Grade

RULES = ("hub_distance", "growth_cap", "giver_taker_ratio", "risk_appetite")
# A waiting school's outcome event, and its detail, by 2 x (taken) + (is an academy), as
# the event log's text codes (`sim.events.text_code`), as are the rules.
_OUTCOMES = text_codes(["orphan", "rebrokering_wait", "placement", "join"])
_DETAILS = text_codes([None, None, "sponsored", "rebrokered"])
_RULES = text_codes(RULES)
_REFUSAL, _NOT_APPLICABLE = text_code("brokering_refusal"), text_code(None)
_NO_SKIP = np.zeros(0, np.int64)  # every school has its turn


def _code(rule: str) -> int:
    """A refusal's code: 1 + the rule's index in `RULES` (0 is no refusal)."""
    return 1 + RULES.index(rule)


def place_waiting_schools(broker: Broker, waiting: np.ndarray | None = None) -> int:
    """One brokering round for every school waiting for a sponsor (not under a contract),
    longest wait first: those in `waiting`, if the caller has found them, in any order.

    A maintained school under an academy order is placed with the trust that takes it and
    opens as its academy later (`Broker.place`); an academy being rebrokered moves at
    once. Returns how many schools changed trust."""
    model = broker.model
    schools = model.schools
    if waiting is None:
        waiting = np.flatnonzero(schools.awaiting_sponsor & ~schools.under_contract)
    waiting = waiting[np.lexsort((schools.urn[waiting],
                                  schools.awaiting_sponsor_since_term[waiting]))]
    academy = schools.governance[waiting] != Governance.MAINTAINED
    wait_terms = model.term - schools.awaiting_sponsor_since_term[waiting]
    old_trust = schools.trust[waiting].copy()
    brokering = BrokeringRound(broker, waiting, exclude=old_trust,
                               rng=model.streams.termly("brokering", model.term),
                               moving=academy)
    taken_by = brokering.settle()
    joined = taken_by >= 0
    moving, placing = joined & academy, joined & ~academy
    broker.join(waiting[moving], taken_by[moving], "rebrokered", record=False)
    broker.place(waiting[placing], taken_by[placing])
    _record_round(broker, brokering, waiting, taken_by, academy, wait_terms, old_trust)
    return int(moving.sum())

def _record_round(broker: Broker, brokering: BrokeringRound, waiting: np.ndarray,
                  taken_by: np.ndarray, academy: np.ndarray, wait_terms: np.ndarray,
                  old_trust: np.ndarray) -> None:
    """The round's events, school by school: the first refusals, then the outcome."""
    model = broker.model
    refusals = brokering.logged_refusals(model.parameters.model.structure.candidates_logged)
    kind, columns = round_event_columns(waiting, refusals, taken_by, academy, wait_terms,
                                        old_trust, model.schools.grade[waiting],
                                        compiled.worth_compiling(model.schools.n))
    model.events.record(kind, model.term, **columns)


def round_event_columns(waiting: np.ndarray, refusals: tuple[np.ndarray, np.ndarray, np.ndarray],
                        taken_by: np.ndarray, academy: np.ndarray, wait_terms: np.ndarray,
                        old_trust: np.ndarray, grade: np.ndarray,
                        use_kernel: bool) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A round's events as the log's kind codes and columns: each school's logged
    `refusals` (positions, trusts, codes, as `BrokeringRound.logged_refusals` gives them),
    then its outcome, by whether it was taken and is an academy. With `use_kernel` in one
    compiled pass (`walk.round_events`), else by interleaving numpy columns."""
    position, refusing, code = refusals
    if use_kernel:
        kind, school, trust, rule, old_grade, wait, left, detail = round_events(
            waiting, position, refusing, code, taken_by, academy, wait_terms, old_trust, grade,
            _OUTCOMES, _DETAILS, _RULES, _REFUSAL, _NOT_APPLICABLE)
        return kind, {"school": school, "trust": trust, "rule": rule, "old_grade": old_grade,
                      "wait_terms": wait, "old_trust": left, "detail": detail}
    joined = taken_by >= 0
    # Each school's outcome event and its detail, by whether it was taken and is an academy.
    case = 2 * joined + academy
    refusal_at, outcome_at = interleave(position, len(waiting))

    def both(dtype: type, refusal_column: object, outcome_column: object) -> np.ndarray:
        return interleaved(refusal_at, outcome_at, dtype, refusal_column, outcome_column)

    return both(np.int16, _REFUSAL, _OUTCOMES[case]), {
        "school": both(np.int64, waiting[position], waiting),
        "trust": both(np.int64, refusing, taken_by),
        "rule": both(np.int16, _RULES[code - 1], _NOT_APPLICABLE),
        "old_grade": both(np.int64, grade[position], np.where(joined, -1, grade)),
        "wait_terms": both(np.int64, -1, wait_terms),
        "old_trust": both(np.int64, -1, np.where(joined & academy, old_trust, -1)),
        "detail": both(np.int16, _NOT_APPLICABLE, _DETAILS[case])}


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
    trust (is it at its cap; would one more weak school take it below its ratio).
    `settle` walks the schools in turn: a school goes to its first option whose trust
    passes both, and its move changes the counts of the trust it joins and of the one it
    leaves, as `Broker.join` (or `Broker.place`) will when the caller applies the round.

    `refusal` is the rule each pair was refused on as judged when its school's turn came.
    For England the walk is one compiled pass (`walk`) that judges each pair as it goes.
    Its twin, for smaller places, walks plain lists and logs each change of a trust's
    standing with the turn it takes effect from, and `refusal` is rebuilt from that log in
    a few array operations when the round's events are written. A test runs both on the
    same round.
    """

    def __init__(self, broker: Broker, schools: np.ndarray, *, exclude: np.ndarray,
                 rng: np.random.Generator, moving: np.ndarray | bool = True) -> None:
        """`moving`: for each school, whether it moves into the trust that takes it (a
        join) or is only placed with it, to open later (`Broker.place`: it brings no
        giver and leaves no trust)."""
        model = broker.model
        self.broker, self.schools, self.exclude = broker, schools, exclude
        trusts, structure = model.trusts, model.parameters.model.structure
        # One search: the trusts of each school's `candidates_per_school` nearest hubs
        # within the search radius. Only trusts within some trust's hub radius can accept;
        # those further out all refuse on `hub_distance` and matter only to the log.
        self.search_radius_km = structure.search_radius_km
        self.radius_km = min(self.search_radius_km, broker.widest_hub_radius_km)
        self.pairs = pairs = broker.candidates(schools, self.search_radius_km, exclude,
                                               nearest=structure.candidates_per_school)
        trust = pairs.trust
        school_grade = model.schools.grade[schools]
        # England's rounds are walked by a compiled kernel (`walk`), which judges every
        # pair as it goes; the twin sorts each school's options and keeps a log of the
        # standings that changed: trust, first position judged on the change, and the new
        # standing.
        self._compiled = compiled.worth_compiling(model.schools.n)
        # One draw per pair a trust could accept (within the widest hub radius), in order.
        in_reach = pairs.distance_km <= self.radius_km
        draws = rng.random(int(np.count_nonzero(in_reach)))
        if self._compiled:
            self.too_far, self.unwilling, self._static_refusal = judge_pairs(
                pairs.position, trust, pairs.distance_km, school_grade, trusts.risk_appetite,
                trusts.hub_radius_km, self.radius_km, draws)
        else:
            grade = school_grade[pairs.position]
            appetite = trusts.risk_appetite[trust]
            accept_probability = np.where(grade >= Grade.INADEQUATE, appetite,
                                          np.where(grade == Grade.REQUIRES_IMPROVEMENT,
                                                   (1 + appetite) / 2, 1.0))
            draw = np.ones(len(trust))
            draw[in_reach] = draws
            self.too_far = pairs.distance_km > trusts.hub_radius_km[trust]
            self.unwilling = in_reach & (draw > accept_probability)
        self.initial_capped, self.initial_full_for_weak = self._standing()
        self._school_weak = school_grade >= Grade.REQUIRES_IMPROVEMENT
        if isinstance(moving, (bool, np.bool_)):  # one for all (np.broadcast_to is slower)
            moving = np.full(len(schools), moving)
        self._brings_giver = model.schools.is_giver[schools] & moving
        self._leaves = np.where(moving, model.schools.trust[schools], np.int64(-1))
        self._log: list[tuple[int, int, bool, bool]] = []
        self._refusal: np.ndarray | None = None
        self._logged: tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def _options(self) -> tuple[np.ndarray, np.ndarray]:
        """Each school's options, the pairs neither too far nor unwilling, by school, then
        best reputation (lowest mean grade), then pair order (nearest, then trust row):
        their trusts, and where each school's start. Reputations are fixed until the
        trusts update, after brokering."""
        trusts, pairs = self.broker.model.trusts, self.pairs
        options = np.flatnonzero(~self.too_far & ~self.unwilling)
        # One sort on an integer key (school, rank of the trust's reputation); a stable sort
        # keeps pair order among equal reputations.
        by_reputation = np.argsort(trusts.reputation, kind="stable")
        reputation_rank = np.empty(trusts.n, np.int64)
        reputation_rank[by_reputation] = np.cumsum(
            np.r_[0, np.diff(trusts.reputation[by_reputation]) != 0])
        options = options[np.argsort(pairs.position[options] * (trusts.n + 1)
                                     + reputation_rank[pairs.trust[options]], kind="stable")]
        return pairs.trust[options], np.searchsorted(pairs.position[options],
                                                     np.arange(len(self.schools) + 1))

    def _standing(self) -> tuple[np.ndarray, np.ndarray]:
        """Whether each trust is at its growth cap, and whether one more weak school would
        take its giver:taker ratio below its threshold (one compiled pass for England)."""
        trusts, broker = self.broker.model.trusts, self.broker
        n = trusts.n
        if self._compiled:
            return standing(trusts.joins_this_year[:n], trusts.growth_cap_per_year[:n],
                            broker.givers[:n], broker.takers[:n],
                            trusts.giver_taker_threshold[:n])
        capped = trusts.joins_this_year[:n] >= trusts.growth_cap_per_year[:n]
        full_for_weak = broker.givers[:n] / (broker.takers[:n] + 1) \
            < trusts.giver_taker_threshold[:n]
        return capped, full_for_weak

    def settle(self, skip: np.ndarray | None = None) -> np.ndarray:
        """The trust that takes each school (-1 for none), the schools judged in turn; a
        school in `skip` has no turn. The caller then joins or places the schools taken."""
        taken_by = np.full(len(self.schools), -1, np.int64)
        if self._compiled:
            return self._walk_compiled(taken_by, skip)
        trusts, broker = self.broker.model.trusts, self.broker
        option_trust, option_start = self._options()
        turns = np.flatnonzero(np.diff(option_start))
        if skip is not None:
            turns = np.setdiff1d(turns, skip)
        if len(turns) == 0:
            return taken_by
        # The walk follows only the trusts some pair names (no other standing shows in a
        # decision or a refusal), numbered 0, 1, ... here, in plain Python lists: it reads
        # and writes single entries, which lists do several times faster than arrays.
        named = np.unique(self.pairs.trust)
        leaves = np.searchsorted(named, self._leaves).clip(max=len(named) - 1)
        leaves = np.where(named[leaves] == self._leaves, leaves, -1).tolist()
        option_trust = np.searchsorted(named, option_trust).tolist()
        capped = self.initial_capped[named].tolist()
        full = self.initial_full_for_weak[named].tolist()
        joins, cap = trusts.joins_this_year[named].tolist(), \
            trusts.growth_cap_per_year[named].tolist()
        givers, takers = broker.givers[named].tolist(), broker.takers[named].tolist()
        threshold = trusts.giver_taker_threshold[named].tolist()
        option_start = option_start.tolist()
        weak_school, brings_giver = self._school_weak.tolist(), self._brings_giver.tolist()
        log, taken = [], {}
        for position in turns.tolist():
            weak = weak_school[position]
            for trust in option_trust[option_start[position]:option_start[position + 1]]:
                if not capped[trust] and not (weak and full[trust]):
                    break
            else:
                continue
            taken[position] = trust
            giver, old = brings_giver[position], leaves[position]
            joins[trust] += 1
            takers[trust] += weak
            givers[trust] += giver
            if old >= 0:
                takers[old] -= weak
                givers[old] -= giver
            # Read again the standing of the two trusts the move touched, for the schools
            # yet to have their turn.
            for changed in (trust, old):
                if changed < 0:
                    continue  # no trust left, or one no pair names
                now_capped = joins[changed] >= cap[changed]
                now_full = givers[changed] / (takers[changed] + 1) < threshold[changed]
                if now_capped != capped[changed] or now_full != full[changed]:
                    capped[changed], full[changed] = now_capped, now_full
                    log.append((changed, position + 1, now_capped, now_full))
        taken_by[list(taken)] = named[list(taken.values())]
        self._log += [(int(named[trust]), *change) for trust, *change in log]
        return taken_by

    def _walk_compiled(self, taken_by: np.ndarray, skip: np.ndarray | None) -> np.ndarray:
        """`settle` by the compiled walk, which also keeps each pair's refusal."""
        trusts, broker = self.broker.model.trusts, self.broker
        n = trusts.n
        # The refusals the round's events log, kept as the walk judges them.
        per_school = self.broker.model.parameters.model.structure.candidates_logged
        self._refusal, position, trust, code = walk(
            _NO_SKIP if skip is None else np.asarray(skip, np.int64), self.pairs.start,
            self.pairs.trust, self._static_refusal, trusts.reputation[:n], self._school_weak,
            self._brings_giver, self._leaves, trusts.joins_this_year[:n],
            trusts.growth_cap_per_year[:n], broker.givers[:n], broker.takers[:n],
            trusts.giver_taker_threshold[:n], self.initial_capped, self.initial_full_for_weak,
            taken_by, per_school)
        self._logged = (per_school, (position, trust, code))
        return taken_by

    @property
    def refusal(self) -> np.ndarray:
        """For each pair, 0 where the trust accepts the school and otherwise 1 + the index
        in `RULES` of the first rule it refuses on, as judged when the school's turn came
        (or would have come, for a school with no turn)."""
        if self._refusal is not None:
            return self._refusal
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
        # The first rule refused on wins: later rules are written first, earlier over them.
        refusal = np.where(self.unwilling, _code("risk_appetite"), 0).astype(np.int8)
        refusal[self._school_weak[pairs.position] & full_for_weak] = _code("giver_taker_ratio")
        refusal[capped] = _code("growth_cap")
        refusal[self.too_far] = _code("hub_distance")
        return refusal

    def logged_refusals(self, per_school: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first `per_school` refusals of each school, nearest trust first: positions,
        trusts and refusal codes (1 + index in `RULES`), in position order (as the compiled
        walk logged them, if it logged as many)."""
        if self._logged is not None and self._logged[0] == per_school:
            return self._logged[1]
        refusal = self.refusal
        is_refused = refusal > 0
        refused = np.flatnonzero(is_refused)
        position = self.pairs.position[refused]
        # Each refusal's rank among its school's: refusals before it in the pair list,
        # less those before the school's first pair.
        refusals_before = np.zeros(len(refusal) + 1, np.int64)
        np.cumsum(is_refused, out=refusals_before[1:])
        keep = (refusals_before[refused] - refusals_before[self.pairs.start[position]]
                < per_school)
        refused, position = refused[keep], position[keep]
        return position, self.pairs.trust[refused], refusal[refused]
