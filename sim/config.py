"""The run's config: its registration with Hydra, and loading a composed config.

The config is a tree of frozen dataclasses, declared in `sim.schema` (the top) and beside
each mechanism (the branches).

`register()` puts them in Hydra's ConfigStore:
- `schema/run` (the top, first in `configs/config.yaml`'s defaults), `schema/scenario` and
  `schema/policy` (which each option in `configs/scenario/` and `configs/policy/`
  extends), `schema/lever/<name>` (which a policy option includes to switch a lever on);
- the options with nothing of their own to say: `population/synthetic`,
  `population/gias` and `model/default` are the dataclasses' defaults.
So Hydra itself rejects an unknown key or a value of the wrong type. `load()` then turns a
composed config into the typed tree and checks every value's range once
(`sim.parameters.check_parameters`).

OmegaConf marks nodes made from frozen dataclasses read-only, which would stop command-line
overrides; the nodes stored here have that flag cleared, and the group fields of
`RunConfig` are typed `Any` so that Hydra keeps the option's own (writable) node. The
model still gets frozen objects: `OmegaConf.to_object` builds the dataclasses themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from sim import CONFIG_DIR
from sim.errors import ConfigError, user_error_within
from sim.folders import run_name, staging_log
from sim.parameter_sets import apply_parameter_set
from sim.parameters import (
    check_parameters,
    check_value,
)
from sim.places import GIAS, place_folder
from sim.policies.base import PolicyParameters
from sim.scenario import ScenarioParameters
from sim.schema import (
    ADDED_GROUPS,
    GROUP_SCHEMAS,
    LEVERS,
    POPULATIONS,
    ModelParameters,
    ParameterUncertainty,
    RunConfig,
    all_declarations,
    options_declaring,
    unknown_key,
)

__all__ = ["compose", "configure", "load", "register", "to_dict"]


def _writable(schema: type) -> DictConfig:
    """The dataclass as an OmegaConf node that command-line overrides can change."""
    node = OmegaConf.structured(schema)

    def clear(branch: DictConfig | ListConfig) -> None:
        branch._set_flag("readonly", None)
        if isinstance(branch, DictConfig):
            for key in branch:
                child = branch._get_node(key)
                if isinstance(child, DictConfig | ListConfig):
                    clear(child)

    clear(node)
    return node


@dataclasses.dataclass
class _Registered:
    done: bool = False


_registered = _Registered()


def register() -> None:
    """Store the schemas and the code-only options in Hydra's ConfigStore (once)."""
    if _registered.done:
        return
    from hydra.core.config_store import ConfigStore

    store = ConfigStore.instance()
    store.store(group="schema", name="run", node=_writable(RunConfig), provider="sim")
    store.store(group="schema", name="scenario", node=_writable(ScenarioParameters),
                provider="sim")
    store.store(group="schema", name="policy", node=_writable(PolicyParameters), provider="sim")
    for name, lever in LEVERS.items():
        store.store(group="schema/lever", name=name, node=_writable(lever), provider="sim")
    for name, population in POPULATIONS.items():
        store.store(group="population", name=name, node=_writable(population), provider="sim")
    store.store(group="model", name="default", node=_writable(ModelParameters), provider="sim")
    store.store(group="schema", name="uncertainty", node=_writable(ParameterUncertainty),
                provider="sim")
    register_resolvers()
    _registered.done = True


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the project's config as `python -m sim` would, outside a Hydra app."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides or []),
                             return_hydra_config=False)


def configure(overrides: list[str] | None = None) -> RunConfig:
    """The typed, checked config `python -m sim` would run with these overrides.

        from sim.config import configure
        from sim.run import simulate
        result = simulate(configure(["scenario=national", "seed=3"]))
    """
    return load(compose(overrides))


# -- from a composed config to a checked, typed one -------------------------------------


