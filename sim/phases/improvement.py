"""Phase 4, improvement: how effectiveness, behaviour and leadership tenure change in a term.

Effectiveness moves by (docs/ODD.md section 7.4):
- **own improvement** toward the school's potential, at a rate that grows with its head's
  capacity, its self-assessment accuracy and its behaviour climate. The potential is the
  school's context (phase, place, disadvantage) plus what its head adds;
- **support received x fit x buy-in**: support closes part of the gap to the goal of a
  secure good. Fit is how well the source's prescriptiveness matches the school's need:
  weak schools gain from prescription, strong ones from autonomy (seed 004 finding 2;
  seed 002: "there is no exact blueprint"). Buy-in discounts support from a school's
  trust, contractor and cluster where it resists shared practice (seed 004 finding 5).
  Support works through behaviour: a school with a poor climate for learning gains less;
- **staff churn, vacancies and early-career share** above a typical school's;
- **giver drain** from an overloaded trust (see `sim.phases.capacity`);
- **shocks**: small termly ones and rare major setbacks (seed 002: staff "have illnesses.
  They suffer tragedies. Pupil and family cohorts change").

Behaviour improves first in weak schools under prescriptive support (seed 004 finding 3)
and otherwise drifts back to the school's usual climate; churn erodes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.rates import OWN_IMPROVEMENT_RATE_RANGE, per_term
from sim.parameters import JUDGEMENT, fitted, parameter
from sim.phases import capacity, improvement_passes
from sim.phases.diagnosis import true_need
from sim.phases.workforce import expected_turnover, update_workload
from sim.sampling import standard_normal
from sim.state import (
    TERMS_PER_YEAR,
    TYPICAL_BEHAVIOUR,
    TYPICAL_LEADERSHIP,
    TYPICAL_SELF_ASSESSMENT_ACCURACY,
    Grade,
    grade_index,
    per_school,
    trust_index,
)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

@dataclass(frozen=True)
class ImprovementParameters:
    """How effectiveness, behaviour and accuracy change (docs/ODD.md section 7.4)."""

    own_improvement_rate: float = parameter(
        0.07, "share of the gap to potential a typical school closes per term",
        source=fitted("0.053-0.114"),
        low=0.0, high=1.0, why="natural: a share of the gap a term")
    leadership_weight: float = parameter(
        2.0, "potential gained per unit of head capacity above the mean", source=JUDGEMENT, low=0.0,
        high=10.0, why="2.0; judgement")
    support_effect: float = parameter(
        0.5,
        "share of the gap to the goal closed per FTE-term of fitting, bought-in "
        "support, as 1 - exp(-effect x FTE)",
        source=fitted("0.10-1.54 (the targets barely constrain it)"), low=0.0, high=5.0,
        why="0.5, Morris 0.25-1; 5 closes 99% per FTE")
    need_scale: float = parameter(
        1.0, "need (gap to the goal) at which a school wants full prescription", source=JUDGEMENT,
        low=0.1, high=10.0, why="1.0 effectiveness unit; a tenth to ten; judgement")
    fit_weight: float = parameter(
        0.7, "loss of support effect per unit of mismatch between prescriptiveness and need",
        source="seed 004 finding 2", low=0.0, high=5.0, why="0.7; fit is clipped to 0-1; judgement")
    behaviour_gain: float = parameter(
        0.4, "behaviour gained per FTE-term of prescriptive support in weak schools",
        source="seed 004 finding 3", low=0.0, high=5.0,
        why="0.4; behaviour is clipped to 0-1; judgement")
    behaviour_drift_per_year: float = parameter(
        0.15, "share of the gap to its usual behaviour a school closes each year", source=JUDGEMENT,
        low=0.0, high=1.0)
    churn_penalty: float = parameter(
        0.15,
        "effectiveness lost per term per unit of yearly teacher turnover above the "
        "reference",
        source=JUDGEMENT, low=0.0, high=5.0,
        why="0.15: ten points more turnover holds a school about 0.07 below its potential, "
            "the order of Ronfeldt, Loeb and Wyckoff 2013 (AERJ: turnover lowers attainment by a "
            "few hundredths of an sd); judgement")
    vacancy_penalty: float = parameter(
        1.0, "effectiveness lost per term per unit of vacancy rate above the reference",
        source=JUDGEMENT, low=0.0, high=20.0,
        why="1.0 (vacancy rates are ~0.003; one post in fifty vacant costs 0.02 a term); judgement")
    early_career_penalty: float = parameter(
        0.25, "effectiveness lost per term per unit of early-career share above the reference",
        source=JUDGEMENT, low=0.0, high=5.0,
        why="0.25: new teachers are less effective in their first years (Kini and Podolsky 2016), "
            "a small part of a school's quality; judgement")
    focus_after_judgement_by_grade: list[float] = parameter(
        [1.0, 1.0, 2.5, 2.5],
        "own improvement rate after a graded judgement of grade 1-4, relative to a good "
        "school's: a weak judgement focuses leaders and brings monitoring",
        source="Allen and Burgess 2012 (CMPO 12/287) and Hussain 2015 (J. Human Resources): "
               "schools just failing an inspection improve faster than those just passing",
        low=0.0, high=10.0,
        why="1-2.5; the size is a judgement, with the spread of schools calibrated to how often "
            "requires improvement becomes good", length=4)
    reference_turnover: float = parameter(
        0.15, "yearly leaving plus moving of a typical school",
        source="DfE School Workforce Census 2019", low=0.0, high=2.0,
        why="DfE SWC: 0.15; two rates below 0.95")
    reference_vacancy_rate: float = parameter(
        0.0033, "vacancy rate of a typical school",
        source="DfE School Workforce Census 2019: 0.2-0.6%", low=0.0, high=1.0,
        why="natural (DfE SWC 0.2-0.6%)")
    reference_early_career_share: float = parameter(
        0.09, "early-career share of a typical school", source=JUDGEMENT, low=0.0, high=1.0)
    shock_sd: float = parameter(
        0.3, "sd of termly shocks to effectiveness",
        source="seed 002: staff fall ill, cohorts change", low=0.0, high=1.0,
        why="seed 002; 0.3 calibrated with the context spread to how lasting a weak grade is (56-78% "
            "of requires-improvement schools good at their next graded inspection); effectiveness "
            "units (about one sd of England's schools); the high end is that many sds (judgement)")
    major_shock_probability_per_year: float = parameter(
        0.03, "chance of a major setback in a year", source="seed 002: tragedies", low=0.0,
        high=0.95,
        why="seed 002: 0.03; a yearly probability below 1, so that a term's is at most 0.64 and some "
            "teachers always stay (judgement)")
    major_shock_size: float = parameter(
        0.5, "effectiveness lost in a major setback", source=JUDGEMENT, low=0.0, high=3.0,
        why="seed 002: 0.5; effectiveness units (about one sd of England's schools); the high end is that "
            "many sds (judgement)")



# Support from outside any trust carries no trust's prescriptiveness; a contracted school
# outside one reads this mid-scale value (only reached where a trust's support is 0).
NO_TRUST_PRESCRIPTIVENESS = 0.5
# England's FSM fifths' upper bounds (judgement from DfE Schools, pupils and their
# characteristics 2019: the quintiles of schools' FSM share), and the smallest group held
# at rest on its own.
ENGLAND_FSM_FIFTHS = (0.06, 0.11, 0.17, 0.25)
MIN_REST_GROUP = 30
# Behaviour lost per year per unit of teacher turnover above `reference_turnover`
# (judgement: ten points more turnover costs 0.01 of behaviour a year).
BEHAVIOUR_EROSION_PER_TURNOVER = 0.1


def potential(model: SchoolSystemModel) -> np.ndarray:
    """Level each school tends to: its context plus what its head adds."""
    schools = model.schools
    weight = model.parameters.model.improvement.leadership_weight
    return schools.context_potential + weight * (schools.leadership - TYPICAL_LEADERSHIP)


def fit(prescriptiveness: np.ndarray | float, need_level: np.ndarray, fit_weight: float) -> np.ndarray:
    """How well support of a given prescriptiveness suits a school's need (0-1)."""
    return np.clip(1.0 - fit_weight * np.abs(prescriptiveness - need_level), 0.0, 1.0)


