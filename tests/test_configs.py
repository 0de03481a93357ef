"""Every config composes; every parameter is declared once, with a meaning, a source and a
finite range; Hydra refuses what the declarations do not allow; the ODD tables are current."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import pytest
from hydra.errors import ConfigCompositionException

from sim.config import compose, configure
from sim.errors import ConfigError
from sim.parameters import REQUIRED, Rule, check_parameters, check_value
from sim.schema import LEVERS, RunConfig, all_declarations
from tests.conftest import GIAS_FIXTURE, REPOSITORY, make_config

SCENARIOS = sorted(p.stem for p in (REPOSITORY / "configs" / "scenario").glob("*.yaml"))
POLICIES = sorted(p.stem for p in (REPOSITORY / "configs" / "policy").glob("*.yaml"))
COMBINATIONS = list(itertools.product(SCENARIOS, ("synthetic", "gias"), POLICIES))


@pytest.mark.parametrize(("scenario", "population", "policy"), COMBINATIONS)
def test_every_combination_composes_into_a_typed_checked_config(scenario, population, policy):
    data = [f"population.path={GIAS_FIXTURE}"] if population == "gias" else []
    config = make_config(f"scenario={scenario}", f"population={population}",
                         f"policy={policy}", *data)
    assert isinstance(config, RunConfig)
    assert config.scenario.name == scenario and config.policy.name == policy
    assert config.population.name == population
    levers = {name for name in LEVERS if getattr(config.policy, name) is not None}
    assert levers == ({*LEVERS} if policy == "combined"
                      else {policy} & set(LEVERS))


def test_parameters_are_immutable():
    config = make_config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.model.trusts.giver_taker_threshold = 1.0  # type: ignore[misc]


def test_every_parameter_has_a_meaning_a_source_and_a_finite_justified_range():
    problems = []
    for declaration in all_declarations():
        if not declaration.meaning.strip() or not declaration.source.strip():
            problems.append(f"{declaration.key}: no meaning or no source")
        rule = declaration.rule.item if declaration.rule.kind == "list" else declaration.rule
        assert isinstance(rule, Rule)
        if rule.kind in ("number", "integer") and not (
                rule.low is not None and rule.high is not None
                and math.isfinite(rule.low) and math.isfinite(rule.high)):
            problems.append(f"{declaration.key}: range {rule.low}..{rule.high} is not finite")
        natural = (rule.low, rule.high) == (0, 1)  # a probability or a share
        if rule.kind in ("number", "integer") and not natural and not declaration.why:
            problems.append(f"{declaration.key}: no reason given for its range")
    assert problems == []


def test_every_default_is_allowed_by_its_own_rule():
    for declaration in all_declarations():
        if declaration.default is not REQUIRED:  # a scenario's values come from its option
            check_value(declaration.key, declaration.default, declaration.rule)
    check_parameters(make_config())


def test_hydra_refuses_an_unknown_key_and_a_wrong_type():
    with pytest.raises(ConfigCompositionException):
        compose(["model.trusts.giver_taker_treshold=4"])
    with pytest.raises(ConfigCompositionException):
        compose(["seed=abc"])
    with pytest.raises(ConfigCompositionException):
        compose(["population.path=x.csv"])  # a parameter of population=gias only


@pytest.mark.parametrize(("override", "words"), [
    ("model.workforce.moving_rate=1.5", "from 0 to 0.95"),
    ("model.inspection.cut_points=[0.5,-1.0,1.0]", "strictly increasing"),
    ("horizon_years=0", "from 1 to 100"),
    ("scenario.name=../x", "a name of letters"),
    ("policy.end_year=0 policy.start_year=1", "no earlier than policy.start_year"),
    ("model.structure.converter_joins_mat_share=0.9 "
     "model.structure.converter_forms_mat_share=0.2", "at most 1"),
    ("scenario.phase_shares=[0.5,0.5,0.1,0]", "add up to 1"),
])
def test_a_value_out_of_range_is_refused_in_one_line(override, words):
    with pytest.raises(ConfigError) as error:
        configure(override.split())
    assert words in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(("key", "value", "rule", "words"), [
    ("seed", -1, Rule("integer", 0, 10), "whole number from 0 to 10"),
    ("seed", 2.5, Rule("integer", 0, 10), "whole number"),
    ("x", float("nan"), Rule("number", 0, 1), "from 0 to 1"),
    ("x", float("inf"), Rule("number", 0, 1), "from 0 to 1"),
    ("areas", "Blackpool", Rule("list", item=Rule("text")), "write it as a list: '[Blackpool]'"),
    ("plots", "yes", Rule("flag"), "true or false"),
    ("end", None, Rule("integer", 0, 9), "whole number"),
])
def test_check_value_names_the_key_and_what_it_accepts(key, value, rule, words):
    with pytest.raises(ConfigError) as error:
        check_value(key, value, rule)
    assert key in str(error.value) and words in str(error.value)


def test_every_scenario_value_cites_its_source():
    """Scenario options are data about a place: each value carries a comment."""
    undocumented = []
    for path in sorted((REPOSITORY / "configs" / "scenario").glob("*.yaml")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = re.match(r"^([a-z_0-9]+):\s*(\S.*)$", line)
            if match and "#" not in line:
                undocumented.append(f"{path.name}:{number}: {line.strip()}")
    assert undocumented == []


def test_every_parameter_is_described_in_the_odd():
    odd = (REPOSITORY / "docs" / "ODD.md").read_text()
    missing = [d.key for d in all_declarations() if f"`{d.key}`" not in odd]
    assert missing == []


def test_odd_parameter_tables_are_current():
    from sim.docs import main

    assert main(["--check"]) == 0, "run `python -m sim.docs` to regenerate docs/ODD.md tables"
