"""Declaring parameters: each one's default, meaning, source, type and range, said once.

Each mechanism declares the parameters it reads as a frozen dataclass beside its code
(`WorkforceParameters` in `sim.phases.workforce`, `MatContractingParameters` in
`sim.policies.mat_contracting`, ...), every field made by `parameter()`:

    leaving_rate_experienced: float = parameter(
        0.082, "experienced teachers leaving state schools per year",
        source="DfE School Workforce Census 2019: 8-10% overall",
        low=0.02, high=0.3, why="a tenth to three times England's rate")

From that one declaration:
- Hydra validates every composed config against it (`sim.config` registers the
  dataclasses with Hydra's ConfigStore): an unknown key or a value of the wrong type stops
  composition;
- `check_parameters` checks every value against its range, and each dataclass's own
  `check()` the rules that span several of its keys, with one line naming the parameter
  and what it accepts;
- `python -m sim.docs` writes the parameter tables of docs/ODD.md;
- the model reads typed, immutable parameters.

Every number has a finite range, and every range says why it is what it is (`why`) unless
it is the natural range of the quantity (a probability, a share).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from omegaconf import MISSING

from sim.errors import ConfigError

JUDGEMENT = "judgement"  # the source of a value no publication gives: the modellers' choice


def fitted(plausible: str, seed_source: str = "") -> str:
    """The source of a parameter the calibration study fitted (`python -m sim.calibrate fit`,
    `configs/calibration/`): its default is the study's best set, and `plausible` the range
    of its plausible set (the sets with every target in band)."""
    before = f"{seed_source}; " if seed_source else ""
    return (f"{before}fitted: the best of 1,025 sets of the calibration study "
            f"(configs/calibration/); plausible {plausible}")
REQUIRED: Any = MISSING  # the default of a value each option must give (a scenario's place)
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Rule:
    """What values a parameter accepts."""

    kind: str  # "number", "integer", "flag", "text", "name" (used in paths), "list"
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    length: int | None = None  # lists: exact length
    item: Rule | None = None  # lists: rule for each item
    increasing: bool = False  # lists: strictly increasing
    ordered_pair: bool = False  # lists of two: first <= second
    non_empty: bool = False  # lists: at least one item

    def describe(self) -> str:
        if self.kind == "flag":
            text = "true or false"
        elif self.kind == "text":
            text = "a text value, not blank"
        elif self.kind == "name":
            text = ("a name of letters, digits, '_', '-' and '.' (at most 64, starting with a "
                    "letter or digit)")
        elif self.kind == "list":
            assert self.item is not None
            items = self.item.describe().removeprefix("a ").removeprefix("an ")
            plural = {"whole number": "whole numbers", "number": "numbers", "text value":
                      "text values", "true or false": "true or false values"}
            for singular, many in plural.items():
                if items.startswith(singular):
                    items = many + items[len(singular):]
                    break
            else:
                items = f"values ({items})"
            text = f"a list of {self.length} {items}" if self.length else f"a list of {items}"
            if self.increasing:
                text += ", strictly increasing"
            if self.ordered_pair:
                text += ", the first no larger than the second"
        else:
            noun = "a whole number" if self.kind == "integer" else "a number"
            if self.low is not None and self.high is not None:
                text = f"{noun} from {_shown(self.low)} to {_shown(self.high)}"
            elif self.low is not None:
                text = f"{noun} of at least {_shown(self.low)}"
            elif self.high is not None:
                text = f"{noun} of at most {_shown(self.high)}"
            else:
                text = noun
        return text + (" (or null)" if self.nullable else "")


def _shown(bound: float) -> str:
    """A bound as people write it: 4,294,967,295 and 1,000,000 rather than 4.29497e+09."""
    if float(bound).is_integer() and abs(bound) >= 10_000:
        return f"{int(bound):,}"
    return f"{bound:g}"


def parameter(default: Any, meaning: str, *, source: str, low: float | None = None,
              high: float | None = None, why: str | None = None, length: int | None = None,
              increasing: bool = False, ordered_pair: bool = False, name: bool = False,
              non_empty: bool = False) -> Any:
    """A dataclass field declaring one parameter.

    `meaning` says what the parameter is (with its unit); `source` where its default comes
    from (a publication, a seed article, "calibrated: <target>", or JUDGEMENT); `low` and
    `high` bound a number, or each item of a list; `why` justifies the bounds where they
    are not the natural range of the quantity. `name` marks a text used in folder names.
    """
    metadata = {"meaning": meaning, "source": source, "low": low, "high": high, "why": why,
                "length": length, "increasing": increasing, "ordered_pair": ordered_pair,
                "name": name, "non_empty": non_empty}
    if isinstance(default, list):
        items = list(default)
        return dataclasses.field(default_factory=lambda: list(items), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


# -- reading the declarations --------------------------------------------------------------

SCALAR_KINDS = {float: "number", int: "integer", bool: "flag", str: "text"}


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) of an annotation such as `int | None`."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(arguments) == 1:
            return arguments[0], True
    return annotation, False


@cache
def type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def is_parameters(value: Any) -> bool:
    """Whether a type or object is a dataclass of declarations (a branch, not a leaf)."""
    return dataclasses.is_dataclass(value)


def rule_of(cls: type, field: dataclasses.Field) -> Rule | None:
    """The rule of a declared field, or None for a branch (a nested dataclass or Any)."""
    annotation, nullable = _unwrap_optional(type_hints(cls)[field.name])
    meta = field.metadata
    if annotation is Any or is_parameters(annotation):
        return None
    if typing.get_origin(annotation) is list:
        (item_type,) = typing.get_args(annotation)
        item = Rule(SCALAR_KINDS[item_type], meta.get("low"), meta.get("high"))
        return Rule("list", nullable=nullable, length=meta.get("length"), item=item,
                    increasing=meta.get("increasing", False),
                    ordered_pair=meta.get("ordered_pair", False),
                    non_empty=meta.get("non_empty", False))
    kind = "name" if meta.get("name") else SCALAR_KINDS[annotation]
    return Rule(kind, meta.get("low"), meta.get("high"), nullable)


@dataclass(frozen=True)
class Declaration:
    """One declared parameter, as the documentation and the error messages use it."""

    key: str  # dotted, from the root of a run's config
    owner: type  # the dataclass that declares it
    default: Any
    meaning: str
    source: str
    why: str | None
    rule: Rule
    python_type: str


def declarations(cls: type, prefix: str = "") -> Iterator[Declaration]:
    """Every parameter a dataclass declares, nested dataclasses included, in order."""
    for field in dataclasses.fields(cls):
        annotation, _ = _unwrap_optional(type_hints(cls)[field.name])
        if is_parameters(annotation):
            yield from declarations(annotation, f"{prefix}{field.name}.")
            continue
        rule = rule_of(cls, field)
        if rule is None:
            continue
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            default = None
        shown = type_hints(cls)[field.name]
        yield Declaration(f"{prefix}{field.name}", cls, default, field.metadata.get("meaning", ""),
                          field.metadata.get("source", ""), field.metadata.get("why"), rule,
                          getattr(shown, "__name__", None) or str(shown))


# -- checking values -----------------------------------------------------------------------


def check_value(key: str, value: Any, rule: Rule) -> None:
    """Raise ConfigError with a one-line message if `value` is not allowed by `rule`."""
    problem = _problem(rule, value)
    if problem is not None:
        raise ConfigError(f"{key}={format_value(value)} is not allowed: {key} must be "
                          f"{rule.describe()}{problem}")


def _problem(rule: Rule, value: Any) -> str | None:
    """None when the value fits; otherwise a (possibly empty) extra explanation."""
    if value is None:
        return None if rule.nullable else ""
    if rule.kind == "flag":
        return None if isinstance(value, bool) else ""
    if rule.kind == "text":
        return None if isinstance(value, str) and value.strip() else ""
    if rule.kind == "name":
        return None if isinstance(value, str) and NAME_PATTERN.fullmatch(value) else ""
    if rule.kind == "list":
        assert rule.item is not None
        if not isinstance(value, list | tuple):
            return f" (write it as a list: '[{format_value(value)}]')"
        if rule.length is not None and len(value) != rule.length:
            return f" (got {len(value)} values)"
        if rule.non_empty and not value:
            return " (got an empty list)"
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
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        return ""
    if rule.kind == "integer" and not float(value).is_integer():
        return ""
    if (rule.low is not None and value < rule.low) or (rule.high is not None and value > rule.high):
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
    if isinstance(value, str) and (quote_text or not value.strip()):
        return "'" + value.replace("'", "\\'") + "'"
    return str(value)


def check_parameters(parameters: Any, prefix: str = "") -> None:
    """Check every declared value of a dataclass tree, then each dataclass's own `check()`.

    `check()` (optional, on any parameters dataclass) holds the rules that span several of
    its keys; it raises ConfigError. Children are checked before their parents, so a
    parent's rule may rely on its children's values being in range.
    """
    cls = type(parameters)
    for field in dataclasses.fields(parameters):
        value = getattr(parameters, field.name)
        if is_parameters(value):
            check_parameters(value, f"{prefix}{field.name}.")
            continue
        rule = rule_of(cls, field)
        if rule is not None:
            check_value(f"{prefix}{field.name}", value, rule)
    own_check = getattr(parameters, "check", None)
    if callable(own_check):
        own_check()


def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted key, value) of a nested dict; lists are values, not branches."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value
