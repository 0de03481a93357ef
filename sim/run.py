"""One run: check its config, simulate, write its files into its folder (the runner).

`simulate(run)` is pure: a typed config in, a `SimulationResult` out, no files.
`run_job` is what Hydra calls for each job of `python -m sim` (one run, or each run of a
sweep): it checks the config and the run folder, simulates, writes the results into a
staging sibling of the run folder, and renames it into place when complete
(`sim.folders` holds the rules). A job that fails removes what it created; in a sweep it
is also recorded in `<sweep>/.failed/` before the error goes back to the sweeper, which
carries on with the other jobs and reports every failure at the end.

The model (and with it Mesa, pandas and scipy) is loaded only when a run starts, by
`simulate`: `python -m sim --help` and a refused config answer without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from sim import errors, folders, places
from sim.config import load, to_dict
from sim.errors import UserError
from sim.files import write_text
from sim.loading import loading_libraries
from sim.outputs import write_run
from sim.parameter_sets import provenance
from sim.plots import plot_run
from sim.schema import RunConfig
from sim.standard_streams import guard_worker_streams

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel, SimulationResult

log = logging.getLogger("sim")
SWEEP_PROCESS = "SIM_SWEEP_PROCESS"  # the sweep's process id, set by the sweeper for its workers

# Folders missing before Hydra created a single run's folder, noted by RunFolderWatch
# (keyed by the run folder), so that a run that fails can remove what it created.
_missing_before_run: dict[Path, list[Path]] = {}
_single_run_failure: list[Exception] = []
_running: list[Path] = []  # the staging folder of the job running in this process, if any


def load_model() -> type[SchoolSystemModel]:
    """The model's class, loaded (with Mesa, pandas and scipy) when first asked for.

    Loaded here, not at the top: the one project import that waits (see the module's
    docstring and tests/test_architecture.py). sim's launcher asks before it forks a
    sweep's workers, so that they share the loaded model instead of each loading it."""
    with loading_libraries():
        from sim.model import SchoolSystemModel
    return SchoolSystemModel


def simulate(run: RunConfig, progress: bool = False) -> SimulationResult:
    """Build the model from a typed config and run it to the horizon."""
    model = load_model()(run)
    model.run(progress=progress)
    return model.results()


