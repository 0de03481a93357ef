"""Where a comparison writes, and writing it all or nothing.

A comparison writes only into a folder that is new, empty, a path it was given, or one an
earlier comparison wrote (its manifest, `comparison.json`, lists the files it wrote; only
those are ever replaced or removed). The files go into a hidden folder inside the output
folder first (`.compare-<host>-<pid>.partial`), each with `sim.files.write_atomically`,
and are moved into place together while Ctrl-C and SIGTERM are held, so the folder holds
all the new files or all the old ones. A hidden folder left by a comparison killed
outright is removed by the next comparison into that folder.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sim.errors
from sim import __version__
from sim.errors import UserError, signals_held
from sim.files import write_atomically
from sim.folders import process_exists

FIGURES = ("comparison", "levels", "differences", "outcomes", "cost_effectiveness",
           "acceptability", "heat_map", "robustness")
TABLES = ("runs.parquet", "runs.csv", "differences.csv", "missing.csv")
# Written only when there is a group to compare with the baseline
# (sim.compare.cost_effectiveness).
COST_EFFECTIVENESS_TABLES = ("cost_effectiveness.csv", "acceptability.csv")
# Written only for runs of plausible parameter sets (sim.compare.parameter_sets).
SET_TABLES = ("robustness.csv", "value_of_information.csv")
# Written only when the runs vary a parameter besides the seed and policy (sim.compare.swept).
SWEPT_TABLES = ("swept.csv",)
# Every file a comparison may write, besides its manifest; only these names are ever
# replaced or removed, and only when an earlier comparison's manifest lists them.
OUTPUT_FILES = (*TABLES, *COST_EFFECTIVENESS_TABLES, *SET_TABLES, *SWEPT_TABLES,
                *(f"{name}.{suffix}" for name in FIGURES for suffix in ("png", "svg")))
# The files every comparison writes (besides the manifest), checked before anything is read.
ALWAYS_WRITTEN = (*TABLES, *(f"{name}.{suffix}" for name in ("comparison", "outcomes")
                             for suffix in ("png", "svg")))
MANIFEST = "comparison.json"
WRITER = "sim.compare"  # the manifest's "written_by"
STAGING = re.compile(r"^\.compare-(?P<host>.+)-(?P<pid>\d+)\.partial$")


def default_output(paths: list[Path]) -> Path:
    """The single sweep folder given, or a new folder under results/comparisons/."""
    if len(paths) == 1 and not (paths[0] / "summary.json").exists():
        return paths[0]
    base = Path("results") / "comparisons" / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    output, number = base, 1
    while output.exists():
        number += 1
        output = base.with_name(f"{base.name}_{number}")
    return output


def nearest_existing(path: Path) -> Path:
    return next(folder for folder in (path, *path.parents) if folder.exists())


def check_output(output: Path, paths: list[Path]) -> None:
    """Raise a one-line UserError for an output folder that cannot or must not be used: a
    file, inside a run folder, read-only, or holding files when it is neither a path given
    nor a folder an earlier comparison wrote."""
    if output.is_symlink() and not output.exists():
        raise UserError(f"--output {output} is a symbolic link to {os.readlink(output)}, which "
                        f"does not exist: name a folder, or create the link's target first")
    resolved = output.resolve()
    if resolved.exists() and not resolved.is_dir():
        raise UserError(f"--output {output} is a file, not a folder")
    for folder in (resolved, *resolved.parents):
        if (folder / "summary.json").is_file():
            raise UserError(f"cannot write into {output}: it is inside the run folder {folder}, "
                            f"which holds one run's results; choose another folder with --output")
    existing = nearest_existing(resolved)
    if not existing.is_dir():
        raise UserError(f"cannot write into {output}: {existing} is a file")
    given = {path.resolve() for path in paths}
    if holds_files(resolved) and resolved not in given and read_manifest(resolved) is None:
        same = [name for name in (MANIFEST, *OUTPUT_FILES) if os.path.lexists(resolved / name)]
        named = (f", among them {', '.join(same)}, which a comparison would overwrite"
                 if same else "")
        manifest = (f"its {MANIFEST} is not one sim.compare wrote"
                    if os.path.lexists(resolved / MANIFEST) else f"it has no {MANIFEST}")
        raise UserError(f"the output folder {output} already holds files that are not a "
                        f"comparison's ({manifest}){named}; nothing was changed: "
                        f"name a new or empty folder with --output, or one an earlier "
                        f"comparison wrote")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"cannot write into {output}: {existing} is read-only; choose another "
                        f"folder with --output")


def holds_files(folder: Path) -> bool:
    """Whether the folder holds anything besides the hidden folders of comparisons."""
    try:
        return any(not STAGING.match(entry.name) for entry in folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return False


def read_manifest(output: Path) -> set[str] | None:
    """The files an earlier comparison wrote into `output`, as its manifest lists them (only
    names a comparison writes); None when there is no manifest or it is not a comparison's."""
    try:
        manifest = json.loads((output / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):  # absent, a folder, not JSON
        return None
    if not isinstance(manifest, dict) or manifest.get("written_by") != WRITER \
            or not isinstance(manifest.get("files"), list):
        return None
    return {name for name in manifest["files"] if name in OUTPUT_FILES}


def check_overwrites(output: Path, names: Iterable[str]) -> set[str]:
    """The files of an earlier comparison in `output`, which this one may replace or remove;
    raises a one-line UserError naming a file it would write that is there and is not one."""
    earlier = read_manifest(output)
    for name in (MANIFEST, *names):
        path = output / name
        if not os.path.lexists(path):
            continue
        ours = earlier is not None and (name == MANIFEST or name in earlier)
        if not ours or path.is_symlink() or not path.is_file():
            if name == MANIFEST:
                why = "is not a manifest sim.compare wrote"
            elif earlier is None:
                why = f"is not from a comparison (there is no {MANIFEST})"
            else:
                why = f"is not one {MANIFEST} lists as written by an earlier comparison"
            raise UserError(f"cannot write the comparison into {output}: {path} is there and "
                            f"{why}; nothing was changed: move it away, or choose another "
                            f"folder with --output")
    return earlier or set()


def process_gone(host: str, pid: int) -> bool:
    """Whether a process of this host with this id no longer exists."""
    return host == socket.gethostname() and not process_exists(pid)


def remove_stale_staging(output: Path) -> None:
    """Remove hidden folders of comparisons into `output` killed outright (SIGKILL)."""
    with contextlib.suppress(OSError):
        for entry in output.iterdir():
            match = STAGING.match(entry.name)
            if match and entry.is_dir() and process_gone(match["host"], int(match["pid"])):
                shutil.rmtree(entry, ignore_errors=True)


def manifest_bytes(files: Iterable[str], details: dict[str, Any], complete: bool) -> bytes:
    manifest = {"written_by": WRITER, "version": __version__, "complete": complete,
                "files": sorted(files), **details}
    return (json.dumps(manifest, indent=2) + "\n").encode("utf-8")


def write_all(output: Path, files: dict[str, bytes], earlier: set[str],
              details: dict[str, Any]) -> None:
    """Write every file and the manifest, or none: into a hidden folder first, then moved
    into place; files of the earlier comparison this one does not write are removed."""
    existing = nearest_existing(output.resolve())
    staging = output / f".compare-{socket.gethostname()}-{os.getpid()}.partial"
    committed = False
    try:
        output.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(output)
        staging.mkdir()
        contents = {**files, MANIFEST: manifest_bytes(files, details, complete=True)}
        for name, data in contents.items():
            write_atomically(staging / name, lambda path, data=data: path.write_bytes(data))
        interim = manifest_bytes(earlier | set(files), details, complete=False)
        with signals_held():
            write_atomically(output / MANIFEST, lambda path: path.write_bytes(interim))
            for name in files:
                os.replace(staging / name, output / name)
            for name in earlier - set(files):  # never a folder or link: those are not ours
                if (output / name).is_file() and not (output / name).is_symlink():
                    (output / name).unlink()
            os.replace(staging / MANIFEST, output / MANIFEST)
            staging.rmdir()
            committed = True
            sim.errors.interruption_note = f"the comparison was written in full into {output}"
    except BaseException as error:
        if not committed:
            with signals_held():  # a second Ctrl-C does not stop the clean-up
                shutil.rmtree(staging, ignore_errors=True)
                for folder in (output.resolve(), *output.resolve().parents):  # made here
                    if folder == existing:
                        break
                    try:
                        folder.rmdir()
                    except OSError:
                        break
        if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise UserError(f"cannot write into {output}: {error.strerror}; choose another "
                            f"folder with --output") from error
        raise
