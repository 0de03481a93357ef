"""Hydra's and OmegaConf's errors, said in the project's words, in one line.

`python -m sim` lets Hydra parse and compose; when that fails, `explain` turns the error
into what a user needs: an unknown parameter (with the nearest declared name), a parameter
of an option that was not chosen (with the option to add), a value of the wrong type (with
what the parameter accepts), an option a group does not have (with those it has), an
override the grammar cannot read (with how to quote it). It reads the error and the
command line's overrides (with Hydra's own override parser), and never composes anything.
`explained_errors` does the same for any command that composes a run's config from
overrides it was given (`sim.validate --overrides`), so that every command says a mistake
in the same words.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim import CONFIG_DIR
from sim.config import config_error_message
from sim.errors import UserError, one_line, user_error_within
from sim.parameters import format_value
from sim.schema import (
    ADDED_GROUPS,
    GROUPS,
    LEVERS,
    all_declarations,
    options_declaring,
    unknown_key,
)

KEY_IN_MESSAGE = (
    re.compile(r"Could not override '(?P<key>[^']+)'"),
    re.compile(r"Error merging override (?P<key>[^=\s]+)="),
    re.compile(r"Could not append to config\. An item is already at '(?P<key>[^']+)'"),
    re.compile(r"Could not delete from config\. '(?P<key>[^']+)'"),
    re.compile(r"Could not delete from config\. The value of '(?P<key>[^']+)'"),
)


@contextlib.contextmanager
def explained_errors(overrides: list[str]) -> Iterator[None]:
    """Raise Hydra's and OmegaConf's errors from the block as `explain` says them, a
    UserError (an input error, exit 2) raised from the original; a UserError and any
    error `explain` has no words for go on as they are."""
    try:
        yield
    except UserError:
        raise
    except Exception as error:
        explained = explain(error, overrides)
        if explained is None:
            raise
        raise explained from error


def explain(error: Exception, overrides: list[str]) -> UserError | None:
    """The project's one-line message for an error Hydra or OmegaConf raised, if it has one."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException, ValidationError


    text = str(error)
    cause = error.__cause__ or error.__context__
    inner = user_error_within(error)  # a UserError raised inside a resolver, wrapped
    if inner is not None:
        return inner
    interpolated = next((o for o in overrides if "${" in o.partition("=")[2]), None)
    if interpolated is not None and isinstance(error, OmegaConfBaseException):
        return UserError(f"'{interpolated}': its value cannot be resolved: "
                         f"{config_error_message(error).split(': ', 1)[-1]}")
    deleted = _deleted_parameter(overrides)
    if deleted is not None:
        return UserError(f"'{deleted}' cannot be deleted (~{deleted}): every run needs it; set "
                         f"a value instead ({deleted}=...)")
    unreadable = _unreadable_override(overrides)
    if isinstance(error, OverrideParseException) or unreadable is not None \
            or "Unexpected type annotation" in text:
        shown = unreadable if unreadable is not None else _sweep_override(overrides)
        return UserError(f"cannot read the override '{shown}': write key=value, and quote a "
                         f"value with spaces or other characters in single quotes "
                         f"(key='a value')")
    if isinstance(error, FileExistsError | NotADirectoryError):
        return UserError(f"{_file_in_the_way(error.filename)} is a file, where a folder is "
                         f"needed: choose another folder")
    added_group = next((o for o in overrides if o.startswith("+") and
                        o[1:].partition("=")[0] in GROUPS), None)
    if added_group is not None and "override" in text:
        return UserError(f"'{added_group}': {added_group[1:].partition('=')[0]} is chosen "
                         f"already; write {added_group[1:]} without '+'")
    if isinstance(error, MissingConfigException):
        return _missing_option(error, overrides)
    if "does not support sweep type" in text:
        return UserError(f"{_sweep_override(overrides)}: interval() sweeps are for optimising "
                         f"sweepers; give the values (seed=0,1,2) or a range (seed='range(10)')")
    key = next((m["key"] for pattern in KEY_IN_MESSAGE if (m := pattern.search(text))), None)
    if key is None and isinstance(error, AssertionError) and "Unexpected type for root" in text:
        key = _key_below_an_absent_lever(overrides)
    if key is not None:
        return _explain_key(key, overrides, cause if isinstance(cause, ValidationError) else None)
    if isinstance(error, OmegaConfBaseException):
        return UserError(config_error_message(error))
    if isinstance(error, HydraException | ValueError) and type(error).__module__.startswith(
            ("hydra", "omegaconf", "builtins")):
        inner = cause if isinstance(cause, OmegaConfBaseException) else None
        return UserError(one_line(text.splitlines()[0] if text else type(error).__name__)
                         + (f": {config_error_message(inner)}" if inner else ""))
    return None


def _file_in_the_way(path: str | None) -> str:
    """The first part of a path that exists and is not a folder (what stops a mkdir)."""
    if not path:
        return "a part of the path"
    for candidate in [Path(path), *Path(path).parents]:
        if candidate.exists():
            return str(candidate) if not candidate.is_dir() else str(path)
    return str(path)


