"""A calibration study's folder: what `fit` may write into, and its journal, opened safely.

- **Whose folder.** A study is written into a new or empty folder, or one that already holds
  a study (`study.journal`). A folder holding other files is refused before any run, so that
  a mistyped `--study` (or an empty one, which would be the working folder) never writes a
  journal among a user's files or replaces their `plausible.csv`. The names the fit writes
  are checked too: `model` must be a folder and the tables files, if they are there.
- **The journal, repaired only where Optuna would skip.** A process killed while appending
  leaves a last line cut short; Optuna reads past it, but would append its next record onto
  it and corrupt the file. A last line without its end is therefore cut off (and said so),
  which is exactly the journal Optuna reads. A journal damaged elsewhere is refused in one
  line, and left as it is.
- **The lock.** Optuna's default lock is a symbolic link to the journal; when a killed
  writer leaves one that no longer resolves (its path relative, or the folder moved since),
  Optuna's wait for it never ends (it spins at full speed). The lock used here is a plain
  file (`JournalFileOpenLock`, for NFSv3 or later and local disks), taken by the journal's
  absolute path, whose age Optuna can always read: a lock a killed writer left is taken over
  after Optuna's grace period (30 s). A link left by the old lock is removed if it points
  nowhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

from sim.errors import UserError

JOURNAL = "study.journal"
LOCK_SUFFIX = ".lock"
FILES_WRITTEN = ("best_overrides.txt", "plausible.csv", "narrowing.csv")
FOLDERS_WRITTEN = ("model",)


def storage_of(folder: Path) -> JournalStorage:
    """The study's journal storage, locked by a plain lock file at its absolute path."""
    path = str(folder.resolve() / JOURNAL)
    return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))


def check_folder(text: str) -> Path:
    """The study folder `--study` names, refused in one line if the fit may not write there."""
    if not text.strip():
        raise UserError("--study is empty: name the study's folder, for example "
                        "--study results/calibration/england")
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--study {folder} is a file, not a folder: name a new folder, or "
                        f"one a fit made")
    if folder.is_dir() and not (folder / JOURNAL).is_file() and any(folder.iterdir()):
        raise UserError(f"--study {folder} holds files but no calibration study "
                        f"({JOURNAL}): name a new or empty folder, or one a fit made")
    for name in (*FILES_WRITTEN, "model/calibrated.yaml"):
        if (folder / name).is_dir():
            raise UserError(f"{folder / name} is a folder, where the fit writes a file: move "
                            f"it, or use another --study folder")
    for name in FOLDERS_WRITTEN:
        if (folder / name).exists() and not (folder / name).is_dir():
            raise UserError(f"{folder / name} is a file, where the fit writes a folder: move "
                            f"it, or use another --study folder")
    return folder


def repair_journal(folder: Path) -> str | None:
    """Cut off a last line a killed writer left unfinished, and remove a lock link that
    points nowhere; refuse a journal damaged elsewhere. A note of what was done, or None."""
    notes = []
    lock = folder / (JOURNAL + LOCK_SUFFIX)
    if lock.is_symlink() and not lock.exists():
        lock.unlink()
        notes.append("removed a lock a stopped fit left behind")
    journal = folder / JOURNAL
    if not journal.is_file() or journal.stat().st_size == 0:
        return "; ".join(notes) or None
    data = journal.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(journal, "r+b") as handle:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
        notes.append(f"cut off the last line of {journal}, left unfinished by a fit stopped "
                     f"while writing it ({len(data) - end} bytes)")
        data = data[:end]
    for number, line in enumerate(data.splitlines(), start=1):
        try:
            json.loads(line)
        except ValueError:
            raise UserError(f"{journal} is damaged at line {number} (not a journal record): "
                            f"start a new study in another --study folder, or restore the "
                            f"file from a copy") from None
    return "; ".join(notes) or None
