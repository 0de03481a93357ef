"""`python -m sim`: Hydra parses and composes; this module says what went wrong in one line.

The command line is Hydra's own (`-m` for a sweep, `--cfg job` to print the config,
`--help`). The entry point registers the typed schema (`sim.config`), parses the arguments
with Hydra's parser (flags may follow overrides), refuses the few of Hydra's flags that
would bypass the project's config or its checks, and runs Hydra as `@hydra.main` does, with
`HYDRA_FULL_ERROR` set so that Hydra's errors come back here instead of being printed.
`sim.explain.explained_errors` says them in the project's words; everything else goes to
`sim.errors`, the one top-level handler.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from sim import CONFIG_DIR, __version__
from sim.config import register
from sim.errors import UserError, refuse_bad_arguments
from sim.explain import explained_errors
from sim.run import raise_failure_of_single_run, remove_folders_of_failed_run, run_job


def main(argv: list[str] | None = None) -> int:
    """Run `python -m sim` with these arguments (the process's own when None)."""
    from hydra._internal.utils import _run_hydra, get_args_parser


    argv = list(sys.argv[1:] if argv is None else argv)
    if "--version" in argv:
        import hydra

        print(f"sim {__version__} (Hydra {hydra.__version__})")
        return 0
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra's errors come back here, to be said in one line
    register()
    parser = get_args_parser()
    refuse_bad_arguments(parser, "python -m sim")
    arguments = parser.parse_intermixed_args(argv)  # flags may come after overrides
    overrides = list(arguments.overrides or [])

    try:
        with explained_errors(overrides):
            _check_arguments(arguments, overrides)
            with _help_without_hydra_group_listing(arguments.help):
                _run_hydra(args=arguments, args_parser=parser, task_function=run_job,
                           config_path=str(CONFIG_DIR), config_name="config")
            raise_failure_of_single_run()
    except BaseException:
        remove_folders_of_failed_run()
        raise
    return 0


@contextlib.contextmanager
def _help_without_hydra_group_listing(app_help: bool) -> Iterator[None]:
    """For `--help`, skip Hydra's listing of every config group, which the project's help
    template does not show: it lists its own groups (`${sim_groups:}`), while Hydra's
    listing re-reads its whole config repository for each of some ninety groups, most of
    the time `--help` took. `--hydra-help` keeps Hydra's listing."""
    if not app_help:
        yield
        return
    from hydra._internal.hydra import Hydra

    listing = Hydra.format_config_groups
    Hydra.format_config_groups = lambda self, predicate, compact=True: ""
    try:
        yield
    finally:
        Hydra.format_config_groups = listing


def _check_arguments(arguments: Any, overrides: list[str]) -> None:
    """Refuse what would bypass the project's own config or the checks that keep a user's
    files safe (Hydra's other flags and settings are Hydra's)."""
    if arguments.config_name not in (None, "config") or arguments.config_path is not None:
        raise UserError("sim's own config is configs/config.yaml: --config-name and "
                        "--config-path cannot choose another (add your own config groups' "
                        "options with --config-dir)")
    if arguments.experimental_rerun is not None:
        raise UserError("--experimental-rerun is not supported: a run's config.yaml lists "
                        "every value it ran with; give them again as overrides")
    for override in overrides:
        try:
            override.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes, kept as surrogates by Python
            raise UserError(f"'{override}' holds characters this locale cannot decode (its "
                            f"encoding is {sys.getfilesystemencoding()}): run under a UTF-8 "
                            f"locale (LC_ALL=C.UTF-8) or use plain ASCII names") from None
        if override.lstrip("+~").startswith(("hydra.callbacks", "hydra/callbacks")):
            raise UserError(f"'{override}': sim's callbacks check Hydra's settings and clean "
                            f"up after a failed run; they cannot be changed")
    if arguments.cfg and arguments.package and arguments.package != "_global_":
        _check_package(arguments.package, overrides)


def _check_package(package: str, overrides: list[str]) -> None:
    """--cfg --package NAME: NAME must be a part of the config (Hydra says so in two words
    and no prefix)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        config = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    GlobalHydra.instance().clear()
    if OmegaConf.select(config, package) is None:
        raise UserError(f"--package {package}: there is no such part of the config (try "
                        f"--package model.trusts, or leave --package out)")
