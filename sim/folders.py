"""Where a run's files go, and the rules that keep a user's own files safe.

This is the one place that decides folders. Its rules:

- **A run's files end in its run folder**: `hydra.run.dir` for a single run (by default
  `<output.root>/runs/<place>/<policy>/<time>_seed<seed>`, where the place is the scenario
  or, for a GIAS run, `gias-<areas>`: `sim.places`), or `<sweep>/<subdir>` for a
  job of a sweep (`hydra.sweep.dir`, `hydra.sweep.subdir`; by default the subdir is the
  run's name, `<policy>_seed<seed>_<key>`, where the key is a hash of everything that
  decides the run's results, so that a sweep run again finds its finished runs).
- **Staged, then renamed**: the files are written into a hidden sibling of the run folder,
  `.<name>.<host>-<pid>.staging`, unique to the process, and the sibling is renamed to the
  run folder when every file is complete. A run that fails or is interrupted removes its
  sibling; one killed outright leaves it, and the next run beside it removes siblings
  whose process no longer exists on this host.
- **A folder that holds files is never touched**: a run folder that exists and is not empty
  is refused, except that a sweep job whose folder already holds the same complete run
  skips it (a resumed sweep). When the folder was not named by the user (the default, with
  its time stamp) and is taken, the run takes `<folder>_2`, `_3`, ...
- **What a failed run created, it removes**: Hydra creates the run folder (and any missing
  parents) before the run starts; a run that then fails removes those that are still
  empty, so a mistake leaves no trace.
- **Names used in folder names** (`scenario.name`, `policy.name`) are checked by their
  declarations (letters, digits, `_`, `-`, `.`), and a GIAS run's areas are reduced to
  letters, digits and `-` (`sim.places.place_folder`), so no value can reach outside a
  folder.

The sweep folder's own rules (it must be new, empty or a sweep's; `plan.csv`; another
sweep's folder is refused, `sim.sweep_plans`) are in `sim.sweeps`, which the sweeper
(`hydra_plugins/sim_sweeper`) calls, and which calls `check_sweep_folder` and
`check_subdir` here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import socket
from pathlib import Path
from typing import Any

from sim.errors import UserError
from sim.files import NAME_MAX, encoded_length, hidden_sibling

STAGING = re.compile(r"^\.(?P<name>.+)\.(?P<host>[^.]+)-(?P<pid>\d+)\.staging$")
FAILED_FOLDER = ".failed"
PLAN_FILE = "plan.csv"
# A folder holding one of these is a sweep's (the running lock is its first file, made
# before the plan: another sweep starting into the folder meanwhile must see a sweep's).
RUNNING_LOCK = ".running.lock"
SWEEP_MARKERS = (PLAN_FILE, "multirun.yaml", RUNNING_LOCK)


def run_key(config: dict[str, Any]) -> str:
    """A short hash of everything that decides a run's results (seed included; the output
    options and Hydra's own settings left out): equal keys mean identical result files.
    With parameter uncertainty, how many sets the sweep runs (`uncertainty.sets`) is left
    out too: set k is the same set whatever K (sim.parameter_sets), so a sweep with more
    sets finds the runs of one with fewer complete."""
    relevant = {key: value for key, value in config.items() if key not in ("output", "hydra")}
    if isinstance(relevant.get("uncertainty"), dict):
        relevant["uncertainty"] = {key: value for key, value in relevant["uncertainty"].items()
                                   if key != "sets"}
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def run_name(config: dict[str, Any]) -> str:
    """A sweep job's default folder name: `<policy>_seed<seed>_<key>`, or
    `<policy>_seed<seed>_set<k>_<key>` for a run of parameter set k."""
    uncertainty = config.get("uncertainty")
    parameter_set = f"_set{uncertainty['parameter_set']}" if isinstance(uncertainty, dict) else ""
    return f"{config['policy']['name']}_seed{config['seed']}{parameter_set}_{run_key(config)}"


def real_folder(final: Path) -> Path:
    """The folder a run is written into: a symbolic link's target (a folder the user
    named, through the link), or the folder itself."""
    final = Path(final)
    return Path(os.path.realpath(final)) if final.is_symlink() else final


def staging_folder(final: Path) -> Path:
    """The hidden sibling a run is written into before it is renamed to `final`; a long
    name is shortened, with a hash of the whole, so the sibling's name stays within
    NAME_MAX bytes (`sim.files.hidden_sibling`)."""
    return hidden_sibling(real_folder(final), "staging")


def staging_log(final: Path) -> Path:
    """The run's log file, in its staging folder (configs/config.yaml's log handler)."""
    return staging_folder(final) / "run.log"


def check_name_lengths(folder: Path, key: str) -> None:
    """Refuse a folder with a name longer than the file system allows, naming it."""
    for part in Path(folder).parts:
        length = encoded_length(part)
        if length > NAME_MAX:
            raise UserError(f"{key}: the name '{part[:40]}...' is {length} bytes long, more "
                            f"than a folder's name may be ({NAME_MAX} bytes): choose a "
                            f"shorter name")


def file_in_the_way(folder: Path) -> Path | None:
    """The first part of the folder's path that exists and is not a folder, if any."""
    for candidate in (Path(folder), *Path(folder).parents):
        with contextlib.suppress(OSError):
            if candidate.exists():
                return None if candidate.is_dir() else candidate
    return None


