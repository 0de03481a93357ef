"""A brokering round's walk as one compiled pass (`sim.compiled`), for England's rounds.

`BrokeringRound.settle` walks the waiting schools in turn in plain Python lists, and its
`refusal` rebuilds from a log of changed standings the rule each (school, trust) pair was
refused on. For England that walk is most of a round's cost: a few hundred schools and
some thousands of pairs each term, every step a Python-level read or write. `walk` is the
same walk compiled, and it judges each pair on the spot, when its school's turn comes, so
that no log is kept; the decisions and refusals are those of the twin (a test runs both on
the same round).

A school's options are its pairs that neither `hub_distance` nor `risk_appetite` refuses
(neither depends on counts); it goes to the accepting trust with the best reputation, the
earliest pair among equals. The walk finds it by one scan of the school's pairs rather
than by sorting the options: the first pair with the least reputation is the first option
in the twin's order (reputation, then pair order) that passes.

The round's events (each school's logged refusals, then its outcome) are written in one
pass too (`round_events`), rather than interleaved column by column as the twin does.
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.state import Grade

# Refusal codes: 1 + the rule's index in `brokering.RULES` (0: accepted).
HUB_DISTANCE, GROWTH_CAP, GIVER_TAKER_RATIO, RISK_APPETITE = 1, 2, 3, 4
_REQUIRES_IMPROVEMENT, _INADEQUATE = int(Grade.REQUIRES_IMPROVEMENT), int(Grade.INADEQUATE)


@compiled.kernel
def judge_pairs(position: np.ndarray, trust: np.ndarray, distance_km: np.ndarray,
                school_grade: np.ndarray, risk_appetite: np.ndarray,
                hub_radius_km: np.ndarray, radius_km: float,
                draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rules that do not depend on counts, for every pair in one pass (`BrokeringRound`
    does it in numpy for smaller places): `too_far` beyond the trust's hub radius;
    `unwilling` where the pair's draw exceeds the chance the trust accepts the school (its
    risk appetite for an inadequate school, halfway to certain for one requiring
    improvement); and the pair's `static_refusal`, the code of the first of the two that
    refuses (0 for neither); returns the three. `draws` hold one draw for each pair within
    `radius_km`, in pair order; the others draw none."""
    too_far, unwilling = np.empty(len(trust), np.bool_), np.empty(len(trust), np.bool_)
    static_refusal = np.empty(len(trust), np.int8)
    drawn = 0
    for pair in range(len(trust)):
        row, grade = trust[pair], school_grade[position[pair]]
        far = distance_km[pair] > hub_radius_km[row]
        refuses = False
        if distance_km[pair] <= radius_km:
            accept = 1.0
            if grade >= _INADEQUATE:
                accept = risk_appetite[row]
            elif grade == _REQUIRES_IMPROVEMENT:
                accept = (1 + risk_appetite[row]) / 2
            refuses = draws[drawn] > accept
            drawn += 1
        too_far[pair], unwilling[pair] = far, refuses
        static_refusal[pair] = HUB_DISTANCE if far else (RISK_APPETITE if refuses else 0)
    return too_far, unwilling, static_refusal


