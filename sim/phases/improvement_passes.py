"""The improvement phase's arithmetic for a big place, as two compiled passes over the schools.

`sim.phases.improvement.run_term` is some fifty numpy calls, each a pass over every school
with a temporary array of its own. For England (`sim.compiled.worth_compiling`) the same
arithmetic runs as two compiled loops instead, on either side of the one transcendental
step, `exp`, which numpy computes (`sim.compiled`: numba's exp may round differently):

- `support_exponent`: fit-weighted support and its prescriptive part, and the exponent of
  the support's effect, `-support_effect x effective x behaviour x diagnosis`;
- `advance`: effectiveness and behaviour after the term, from the exp of that exponent.

Their numpy twin is `improvement.run_term`'s own arithmetic (the path small places take);
the loops evaluate each expression in the order and with the operations numpy does, so
the two give the same numbers bit for bit (tests/phases/test_compiled_passes.py). A source
of support left out by numpy (no contract, no peers, no budget this term) is left out here
too, rather than added as zeros.
"""

from __future__ import annotations

import numpy as np

from sim import compiled
from sim.mechanics.rates import OWN_IMPROVEMENT_RATE_RANGE
from sim.state import (
    TERMS_PER_YEAR,
    TYPICAL_BEHAVIOUR,
    TYPICAL_LEADERSHIP,
    TYPICAL_SELF_ASSESSMENT_ACCURACY,
)

LOWEST_RATE, HIGHEST_RATE = OWN_IMPROVEMENT_RATE_RANGE


@compiled.kernel
def support_exponent(effectiveness, goal, need_scale, fit_weight, trust_givers, central_team,
                     buy_in,
                     trust_prescriptiveness, trust, contract, contract_trust,
                     local_authority, local_authority_prescriptiveness, peers,
                     peer_prescriptiveness, budget, budget_prescriptiveness,
                     support_effect, behaviour,
                     self_assessment_accuracy, outside_prescriptiveness):  # pragma: no cover
    """Per school: effective support, its prescriptive part, and the exponent of support's
    effect. `trust_prescriptiveness` is per trust;
    `outside_prescriptiveness` is what a school outside any trust reads."""

    def fit(prescriptiveness, need_level):  # `improvement.fit` for one school
        return min(max(1.0 - fit_weight * abs(prescriptiveness - need_level), 0.0), 1.0)

    n = len(effectiveness)
    # Whether any school is under contract, or gets peers' or the budget's support (numpy's
    # `.any()`: nonzero, nan included), found in a pass here rather than four numpy calls.
    has_contract = has_peers = has_budget = False
    for i in range(n):
        has_contract |= contract_trust[i] >= 0
        has_peers |= peers[i] != 0.0
        has_budget |= budget[i] != 0.0
    # The trusts' prescriptiveness first, in a loop of its own: looking it up in a table
    # would keep the compiler from turning the arithmetic below into vector instructions.
    trust_prescription = np.empty(n)
    contract_prescription = np.empty(n if has_contract else 0)
    # (Read by trust row + 1 from a table whose first entry is what a school in no trust
    # reads: no branch on whether a school is in a trust.)
    by_slot = np.empty(len(trust_prescriptiveness) + 1)
    by_slot[0] = outside_prescriptiveness
    by_slot[1:] = trust_prescriptiveness
    for i in range(n):
        trust_prescription[i] = by_slot[trust[i] + 1]
        if has_contract:
            contract_prescription[i] = by_slot[contract_trust[i] + 1]
    effective, prescriptive, exponent = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        own_need = max(0.0, goal - effectiveness[i])
        level = min(max(own_need / need_scale, 0.0), 1.0)
        prescription = trust_prescription[i]
        amount = (trust_givers[i] + central_team[i]) * buy_in[i]
        supported = amount * fit(prescription, level)
        prescribed = amount * prescription
        if has_contract:
            prescription = contract_prescription[i]
            amount = contract[i] * buy_in[i]
            supported += amount * fit(prescription, level)
            prescribed += amount * prescription
        amount = local_authority[i]
        supported += amount * fit(local_authority_prescriptiveness, level)
        prescribed += amount * local_authority_prescriptiveness
        if has_peers:
            amount = peers[i] * buy_in[i]
            supported += amount * fit(peer_prescriptiveness, level)
            prescribed += amount * peer_prescriptiveness
        if has_budget:
            amount = budget[i]
            supported += amount * fit(budget_prescriptiveness, level)
            prescribed += amount * budget_prescriptiveness
        effective[i], prescriptive[i] = supported, prescribed
        exponent[i] = (-support_effect * supported * (behaviour[i] / TYPICAL_BEHAVIOUR)
                       * (self_assessment_accuracy[i] / TYPICAL_SELF_ASSESSMENT_ACCURACY))
    return effective, prescriptive, exponent