def _check_structure(node: DictConfig, schema: type, prefix: str) -> None:
    """Every declared key present, no undeclared one (`+key=...`), groups of the right type."""
    names = [f.name for f in dataclasses.fields(schema)]
    for key in node:
        if key not in names:
            raise unknown_key(f"{prefix}{key}")
    for name in names:
        if name not in node:
            raise ConfigError(f"'{prefix}{name}' was deleted (~{prefix}{name}), but every run "
                              f"needs it: set a value instead ({prefix}{name}=...)")
    for f in dataclasses.fields(schema):
        child = node._get_node(f.name)
        if schema is RunConfig and f.name in GROUP_SCHEMAS and (
                child is None or child._is_missing() or child._is_none()):
            raise ConfigError(f"there is no {f.name}: the config group {f.name} was deleted "
                              f"(~{f.name}); choose one instead ({f.name}=NAME)")
        if not isinstance(child, DictConfig) or child._is_none() or child._is_missing():
            continue
        child_schema = OmegaConf.get_type(child)
        if not (isinstance(child_schema, type) and dataclasses.is_dataclass(child_schema)):
            group = f"{prefix}{f.name}"
            if schema is RunConfig and f.name in ADDED_GROUPS:  # +uncertainty.sets=...
                raise ConfigError(f"'{f.name}' has settings only with its option: add it with "
                                  f"+{f.name}=plausible, then set them ({f.name}.KEY=VALUE)")
            if group.startswith("policy.") and f.name in LEVERS:  # +policy.<lever>.<key>=...
                having = ", ".join(f"policy={option}" for option in options_declaring(group))
                raise ConfigError(f"'{group}' is not part of policy={node.name}: choose a "
                                  f"policy that has it ({having})")
            raise ConfigError(f"the config of {group} is not typed: an option of the {group} "
                              f"group must extend its schema (begin it with `defaults: "
                              f"[/schema/{group}@_here_, _self_]`, as configs/{group}/ do)")
        _check_structure(child, child_schema, f"{prefix}{f.name}.")


def load(cfg: DictConfig) -> RunConfig:
    """The typed, checked config of a run, from a composed one (Hydra's settings ignored)."""
    from omegaconf import open_dict, read_write
    from omegaconf.errors import OmegaConfBaseException

    job = _copy_without_hydra(cfg)
    if "hydra" in job:
        with read_write(job), open_dict(job):
            del job["hydra"]
    _check_structure(job, RunConfig, "")
    try:
        with read_write(job):
            OmegaConf.resolve(job)
            apply_parameter_set(job)  # first: it refuses a run that also takes a sample
            apply_sample(job)
        run = OmegaConf.to_object(job)
    except OmegaConfBaseException as error:
        raise user_error_within(error) or ConfigError(config_error_message(error)) from error
    assert isinstance(run, RunConfig)
    check_parameters(run)
    return run