def process_exists(pid: int) -> bool:
    """Whether a process of this host with this id exists (or may: when in doubt, yes, so
    that nothing of a live process is removed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process (PermissionError): it exists
        return True
    return True


def remove_stale_staging(folder: Path) -> list[Path]:
    """Remove staging siblings in `folder` left by processes of this host that are gone."""
    removed = []
    host = socket.gethostname()
    with contextlib.suppress(OSError):
        for entry in Path(folder).iterdir():
            match = STAGING.match(entry.name)
            if match and match["host"] == host and entry.is_dir() \
                    and not process_exists(int(match["pid"])):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def holds_files(folder: Path) -> bool:
    """Whether `folder` exists and holds anything at all."""
    try:
        return any(True for _ in Path(folder).iterdir())
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return True


def describe(folder: Path) -> str:
    """A folder as the user wrote it when relative to where the command runs."""
    folder = Path(folder)
    with contextlib.suppress(ValueError):
        return str(folder.resolve().relative_to(Path.cwd().resolve())) or "."
    return str(folder)


def complete(folder: Path) -> bool:
    """A run folder is complete when its summary.json (written last but the figure) exists."""
    return (Path(folder) / "summary.json").is_file()


def same_run(folder: Path, key: str) -> bool:
    """Whether a complete run folder holds the run with this key (read from its config)."""
    import yaml

    try:
        text = (Path(folder) / "config.yaml").read_text(encoding="utf-8")
        config = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(config, dict) and run_key(config) == key


def missing_ancestors(folder: Path) -> list[Path]:
    """The folder and its parents that do not exist yet, deepest first."""
    missing = []
    path = Path(folder).absolute()
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def remove_if_empty(folders: list[Path]) -> None:
    """Remove each folder (deepest first) while it is empty; stop at the first that is not."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def check_run_folder(final: Path) -> None:
    """Refuse a run folder that is a file or already holds files; it is left untouched."""
    final = Path(final)
    blocking = file_in_the_way(final)
    if blocking is not None:
        where = "is a file" if blocking == final else f"is inside {describe(blocking)}, a file"
        raise UserError(f"the run folder {describe(final)} {where}: name a new folder "
                        f"(hydra.run.dir=PATH)")
    if holds_files(final):
        raise UserError(f"the run folder {describe(final)} already holds files; nothing was "
                        f"changed: name a new or empty folder (hydra.run.dir=PATH)")


def free_default_folder(final: Path) -> Path:
    """The default folder, or `<folder>_2`, `_3`, ... if another run has taken it."""
    candidate, number = Path(final), 1
    while holds_files(candidate) or candidate.is_file():
        number += 1
        candidate = Path(final).with_name(f"{Path(final).name}_{number}")
    return candidate


def check_subdir(subdir: str) -> None:
    """A sweep job's folder must be a folder inside the sweep folder."""
    parts = Path(subdir).parts
    if not subdir.strip() or Path(subdir).is_absolute() or not parts \
            or any(part in (".", "..") for part in parts) or subdir.strip() in (".", "./"):
        raise UserError(f"hydra.sweep.subdir='{subdir}' must name a folder inside the sweep "
                        f"folder (for example the default, the run's name, or "
                        f"'${{hydra.job.num}}')")
    if any(part.startswith(".") for part in parts):
        raise UserError(f"hydra.sweep.subdir='{subdir}' must not start with '.': hidden "
                        f"names are the sweep's own bookkeeping")


