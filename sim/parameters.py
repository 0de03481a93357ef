"""What every parameter may be: its type and its allowed range.

The defaults and their documentation live in the YAML files under `configs/`; this module
says what values are allowed, so that a bad value stops a run before it starts with one
line naming the parameter and what it accepts. Every leaf of every composed config must
have a rule here (a test checks), and `check_config` applies them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

INF = float("inf")


class ConfigError(ValueError):
    """A config value or override that cannot be used; the message is one line for users."""


@dataclass(frozen=True)
class Rule:
    kind: str  # "number", "integer", "share", "flag", "text", "list"
    low: float = -INF
    high: float = INF
    nullable: bool = False
    length: int | None = None  # lists: exact length
    item: Rule | None = None  # lists: rule for each item
    increasing: bool = False  # lists: strictly increasing
    ordered_pair: bool = False  # lists of two: first <= second

    def describe(self) -> str:
        if self.kind == "flag":
            text = "true or false"
        elif self.kind == "text":
            text = "a text value"
        elif self.kind == "list":
            assert self.item is not None
            text = f"a list of {self.length} " if self.length else "a list of "
            text += self.item.describe().removeprefix("a ").removeprefix("an ")
            text += "s" if text.endswith("value") else "" if text.endswith("values") else " values"
            if self.increasing:
                text += ", strictly increasing"
            if self.ordered_pair:
                text += ", the first no larger than the second"
        else:
            noun = {"integer": "a whole number", "share": "a number", "number": "a number"}[self.kind]
            if self.low > -INF and self.high < INF:
                text = f"{noun} from {_show(self.low)} to {_show(self.high)}"
            elif self.low > -INF:
                text = f"{noun} of at least {_show(self.low)}"
            elif self.high < INF:
                text = f"{noun} of at most {_show(self.high)}"
            else:
                text = noun
        return text + (" (or null)" if self.nullable else "")


def _show(value: float) -> str:
    return f"{value:g}"


def number(low: float = -INF, high: float = INF, nullable: bool = False) -> Rule:
    return Rule("number", low, high, nullable)


def integer(low: float = -INF, high: float = INF, nullable: bool = False) -> Rule:
    return Rule("integer", low, high, nullable)


SHARE = Rule("share", 0.0, 1.0)  # a probability or a share: natural bounds
# A yearly rate of teachers leaving or moving, or of setbacks: below 1, so that a term's
# probability (1 - (1 - rate)^(1/3)) stays below 0.64 and some teachers always stay
# (judgement).
RATE = Rule("share", 0.0, 0.95)
FLAG = Rule("flag")
TEXT = Rule("text")


def listing(item: Rule, length: int | None = None, **options: bool) -> Rule:
    return Rule("list", length=length, item=item, **options)


# A synthetic place has at least one MAT per this many schools, if it has MATs at all.
# England has 17 schools per MAT and the Opportunity Area 20 (judgement: ten times that).
SCHOOLS_PER_MAT = 200

BY_PHASE = 4  # primary, secondary, special, alternative provision
BY_GRADE = 4  # outstanding, good, requires improvement, inadequate

# Every numeric range is finite. The comment on each line says why its ends are where they
# are: a natural bound (a probability, a 0-1 capacity), a published figure with a margin
# (the default's source; configs/ and docs/ODD.md give it in full), or a judgement (said
# so). Reasons shared by several lines:
# - EFFECT_SD: in effectiveness units, about one standard deviation of England's schools;
#   the high end of 1-3 is a spread of that many standard deviations (judgement);
# - WORKLOAD: added to the workload index of a typical school, 1; at most 1 (doubling it) is
#   judgement;
# - COST: pounds; the high end is several times the default's source (judgement);
# - RATE: the rule `RATE` above.
# Ranges hold every value of configs/sensitivity/morris.yaml and of the experiments' sweeps,
# the model runs with finite outputs at both ends of each (tests/test_parameter_bounds.py),
# and docs/parameter_ranges.md tabulates them.
RULES: dict[str, Rule] = {
    # top level and output
    "seed": integer(0, 2**32 - 1),  # natural: numpy seeds, kept to 32 bits for portability
    "horizon_years": integer(1, 100, nullable=True),  # judgement: a year to a century (default 5-10)
    "output.root": TEXT,
    "sensitivity.samples": Rule("text", nullable=True),
    "sensitivity.index": integer(0, 10**9, nullable=True),  # natural: a row of a sample file
    "output.school_panel": FLAG,
    "output.plots": FLAG,
    "output.progress": FLAG,
    # scenario
    "scenario.name": TEXT,
    "scenario.description": TEXT,
    "scenario.horizon_years": integer(1, 100),  # judgement: as horizon_years
    "scenario.start_year": integer(1900, 2200),  # labels only; judgement
    "scenario.scale": number(0.001, 10.0),  # judgement: 22 schools of England to ten Englands
    "scenario.n_schools": integer(10, 50_000),  # England 21,750 (DfE 2019), about 2x; 10 is the least built
    "scenario.n_local_authorities": integer(1, 1_000),  # England 152 (~300 districts); judgement
    "scenario.region_km": listing(number(1.0, 5_000.0), 2),  # England 450 x 550 km; a town to ~10x
    "scenario.phase_shares": listing(SHARE, BY_PHASE),  # natural (and they add up to 1)
    "scenario.academy_share": listing(SHARE, BY_PHASE),  # natural
    "scenario.n_multi_academy_trusts": integer(0, 10_000),  # England 1,200-1,330 (DfE); see check_config
    "scenario.n_single_academy_trusts": integer(0, 10_000),  # England 1,000-1,260 (DfE)
    "scenario.effectiveness_offset": number(-3.0, 3.0),  # 3 sd of England's schools either way
    "scenario.fsm_mean": number(0.03, 0.6),  # DfE 2019: 0.17; authorities' means are clipped to 0.03-0.6
    "scenario.fsm_spread_between_areas": number(0.0, 0.3),  # England's default 0.06; judgement
    "scenario.trust_strength": number(-0.5, 0.5),  # natural: head capacity is 0-1 round 0.6
    "scenario.teacher_supply": number(0.1, 3.0),  # England 0.94 (0.3% vacant); judgement, Morris 0.8-1.1
    "scenario.local_authority_capacity": number(0.0, 10.0),  # relative to England; judgement
    "scenario.improvement_budget_gbp_per_year": number(0.0, 1e9),  # OA £2m a year (DfE 2017), x500; judgement
    # population
    "population.name": TEXT,
    "population.path": Rule("text", nullable=True),
    "population.areas": listing(TEXT),
    "population.towns_per_local_authority": listing(integer(1, 50), 2, ordered_pair=True),  # judgement
    "population.town_spread_km": number(0.1, 100.0),  # default 4 km; judgement
    "population.local_authority_size_sd": number(0.0, 3.0),  # default 0.6 (Rutland to Kent); judgement
    "population.pupils_mean": listing(number(10.0, 5_000.0), BY_PHASE),  # DfE 2019: 45-960; 10 is the least
    "population.pupils_log_sd": listing(number(0.0, 2.0), BY_PHASE),  # default 0.35-0.5; judgement
    "population.pupil_teacher_ratio":  # DfE SWC 2019: 5.5-20.6; judgement
        listing(number(1.0, 60.0), BY_PHASE),
    "population.fsm_concentration": number(0.5, 1_000.0),  # Beta: U-shaped to every school at the mean
    "population.context_sd": number(0.0, 3.0),  # 0.72 calibrated; 3 sd of England's schools
    "population.deviation_sd": number(0.0, 3.0),  # 0.5; judgement, as context_sd
    "population.effectiveness_by_phase": listing(number(-3.0, 3.0), BY_PHASE),  # 3 sd either way
    "population.disadvantage_effect": number(0.0, 10.0),  # 2.2 calibrated; judgement
    "population.leadership_mean": number(0.05, 0.95),  # natural: a Beta mean inside 0-1
    "population.leadership_sd": number(0.01, 0.3),  # 0.15; judgement; capped by the model
    "population.self_assessment_accuracy_mean": number(0.05, 0.95),  # natural: a Beta mean inside 0-1
    "population.behaviour_mean": number(0.05, 0.95),  # natural: behaviour is clipped to 0.05-1
    "population.resistant_academy_share": SHARE,  # natural
    "population.early_career_year1_share": number(0.0, 0.5),  # DfE SWC about 6%; judgement
    "population.early_career_year2_share": number(0.0, 0.5),  # DfE SWC about 5.5%; judgement
    "population.starting_vacancy_rate": number(0.0, 0.5),  # DfE SWC 0.2-0.6%; judgement
    "population.cluster_share_of_maintained": SHARE,  # natural
    "population.cluster_size": listing(integer(2, 50), 2, ordered_pair=True),  # EEF 2023: 3-7; judgement
    "population.mat_size_log_sd": number(0.0, 3.0),  # default 1.1; judgement
    "population.schools_per_hub": integer(1, 1_000),  # seed 000: 12; judgement
    "population.sat_secondary_weight": number(0.01, 100.0),  # 3.0; a relative chance, positive; judgement
    "population.academy_weight_by_grade":  # 1-4; relative, positive; judgement
        listing(number(0.01, 100.0), BY_GRADE),
    # policy
    "policy.name": TEXT,
    "policy.start_year": integer(0, 100),  # as horizon_years
    "policy.end_year": integer(0, 100, nullable=True),  # as horizon_years
    # workforce
    "model.workforce.leaving_rate_experienced": RATE,  # DfE SWC: 8-10%; RATE
    "model.workforce.leaving_rate_early_career_year1": RATE,  # NFER 2018: 11-15%; RATE
    "model.workforce.leaving_rate_early_career_year2": RATE,  # NFER 2018: 0.10; RATE
    "model.workforce.moving_rate": RATE,  # DfE SWC: 5-8%; RATE
    "model.workforce.leaving_multiplier_by_grade":  # 0.9-1.35; judgement
        listing(number(0.0, 10.0), BY_GRADE),
    "model.workforce.moving_multiplier_by_grade": listing(number(0.0, 10.0), BY_GRADE),  # 0.8-1.6; judgement
    "model.workforce.workload_elasticity": number(0.0, 5.0),  # 0.8; seed 004: rises with workload; judgement
    "model.workforce.disadvantage_elasticity": number(0.0, 5.0),  # 0.8; judgement
    "model.workforce.early_career_share_of_entrants": SHARE,  # natural
    "model.workforce.attractiveness_by_grade": listing(number(0.0, 10.0), BY_GRADE),  # 0.55-1.3; judgement
    "model.workforce.attractiveness_workload_elasticity": number(0.0, 5.0),  # 1.0; judgement
    "model.workforce.attractiveness_disadvantage_elasticity": number(0.0, 5.0),  # 1.5; judgement
    "model.workforce.accountability_workload_by_grade": listing(number(0.0, 1.0), BY_GRADE),  # WORKLOAD
    "model.workforce.maintained_data_reporting": number(0.0, 1.0),  # WORKLOAD
    # diagnosis
    "model.diagnosis.goal_effectiveness": number(-5.0, 5.0),  # -0.95 (just inside good); judgement
    "model.diagnosis.error_sd": number(0.0, 3.0),  # EFFECT_SD; Morris 0.3-0.9
    "model.diagnosis.taker_need_threshold": number(0.0, 3.0),  # EFFECT_SD
    "model.diagnosis.accuracy_gain_from_inspection": SHARE,  # natural
    "model.diagnosis.accuracy_drift_per_year": SHARE,  # natural
    "model.diagnosis.accuracy_loss_new_head": SHARE,  # natural
    # capacity
    "model.capacity.giver_min_head_tenure_terms": integer(0, 30),  # default 3; ten years; judgement
    "model.capacity.giver_capacity_fte": number(0.0, 2.0),  # 0.2 FTE; two staff full time; judgement
    "model.capacity.outstanding_giver_bonus": number(0.0, 3.0),  # 0.5; judgement
    "model.capacity.distance_decay_km": number(0.1, 1_000.0),  # seed 000: 15 km; 1,000 is no decay
    "model.capacity.central_team_base_fte": number(0.0, 20.0),  # Greany 2018: 0.5; judgement
    "model.capacity.central_team_fte_per_school": number(0.0, 2.0),  # Greany 2018: 0.15; judgement
    "model.capacity.local_authority_fte_per_maintained_school": number(0.0, 1.0),  # 0.03; judgement
    "model.capacity.local_authority_capacity_change_per_year":  # -3%; none left to +50%; judgement
        number(-1.0, 0.5),
    "model.capacity.local_authority_prescriptiveness": SHARE,  # natural
    "model.capacity.peer_prescriptiveness": SHARE,  # natural
    "model.capacity.peer_support_share": SHARE,  # natural
    "model.capacity.giver_drain_rate": number(0.0, 1.0),  # 0.06 a term; Morris 0-0.12; EFFECT_SD
    "model.capacity.improvement_fte_cost_gbp_per_year": number(0.0, 500_000.0),  # £75,000; COST
    "model.capacity.budget_fte_cost_gbp_per_year": number(10_000.0, 1_000_000.0),  # seed 004: £90,000; COST
    "model.capacity.budget_prescriptiveness": SHARE,  # natural
    # improvement
    "model.improvement.own_improvement_rate": SHARE,  # natural: a share of the gap a term
    "model.improvement.leadership_weight": number(0.0, 10.0),  # 2.0; judgement
    "model.improvement.support_effect": number(0.0, 5.0),  # 0.5, Morris 0.25-1; 5 closes 99% per FTE
    "model.improvement.need_scale": number(0.1, 10.0),  # 1.0 effectiveness unit; a tenth to ten; judgement
    "model.improvement.fit_weight": number(0.0, 5.0),  # 0.7; fit is clipped to 0-1; judgement
    "model.improvement.behaviour_gain": number(0.0, 5.0),  # 0.4; behaviour is clipped to 0-1; judgement
    "model.improvement.behaviour_drift_per_year": SHARE,  # natural
    "model.improvement.churn_penalty": number(0.0, 5.0),  # 0.5; judgement
    "model.improvement.vacancy_penalty": number(0.0, 20.0),  # 2.0 (vacancy rates are ~0.003); judgement
    "model.improvement.early_career_penalty": number(0.0, 5.0),  # 0.5; judgement
    "model.improvement.reference_turnover": number(0.0, 2.0),  # DfE SWC: 0.15; two rates below 0.95
    "model.improvement.reference_vacancy_rate": SHARE,  # natural (DfE SWC 0.2-0.6%)
    "model.improvement.reference_early_career_share": SHARE,  # natural
    "model.improvement.shock_sd": number(0.0, 1.0),  # seed 002: 0.15, Morris 0.1-0.2; EFFECT_SD
    "model.improvement.major_shock_probability_per_year": RATE,  # seed 002: 0.03; RATE
    "model.improvement.major_shock_size": number(0.0, 3.0),  # seed 002: 0.5; EFFECT_SD
    # inspection
    "model.inspection.cut_points": listing(number(-10.0, 10.0), 3, increasing=True),  # calibrated; judgement
    "model.inspection.noise_sd": number(0.0, 2.0),  # 0.3; 2 makes grades nearly random; EFFECT_SD
    "model.inspection.interval_years_by_grade":  # Ofsted 2019: 1.5-4; judgement
        listing(number(0.34, 20.0), BY_GRADE),
    "model.inspection.interval_jitter_years": number(0.0, 5.0),  # 0.5; judgement
    "model.inspection.risk_margin": number(0.0, 3.0),  # 0.4; EFFECT_SD
    "model.inspection.risk_inspection_probability_per_term": SHARE,  # natural
    # structure
    "model.structure.head_leaving_rate": SHARE,  # natural (NFER/DfE: about 10%)
    "model.structure.head_replacement_after_inadequate": SHARE,  # natural
    "model.structure.new_head_sd": number(0.0, 1.0),  # natural: capacity is 0-1
    "model.structure.academy_order_probability": SHARE,  # natural
    "model.structure.rebrokering_probability": SHARE,  # natural
    "model.structure.conversion_rate_by_phase": listing(SHARE, BY_PHASE),  # natural
    "model.structure.converter_joins_mat_share": SHARE,  # natural (with the next, at most 1)
    "model.structure.converter_forms_mat_share": SHARE,  # natural
    "model.structure.new_mat_founding_schools": listing(integer(1, 50), 2, ordered_pair=True),  # judgement
    "model.structure.single_academy_trust_joins_mat_rate": SHARE,  # natural
    "model.structure.voluntary_transfer_rate": SHARE,  # natural
    "model.structure.small_mat_merger_rate": SHARE,  # natural
    "model.structure.small_mat_max_schools": integer(1, 1_000),  # 4; judgement
    "model.structure.search_radius_km": number(0.0, 1_000.0),  # 40 km; England is 550 km across
    "model.structure.candidates_logged": integer(0, 100),  # 5; judgement
    "model.structure.new_hub_min_schools": integer(1, 1_000),  # 8; judgement
    # trusts
    "model.trusts.giver_taker_threshold": number(0.0, 100.0),  # Greany 2018: 3-4; 0 off, 100 shuts
    "model.trusts.hub_radius_km": number(0.0, 1_000.0),  # seed 000: 25 km; sweeps 10-50
    "model.trusts.growth_cap_per_year": integer(0, 1_000),  # 3; judgement
    "model.trusts.risk_appetite_mean": SHARE,  # natural
    "model.trusts.prescriptiveness_mean": SHARE,  # natural
    "model.trusts.data_reporting_intensity": number(0.0, 1.0),  # seed 004: 0.08; WORKLOAD
    "model.trusts.single_academy_trust_data_reporting": number(0.0, 1.0),  # 0.04; WORKLOAD
    "model.trusts.leadership_pool_bonus": number(-0.5, 0.5),  # 0; natural: head capacity is 0-1 round 0.6
    "model.trusts.prescriptiveness_adaptation_per_year": SHARE,  # natural
    "model.trusts.prescriptiveness_mix_slope": number(0.0, 10.0),  # 1.5; the result is clipped; judgement
    # universal partnership
    "policy.universal_partnership.cluster_size":  # EEF 2023; judgement
        listing(integer(2, 50), 2, ordered_pair=True),
    "policy.universal_partnership.include_single_academy_trusts": FLAG,
    "policy.universal_partnership.review_accuracy_gain": SHARE,  # natural
    "policy.universal_partnership.peer_support_share": SHARE,  # natural
    "policy.universal_partnership.review_days_per_school": number(0.0, 50.0),  # EEF 2023: 6; judgement
    "policy.universal_partnership.staff_day_cost_gbp": number(0.0, 2_000.0),  # £450; COST
    "policy.universal_partnership.review_workload": number(0.0, 1.0),  # 0.02; WORKLOAD
    # MAT contracting
    "policy.mat_contracting.contract_length_years": integer(1, 10),  # 2 (sweeps 1-3); judgement
    "policy.mat_contracting.target_grades": integer(0, 3),  # natural: four grades
    "policy.mat_contracting.eligible_grades": listing(integer(1, 4)),  # natural: grades 1-4
    "policy.mat_contracting.proven_reputation": number(1.0, 4.0),  # natural: a mean grade
    "policy.mat_contracting.minimum_supplier_record": SHARE,  # natural
    "policy.mat_contracting.contract_giver_taker_threshold": number(0.0, 100.0),  # 2.0; as the trusts' own
    "policy.mat_contracting.contract_distance_factor": number(0.0, 10.0),  # 1.5 hub radii; judgement
    "policy.mat_contracting.contracts_per_trust": integer(0, 100),  # 2; judgement
    "policy.mat_contracting.contract_support_fte": number(0.0, 5.0),  # 0.5; judgement
    "policy.mat_contracting.contract_fee_gbp_per_year": number(0.0, 1_000_000.0),  # £90,000; COST
    "policy.mat_contracting.conversion_on_success": SHARE,  # natural
    "policy.mat_contracting.supplier_record_penalty": SHARE,  # natural: the record is 0-1
    "policy.mat_contracting.supplier_record_gain": SHARE,  # natural: the record is 0-1
    # local governance
    "policy.local_governance.measurement_error_sd": number(0.0, 3.0),  # 0.1; EFFECT_SD
    "policy.local_governance.buy_in_gain_per_year": SHARE,  # natural
    "policy.local_governance.data_burden_workload": number(0.0, 1.0),  # 0.08; WORKLOAD
    "policy.local_governance.data_burden_cost_gbp_per_teacher_per_year": number(0.0, 10_000.0),  # £400; COST
    "policy.local_governance.workload_strategy": FLAG,
    "policy.local_governance.workload_strategy_reduction": SHARE,  # natural
    "policy.local_governance.measuring_system_cost_gbp_per_year": number(0.0, 1e7),  # £250,000; COST
}


def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted key, value) of a nested dict; lists are values, not branches."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def check_value(key: str, value: Any) -> None:
    """Raise ConfigError with a one-line message if `value` is not allowed for `key`."""
    rule = RULES.get(key)
    if rule is None:
        raise ConfigError(f"'{key}' has no validation rule; add one to sim/parameters.py")
    problem = _problem(rule, value)
    if problem is not None:
        raise ConfigError(f"{key}={format_value(value)} is not allowed: {key} must be "
                          f"{rule.describe()}{problem}")


def _problem(rule: Rule, value: Any) -> str | None:
    """'' or None when the value fits; otherwise a (possibly empty) extra explanation."""
    if value is None:
        return None if rule.nullable else ""
    if rule.kind == "flag":
        return None if isinstance(value, bool) else ""
    if rule.kind == "text":
        return None if isinstance(value, str) and value.strip() else ""
    if rule.kind == "list":
        assert rule.item is not None
        if not isinstance(value, list | tuple):
            return f" (write it as a list: '[{format_value(value)}]')"
        if rule.length is not None and len(value) != rule.length:
            return f" (got {len(value)} values)"
        for item in value:
            if _problem(rule.item, item) is not None:
                return ""
        if rule.increasing and any(b <= a for a, b in itertools.pairwise(value)):
            return ""
        if rule.ordered_pair and value[0] > value[1]:
            return ""
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if rule.kind == "integer" and not float(value).is_integer():
        return ""
    if not rule.low <= value <= rule.high:
        return ""
    return None


def format_value(value: Any, quote_text: bool = False) -> str:
    """A value as it is written in a Hydra override (text quoted if `quote_text`)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return "[" + ",".join(format_value(v, quote_text) for v in value) + "]"
    if isinstance(value, str) and quote_text:
        return "'" + value.replace("'", "\\'") + "'"
    return str(value)