def _copy(cfg: DictConfig) -> DictConfig:
    """A copy of a config, through a pickle round trip: OmegaConf's own copy goes through
    `copy.deepcopy`, several times slower, and a sweep loads each of its jobs' configs.
    A config that cannot be pickled is copied by OmegaConf (in joblib's workers the classes
    of Hydra's plugin settings are imported twice, and pickle refuses such a class)."""
    import pickle

    try:
        return pickle.loads(pickle.dumps(cfg, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return cfg.copy()


def _copy_without_hydra(cfg: DictConfig) -> DictConfig:
    """A copy of the config less Hydra's settings, which a run does not read: the node is
    set aside while the rest is copied (OmegaConf keeps a config's children in the dict
    `_content`), then put back in its place; about half the work of copying it all."""
    content = cfg.__dict__.get("_content")
    if not isinstance(content, dict) or "hydra" not in content:
        return _copy(cfg)
    order = list(content)
    hydra = content.pop("hydra")
    try:
        return _copy(cfg)
    finally:
        content["hydra"] = hydra
        for key in order[order.index("hydra") + 1:]:  # back in its place, as it was
            content[key] = content.pop(key)


def apply_sample(job: DictConfig) -> None:
    """Set the parameters of the run's row of a sensitivity sample (see sim.sensitivity).

    The sample's values become the run's own, so its config.yaml and its key (and so its
    folder in the sweep) say what was run, whatever later happens to the sample file.
    """
    import csv

    samples, index = job.sensitivity.samples, job.sensitivity.index
    if samples is None and index is None:
        return
    if samples is None or index is None:
        raise ConfigError("sensitivity.samples and sensitivity.index go together: set both "
                          "(python -m sim.sensitivity does) or neither")
    try:
        with open(samples, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as error:
        raise ConfigError(f"sensitivity.samples: cannot read {samples}: "
                          f"{error.strerror or error}") from error
    if not 0 <= index < len(rows):
        raise ConfigError(f"sensitivity.index={index} is not a row of {samples} "
                          f"({len(rows)} rows)")
    kinds = {d.key: d.rule.kind for d in all_declarations()}
    for key, text in rows[index].items():
        if kinds.get(str(key)) not in ("number", "integer"):
            raise ConfigError(f"{samples}: column '{key}' is not a numeric parameter")
        try:
            value = float(text)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{samples}: row {index}, {key}='{text}' is not a number") from error
        OmegaConf.update(job, key, round(value) if kinds[key] == "integer" else value,
                         merge=False)


def config_error_message(error: Exception) -> str:
    """OmegaConf's message in one line, with the key it concerns."""
    text = str(error).split("\n")[0].strip()
    key = getattr(error, "full_key", None)
    return f"{key}: {text}" if key and key not in text else text


def to_dict(run: RunConfig) -> dict[str, Any]:
    """The typed config as plain dicts and lists (for config.yaml and the run key). A run
    without parameter uncertainty has no `uncertainty` entry at all, so its config.yaml and
    run key are those it had before the option existed."""
    config = dataclasses.asdict(run)
    if config.get("uncertainty") is None:
        config.pop("uncertainty", None)
    return config


# -- resolvers used by configs/config.yaml ----------------------------------------------


_naming: list[bool] = []  # set while a run's name is being computed (it resolves the config)


def _sweep_run_name(*, _root_: DictConfig) -> str:
    """`${sim_run_name:}`: a sweep job's folder name, from its typed config."""

    if _naming:  # the config being named refers to its own name
        raise ConfigError("${sim_run_name:} names a sweep's job folders: it can be used in "
                          "hydra.sweep.subdir only")
    _naming.append(True)
    try:
        return run_name(to_dict(load(_root_)))
    finally:
        _naming.clear()


def _checked(key: str, *, _root_: DictConfig) -> str:
    """`${sim_checked:KEY}`: KEY's value, checked by its declaration before Hydra uses it in
    a folder's path (Hydra creates the run folder before the run starts, so the check
    cannot wait for it)."""
    declared = {d.key: d for d in all_declarations()}
    value = OmegaConf.select(_root_, key)
    group = key.split(".")[0]
    if value is None and group in GROUP_SCHEMAS and OmegaConf.select(_root_, group) is None:
        raise ConfigError(f"there is no {group}: the config group {group} was deleted "
                          f"(~{group}); choose one instead ({group}=NAME)")
    check_value(key, value, declared[key].rule)
    return str(value)


def _place_folder(*, _root_: DictConfig) -> str:
    """`${sim_place:}`: the run's place as a folder name (`sim.places.place_folder`): the
    scenario's checked name, or `gias-<areas>` for a run of a GIAS extract's places."""
    scenario = _checked("scenario.name", _root_=_root_)
    population = OmegaConf.select(_root_, "population.name")
    areas = OmegaConf.select(_root_, "population.areas") if population == GIAS else None
    return place_folder(str(population), [str(area) for area in areas or []], scenario)


def _staging_log(output_dir: str) -> str:
    """`${sim_staging_log:FOLDER}`: the run's log, inside the staging sibling of FOLDER."""
    from pathlib import Path


    return str(staging_log(Path(output_dir)))


def _groups_help() -> str:
    """`${sim_groups:}`: the project's config groups and their options, for --help."""
    from hydra.core.global_hydra import GlobalHydra

    loader = GlobalHydra.instance().config_loader()
    lines = []
    for group in ("scenario", "population", "policy", "model", "experiment"):
        options = sorted(loader.get_group_options(group))
        lines.append(f"  {group}: {', '.join(options)}")
    for group in ADDED_GROUPS:  # not in the defaults: added with a +
        options = sorted(loader.get_group_options(group))
        lines.append(f"  +{group}: {', '.join(options)}  (added with +{group}={options[0]})")
    return "\n".join(lines)


def _plausible_folder(experiment: str | None, time: str) -> str:
    """`${sim_plausible_folder:EXPERIMENT,TIME}`: the sweep folder, under output.root, of a
    sweep with +uncertainty=plausible: experiments/<experiment>_plausible, apart from the
    experiment's own runs, or sweeps/<time>_plausible without an experiment."""
    return f"experiments/{experiment}_plausible" if experiment else f"sweeps/{time}_plausible"


def register_resolvers() -> None:
    for name, resolver in (("sim_run_name", _sweep_run_name), ("sim_staging_log", _staging_log),
                           ("sim_checked", _checked), ("sim_place", _place_folder),
                           ("sim_groups", _groups_help),
                           ("sim_plausible_folder", _plausible_folder)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
