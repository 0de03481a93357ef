"""Every config composes, every parameter has a rule, a documented default and an ODD entry."""

from __future__ import annotations

import itertools
import re

import pytest

from sim.cli import config_groups
from sim.config import CONFIG_DIR
from sim.parameters import RULES, ConfigError, check_config, check_value, leaves
from tests.conftest import GIAS_FIXTURE, REPOSITORY, make_config

GROUPS = config_groups()
COMBINATIONS = list(itertools.product(GROUPS["scenario"], GROUPS["population"], GROUPS["policy"],
                                      GROUPS["model"]))


@pytest.mark.parametrize(("scenario", "population", "policy", "model"), COMBINATIONS)
def test_every_combination_composes_and_validates(scenario, population, policy, model):
    # A population read from data needs its file.
    data = [f"population.path={GIAS_FIXTURE}"] if population == "gias" else []
    config = make_config(f"scenario={scenario}", f"population={population}",
                         f"policy={policy}", f"model={model}", *data)
    check_config(config)
    assert config["scenario"]["name"] == scenario
    assert config["policy"]["name"] == policy


def test_every_parameter_has_a_rule_and_every_rule_a_parameter():
    seen = set()
    for scenario, population, policy, model in COMBINATIONS:
        config = make_config(f"scenario={scenario}", f"population={population}",
                             f"policy={policy}", f"model={model}")
        seen |= {key for key, _ in leaves(config)}
    assert seen - set(RULES) == set(), "parameters without a rule in sim/parameters.py"
    assert set(RULES) - seen == set(), "rules in sim/parameters.py for no parameter"


def test_every_default_is_documented_in_its_yaml_file():
    """Each `key: value` line of a config file carries a comment saying what it is."""
    undocumented = []
    for path in sorted(CONFIG_DIR.rglob("*.yaml")):
        in_hydra_block = False
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.match(r"^hydra:", line):
                in_hydra_block = True
            elif re.match(r"^\S", line):
                in_hydra_block = False
            match = re.match(r"^\s*([a-z_0-9]+):\s*(\S.*)?$", line)
            if in_hydra_block or not match or line.lstrip().startswith(("-", "#")):
                continue
            value = (match.group(2) or "").split("#")[0].strip()
            if value and "#" not in line:
                undocumented.append(f"{path.relative_to(REPOSITORY)}:{number}: {line.strip()}")
    assert undocumented == []


def test_every_parameter_is_described_in_the_odd():
    odd = (REPOSITORY / "docs" / "ODD.md").read_text()
    missing = [key for key in RULES if f"`{key}`" not in odd]
    assert missing == []


def test_odd_parameter_tables_are_current():
    from sim.docs import main

    assert main(["--check"]) == 0, "run `python -m sim.docs` to regenerate docs/ODD.md tables"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("model.workforce.moving_rate", 1.5, "from 0 to 0.95"),
    ("seed", "abc", "whole number"),
    ("seed", -1, "whole number"),
    ("model.inspection.cut_points", [0.5, -1.0, 1.0], "strictly increasing"),
    ("scenario.phase_shares", [0.5, 0.5], "list of 4"),
    ("output.plots", "yes", "true or false"),
    ("horizon_years", 0, "from 1 to 100"),
    ("population.areas", "Blackpool", "write it as a list: '[Blackpool]'"),
])
def test_bad_values_are_refused_with_the_key_and_what_is_allowed(key, value, words):
    with pytest.raises(ConfigError) as error:
        check_value(key, value)
    message = str(error.value)
    assert key in message and words in message and "\n" not in message


def test_null_is_allowed_only_where_documented():
    check_value("horizon_years", None)
    check_value("policy.end_year", None)
    with pytest.raises(ConfigError):
        check_value("seed", None)


def test_rules_that_span_keys():
    config = make_config()
    config["policy"]["end_year"] = -1
    with pytest.raises(ConfigError):
        check_config(config)
    config = make_config("model.structure.converter_joins_mat_share=0.9",
                         "model.structure.converter_forms_mat_share=0.2")
    with pytest.raises(ConfigError, match="at most 1"):
        check_config(config)