def check_config(config: dict[str, Any]) -> None:
    """Check every leaf of a resolved job config, and the rules that span several keys."""
    for key, value in leaves(config):
        check_value(key, value)
    structure = config["model"]["structure"]
    if structure["converter_joins_mat_share"] + structure["converter_forms_mat_share"] > 1:
        raise ConfigError(
            "model.structure.converter_joins_mat_share + converter_forms_mat_share must be at "
            "most 1 (the rest of converters become single-academy trusts)")
    if abs(sum(config["scenario"]["phase_shares"]) - 1.0) > 1e-6:
        raise ConfigError("scenario.phase_shares must add up to 1 (primary, secondary, "
                          "special, alternative provision)")
    population = config["population"]
    scenario = config["scenario"]
    n_mats = scenario["n_multi_academy_trusts"]
    if population["name"] == "synthetic" and 0 < n_mats < scenario["n_schools"] / SCHOOLS_PER_MAT:
        raise ConfigError(
            f"scenario.n_multi_academy_trusts={n_mats} is too few for scenario.n_schools="
            f"{scenario['n_schools']}: use 0 or at least {math.ceil(scenario['n_schools'] / SCHOOLS_PER_MAT)}"
            f" (at most {SCHOOLS_PER_MAT} schools per MAT; a MAT's schools support each other "
            f"pairwise, so MATs of thousands of schools exhaust memory)")
    if population["name"] == "gias" and population["context_sd"] == population["deviation_sd"] == 0:
        raise ConfigError("population.context_sd and population.deviation_sd cannot both be 0 with "
                          "population=gias: the effectiveness behind a real grade is drawn from "
                          "their spread")
    if population["name"] == "gias":
        # The file itself is read by the builder (sim.population.gias); here only whether
        # there is one, so that a run stops before it starts.
        from sim.population.gias import check_path

        check_path(population["path"])
    policy = config["policy"]
    if policy["end_year"] is not None and policy["end_year"] < policy["start_year"]:
        raise ConfigError("policy.end_year must be null or no earlier than policy.start_year")