def _hydra_runtime() -> tuple[Path, bool, bool, list[str]]:
    """The job's folder, whether it is part of a sweep, whether the user named the run
    folder, and the job's overrides."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra = HydraConfig.get()
    if hydra.job.chdir:
        raise UserError("hydra.job.chdir=true is not supported: sim writes into the run folder "
                        "without changing directory; leave it false")
    multirun = hydra.mode == RunMode.MULTIRUN
    named = any(o.split("=", 1)[0].lstrip("+~") == "hydra.run.dir" for o in hydra.overrides.hydra)
    return Path(hydra.runtime.output_dir), multirun, named, list(hydra.overrides.task)


def run_job(cfg: DictConfig) -> dict[str, Any] | None:
    """Run one job inside Hydra; returns what happened, for the sweeper's summary.

    A single run's error is kept for `raise_failure_of_single_run` instead of raised:
    Hydra would print a line of its own before passing it on.
    """
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.get().mode == RunMode.MULTIRUN:
        return _run_job(cfg)
    try:
        return _run_job(cfg)
    except Exception as error:
        _single_run_failure.append(error)
        return None


def raise_failure_of_single_run() -> None:
    """Raise the error a single run ended with, if it failed (see `run_job`)."""
    if _single_run_failure:
        raise _single_run_failure.pop()


def _run_job(cfg: DictConfig) -> dict[str, Any]:
    final, multirun, named, overrides = _hydra_runtime()
    return _run_in_folder(cfg, final, multirun, named, overrides)


def run_planned_job(run: RunConfig, final: Path, overrides: list[str]) -> dict[str, Any]:
    """Run a sweep's job that the sweep composed and checked before it started (sim's own
    launcher, `sim.launcher`): the same as `run_job` does for a sweep's job, from its typed
    config, without composing or loading it again."""
    return _run_in_folder(run, final, True, False, overrides)


def _run_in_folder(source: DictConfig | RunConfig, final: Path, multirun: bool, named: bool,
                   overrides: list[str]) -> dict[str, Any]:
    """Load the job's config (a composed one; a typed one is loaded already), check its
    folder, simulate, write the files and place them."""
    # The run is written beside the folder Hydra made for it; its log is already there
    # (configs/config.yaml sends it to this same staging folder).
    staging = folders.staging_folder(final)
    # What to remove if the run fails: the folders Hydra created for it (for a sweep job,
    # its folder inside the sweep's own folder).
    created = [final] if multirun else _missing_before_run.pop(final, [])
    # A folder the user made (an empty one they named, or the target of a link) is theirs:
    # the run's files are moved into it, never the folder replaced (its permissions, its
    # owner, a shell's working folder).
    theirs = named and (final.is_symlink() or final not in created)
    final = folders.real_folder(final)  # a link to a folder: the run goes into its target
    _running[:] = [staging]
    try:
        run = source if isinstance(source, RunConfig) else load(source)
        config = to_dict(run)
        if multirun:
            stop_with_the_sweep()
            guard_worker_streams()  # a worker's log, on a pipe whose reader left, say
            if folders.complete(final) and folders.same_run(final, folders.run_key(config)):
                log.info("already complete, skipped: %s", final)
                return {"status": "skipped", "folder": str(final)}
            if folders.holds_files(final):
                raise UserError(f"the job's folder {final} holds other files; nothing was "
                                f"changed (choose another hydra.sweep.subdir or sweep folder)")
        elif named:
            folders.check_run_folder(final)
        else:
            final = folders.free_default_folder(final)
        folders.remove_stale_staging(final.parent)
        started = time.perf_counter()
        parameter_set = provenance(run) if run.uncertainty is not None else None
        place = places.place_of(config)  # a GIAS run's own place, with the scenario it borrows
        log.info("running %s under %s, seed %d%s", run.scenario.name if place == run.scenario.name
                 else f"{place} ({run.scenario.name})", run.policy.name,
                 run.seed, "" if parameter_set is None else
                 f", parameter set {parameter_set['parameter_set']} of "
                 f"{parameter_set['plausible_sets']} (trial {parameter_set['trial']})")
        result = simulate(run, progress=run.output.progress)
        # A sweep's job names what the sweep varied on every row of its tables.
        swept = places.swept_values(final, config) if multirun else {}
        _write(staging, config, result, run.output.plots, parameter_set, swept)
        placed = _place(staging, final, multirun, named, folders.run_key(config), theirs)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)  # first: it sits in a folder to remove
        folders.remove_if_empty(created)
        if multirun and not isinstance(error, KeyboardInterrupt | errors.Terminated):
            _record_failure(final, overrides, error)
        raise
    finally:
        _running.clear()
        shutil.rmtree(staging, ignore_errors=True)  # gone already if the run was placed
    if multirun:
        with contextlib.suppress(FileNotFoundError):  # it failed before, and now succeeded
            folders.failure_record(final.parent, final.name).unlink()
    log.info("finished in %.1f s: good or better %.1f%% -> %.1f%%; results in %s",
             time.perf_counter() - started, 100 * result.summary["good_or_better_start"],
             100 * result.summary["good_or_better_final"], folders.describe(placed))
    return {"status": "complete", "folder": str(placed)}


def _write(staging: Path, config: dict[str, Any], result: SimulationResult, plots: bool,
           parameter_set: dict[str, Any] | None = None,
           swept: dict[str, Any] | None = None) -> None:
    write_run(staging, config, result, parameter_set, swept)
    if plots:
        plot_run(staging)


def _place(staging: Path, final: Path, multirun: bool, named: bool, key: str,
           theirs: bool = False) -> Path:
    """Rename the complete staging folder to the run folder (an empty one Hydra made for
    the run is replaced); into a folder that is `theirs`, the user's, move its files."""
    if theirs and final.is_dir() and not folders.holds_files(final):
        _move_files_into(staging, final)
        return final
    while True:
        try:
            os.rename(staging, final)
            return final
        except OSError:
            if not folders.holds_files(final):
                raise
        # Someone else filled the folder while this run ran: a run started in the same
        # second (take the next default folder), another sweep into the same folder that
        # finished the same run (keep theirs), or a user's files (keep them).
        if not multirun and not named:
            final = folders.free_default_folder(final)
            continue
        shutil.rmtree(staging, ignore_errors=True)
        if multirun and folders.complete(final) and folders.same_run(final, key):
            log.info("completed meanwhile by another sweep, kept: %s", final)
            return final
        raise UserError(f"the run folder {folders.describe(final)} was filled by something "
                        f"else while the run ran; it was left as it is")


