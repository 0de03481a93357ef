"""Loading configs: compose with Hydra, convert to plain namespaces for the model.

The model reads its parameters as `SimpleNamespace` trees (attribute access, plain Python
values) rather than OmegaConf nodes: they are faster to read on the hot path and cannot be
mutated by accident into new keys.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from omegaconf import DictConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def to_namespace(value: Any) -> Any:
    """Nested dicts become SimpleNamespaces; lists and scalars stay as they are."""
    if isinstance(value, dict):
        return SimpleNamespace(**{key: to_namespace(item) for key, item in value.items()})
    if isinstance(value, list):
        return [to_namespace(item) for item in value]
    return value


def job_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config of a run, without Hydra's own settings."""
    container = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(container, dict)
    container.pop("hydra", None)
    return container


def parameters_from(cfg: DictConfig) -> SimpleNamespace:
    return to_namespace(job_config(cfg))


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the project's config as `python -m sim` would, outside a Hydra app."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return hydra_compose(config_name="config", overrides=list(overrides or []),
                             return_hydra_config=False)


def register_resolvers() -> None:
    """Resolvers used by configs/config.yaml (the staging folder's unique suffix)."""
    import os

    if not OmegaConf.has_resolver("sim_process_id"):
        OmegaConf.register_new_resolver("sim_process_id", lambda: str(os.getpid()))
