"""What every parameter may be: its type and its allowed range.

The defaults and their documentation live in the YAML files under `configs/`; this module
says what values are allowed, so that a bad value stops a run before it starts with one
line naming the parameter and what it accepts. Every leaf of every composed config must
have a rule here (a test checks), and `check_config` applies them.
"""

from __future__ import annotations

import itertools
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


SHARE = Rule("share", 0.0, 1.0)
RATE = Rule("share", 0.0, 0.95)
POSITIVE = number(0.0)
FLAG = Rule("flag")
TEXT = Rule("text")


def listing(item: Rule, length: int | None = None, **options: bool) -> Rule:
    return Rule("list", length=length, item=item, **options)


BY_PHASE = 4  # primary, secondary, special, alternative provision
BY_GRADE = 4  # outstanding, good, requires improvement, inadequate

RULES: dict[str, Rule] = {
    # top level and output
    "seed": integer(0, 2**32 - 1),
    "horizon_years": integer(1, 100, nullable=True),
    "output.root": TEXT,
    "sensitivity.samples": Rule("text", nullable=True),
    "sensitivity.index": integer(0, 10**9, nullable=True),
    "output.school_panel": FLAG,
    "output.plots": FLAG,
    "output.progress": FLAG,
    # scenario
    "scenario.name": TEXT,
    "scenario.description": TEXT,
    "scenario.horizon_years": integer(1, 100),
    "scenario.start_year": integer(1900, 2200),
    "scenario.scale": number(0.001, 10.0),
    "scenario.n_schools": integer(10, 200_000),
    "scenario.n_local_authorities": integer(1, 2_000),
    "scenario.region_km": listing(number(1.0, 5_000.0), 2),
    "scenario.phase_shares": listing(SHARE, BY_PHASE),
    "scenario.academy_share": listing(SHARE, BY_PHASE),
    "scenario.n_multi_academy_trusts": integer(0, 50_000),
    "scenario.n_single_academy_trusts": integer(0, 50_000),
    "scenario.effectiveness_offset": number(-3.0, 3.0),
    "scenario.fsm_mean": number(0.01, 0.9),
    "scenario.fsm_spread_between_areas": number(0.0, 0.5),
    "scenario.trust_strength": number(-0.5, 0.5),
    "scenario.teacher_supply": number(0.1, 3.0),
    "scenario.local_authority_capacity": number(0.0, 10.0),
    "scenario.improvement_budget_gbp_per_year": number(0.0, 1e10),
    # population
    "population.name": TEXT,
    "population.path": Rule("text", nullable=True),
    "population.areas": listing(TEXT),
    "population.towns_per_local_authority": listing(integer(1, 50), 2, ordered_pair=True),
    "population.town_spread_km": number(0.1, 100.0),
    "population.local_authority_size_sd": number(0.0, 3.0),
    "population.pupils_mean": listing(number(1.0, 5_000.0), BY_PHASE),
    "population.pupils_log_sd": listing(number(0.0, 2.0), BY_PHASE),
    "population.pupil_teacher_ratio": listing(number(1.0, 60.0), BY_PHASE),
    "population.fsm_concentration": number(0.5, 1_000.0),
    "population.context_sd": number(0.0, 5.0),
    "population.deviation_sd": number(0.0, 5.0),
    "population.effectiveness_by_phase": listing(number(-3.0, 3.0), BY_PHASE),
    "population.disadvantage_effect": number(0.0, 20.0),
    "population.leadership_mean": number(0.05, 0.95),
    "population.leadership_sd": number(0.01, 0.3),
    "population.self_assessment_accuracy_mean": number(0.05, 0.95),
    "population.behaviour_mean": number(0.05, 0.95),
    "population.resistant_academy_share": SHARE,
    "population.early_career_year1_share": number(0.0, 0.5),
    "population.early_career_year2_share": number(0.0, 0.5),
    "population.starting_vacancy_rate": number(0.0, 0.5),
    "population.cluster_share_of_maintained": SHARE,
    "population.cluster_size": listing(integer(2, 50), 2, ordered_pair=True),
    "population.mat_size_log_sd": number(0.0, 3.0),
    "population.schools_per_hub": integer(1, 1_000),
    "population.sat_secondary_weight": number(0.0, 100.0),
    "population.academy_weight_by_grade": listing(number(0.0, 100.0), BY_GRADE),
    # policy
    "policy.name": TEXT,
    "policy.start_year": integer(0, 100),
    "policy.end_year": integer(0, 100, nullable=True),
    # workforce
    "model.workforce.leaving_rate_experienced": RATE,
    "model.workforce.leaving_rate_early_career_year1": RATE,
    "model.workforce.leaving_rate_early_career_year2": RATE,
    "model.workforce.moving_rate": RATE,
    "model.workforce.leaving_multiplier_by_grade": listing(number(0.0, 10.0), BY_GRADE),
    "model.workforce.moving_multiplier_by_grade": listing(number(0.0, 10.0), BY_GRADE),
    "model.workforce.workload_elasticity": number(-10.0, 10.0),
    "model.workforce.disadvantage_elasticity": number(-10.0, 10.0),
    "model.workforce.early_career_share_of_entrants": SHARE,
    "model.workforce.attractiveness_by_grade": listing(number(0.0, 10.0), BY_GRADE),
    "model.workforce.attractiveness_workload_elasticity": number(-10.0, 10.0),
    "model.workforce.attractiveness_disadvantage_elasticity": number(-10.0, 10.0),
    "model.workforce.accountability_workload_by_grade": listing(number(0.0, 5.0), BY_GRADE),
    "model.workforce.maintained_data_reporting": number(0.0, 5.0),
    # diagnosis
    "model.diagnosis.goal_effectiveness": number(-5.0, 5.0),
    "model.diagnosis.error_sd": POSITIVE,
    "model.diagnosis.taker_need_threshold": POSITIVE,
    "model.diagnosis.accuracy_gain_from_inspection": SHARE,
    "model.diagnosis.accuracy_drift_per_year": SHARE,
    "model.diagnosis.accuracy_loss_new_head": SHARE,
    # capacity
    "model.capacity.giver_min_head_tenure_terms": integer(0, 100),
    "model.capacity.giver_capacity_fte": number(0.0, 10.0),
    "model.capacity.outstanding_giver_bonus": number(0.0, 10.0),
    "model.capacity.distance_decay_km": number(0.1, 10_000.0),
    "model.capacity.central_team_base_fte": number(0.0, 100.0),
    "model.capacity.central_team_fte_per_school": number(0.0, 10.0),
    "model.capacity.local_authority_fte_per_maintained_school": number(0.0, 10.0),
    "model.capacity.local_authority_capacity_change_per_year": number(-1.0, 1.0),
    "model.capacity.local_authority_prescriptiveness": SHARE,
    "model.capacity.peer_prescriptiveness": SHARE,
    "model.capacity.peer_support_share": SHARE,
    "model.capacity.giver_drain_rate": number(0.0, 5.0),
    "model.capacity.improvement_fte_cost_gbp_per_year": number(0.0, 10_000_000.0),
    "model.capacity.budget_fte_cost_gbp_per_year": number(1.0, 10_000_000.0),
    "model.capacity.budget_prescriptiveness": SHARE,
    # improvement
    "model.improvement.own_improvement_rate": number(0.0, 1.0),
    "model.improvement.leadership_weight": number(0.0, 20.0),
    "model.improvement.support_effect": number(0.0, 100.0),
    "model.improvement.need_scale": number(0.01, 100.0),
    "model.improvement.fit_weight": number(0.0, 10.0),
    "model.improvement.behaviour_gain": number(0.0, 100.0),
    "model.improvement.behaviour_drift_per_year": SHARE,
    "model.improvement.churn_penalty": number(0.0, 100.0),
    "model.improvement.vacancy_penalty": number(0.0, 100.0),
    "model.improvement.early_career_penalty": number(0.0, 100.0),
    "model.improvement.reference_turnover": number(0.0, 2.0),
    "model.improvement.reference_vacancy_rate": SHARE,
    "model.improvement.reference_early_career_share": SHARE,
    "model.improvement.shock_sd": POSITIVE,
    "model.improvement.major_shock_probability_per_year": RATE,
    "model.improvement.major_shock_size": POSITIVE,
    # inspection
    "model.inspection.cut_points": listing(number(-10.0, 10.0), 3, increasing=True),
    "model.inspection.noise_sd": POSITIVE,
    "model.inspection.interval_years_by_grade": listing(number(0.34, 20.0), BY_GRADE),
    "model.inspection.interval_jitter_years": number(0.0, 5.0),
    "model.inspection.risk_margin": POSITIVE,
    "model.inspection.risk_inspection_probability_per_term": SHARE,
    # structure
    "model.structure.head_leaving_rate": SHARE,
    "model.structure.head_replacement_after_inadequate": SHARE,
    "model.structure.new_head_sd": number(0.0, 1.0),
    "model.structure.academy_order_probability": SHARE,
    "model.structure.rebrokering_probability": SHARE,
    "model.structure.conversion_rate_by_phase": listing(SHARE, BY_PHASE),
    "model.structure.converter_joins_mat_share": SHARE,
    "model.structure.converter_forms_mat_share": SHARE,
    "model.structure.new_mat_founding_schools": listing(integer(1, 50), 2, ordered_pair=True),
    "model.structure.single_academy_trust_joins_mat_rate": SHARE,
    "model.structure.voluntary_transfer_rate": SHARE,
    "model.structure.small_mat_merger_rate": SHARE,
    "model.structure.small_mat_max_schools": integer(1, 1_000),
    "model.structure.search_radius_km": number(0.0, 10_000.0),
    "model.structure.candidates_logged": integer(0, 1_000),
    "model.structure.new_hub_min_schools": integer(1, 10_000),
    # trusts
    "model.trusts.giver_taker_threshold": number(0.0, 100.0),
    "model.trusts.hub_radius_km": number(0.0, 10_000.0),
    "model.trusts.growth_cap_per_year": integer(0, 10_000),
    "model.trusts.risk_appetite_mean": SHARE,
    "model.trusts.prescriptiveness_mean": SHARE,
    "model.trusts.data_reporting_intensity": number(0.0, 5.0),
    "model.trusts.single_academy_trust_data_reporting": number(0.0, 5.0),
    "model.trusts.leadership_pool_bonus": number(-0.5, 0.5),
    "model.trusts.prescriptiveness_adaptation_per_year": SHARE,
    "model.trusts.prescriptiveness_mix_slope": number(0.0, 10.0),
    # universal partnership
    "policy.universal_partnership.cluster_size": listing(integer(2, 50), 2, ordered_pair=True),
    "policy.universal_partnership.include_single_academy_trusts": FLAG,
    "policy.universal_partnership.review_accuracy_gain": SHARE,
    "policy.universal_partnership.peer_support_share": SHARE,
    "policy.universal_partnership.review_days_per_school": number(0.0, 100.0),
    "policy.universal_partnership.staff_day_cost_gbp": number(0.0, 100_000.0),
    "policy.universal_partnership.review_workload": number(0.0, 5.0),
    # MAT contracting
    "policy.mat_contracting.contract_length_years": integer(1, 20),
    "policy.mat_contracting.target_grades": integer(0, 3),
    "policy.mat_contracting.eligible_grades": listing(integer(1, 4)),
    "policy.mat_contracting.proven_reputation": number(1.0, 4.0),
    "policy.mat_contracting.minimum_supplier_record": SHARE,
    "policy.mat_contracting.contract_giver_taker_threshold": number(0.0, 100.0),
    "policy.mat_contracting.contract_distance_factor": number(0.0, 100.0),
    "policy.mat_contracting.contracts_per_trust": integer(0, 1_000),
    "policy.mat_contracting.contract_support_fte": number(0.0, 10.0),
    "policy.mat_contracting.contract_fee_gbp_per_year": number(0.0, 1e8),
    "policy.mat_contracting.conversion_on_success": SHARE,
    "policy.mat_contracting.supplier_record_penalty": SHARE,
    "policy.mat_contracting.supplier_record_gain": SHARE,
    # local governance
    "policy.local_governance.measurement_error_sd": POSITIVE,
    "policy.local_governance.buy_in_gain_per_year": SHARE,
    "policy.local_governance.data_burden_workload": number(0.0, 5.0),
    "policy.local_governance.data_burden_cost_gbp_per_teacher_per_year": number(0.0, 1e6),
    "policy.local_governance.workload_strategy": FLAG,
    "policy.local_governance.workload_strategy_reduction": SHARE,
    "policy.local_governance.measuring_system_cost_gbp_per_year": number(0.0, 1e9),
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
    if population["name"] == "gias":
        # The file itself is read by the builder (sim.population.gias); here only whether
        # there is one, so that a run stops before it starts.
        from sim.population.gias import check_path

        check_path(population["path"])
    policy = config["policy"]
    if policy["end_year"] is not None and policy["end_year"] < policy["start_year"]:
        raise ConfigError("policy.end_year must be null or no earlier than policy.start_year")
