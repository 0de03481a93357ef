"""Writing files atomically: a reader sees the old file or the whole new one, never half.

Every file the project writes goes through `write_atomically`: the content is written to a
hidden temporary file beside the target (same folder, so the same file system), flushed
to disk, and renamed over the target in one step. An interrupted write, a full disk or a
crash leaves the target as it was and removes the temporary file.

This module imports nothing heavy, so that readers of result files (`sim.compare`,
`sim.sensitivity`, `sim.plots`) can use it without loading the model.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any


def temporary_name(path: Path) -> Path:
    """A hidden name beside `path`, unique to this process (so two writers never collide)."""
    return path.with_name(f".{path.name}.{socket.gethostname()}-{os.getpid()}.partial")


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
