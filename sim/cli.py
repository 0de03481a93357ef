"""The command line: check overrides before Hydra starts, then run through Hydra.

`python -m sim [overrides]` is Hydra's command line (multirun with `-m`, `--cfg job` to
print the config, `--help`). Before Hydra composes anything, every override is checked here
so that a mistake (a parameter that does not exist, a scenario that does not exist, a value
of the wrong type or out of range) gets one line naming the parameter and what it accepts,
exit status 2, no traceback, and no run directory.
"""

from __future__ import annotations

import difflib
import functools
import logging
import sys
from typing import Any

from sim.config import CONFIG_DIR, compose, job_config, register_resolvers
from sim.parameters import RULES, ConfigError, check_config, check_value, format_value, leaves

log = logging.getLogger("sim")

# Hydra's flags that take a value, so the value is not mistaken for an override.
FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--info", "-i", "--config-path", "-cp",
                    "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun",
                    "--shell-completion", "-sc"}
FLAGS_THAT_SKIP_CHECKS = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd",
                          "--experimental-rerun", "--shell-completion", "-sc", "--hydra-help",
                          "--version"}


def config_groups() -> dict[str, list[str]]:
    """Each config group (under configs/, and experiments/) and its options."""
    folders = [folder for folder in sorted(CONFIG_DIR.iterdir())
               if folder.is_dir() and folder.name != "hydra"]  # Hydra's own groups are Hydra's
    experiments = CONFIG_DIR.parent / "experiments"
    if experiments.is_dir():
        folders.append(experiments)
    return {folder.name: sorted(p.stem for p in folder.glob("*.yaml")) for folder in folders}


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """Hydra flags and overrides, in the order given."""
    flags, overrides = [], []
    arguments = iter(argv)
    for argument in arguments:
        if argument.startswith("-"):
            flags.append(argument)
            if argument in FLAGS_WITH_VALUE and "=" not in argument:
                value = next(arguments, None)
                if value is not None and not (argument in {"--info", "-i"} and "=" in value):
                    flags.append(value)
        else:
            overrides.append(argument)
    return flags, overrides


def _values(override: Any) -> list[Any]:
    """The value, or every value of a sweep (choice or range) of a parsed override."""
    if override.is_sweep_override():
        try:
            return list(override.sweep_iterator())
        except Exception:  # interval sweeps (for optimisers) have no fixed list of values
            return []
    return [override.value()]


def _unknown(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, RULES, n=1, cutoff=0.6)
    if not close:  # a near match on the last part of the name, e.g. a misspelt leaf
        leaf = key.rsplit(".", 1)[-1]
        leaves = {name.rsplit(".", 1)[-1]: name for name in RULES}
        near = difflib.get_close_matches(leaf, leaves, n=1, cutoff=0.75)
        close = [leaves[near[0]]] if near else []
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown parameter '{key}'{hint} (list them all with "
                       f"`python -m sim --cfg job`)")


@functools.cache
def option_keys(group: str, option: str) -> frozenset[str]:
    """The dotted keys a group option defines, through its own defaults list."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when present: faster
    document = yaml.load((CONFIG_DIR / group / f"{option}.yaml").read_text(), Loader=loader) or {}
    keys: set[str] = set()
    for entry in document.pop("defaults", []):
        if isinstance(entry, str) and entry != "_self_":
            keys |= option_keys(group, entry)
    return frozenset(keys | {f"{group}.{key}" for key, _ in leaves(document)})


def default_choices() -> dict[str, str]:
    """Each group's option in configs/config.yaml's defaults list."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load((CONFIG_DIR / "config.yaml").read_text(), Loader=loader)
    return {key: value for entry in document["defaults"] if isinstance(entry, dict)
            for key, value in entry.items() if "/" not in key and " " not in key}


