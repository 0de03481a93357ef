"""Every numeric parameter at the ends of its allowed range gives a run with finite outputs.

Issue 11: accepted inputs must neither crash nor produce NaN or inf where a number is
promised. For every numeric parameter declared (`sim.config.all_declarations`), a small
model under all three
policies for two years is run with the parameter at its low bound and at its high bound
(lists: every item at its low or high bound, and the corners of rules that span items).
`SchoolSystemModel.results()` refuses non-finite numbers outside the columns
results/README.md lists as possibly empty; here the run must finish, and summary.json must
be strict JSON.

Three small places: a fifth of the Opportunity Area (one local authority), a hundredth of
England (two), and the invented GIAS extract. The fast test runs each bound once, in one of
the three places in turn (about 20 s); the slow one runs every bound in every place but
the largest: `scenario.scale` at its top makes fifty Opportunity Areas here, while fifty
Englands (a million schools, minutes to build) are left to `benchmarks/scaling.py`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.errors import ConfigError, NonFiniteOutputError
from sim.metrics import MAY_BE_EMPTY
from sim.parameters import Rule, check_parameters, check_value
from sim.phases import capacity
from sim.population.synthetic import SCHOOLS_PER_MAT
from sim.population.traits import beta_from_mean_sd
from sim.run import simulate
from sim.schema import RunConfig, all_declarations
from tests.conftest import GIAS_FIXTURE, REPOSITORY, make_config, make_model

# Three small places; every lever of every policy in force.
BASES = {
    "opportunity_area": ("scenario=opportunity_area", "scenario.scale=0.2"),
    "national": ("scenario=national", "scenario.scale=0.01"),
    "gias": ("population=gias", f"population.path={GIAS_FIXTURE}"),
}
# A variant building more schools than this runs only in the slow test, and one building
# more than the slow limit in neither (England x50 takes minutes and gigabytes).
FAST_MAX_SCHOOLS = 5_000
SLOW_MAX_SCHOOLS = 250_000
COMMON = ("policy=combined", "horizon_years=2", "seed=5")


def numeric(rule: Rule) -> bool:
    item = rule.item if rule.kind == "list" else rule
    return item is not None and item.kind in ("number", "integer")


RULES = {d.key: d.rule for d in all_declarations()}
# The settings of +uncertainty=plausible choose a row of a plausible table rather than enter
# the model (the values they give are the table's, inside the study's ranges); their limits
# are tested in tests/test_parameter_sets.py.
NUMERIC = sorted(key for key, rule in RULES.items()
                 if numeric(rule) and not key.startswith("uncertainty."))


def _value(rule: Rule, value: float) -> float | int:
    return int(value) if rule.kind == "integer" else float(value)


def extremes(key: str, default: Any) -> Iterator[tuple[str, Any]]:
    """(label, value) at the ends of the rule's range; lists at the ends of their items'."""
    rule = RULES[key]
    if rule.kind != "list":
        yield "low", _value(rule, rule.low)
        yield "high", _value(rule, rule.high)
        return
    item = rule.item
    assert item is not None
    low, high = _value(item, item.low), _value(item, item.high)
    n = len(default)
    if key == "scenario.phase_shares":  # must add up to 1: the corners
        for phase in range(n):
            yield f"only phase {phase}", [1.0 if i == phase else 0.0 for i in range(n)]
    elif rule.increasing:
        step = (item.high - item.low) / 100
        yield "low", [item.low + i * step for i in range(n)]
        yield "high", [item.high - (n - 1 - i) * step for i in range(n)]
        yield "spread", list(np.linspace(item.low, item.high, n))
    elif rule.ordered_pair:
        yield "low", [low, low]
        yield "high", [high, high]
        yield "spread", [low, high]
    else:
        yield "low", [low] * n
        yield "high", [high] * n


def get(parameters: Any, key: str) -> Any:
    for part in key.split("."):
        parameters = getattr(parameters, part)
    return parameters


def set_key(parameters: Any, key: str, value: Any) -> Any:
    """A copy of the (frozen) parameters with one dotted key changed."""
    head, _, rest = key.partition(".")
    if not rest:
        return dataclasses.replace(parameters, **{head: value})
    return dataclasses.replace(parameters, **{head: set_key(getattr(parameters, head), rest, value)})


def make_feasible(config: RunConfig, key: str) -> RunConfig:
    """Adjust the partner of a parameter whose rule spans keys, so the config is valid."""
    shares = ("converter_joins_mat_share", "converter_forms_mat_share")
    if key.startswith("model.structure.converter_"):
        this = shares.index(key.rsplit(".", 1)[1])
        other = f"model.structure.{shares[1 - this]}"
        config = set_key(config, other, min(get(config, other), 1.0 - get(config, key)))
    if key == "scenario.horizon_years":
        config = set_key(config, "horizon_years", None)  # the scenario's applies only then
    scenario = config.scenario
    if scenario.n_multi_academy_trusts > 0:  # at most SCHOOLS_PER_MAT schools per MAT
        config = set_key(config, "scenario.n_multi_academy_trusts", max(
            scenario.n_multi_academy_trusts, math.ceil(scenario.n_schools / SCHOOLS_PER_MAT)))
    return config


def schools_built(config: RunConfig) -> int:
    if config.population.name == "gias":
        return 50
    return max(10, round(config.scenario.n_schools * config.scenario.scale))


def cases(every_base: bool) -> Iterator[Any]:
    """One case per bound: in every place, or in one place per parameter in turn."""
    for number, key in enumerate(NUMERIC):
        bases = list(BASES) if every_base else [list(BASES)[number % len(BASES)]]
        for base in bases:
            for label, value in extremes(key, get(base_config(base), key)):
                config = make_feasible(set_key(base_config(base), key, value), key)
                big = schools_built(config) > FAST_MAX_SCHOOLS
                if (big and not every_base) or schools_built(config) > SLOW_MAX_SCHOOLS:
                    continue
                yield pytest.param(key, value, base, id=f"{key}={label}-{base}",
                                   marks=[pytest.mark.slow] if every_base else [])


_BASE_CONFIGS: dict[str, RunConfig] = {}


def base_config(base: str) -> RunConfig:
    if base not in _BASE_CONFIGS:
        _BASE_CONFIGS[base] = make_config(*BASES[base], *COMMON, "output.school_panel=true")
    return _BASE_CONFIGS[base]  # frozen: changed only by copies


def assert_strict_summary(summary: dict[str, Any]) -> None:
    """Every number of summary.json is finite; an undefined one is None."""
    for key, value in summary.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"summary {key} = {value}"
    json.dumps(summary, allow_nan=False)


def assert_finite_outputs(result: Any) -> None:
    frames = {"timeseries": result.timeseries, "schools": result.schools, "events": result.events,
              "cohorts": result.cohorts}
    for name, frame in frames.items():
        for column in frame.columns:
            series = frame[column]
            if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
                continue
            values = series.to_numpy(dtype=float, na_value=np.nan)
            assert not np.isinf(values).any(), f"{name}.{column} holds inf"
            if column not in MAY_BE_EMPTY[name]:
                assert not np.isnan(values).any(), f"{name}.{column} holds NaN or null"
    assert_strict_summary(result.summary)


def run_at_bound(key: str, value: Any, base: str) -> None:
    config = make_feasible(set_key(base_config(base), key, value), key)
    check_parameters(config)  # the bound itself is allowed
    assert_finite_outputs(simulate(config))


@pytest.mark.parametrize(("key", "value", "base"), list(cases(every_base=False)))
def test_parameter_at_its_bound_gives_finite_outputs(key, value, base):
    run_at_bound(key, value, base)


@pytest.mark.parametrize(("key", "value", "base"), list(cases(every_base=True)))
def test_parameter_at_its_bound_gives_finite_outputs_everywhere(key, value, base):
    run_at_bound(key, value, base)


# -- the rules themselves ----------------------------------------------------------------

def test_every_numeric_rule_has_a_finite_range():
    for key in NUMERIC:
        rule = RULES[key]
        item = rule.item if rule.kind == "list" else rule
        assert math.isfinite(item.low) and math.isfinite(item.high), key


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e309])
def test_non_finite_values_are_refused_everywhere(value):
    for key in NUMERIC:
        rule = RULES[key]
        candidate = [value] * (rule.length or 2) if rule.kind == "list" else value
        with pytest.raises(ConfigError):
            check_value(key, candidate, rule)


def _swept_values() -> Iterator[tuple[str, Any]]:
    morris = yaml.safe_load((REPOSITORY / "configs" / "sensitivity_morris.yaml").read_text())
    for key, (low, high) in morris["parameters"].items():
        yield key, low
        yield key, high
    for path in sorted((REPOSITORY / "configs" / "experiment").glob("*.yaml")):
        params = yaml.safe_load(path.read_text())["hydra"]["sweeper"]["params"]
        for key, values in params.items():
            if key in ("seed", "policy"):
                continue
            for value in str(values).split(","):
                yield key, yaml.safe_load(value)


def test_sensitivity_ranges_and_experiment_sweeps_are_inside_the_rules():
    for key, value in _swept_values():
        check_value(key, value, RULES[key])


# -- the cases issue 11 reported ---------------------------------------------------------

@pytest.mark.parametrize("overrides", [
    ["model.trusts.giver_taker_threshold=0"],
    ["policy=mat_contracting", "policy.mat_contracting.contract_giver_taker_threshold=0"],
    ["scenario.scale=0.05"],
    ["scenario.scale=0.001"],
    ["scenario=national", "scenario.scale=0.001"],
    ["scenario.n_multi_academy_trusts=0", "scenario.n_single_academy_trusts=0"],
    ["scenario.academy_share=[0,0,0,0]"],
    ["scenario.academy_share=[1,1,1,1]"],
    ["population.leadership_mean=0.95", "population.leadership_sd=0.3"],
    ["population.leadership_mean=0.05", "population.leadership_sd=0.3"],
    ["scenario.n_schools=10", "scenario.n_local_authorities=1000"],
    ["scenario.n_schools=10", "scenario.n_local_authorities=10"],
    ["population=gias", f"population.path={GIAS_FIXTURE}", "population.leadership_mean=0.95",
     "population.leadership_sd=0.3"],
    ["scenario=national", "scenario.scale=0.001", "scenario.n_local_authorities=1000"],
    ["scenario.phase_shares=[0,1,0,0]"],
    ["horizon_years=1"],
], ids=lambda overrides: " ".join(overrides))
def test_reported_cases_run_with_finite_outputs(overrides):
    config = make_config(*overrides, "seed=2", "output.school_panel=true")  # checked on loading
    assert_finite_outputs(simulate(config))


@pytest.mark.parametrize(("key", "value"), [
    ("model.diagnosis.error_sd", float("inf")),
    ("model.diagnosis.error_sd", 1e309),
    ("model.improvement.major_shock_size", 1e308),
    ("model.inspection.noise_sd", 1e300),
])
def test_reported_non_finite_or_huge_values_are_refused(key, value):
    with pytest.raises(ConfigError, match=key):
        check_value(key, value, RULES[key])


@pytest.mark.parametrize(("overrides", "words"), [
    (["scenario=national", "scenario.n_multi_academy_trusts=10"], "at least 109"),
    (["population=gias", f"population.path={GIAS_FIXTURE}", "population.context_sd=0",
      "population.deviation_sd=0"], "cannot both be 0"),
])
def test_impossible_pairs_are_refused_in_one_line(overrides, words):
    with pytest.raises(ConfigError, match=words) as error:
        make_config(*overrides)
    assert "\n" not in str(error.value)


def test_a_place_has_no_more_local_authorities_than_schools():
    model = make_model("scenario.n_schools=10", "scenario.n_local_authorities=1000")
    assert model.n_areas == 10
    assert (np.bincount(model.schools.local_authority) == 1).all()


def test_no_trusts_at_all_leaves_academies_out_and_runs():
    # No school converts either (a conversion would found the place's first trust).
    model = make_model("scenario.academy_share=[0,0,0,0]", "horizon_years=1",
                       "model.structure.conversion_rate_by_phase=[0,0,0,0]")
    assert model.trusts.n == 0
    model.run()
    result = model.results()
    assert model.trusts.n == 0
    assert result.schools["trust_id"].isna().all()
    assert result.summary["good_or_better_final"] >= 0


def test_academies_with_no_multi_academy_trust_are_single_academy_trusts():
    """Zero trusts of both kinds with academies still asked for: each academy is a trust of
    one, as leftover MAT schools already were."""
    model = make_model("scenario.n_multi_academy_trusts=0", "scenario.n_single_academy_trusts=0")
    assert model.schools.is_academy.any()
    academies = model.schools.is_academy
    assert (model.schools.governance[academies] == 1).all()
    assert model.trusts.n == academies.sum()


# -- the causes, one by one ---------------------------------------------------------------

def test_a_threshold_of_zero_switches_the_giver_drain_off():
    # Before: 0 / 0 made the drain NaN, and x NaN spread it to every school.
    model = make_model("model.trusts.giver_taker_threshold=0", "model.capacity.giver_drain_rate=1")
    for _ in range(3):
        model.step()
        assert (model.schools.giver_drain == 0).all()
        assert np.isfinite(model.schools.effectiveness).all()


def test_local_authority_capacity_is_not_extrapolated_backwards_into_the_spin_up():
    # Before: (1 - 1) ** (negative years) raised ZeroDivisionError in the spin-up.
    model = make_model("model.capacity.local_authority_capacity_change_per_year=-1")
    at_start = capacity.local_authority_capacity_fte(model)
    model.term = -6
    assert np.array_equal(capacity.local_authority_capacity_fte(model), at_start)
    model.term = 1
    assert (capacity.local_authority_capacity_fte(model) == 0).all()


@pytest.mark.parametrize("mean", [0.05, 0.3, 0.6, 0.95])
def test_a_beta_sd_too_large_for_its_mean_is_capped(mean):
    draws = beta_from_mean_sd(mean, 0.3, 200_000, np.random.default_rng(0))
    assert np.isfinite(draws).all() and ((draws >= 0) & (draws <= 1)).all()
    assert draws.mean() == pytest.approx(mean, abs=0.01)
    assert draws.std() <= min(0.3, math.sqrt(mean * (1 - mean) / 2)) + 0.01


def test_a_beta_sd_that_fits_is_kept():
    draws = beta_from_mean_sd(0.6, 0.15, 200_000, np.random.default_rng(0))
    assert draws.std() == pytest.approx(0.15, abs=0.002)


# -- the safety net ----------------------------------------------------------------------

def test_results_refuse_a_non_finite_number_naming_column_and_term():
    model = make_model("horizon_years=1")
    model.run()
    model._timeseries[1]["effectiveness_mean"] = float("nan")
    with pytest.raises(NonFiniteOutputError, match=r"effectiveness_mean.*term 1"):
        model.results()


def test_results_allow_documented_empty_columns_but_not_inf_there():
    model = make_model("horizon_years=1")
    model.run()
    model._timeseries[0]["giver_taker_ratio_median"] = float("nan")
    model.results()
    model._timeseries[0]["giver_taker_ratio_median"] = float("inf")
    with pytest.raises(NonFiniteOutputError, match="giver_taker_ratio_median"):
        model.results()


def test_summary_holds_none_not_nan_for_undefined_values():
    # Nothing is gained in a year with no inspections that raise a grade and no budget.
    result = simulate(make_config("scenario.phase_shares=[0,1,0,0]", "horizon_years=1"))
    assert_strict_summary(result.summary)


def test_documented_empty_columns_are_in_the_results_readme():
    readme = (REPOSITORY / "results" / "README.md").read_text()
    for frame, columns in MAY_BE_EMPTY.items():
        for column in columns:
            assert f"`{column}`" in readme, (frame, column)
