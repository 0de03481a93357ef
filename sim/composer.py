"""A sweep's jobs composed as Hydra composes them, each set of config-group choices once.

Hydra composes a sweep job from scratch (`ConfigLoader.load_sweep_config`): it reads and
merges every config file of the job's defaults list, then applies the job's overrides of
values (`seed=3`) to the merged config. For a sweep of 100 seeds that is 100 identical
compositions, each about 0.1 s of CPU, differing only in the last step.

`JobComposer.compose(job)` gives the very config `load_sweep_config` gives, in two steps
that follow Hydra's own split of the overrides (`hydra._internal.defaults_list.Overrides`):
- the overrides that shape the composition, those naming a config group (`policy=...`,
  `hydra/launcher=...`) and every override of Hydra's own settings (`hydra.*`), which are
  the same for every job of a sweep but for a swept `hydra.*` value, are composed by Hydra
  itself, once for each distinct list of them (a sweep over five policies composes five
  times); the result is kept pickled (or, should pickle refuse one of its classes, as it
  is, deep-copied for each job);
- each job then starts from a copy of that config (unpickled: a pickle round trip copies an
  OmegaConf tree several times faster than `copy.deepcopy`), has its overrides of values
  applied by Hydra's own function, in their order, and records its overrides and its
  `hydra.job.override_dirname` as Hydra would.

The task's overrides of values only reach Hydra's settings through interpolations, which
stay unresolved until the job runs, so the two steps give the same config as one. A sweep
that changes Hydra's search path (`hydra.searchpath`, which decides what is a config group)
is composed by Hydra job by job, as before. `tests/test_sweep_launcher.py` compares the
two ways' configs for overrides of every kind.
"""

from __future__ import annotations

import copy
import pickle
import sys
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class JobComposer:
    """Composes the jobs of one sweep, whose master config Hydra composed."""

    def __init__(self, loader: Any, master: DictConfig) -> None:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        self._loader = loader
        self._master = master
        # As written (`${...}` in an override is the override's, not to be resolved here).
        self._hydra_overrides = list(OmegaConf.to_container(master.hydra.overrides.hydra))
        self._parser = OverridesParser.create()
        self._parsed: dict[str, Any] = {}  # input line -> its parsed Override
        self._is_group: dict[str, bool] = {}  # key -> whether it names a config group
        self._bases: dict[tuple[str, ...], bytes | DictConfig] = {}  # shaping -> composed
        # Hydra's own loader keeps the repository of config sources it classifies with.
        self._repository = getattr(loader, "repository", None)

    def compose(self, job: Sequence[str]) -> DictConfig:
        """The job's config, as `load_sweep_config(master, job)` gives it."""
        parsed = [self._parse(line) for line in [*self._hydra_overrides, *job]]
        if self._repository is None or any(
                o.get_key_element() == "hydra.searchpath" for o in parsed):
            return self._loader.load_sweep_config(self._master, list(job))
        shaping = tuple(o.input_line for o in parsed if self._shapes_composition(o))
        config = self._base(shaping)
        values = [o for o in parsed if not self._shapes_composition(o)]
        self._apply(values, config)
        task = [o for o in parsed if not o.is_hydra_override()]
        hydra = config.hydra
        hydra.overrides.task = [o.input_line for o in task]
        dirname = hydra.job.config.override_dirname
        hydra.job.override_dirname = _overrides_dirname(
            task, exclude_keys=list(dirname.exclude_keys), item_sep=dirname.item_sep,
            kv_sep=dirname.kv_sep)
        # The sweep's resolved values (the time in its folder's name) are the master's.
        OmegaConf.copy_cache(from_config=self._master, to_config=config)
        return config

    def _parse(self, line: str) -> Any:
        if line not in self._parsed:
            (self._parsed[line],) = self._parser.parse_overrides([line])
        return self._parsed[line]

    def _shapes_composition(self, override: Any) -> bool:
        """Whether Hydra reads this override while composing (a config group's choice, or one
        of Hydra's settings), rather than applying it to the composed config."""
        if override.is_hydra_override():
            return True
        key = override.key_or_group
        if key not in self._is_group:
            self._is_group[key] = bool(self._repository.group_exists(key))
        return self._is_group[key] and not isinstance(override.value(), dict)

    def _base(self, shaping: tuple[str, ...]) -> DictConfig:
        """A fresh copy of the config Hydra composes from the shaping overrides alone."""
        if shaping not in self._bases:
            from hydra.types import RunMode

            config = self._loader.load_configuration(
                config_name=self._master.hydra.job.config_name, overrides=list(shaping),
                run_mode=RunMode.RUN)
            try:
                self._bases[shaping] = pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # a class pickle refuses (see sim.config._copy): kept as it is
                self._bases[shaping] = config
        base = self._bases[shaping]
        return pickle.loads(base) if isinstance(base, bytes) else copy.deepcopy(base)

    @staticmethod
    def _apply(values: list[Any], config: DictConfig) -> None:
        """Apply overrides of values as Hydra's loader does, errors wrapped as it wraps them."""
        from hydra._internal.config_loader_impl import ConfigLoaderImpl
        from hydra.errors import ConfigCompositionException

        try:
            ConfigLoaderImpl._apply_overrides_to_config(values, config)
        except OmegaConfBaseException as error:
            raise ConfigCompositionException().with_traceback(sys.exc_info()[2]) from error


def _overrides_dirname(overrides: list[Any], exclude_keys: list[str], item_sep: str,
                       kv_sep: str) -> str:
    """`hydra.job.override_dirname`, as Hydra's loader computes it."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    return get_overrides_dirname(overrides=overrides, exclude_keys=exclude_keys,
                                 item_sep=item_sep, kv_sep=kv_sep)