def _check_in_chosen_options(key: str, chosen: dict[str, list[str]],
                             groups: dict[str, list[str]]) -> None:
    """A group's parameter must belong to the option chosen for that group."""
    group = key.split(".", 1)[0]
    if group not in chosen:
        return
    lacking = [option for option in chosen[group] if key not in option_keys(group, option)]
    if lacking:
        having = [option for option in groups[group] if key in option_keys(group, option)]
        choices = [f"{group}={option}" for option in having]
        fix = f"add {choices[0]}" if len(choices) == 1 else f"add one of {', '.join(choices)}"
        raise ConfigError(f"'{key}' is not a parameter of {group}={lacking[0]}: {fix}")


def check_command_line(argv: list[str]) -> None:
    """Raise ConfigError, with a one-line message, for any override that cannot run."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    flags, arguments = split_arguments(argv)
    if any(flag in FLAGS_THAT_SKIP_CHECKS for flag in flags):
        return
    parser = OverridesParser.create()
    groups = config_groups()
    parsed = []
    for argument in arguments:
        try:
            parsed.extend(parser.parse_overrides([argument]))
        except HydraException as error:
            raise ConfigError(f"cannot read the override '{argument}': write it as key=value, "
                              f"for example seed=3 or scenario=national") from error

    group_choices: list[str] = []
    value_overrides = []
    for override in parsed:
        key = override.key_or_group
        if key.startswith("hydra") or override.is_delete():
            continue
        if key in groups:
            for option in _values(override):
                if option not in groups[key]:
                    raise ConfigError(f"unknown {key} '{option}': choose one of "
                                      f"{', '.join(groups[key])}")
            prefix = "+" if override.is_add() else ""
            group_choices.append(f"{prefix}{key}={_values(override)[0]}")
        else:
            value_overrides.append(override)

    chosen = {group: [option] for group, option in default_choices().items()
              if group in groups}
    for override in parsed:
        if override.key_or_group in chosen:
            chosen[override.key_or_group] = [str(option) for option in _values(override)]
    if any(override.key_or_group == "experiments" for override in parsed):
        chosen = {}  # an experiment chooses options itself; the sweep's compose checks below
    for override in value_overrides:
        key = override.key_or_group
        if key not in RULES:
            raise _unknown(key)
        if not override.is_add():
            _check_in_chosen_options(key, chosen, groups)
        for value in _values(override):
            check_value(key, value)

    # Finally, for a sweep, compose once with the first value of every sweep, for rules
    # that span keys: a sweep's jobs record their failures and carry on, so a mistake
    # common to all must stop it here. A single run makes the same check itself before it
    # writes anything (`sim.run.run_from_hydra`), so it skips this second composition.
    if not any(flag in ("-m", "--multirun") for flag in flags):
        return
    first_values = group_choices + [
        f"{o.get_key_element()}={format_value(_values(o)[0], quote_text=True)}" for o in value_overrides
        if _values(o)]
    try:
        config = job_config(compose(first_values))
    except Exception as error:  # Hydra's own message, shortened to its first line
        raise ConfigError(str(error).strip().splitlines()[0]) from error
    check_config(config)


def main() -> None:
    """Entry point of `python -m sim`."""
    register_resolvers()
    try:
        check_command_line(sys.argv[1:])
    except ConfigError as error:
        print(f"sim: error: {error}", file=sys.stderr)
        sys.exit(2)
    flags, _ = split_arguments(sys.argv[1:])
    if not any(flag in FLAGS_THAT_SKIP_CHECKS | {"-m", "--multirun"} for flag in flags):
        # Load the model here, near the bottom of the stack: Mesa inspects the call stack
        # as it loads, which costs a quarter of a second more inside Hydra's job runner.
        # (A sweep's jobs run in worker processes, which load it themselves.)
        import sim.outputs  # noqa: F401

    _hydra_main()


def _hydra_main() -> None:
    import hydra

    @hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
    def hydra_entry(cfg: Any) -> float | None:
        from sim.run import run_from_hydra

        return run_from_hydra(cfg)

    hydra_entry()