def _move_files_into(staging: Path, final: Path) -> None:
    """Move each of the staging folder's files into the (empty) run folder, summary.json
    last: a reader takes a run folder for complete when it holds summary.json
    (`folders.complete`), so it never sees a part of the run as the whole.

    Each file is linked in under its name, which fails if the name is taken (a rename
    would replace the file), then unlinked from the staging folder: another run into the
    same folder at the same time finds its files there and stops, and this run takes back
    what it had linked and leaves theirs. (A file system without hard links gets renames.)"""
    marker = staging / "summary.json"
    linked: list[Path] = []
    try:
        for entry in [*sorted(path for path in staging.iterdir() if path != marker), marker]:
            target = final / entry.name
            try:
                os.link(entry, target)
            except FileExistsError:
                raise UserError(f"the run folder {folders.describe(final)} was filled by "
                                f"something else while the run ran; it was left as it "
                                f"is") from None
            except OSError:  # no hard links here: a rename, unless the name is taken
                if target.exists():
                    raise
                os.rename(entry, target)
                continue
            linked.append(target)
            entry.unlink()
    except BaseException:
        for target in linked:  # what this run put there, and nothing else
            with contextlib.suppress(OSError):
                target.unlink()
        raise
    staging.rmdir()


def _record_failure(final: Path, overrides: list[str], error: BaseException) -> None:
    """Name a failed sweep job in <sweep>/.failed/<run>.txt, with its overrides and error."""
    record = folders.failure_record(final.parent, final.name)
    with contextlib.suppress(OSError):
        record.parent.mkdir(exist_ok=True)
        write_text(record, f"overrides: {' '.join(overrides)}\nerror: {errors.one_line(error)}"
                           f"\n\n" + "".join(traceback.format_exception(error)))


def stop_with_the_sweep() -> None:
    """In a sweep's worker process: leave on SIGTERM, and die with the sweep.

    The sweep's own process decides when to stop (Ctrl-C reaches it, and it ends its
    workers), so a worker ignores SIGINT; on SIGTERM it removes the staging folder of the
    job it is running and exits at once, rather than unwinding through the launcher's code.
    Linux's parent-death signal sends it SIGTERM when the sweep's process ends, even by
    SIGKILL, so no worker goes on with runs nobody is waiting for.
    """
    worker = os.environ.get(SWEEP_PROCESS) not in (None, str(os.getpid()))
    if not worker or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        set_parent_death_signal = 1  # PR_SET_PDEATHSIG
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGTERM)
    if os.getppid() == 1:  # the sweep had already gone before the signal was set
        _leave(signal.SIGTERM, None)


def _leave(signal_number: int, frame: object) -> None:
    for folder in _running:
        shutil.rmtree(folder, ignore_errors=True)
    os._exit(128 + signal_number)


try:  # Hydra's callback base class; the callback is configured in configs/config.yaml
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover - hydra-core is a dependency
    Callback = object  # type: ignore[assignment,misc]


def remove_folders_of_failed_run() -> None:
    """Remove the folders Hydra created for a single run that failed before it started
    (while setting up its log, say); called by the command line when Hydra fails."""
    while _missing_before_run:
        _, created = _missing_before_run.popitem()
        folders.remove_if_empty(created)


class RunFolderWatch(Callback):
    """Checks Hydra's settings before Hydra creates any folder, and notes which folders a
    single run's folder needs created, so that a run that fails can remove them.

    Hydra reports an Exception raised in a callback as a warning and carries on, so a
    refusal is raised as `errors.Refused`, which passes through to the one-line handler.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            folders.check_hydra_settings(config, sweep=False)
        except UserError as error:
            raise errors.Refused(error) from None
        except Exception:  # a folder Hydra cannot resolve: Hydra says so in its own words
            return
        folder = Path(os.path.abspath(str(OmegaConf.select(config, "hydra.run.dir"))))
        _missing_before_run[folder] = folders.missing_ancestors(folder)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            folders.check_hydra_settings(config, sweep=True)
        except UserError as error:
            raise errors.Refused(error) from None
        except Exception:  # the sweeper's own checks report it
            return
