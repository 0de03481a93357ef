"""The declared study: the free parameters to fit, with their ranges, and the targets.

Read from `configs/calibration/england.yaml` (or another file of the same layout) and
checked before any run: every key must be a declared numeric parameter
(`sim.schema.all_declarations`), its range inside the bounds its declaration allows, a log
scale above zero, every target a static or transition target of
`sim/calibration_targets.yaml`. Anything else is refused with one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim import CONFIG_DIR
from sim.errors import UserError
from sim.schema import all_declarations
from sim.scorecard.patterns import Pattern
from sim.scorecard.targets import Target, load_dynamic_targets, load_targets

DEFAULT_STUDY_FILE = CONFIG_DIR / "calibration" / "england.yaml"
SCALES = ("linear", "log")


@dataclass(frozen=True)
class FreeParameter:
    """One parameter the fit searches: its dotted key, range, scale and why."""

    key: str
    low: float
    high: float
    scale: str  # "linear" or "log"
    why: str
    integer: bool = False
    # The model's default value, if inside the range: a new study tries it first.
    default: float | None = None

    @property
    def column(self) -> str:
        """Its name as a column of the plausible set: the key without `model.`."""
        return self.key.removeprefix("model.")


@dataclass(frozen=True)
class StudyDeclaration:
    """What a fit searches and what it fits to."""

    parameters: tuple[FreeParameter, ...]
    static_targets: tuple[Target, ...]
    transition_targets: tuple[Pattern, ...]

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.static_targets] + [t.name for t in self.transition_targets]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UserError(f"{where} must be a finite number (it is {value!r})")
    return float(value)


def free_parameter(key: str, entry: Any, where: str) -> FreeParameter:
    """One entry of `parameters:`, checked against the parameter's declaration."""
    declared = {d.key: d for d in all_declarations()}
    if key not in declared:
        raise UserError(f"{where}: '{key}' is not a declared parameter (list them with "
                        f"`python -m sim --cfg job`)")
    if not key.startswith("model."):
        # The best set is written as a model option (model=calibrated), and the plausible
        # sets are applied to the model: only the mechanisms' parameters can be fitted.
        raise UserError(f"{where}: '{key}' is not a model parameter; a study fits only "
                        f"parameters under model. (a scenario is a place, not a fit)")
    rule = declared[key].rule
    if rule.kind not in ("number", "integer"):
        raise UserError(f"{where}: '{key}' is {rule.describe()}, not a single number to fit")
    if not isinstance(entry, dict) or not {"low", "high", "scale", "why"} <= set(entry):
        raise UserError(f"{where}: '{key}' needs low, high, scale and why")
    unknown = set(entry) - {"low", "high", "scale", "why"}
    if unknown:
        raise UserError(f"{where}: '{key}' has unknown entries {sorted(unknown)}; it takes low, "
                        f"high, scale and why")
    low, high = _number(entry["low"], f"{where}: {key}.low"), _number(entry["high"],
                                                                      f"{where}: {key}.high")
    if not low < high:
        raise UserError(f"{where}: '{key}' has low {low:g} not below high {high:g}")
    if (rule.low is not None and low < rule.low) or (rule.high is not None and high > rule.high):
        raise UserError(f"{where}: the range {low:g}-{high:g} of '{key}' is outside what the "
                        f"parameter allows ({rule.describe()})")
    scale = entry["scale"]
    if scale not in SCALES:
        raise UserError(f"{where}: '{key}' has scale {scale!r}; it must be linear or log")
    if scale == "log" and low <= 0:
        raise UserError(f"{where}: '{key}' is searched on a log scale, so its low must be above "
                        f"0 (it is {low:g})")
    why = entry["why"]
    if not isinstance(why, str) or not why.strip():
        raise UserError(f"{where}: '{key}' needs a why (a source, or judgement)")
    default = declared[key].default
    inside = (isinstance(default, int | float) and not isinstance(default, bool)
              and low <= default <= high)
    return FreeParameter(key, low, high, scale, why.strip(), integer=rule.kind == "integer",
                         default=float(default) if inside else None)


def _chosen(choice: Any, available: list[Any], kind: str, where: str) -> tuple[Any, ...]:
    """`all`, or a list of names among the available targets."""
    if choice == "all":
        return tuple(available)
    names = {target.name: target for target in available}
    if not isinstance(choice, list) or not all(isinstance(name, str) for name in choice):
        raise UserError(f"{where}: targets.{kind} must be `all` or a list of target names")
    for name in choice:
        if name not in names:
            raise UserError(f"{where}: targets.{kind} names '{name}', which is not a {kind} "
                            f"target of sim/calibration_targets.yaml (they are: "
                            f"{', '.join(names)})")
    return tuple(names[name] for name in choice)


def load_study(path: Path | None = None) -> StudyDeclaration:
    """The declared study of `path` (default `configs/calibration/england.yaml`), checked."""
    path = Path(path) if path is not None else DEFAULT_STUDY_FILE
    where = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UserError(f"cannot read {where}: {error}") from None
    if not isinstance(raw, dict) or set(raw) != {"parameters", "targets"}:
        raise UserError(f"{where}: expected exactly two sections, parameters and targets")
    entries, targets = raw["parameters"], raw["targets"]
    if not isinstance(entries, dict) or not entries:
        raise UserError(f"{where}: parameters must map at least one dotted key to its range")
    parameters = tuple(free_parameter(str(key), entry, where) for key, entry in entries.items())
    if not isinstance(targets, dict) or not set(targets) <= {"static", "transitions"}:
        raise UserError(f"{where}: targets takes static and transitions (each `all` or a list)")
    static = _chosen(targets.get("static", []), load_targets(), "static", where)
    transitions = _chosen(targets.get("transitions", []), load_dynamic_targets(),
                          "transitions", where)
    if not static and not transitions:
        raise UserError(f"{where}: no targets to fit")
    return StudyDeclaration(parameters, static, transitions)