def _missing_option(error: Any, overrides: list[str]) -> UserError:
    """'unknown scenario ...: choose one of ...', or an unknown group."""
    import difflib

    match = re.search(r"Could not (?:find|load) '(?P<path>[^']+)'", str(error))
    path = match["path"] if match else str(getattr(error, "missing_cfg_file", "") or "")
    group, _, option = path.rpartition("/")
    if not group:
        return UserError(f"there is no config '{option}': sim's own is configs/config.yaml; "
                         f"leave --config-name out")
    options = sorted(getattr(error, "options", None) or [])
    if options:
        return UserError(f"unknown {group} '{option}': choose one of {', '.join(options)}")
    near = difflib.get_close_matches(group.lstrip("/"), GROUPS, n=1)
    hint = f"; did you mean {near[0]}={option}?" if near else ""
    return UserError(f"there is no config group '{group}'{hint} (groups: {', '.join(GROUPS)})")


def _unreadable_override(overrides: list[str]) -> str | None:
    """The first override Hydra's grammar cannot read, or that names no key, if any."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for text in overrides:
        try:
            (override,) = parser.parse_overrides([text])
        except Exception:  # Hydra's parser raises its own errors; any of them means unreadable
            return text
        if not override.key_or_group:
            return text
    return None


def _deleted_parameter(overrides: list[str]) -> str | None:
    """The first declared parameter (or block of them) the command line deletes, if any."""

    keys = [d.key for d in all_declarations() if d.key.split(".")[0] not in ADDED_GROUPS]
    for override in _parsed(overrides):
        key = override.key_or_group
        if override.is_delete() and any(k == key or k.startswith(f"{key}.") for k in keys):
            return key
    return None


def _parsed(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    parsed = []
    for text in overrides:
        try:
            parsed.extend(parser.parse_overrides([text]))
        except Exception:
            continue
    return parsed


def _sweep_override(overrides: list[str]) -> str:
    return next((o.input_line for o in _parsed(overrides) if o.is_sweep_override()), "a sweep")


def _key_below_an_absent_lever(overrides: list[str]) -> str | None:
    for override in _parsed(overrides):
        parts = override.key_or_group.split(".")
        if len(parts) > 2 and parts[0] == "policy" and parts[1] in LEVERS:
            return override.key_or_group
    return None


def _explain_key(key: str, overrides: list[str], type_error: Exception | None) -> UserError:
    declared = {d.key: d for d in all_declarations()}
    override = next((o for o in _parsed(overrides) if o.key_or_group == key), None)
    group = key.split(".")[0]
    if group in ADDED_GROUPS and not any(o.key_or_group == group and o.is_add()
                                         for o in _parsed(overrides)):
        options = sorted(p.stem for p in (CONFIG_DIR / group).glob("*.yaml"))
        option = options[0] if options else "NAME"
        if "." not in key:
            return UserError(f"the {group} group is added with a '+': write +{group}={option}")
        return UserError(f"'{key}' is a setting of the {group} group, which is not in the run: "
                         f"add it with +{group}={option}")
    if key == "hydra" or key.startswith("hydra."):  # Hydra's own settings: Hydra's words
        reason = config_error_message(type_error) if type_error is not None else \
            "not a setting Hydra has"
        shown = override.input_line if override is not None else key
        return UserError(f"'{shown}': {reason} (python -m sim --hydra-help, or --cfg hydra)")
    if key in declared and override is not None:
        if override.is_add():
            return UserError(f"'{key}' is a parameter already: write {key}=... without '+'")
        if override.is_delete():
            return UserError(f"'{key}' cannot be deleted (~{key}): every run needs it; set a "
                             f"value instead")
    chosen, having = _options(key, overrides)
    if chosen is not None and having and chosen not in having:
        choices = [f"{key.split('.')[0]}={option}" for option in having]
        fix = f"add {choices[0]}" if len(choices) == 1 else f"add one of {', '.join(choices)}"
        return UserError(f"'{key}' is not a parameter of {key.split('.')[0]}={chosen}: {fix}")
    if key not in declared:
        block = sorted(k for k in declared if k.startswith(f"{key}."))
        if block:
            return UserError(f"'{key}' is a block of parameters, not one: set one of them, "
                             f"for example {block[0]}=...")
        near = difflib.get_close_matches(key, GROUPS, n=1, cutoff=0.75) if "." not in key else []
        if near and override is not None:
            return UserError(f"there is no parameter or group '{key}'; did you mean "
                             f"{near[0]}={format_value(override.value())}?")
        return unknown_key(key)
    rule = declared[key].rule
    if override is None:
        return UserError(f"a value of {key} is not allowed: {key} must be {rule.describe()}")
    if override.is_sweep_override():
        return UserError(f"'{override.input_line}' is not allowed: {key} must be "
                         f"{rule.describe()}")
    value = override.value()
    return UserError(f"{key}={format_value(value)} is not allowed: {key} must be "
                     f"{rule.describe()}" + _list_hint(rule, value))


def _list_hint(rule: Any, value: Any) -> str:
    if rule.kind == "list" and value is not None and not isinstance(value, list | tuple):
        return f" (write it as a list: '[{format_value(value)}]')"
    return ""


def _options(key: str, overrides: list[str]) -> tuple[str | None, list[str]]:
    """The option chosen for the key's group, and the options that declare the key."""

    group = key.partition(".")[0]
    return _chosen_option(group, overrides), options_declaring(key)


def _chosen_option(group: str, overrides: list[str]) -> str | None:
    """The option the command line chooses for a group, or configs/config.yaml's default."""
    import yaml

    for override in reversed(_parsed(overrides)):
        if override.key_or_group == group and not override.is_sweep_override():
            return str(override.value())
    document = yaml.safe_load((CONFIG_DIR / "config.yaml").read_text(encoding="utf-8"))
    for entry in document.get("defaults", []):
        if isinstance(entry, dict) and group in entry and entry[group] is not None:
            return str(entry[group])
    return None