def check_sweep_folder(folder: Path) -> None:
    """A sweep folder must be new, empty, or a sweep's own (it holds plan.csv or multirun.yaml)."""
    folder = Path(folder)
    blocking = file_in_the_way(folder)
    if blocking is not None:
        where = "is a file" if blocking == folder else f"is inside {describe(blocking)}, a file"
        raise UserError(f"the sweep folder {describe(folder)} {where}: name a new folder "
                        f"(hydra.sweep.dir=PATH)")
    if holds_files(folder) and not any((folder / marker).is_file() for marker in SWEEP_MARKERS):
        raise UserError(f"the sweep folder {describe(folder)} already holds files that are not "
                        f"a sweep's; nothing was changed: name a new or empty folder "
                        f"(hydra.sweep.dir=PATH), or a sweep folder to resume it")


STAGING_LOG = "${sim_staging_log:${hydra.runtime.output_dir}}"  # configs/config.yaml's log file
RUN_NAME = "${sim_run_name:}"  # configs/config.yaml's hydra.sweep.subdir: the run's name
OUR_SWEEPER = "hydra_plugins.sim_sweeper.sim_sweeper.SimSweeper"


def check_hydra_settings(config: Any, sweep: bool) -> None:
    """Refuse Hydra settings that would write outside the run's own folder, or around its
    checks: Hydra's `.hydra` folder, a log file elsewhere, changing directory, another
    sweeper, `..` in a folder's path. Called before Hydra creates any folder."""
    from omegaconf import OmegaConf

    hydra = config.hydra
    if hydra.output_subdir is not None:
        raise UserError("hydra.output_subdir must stay null: each run writes its own "
                        "config.yaml, and Hydra's folder would be written outside the run's")
    if hydra.job.chdir:
        raise UserError("hydra.job.chdir=true is not supported: sim writes into the run folder "
                        "without changing directory; leave it false")
    handlers = OmegaConf.select(hydra, "job_logging.handlers") or {}
    for name in handlers:
        filename = handlers[name]._get_node("filename") if "filename" in handlers[name] else None
        if filename is not None and filename._value() != STAGING_LOG:
            raise UserError(f"hydra.job_logging.handlers.{name}.filename cannot be changed: the "
                            f"run's log is written into the run's own folder (run.log)")
    if sweep and OmegaConf.select(hydra, "sweeper._target_") != OUR_SWEEPER:
        raise UserError("sim's sweeps need its own sweeper, which checks every job and keeps "
                        "your files safe: leave hydra/sweeper as it is (sim)")
    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    folder = str(OmegaConf.select(config, key))
    if ".." in Path(folder).parts:
        # The folder is the user's own, or made under output.root: name what they set.
        root = str(OmegaConf.select(config, "output.root", default=""))
        if root and ".." in Path(root).parts and folder.startswith(root):
            key, folder = "output.root", root
        raise UserError(f"{key}={folder} must not contain '..': name the folder itself")
    check_name_lengths(Path(folder), key)


_running_locks: list[int] = []  # open for the process's life: the lock lasts as long


def hold_running_lock(sweep: Path) -> None:
    """Hold a shared lock on the sweep's running lock until this process ends (two sweeps
    into one folder both hold it). A bare descriptor, closed by the process's end (a file
    object would warn of being left open), and not inherited by the workers."""
    descriptor = os.open(Path(sweep) / RUNNING_LOCK,
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    _running_locks.append(descriptor)


def close_inherited_locks() -> None:
    """In a worker forked from the sweep's process: close its copies of the running lock,
    so that the lock ends with the sweep's own process (a flock lasts while any copy of
    its descriptor is open)."""
    while _running_locks:
        with contextlib.suppress(OSError):
            os.close(_running_locks.pop())


def sweep_running(sweep: Path) -> bool:
    """Whether a sweep is running into this folder (its process holds the running lock)."""
    try:
        with open(Path(sweep) / RUNNING_LOCK, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:  # no lock file: no sweep since sweeps held one; or it cannot be read
        return False
    return False


def failure_record(sweep: Path, name: str) -> Path:
    return Path(sweep) / FAILED_FOLDER / f"{name.replace('/', '_')}.txt"


class StagingFileHandler(logging.FileHandler):
    """The run's log file handler: it creates the staging folder the log goes into.

    Configured in configs/config.yaml with `delay: true`, so the file is opened at the first
    record, once the run has started, and never in a folder the run was refused.
    """

    def _open(self):  # type: ignore[no-untyped-def]  # logging.FileHandler's own signature
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()