@compiled.kernel
def standing(joins: np.ndarray, cap: np.ndarray, givers: np.ndarray, takers: np.ndarray,
             threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each trust's standing in one pass (`BrokeringRound._standing`, numpy for smaller
    places): whether it is at its growth cap, and whether one more weak school would take
    its giver:taker ratio below its threshold (a division, rounded as numpy rounds it)."""
    capped, full_for_weak = np.empty(len(joins), np.bool_), np.empty(len(joins), np.bool_)
    for trust in range(len(joins)):
        capped[trust] = joins[trust] >= cap[trust]
        full_for_weak[trust] = givers[trust] / (takers[trust] + 1) < threshold[trust]
    return capped, full_for_weak


@compiled.kernel
def walk(skip: np.ndarray, pair_start: np.ndarray, pair_trust: np.ndarray,
         static_refusal: np.ndarray, reputation: np.ndarray, weak_school: np.ndarray,
         brings_giver: np.ndarray, leaves: np.ndarray, joins: np.ndarray, cap: np.ndarray,
         givers: np.ndarray, takers: np.ndarray, threshold: np.ndarray, capped: np.ndarray,
         full_for_weak: np.ndarray, taken_by: np.ndarray, per_school: int,
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Judge the schools in turn (position order), those in `skip` having no turn: write
    the trust that takes each school with a turn into `taken_by` (left as is where none
    does), and return each pair's refusal as judged at its school's turn, and the first
    `per_school` refusals of each school as they are judged (their positions, trusts and
    codes, as `BrokeringRound.logged_refusals` gives them). The per-trust counts and
    standings (`joins`, `givers`, `takers`, `capped`, `full_for_weak`) are copied first,
    and the copies change as schools are taken: a move counts for the trust joined and the
    one left (`leaves`, -1 for none), as `Broker.join` or `Broker.place` will count it."""
    joins, givers, takers = joins.copy(), givers.copy(), takers.copy()
    capped, full_for_weak = capped.copy(), full_for_weak.copy()
    has_turn = np.ones(len(weak_school), np.bool_)
    for position in skip:
        has_turn[position] = False
    n_pairs = len(pair_trust)
    refusal, logged_code = np.empty(n_pairs, np.int8), np.empty(n_pairs, np.int8)
    logged_position, logged_trust = np.empty(n_pairs, np.int64), np.empty(n_pairs, np.int64)
    logged = 0
    for position in range(len(has_turn)):
        weak = weak_school[position]
        chosen = -1
        best = 0.0
        logged_here = 0
        for pair in range(pair_start[position], pair_start[position + 1]):
            trust = pair_trust[pair]
            code = static_refusal[pair]
            if code != HUB_DISTANCE:
                if capped[trust]:
                    code = GROWTH_CAP
                elif weak and full_for_weak[trust]:
                    code = GIVER_TAKER_RATIO
            refusal[pair] = code
            if code != 0 and logged_here < per_school:
                logged_position[logged], logged_trust[logged] = position, trust
                logged_code[logged] = code
                logged += 1
                logged_here += 1
            # Strictly better only: among equal reputations the earliest pair wins.
            if code == 0 and (chosen < 0 or reputation[trust] < best):
                chosen, best = trust, reputation[trust]
        if chosen < 0 or not has_turn[position]:
            continue
        taken_by[position] = chosen
        giver = 1.0 if brings_giver[position] else 0.0
        weak_count = 1.0 if weak else 0.0
        old = leaves[position]
        joins[chosen] += 1
        takers[chosen] += weak_count
        givers[chosen] += giver
        if old >= 0:
            takers[old] -= weak_count
            givers[old] -= giver
        # The standing of the two trusts the move touched, for the schools yet to come.
        for changed in (chosen, old):
            if changed >= 0:
                capped[changed] = joins[changed] >= cap[changed]
                full_for_weak[changed] = \
                    givers[changed] / (takers[changed] + 1) < threshold[changed]
    return (refusal, logged_position[:logged], logged_trust[:logged], logged_code[:logged])


@compiled.kernel
def round_events(waiting: np.ndarray, position: np.ndarray, refusing: np.ndarray,
                 code: np.ndarray, taken_by: np.ndarray, academy: np.ndarray,
                 wait_terms: np.ndarray, old_trust: np.ndarray, grade: np.ndarray,
                 outcome_codes: np.ndarray, detail_codes: np.ndarray, rule_codes: np.ndarray,
                 refusal_code: int, not_applicable: int,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                            np.ndarray, np.ndarray, np.ndarray]:
    """A round's event columns in one pass (`brokering.round_event_columns`, whose numpy
    twin interleaves them): for each school in turn, its logged refusals (`position`
    non-decreasing), then its outcome. Returns the kind codes, schools, trusts, rule codes,
    old grades, waits, old trusts and detail codes; -1 where a column does not apply."""
    n = len(position) + len(waiting)
    kind, rule, detail = np.empty(n, np.int16), np.empty(n, np.int16), np.empty(n, np.int16)
    school, trust, old_grade = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    wait, left = np.empty(n, np.int64), np.empty(n, np.int64)
    row = refusal = 0
    for at in range(len(waiting)):
        while refusal < len(position) and position[refusal] == at:
            kind[row], school[row], trust[row] = refusal_code, waiting[at], refusing[refusal]
            rule[row], old_grade[row] = rule_codes[code[refusal] - 1], grade[at]
            wait[row], left[row], detail[row] = -1, -1, not_applicable
            refusal += 1
            row += 1
        joined = taken_by[at] >= 0
        case = 2 * joined + academy[at]
        kind[row], school[row], trust[row] = outcome_codes[case], waiting[at], taken_by[at]
        rule[row], old_grade[row] = not_applicable, -1 if joined else grade[at]
        wait[row] = wait_terms[at]
        left[row] = old_trust[at] if joined and academy[at] else -1
        detail[row] = detail_codes[case]
        row += 1
    return kind, school, trust, rule, old_grade, wait, left, detail