def effective_support(model: SchoolSystemModel, need_level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Support weighted by fit and buy-in, and the prescriptive part of it (FTE)."""
    schools, trusts = model.schools, model.trusts
    capacity_parameters = model.parameters.model.capacity
    fit_weight = model.parameters.model.improvement.fit_weight
    support = model.support.by_source
    # Buy-in discounts support that asks a school to adopt shared practice: its trust's,
    # a contractor's, and its cluster's (seed 004 finding 5; seed 003: collaboration).
    sources = [((support.trust_givers + support.central_team) * schools.buy_in,
                per_school(trusts.prescriptiveness, trust_index(schools.trust),
                           NO_TRUST_PRESCRIPTIVENESS))]
    if schools.under_contract.any():
        sources.append((support.contract * schools.buy_in,
                        per_school(trusts.prescriptiveness, trust_index(schools.contract_trust),
                                   NO_TRUST_PRESCRIPTIVENESS)))
    sources.append((support.local_authority, capacity_parameters.local_authority_prescriptiveness))
    if support.peers.any():
        sources.append((support.peers * schools.buy_in, capacity_parameters.peer_prescriptiveness))
    if support.budget.any():
        sources.append((support.budget, capacity_parameters.budget_prescriptiveness))
    # Sources that gave nobody anything add nothing and are left out.
    effective = sources[0][0] * fit(sources[0][1], need_level, fit_weight)
    prescriptive = sources[0][0] * sources[0][1]
    for amount, prescription in sources[1:]:
        effective += amount * fit(prescription, need_level, fit_weight)
        prescriptive += amount * prescription
    return effective, prescriptive


def own_improvement_rate(model: SchoolSystemModel) -> np.ndarray:
    """Share of the gap to potential each school closes in a term on its own."""
    schools, p = model.schools, model.parameters.model.improvement
    focus = np.asarray(p.focus_after_judgement_by_grade)[grade_index(schools.grade)]
    return np.clip(
        p.own_improvement_rate * focus
        * (schools.leadership / TYPICAL_LEADERSHIP)
        * (schools.self_assessment_accuracy / TYPICAL_SELF_ASSESSMENT_ACCURACY)
        * (schools.behaviour / TYPICAL_BEHAVIOUR), *OWN_IMPROVEMENT_RATE_RANGE)


def support_gain(model: SchoolSystemModel, need: np.ndarray, effective: np.ndarray) -> np.ndarray:
    """Effectiveness gained from support: a share of the gap to the goal.

    Support works better in a calm school (behaviour) and in one that knows what to fix:
    "forensic analysis of school improvement needs" is one of the five fundamentals (seed
    004, finding 4), so self-assessment accuracy scales the effect as it scales own
    improvement.
    """
    p = model.parameters.model.improvement
    schools = model.schools
    behaviour_factor = schools.behaviour / TYPICAL_BEHAVIOUR
    diagnosis_factor = schools.self_assessment_accuracy / TYPICAL_SELF_ASSESSMENT_ACCURACY
    return need * (1.0 - np.exp(-p.support_effect * effective * behaviour_factor
                                * diagnosis_factor))


def staffing_loss(model: SchoolSystemModel, yearly_turnover: np.ndarray, *,
                  expected: bool = False) -> np.ndarray:
    """Effectiveness lost to turnover, vacancies and early-career share above typical.

    With `expected`, vacancies and early-career share are taken at their typical levels:
    in a small school one vacancy or two new teachers is chance, not a lasting condition.
    """
    schools, p = model.schools, model.parameters.model.improvement
    teachers = np.maximum(schools.teachers, 1)
    if expected:
        vacancy_rate, early_career_share = p.reference_vacancy_rate, p.reference_early_career_share
    else:
        vacancy_rate = schools.vacancies / np.maximum(schools.establishment, 1)
        early_career_share = (schools.early_career_year1 + schools.early_career_year2) / teachers
    return (p.churn_penalty * (yearly_turnover - p.reference_turnover) / TERMS_PER_YEAR
            + p.vacancy_penalty * (vacancy_rate - p.reference_vacancy_rate)
            + p.early_career_penalty * (early_career_share - p.reference_early_career_share))


def equilibrate_potential(model: SchoolSystemModel) -> None:
    """Start the status quo at rest, group by group.

    Each group of `rest_groups` has its context potential shifted by one amount, so that,
    with the support and staffing its schools have at the start, the group's mean expected
    change of effectiveness is zero. Without this, support to weak schools (which the
    observed starting grades already reflect) would lift the whole system in the first
    years of every run. Only the group's mean is held: each school still moves (a weak one
    toward a secure good, a good one with shocks and departing heads), which a school held
    at rest on its own could not (issue 13: a weak grade was nearly permanent). Policies
    and structural change then move the groups away from this balance.
    """
    schools = model.schools
    goal = model.parameters.model.diagnosis.goal_effectiveness
    need = true_need(schools.effectiveness, goal)
    update_workload(model)
    # Takers and givers as the school would see itself without error.
    schools.perceived_need = need
    schools.is_taker = (need > model.parameters.model.diagnosis.taker_need_threshold) | (
        schools.grade >= Grade.REQUIRES_IMPROVEMENT)
    capacity.run_term(model)
    need_level = np.clip(need / model.parameters.model.improvement.need_scale, 0.0, 1.0)
    effective, _ = effective_support(model, need_level)
    # Giver drain is left out on purpose: it comes and goes as trusts' ratios change, and
    # balancing it would leave givers floating upward whenever their trust recovers.
    rate = own_improvement_rate(model)
    expected_change = (rate * (potential(model) - schools.effectiveness)
                       + support_gain(model, need, effective)
                       - staffing_loss(model, expected_turnover(model)))
    group = rest_groups(model)
    n_groups = int(group.max()) + 1
    shift = (np.bincount(group, weights=expected_change, minlength=n_groups)
             / np.bincount(group, weights=rate, minlength=n_groups))
    schools.context_potential -= np.clip(shift, -1.0, 1.0)[group]


def rest_groups(model: SchoolSystemModel) -> np.ndarray:
    """The groups whose mean is held at rest: schools of one phase and one fifth of
    England's disadvantage (FSM share); a group of fewer than `MIN_REST_GROUP` schools is
    pooled with its phase, then with every school left. Groups span the whole place, so
    that a reduced England is held as the full one is; a real place's authorities are
    settled one by one (`sim.at_rest.settle_place`)."""
    schools = model.schools
    fifth = np.searchsorted(ENGLAND_FSM_FIFTHS, schools.fsm_share).astype(np.int64)
    phase = schools.phase.astype(np.int64)
    group = np.full(schools.n, -1, np.int64)
    for key in (phase * 5 + fifth, phase, np.zeros(schools.n, np.int64)):
        free = group < 0
        _, label, counts = np.unique(key[free], return_inverse=True, return_counts=True)
        big = counts[label] >= MIN_REST_GROUP
        group[np.flatnonzero(free)[big]] = group.max() + 1 + label[big]
    group[group < 0] = group.max() + 1  # the few schools of a tiny place: one group
    return np.unique(group, return_inverse=True)[1]


def run_term(model: SchoolSystemModel) -> None:
    schools, p = model.schools, model.parameters.model.improvement
    goal = model.parameters.model.diagnosis.goal_effectiveness
    rng = model.streams.improvement
    n = schools.n
    # Fixed draws per term whatever the policy (common random numbers).
    termly_shock = standard_normal(rng, n)
    major_draw = rng.random(n)
    major_probability = per_term(p.major_shock_probability_per_year)
    if compiled.worth_compiling(n):
        _run_term_compiled(model, termly_shock, major_draw, major_probability)
        return
    major = major_draw < major_probability

    need = true_need(schools.effectiveness, goal)
    need_level = np.clip(need / p.need_scale, 0.0, 1.0)
    effective, prescriptive = effective_support(model, need_level)
    schools.effective_support = effective

    own = own_improvement_rate(model) * (potential(model) - schools.effectiveness)
    from_support = support_gain(model, need, effective)
    turnover = (schools.leavers + schools.movers) / np.maximum(schools.teachers, 1) * TERMS_PER_YEAR
    staffing = staffing_loss(model, turnover)

    schools.effectiveness = (schools.effectiveness + own + from_support - staffing
                             - schools.giver_drain + p.shock_sd * termly_shock
                             - p.major_shock_size * major)

    # Behaviour: prescriptive support stabilises weak schools first; churn erodes it.
    gain = p.behaviour_gain * prescriptive * need_level * (1.0 - schools.behaviour)
    drift = per_term(p.behaviour_drift_per_year) * (model.usual_behaviour - schools.behaviour)
    erosion = BEHAVIOUR_EROSION_PER_TURNOVER * np.maximum(turnover - p.reference_turnover,
                                                          0.0) / TERMS_PER_YEAR
    schools.behaviour = np.clip(schools.behaviour + gain + drift - erosion, 0.0, 1.0)
    schools.head_tenure_terms += 1


def _run_term_compiled(model: SchoolSystemModel, termly_shock: np.ndarray,
                       major_draw: np.ndarray, major_probability: float) -> None:
    """`run_term`'s arithmetic as two compiled passes (`sim.phases.improvement_passes`),
    for a place big enough to repay them; the same numbers."""
    schools, trusts, p = model.schools, model.trusts, model.parameters.model.improvement
    capacity_parameters = model.parameters.model.capacity
    support = model.support.by_source
    goal = float(model.parameters.model.diagnosis.goal_effectiveness)
    effective, prescriptive, exponent = improvement_passes.support_exponent(
        schools.effectiveness, goal, float(p.need_scale), float(p.fit_weight),
        support.trust_givers, support.central_team,
        schools.buy_in, trusts.prescriptiveness, schools.trust, support.contract,
        schools.contract_trust, support.local_authority,
        float(capacity_parameters.local_authority_prescriptiveness), support.peers,
        float(capacity_parameters.peer_prescriptiveness),
        support.budget, float(capacity_parameters.budget_prescriptiveness),
        float(p.support_effect), schools.behaviour,
        schools.self_assessment_accuracy, NO_TRUST_PRESCRIPTIVENESS)
    schools.effective_support = effective
    schools.effectiveness, schools.behaviour = improvement_passes.advance(
        schools.effectiveness, schools.behaviour, goal, float(p.need_scale), prescriptive,
        np.exp(exponent), np.asarray(p.focus_after_judgement_by_grade, dtype=np.float64),
        schools.grade, float(p.own_improvement_rate), schools.leadership,
        schools.self_assessment_accuracy, schools.context_potential, float(p.leadership_weight),
        schools.leavers, schools.movers, schools.teachers, schools.establishment,
        schools.early_career_year1, schools.early_career_year2, float(p.churn_penalty),
        float(p.reference_turnover), float(p.vacancy_penalty), float(p.reference_vacancy_rate),
        float(p.early_career_penalty), float(p.reference_early_career_share),
        schools.giver_drain, float(p.shock_sd), termly_shock, float(p.major_shock_size),
        major_draw, float(major_probability), float(p.behaviour_gain),
        float(per_term(p.behaviour_drift_per_year)), model.usual_behaviour,
        BEHAVIOUR_EROSION_PER_TURNOVER)
    schools.head_tenure_terms += 1
