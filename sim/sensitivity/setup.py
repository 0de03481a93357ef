"""The analysis's set-up: the bounds file, the launcher and the output folder, checked
before anything is written; the sample drawn with SALib.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sim import CONFIG_DIR, errors
from sim.config import configure, register, to_dict
from sim.errors import UserError
from sim.files import write_json
from sim.folders import remove_if_empty
from sim.model import SUMMARY_SCALARS
from sim.schema import all_declarations

if TYPE_CHECKING:  # numpy and pandas load inside the functions, so that Ctrl-C during
    import numpy as np  # start-up reaches run_command and gives its one line
DEFAULT_CONFIG = CONFIG_DIR / "sensitivity_morris.yaml"
SETUP_KEYS = {"scenario", "horizon_years", "seed", "outcomes", "parameters"}
# Only the model's parameters can be varied: the seed, horizon and scenario are the
# analysis's own settings (in the bounds file), and output.* and sensitivity.* are not the
# model's.
VARIED_GROUPS = ("model.", "scenario.", "population.", "policy.")
class SensitivityError(UserError):
    """A problem with the analysis set-up; the message is one line for users."""

class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(f"'{key}' appears twice (lines {first} and {second})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = lines.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the safe loader refuses it
            if first != key_node.start_mark.line + 1:
                raise _DuplicateKey(key, first, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


def load_problem(path: Path) -> tuple[dict, dict]:
    """The SALib problem (names and bounds) and the rest of the set-up, checked."""

    try:
        setup = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise SensitivityError(f"{path} does not exist: give a bounds file like "
                               f"configs/sensitivity_morris.yaml") from None
    except _DuplicateKey as error:
        raise SensitivityError(f"{path}: {error}; YAML would keep only the last: give each "
                               f"once") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = error.strerror if isinstance(error, OSError) else type(error).__name__
        raise SensitivityError(f"{path} is not a readable YAML bounds file ({reason}): see "
                               f"configs/sensitivity_morris.yaml") from None
    if not isinstance(setup, dict) or not set(setup) >= SETUP_KEYS:
        raise SensitivityError(f"{path} must be a mapping with {', '.join(sorted(SETUP_KEYS))}, "
                               f"as configs/sensitivity_morris.yaml")
    unknown = set(setup) - SETUP_KEYS
    if unknown:
        raise SensitivityError(f"{path}: unknown entry '{sorted(unknown)[0]}' (allowed: "
                               f"{', '.join(sorted(SETUP_KEYS))})")
    _check_setup(setup, path)
    declared = {d.key: d for d in all_declarations()}
    parameters = setup["parameters"]
    if not isinstance(parameters, dict) or len(parameters) < 2:
        raise SensitivityError(f"{path}: parameters must map at least two parameter names to "
                               f"bounds [low, high]")
    for name, bounds in parameters.items():
        declaration = declared.get(str(name))
        if declaration is None:
            raise SensitivityError(f"unknown parameter '{name}' in {path}")
        if not str(name).startswith(VARIED_GROUPS):
            raise SensitivityError(f"'{name}' in {path} cannot be varied: only the model's "
                                   f"parameters can (keys under {', '.join(VARIED_GROUPS)}); "
                                   f"the seed and horizon are the bounds file's own entries")
        if declaration.rule.kind not in ("number", "integer"):
            raise SensitivityError(f"{name} in {path} is {declaration.rule.describe()}: only "
                                   f"single numbers can be varied")
        if not (isinstance(bounds, list) and len(bounds) == 2
                and all(finite_number(b) for b in bounds) and bounds[0] < bounds[1]):
            raise SensitivityError(f"{name} in {path} needs bounds [low, high] with low < high, "
                                   f"both numbers")
        rule = declaration.rule
        if not (rule.low <= bounds[0] and bounds[1] <= rule.high):
            raise SensitivityError(f"bounds of {name} in {path} must lie within "
                                   f"{rule.describe()}")
    _check_in_the_runs(list(parameters), setup, path)
    problem = {"num_vars": len(parameters), "names": [str(n) for n in parameters],
               "bounds": [[float(b) for b in bounds] for bounds in parameters.values()]}
    return problem, setup


def _check_in_the_runs(names: list[str], setup: dict, path: Path) -> None:
    """Every parameter is one of the config the runs will have (the status quo policy's)."""

    config = to_dict(configure([f"scenario={setup['scenario']}", f"seed={setup['seed']}",
                                f"horizon_years={setup['horizon_years']}"]))
    for name in names:
        try:
            get_key(config, name)
        except (KeyError, TypeError):
            raise SensitivityError(
                f"'{name}' in {path} is not a parameter of the analysis's runs "
                f"(scenario={setup['scenario']}, population={config['population']['name']}, "
                f"policy={config['policy']['name']}): list theirs with `python -m sim "
                f"scenario={setup['scenario']} --cfg job`") from None


def finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_setup(setup: dict, path: Path) -> None:
    scenarios = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    if setup["scenario"] not in scenarios:
        raise SensitivityError(f"{path}: scenario '{setup['scenario']}' is not one of "
                               f"{', '.join(scenarios)}")
    for key, low, high in (("seed", 0, 2**32 - 1), ("horizon_years", 1, 100)):
        value = setup[key]
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            raise SensitivityError(f"{path}: {key} must be a whole number from {low} to {high}")
    outcomes = setup["outcomes"]
    if not (isinstance(outcomes, list) and outcomes and all(isinstance(o, str) for o in outcomes)):
        raise SensitivityError(f"{path}: outcomes must be a list of names from summary.json")
    for outcome in outcomes:
        if outcome not in SUMMARY_SCALARS:
            raise SensitivityError(f"{path}: outcome '{outcome}' is not a number of "
                                   f"summary.json; choose from {', '.join(SUMMARY_SCALARS)}")


def check_output(output: Path) -> None:
    """The output path is a folder, or can become one (nothing on its way is a file, it is
    no link to nowhere), and Hydra can be given it (no `${`, which it would interpolate)."""
    if "${" in str(output):
        raise SensitivityError(f"--output {output}: '${{' in a folder's name would be read "
                               f"as an interpolation by the runs' config: name a folder "
                               f"without it")
    if output.is_symlink() and not output.exists():
        raise SensitivityError(f"--output {output} is a symbolic link to {os.readlink(output)}, "
                               f"which does not exist: name a folder, or create the link's "
                               f"target first")
    for folder in (output, *output.parents):
        if folder.exists():
            if not folder.is_dir():
                raise SensitivityError(f"--output {output}: {folder} is a file, not a folder: "
                                       f"name a folder for the sample, runs and results")
            return


def check_launcher(name: str) -> None:
    """The launcher is an option of Hydra's hydra/launcher group, as `python -m sim` has it."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra


    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        options = sorted(GlobalHydra.instance().config_loader().get_group_options(
            "hydra/launcher"))
    if name not in options:
        raise SensitivityError(f"unknown launcher '{name}' (--launcher): choose one of "
                               f"{', '.join(options)}")


def draw_sample(problem: dict, sobol: bool, size: int, seed: int) -> np.ndarray:
    if sobol:
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, size, calc_second_order=False, seed=seed)
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, size, num_levels=4, seed=seed)


def claim_output(output: Path, description: dict) -> None:
    """Keep the output folder for this sample: refuse one that holds another's runs."""
    record = output / "sample.json"
    if record.exists():
        try:
            existing = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None
        if existing != description:
            raise SensitivityError(f"{output} holds the runs of another sample (other bounds, "
                                   f"size or seeds): give a new --output, or remove that folder "
                                   f"to start again")
        return
    if output.exists() and any(output.iterdir()):
        raise SensitivityError(f"{output} already holds files that are not a sensitivity "
                               f"analysis's: give a new --output")
    output.mkdir(parents=True, exist_ok=True)
    write_json(record, description)


def discard_if_nothing_ran(output: Path, created: list[Path]) -> None:
    """After a failure (not an interruption, which keeps the sample to resume from):
    remove the output folder this command created (`created`, deepest first, as
    `sim.folders.missing_ancestors` lists it) when no run in it is complete, so that an
    analysis that never got going leaves nothing behind."""
    if not created or any((output / "runs").glob("*/summary.json")):
        return
    shutil.rmtree(created[0], ignore_errors=True)
    remove_if_empty(created[1:])
    errors.interruption_note = "nothing was kept"


def get_key(config: dict, dotted: str) -> Any:
    """The value at a dotted key of a nested dict (KeyError if there is none)."""
    for part in str(dotted).split("."):
        config = config[part]
    return config