@compiled.kernel
def advance(effectiveness, behaviour, goal, need_scale, prescriptive, exp_exponent, focus_by_grade,
            grade, own_improvement_rate, leadership, self_assessment_accuracy, context_potential,
            leadership_weight, leavers, movers, teachers, establishment, early_career_year1,
            early_career_year2, churn_penalty, reference_turnover, vacancy_penalty,
            reference_vacancy_rate, early_career_penalty, reference_early_career_share,
            giver_drain, shock_sd, termly_shock, major_shock_size, major_draw,
            major_probability, behaviour_gain, behaviour_drift, usual_behaviour,
            behaviour_erosion):  # pragma: no cover
    """Effectiveness and behaviour after the term (new arrays), from `exp_exponent`, the
    exp of `support_exponent`'s exponent; `major_draw` is the uniform draw a major shock
    falls below `major_probability` on."""
    n = len(effectiveness)
    new_effectiveness, new_behaviour = np.empty(n), np.empty(n)
    first_focus, second_focus, third_focus, fourth_focus = focus_by_grade
    for i in range(n):
        current = effectiveness[i]
        climate = behaviour[i]
        # (need and its level again, as `support_exponent` found them: cheaper than
        # writing them there and reading them here)
        need = max(0.0, goal - current)
        need_level = min(max(need / need_scale, 0.0), 1.0)
        # The focus of the school's grade, chosen rather than looked up (a lookup would
        # keep the compiler from turning this loop into vector instructions).
        graded = grade[i]
        focus = (first_focus if graded == 1 else second_focus if graded == 2
                 else third_focus if graded == 3 else fourth_focus)
        rate = (own_improvement_rate * focus
                * (leadership[i] / TYPICAL_LEADERSHIP)
                * (self_assessment_accuracy[i] / TYPICAL_SELF_ASSESSMENT_ACCURACY)
                * (climate / TYPICAL_BEHAVIOUR))
        rate = min(max(rate, LOWEST_RATE), HIGHEST_RATE)
        potential = context_potential[i] + leadership_weight * (leadership[i] - TYPICAL_LEADERSHIP)
        own = rate * (potential - current)
        from_support = need * (1.0 - exp_exponent[i])
        in_post = max(teachers[i], 1)
        turnover = (leavers[i] + movers[i]) / in_post * TERMS_PER_YEAR
        vacancy_rate = (establishment[i] - teachers[i]) / max(establishment[i], 1)
        early_career_share = (early_career_year1[i] + early_career_year2[i]) / in_post
        staffing = (churn_penalty * (turnover - reference_turnover) / TERMS_PER_YEAR
                    + vacancy_penalty * (vacancy_rate - reference_vacancy_rate)
                    + early_career_penalty * (early_career_share - reference_early_career_share))
        major = major_shock_size * (1.0 if major_draw[i] < major_probability else 0.0)
        new_effectiveness[i] = (current + own + from_support - staffing - giver_drain[i]
                                + shock_sd * termly_shock[i] - major)
        gain = behaviour_gain * prescriptive[i] * need_level * (1.0 - climate)
        drift = behaviour_drift * (usual_behaviour[i] - climate)
        erosion = behaviour_erosion * max(turnover - reference_turnover, 0.0) / TERMS_PER_YEAR
        new_behaviour[i] = min(max(climate + gain + drift - erosion, 0.0), 1.0)
    return new_effectiveness, new_behaviour
