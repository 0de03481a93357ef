"""Writing files atomically: a reader sees the old file or the whole new one, never half.

Every file the project writes goes through `write_atomically`: the content is written to a
hidden temporary file beside the target (same folder, so the same file system), flushed
to disk, and renamed over the target in one step. An interrupted write, a full disk or a
crash leaves the target as it was and removes the temporary file.

Every hidden name a writer stages under, a file's (`.partial`) or a run's folder's
(`.staging`, `sim.folders`), is made by `hidden_sibling`, which keeps it within the file
system's limit on a name (NAME_MAX bytes, in the file system's encoding), so that any name
the file system allows can be written.

This module imports nothing heavy, so that readers of result files (`sim.compare`,
`sim.sensitivity`, `sim.plots`) can use it without loading the model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The longest name of a file or folder on Linux's file systems, counted in bytes of the name
# as the file system stores it, not in characters: 255 'a', but only 127 'é' (two bytes
# each in UTF-8).
NAME_MAX = 255


def encoded_length(name: str) -> int:
    """The name's length in bytes in the file system's encoding, which NAME_MAX limits."""
    try:
        return len(os.fsencode(name))
    except UnicodeEncodeError:  # not a name this file system can hold; count it as UTF-8
        return len(name.encode("utf-8", errors="surrogateescape"))


def hidden_sibling(path: Path, kind: str) -> Path:
    """A hidden name beside `path` to stage it under, unique to this process (so two writers
    never collide): `.<name>.<host>-<pid>.<kind>`.

    When that would be longer than NAME_MAX bytes, the name is shortened to as much of its
    start as fits, then `~` and a hash of the whole name (two long names that start alike
    still differ). Only the hidden name is shortened: what is renamed into place is `path`.
    """
    suffix = f".{socket.gethostname()}-{os.getpid()}.{kind}"
    name = path.name
    if encoded_length(f".{name}{suffix}") > NAME_MAX:
        digest = hashlib.sha256(name.encode("utf-8", errors="surrogateescape")).hexdigest()[:12]
        room = NAME_MAX - encoded_length(f".~{digest}{suffix}")
        name = f"{_start_within(name, room)}~{digest}"
    return path.with_name(f".{name}{suffix}")


def _start_within(name: str, room: int) -> str:
    """The longest start of `name` that is at most `room` bytes long, encoded (a character is
    kept whole or left out, never cut between its bytes)."""
    used = 0
    for index, character in enumerate(name):
        used += encoded_length(character)
        if used > room:
            return name[:index]
    return name


def temporary_name(path: Path) -> Path:
    """The hidden file a write to `path` is staged in (`hidden_sibling`)."""
    return hidden_sibling(path, "partial")


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then rename the temporary file to `path`.

    `write` must create the file it is given (pandas, matplotlib and pyarrow writers all
    take a path). The temporary file is removed whatever happens, so a failure leaves
    `path` untouched.
    """
    path = Path(path)
    temporary = temporary_name(path)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:  # on disk before the rename makes it visible
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically, as UTF-8."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def json_safe(value: Any) -> Any:
    """A copy of `value` in which every float that is not finite (NaN, inf) is None.

    JSON has no NaN or infinity (Python's `json` writes bare `NaN`, which other readers
    reject), so an undefined number is written as null.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_safe(value.item())
    return value


def write_json(path: Path, value: Any) -> None:
    """Write strictly valid JSON atomically: non-finite numbers become null."""
    write_text(path, json.dumps(json_safe(value), indent=2, allow_nan=False) + "\n")
