"""Standard output and standard error that cannot be written: never a traceback.

A command's results are its files; what it prints reports on them. So a standard stream
that cannot be written neither prints a traceback nor stops the work:

- closed (`>&-`): `/dev/null` takes its place, so that no file the command opens later
  takes its number (output meant for the stream never lands in a user's file);
- a reader that left (`| head -1`, a broken pipe): the rest of the output is dropped,
  quietly; the command completes its work and exits with its own status (0 when the work
  succeeded), as the run's files, not its log, are what it is for;
- full, or failing otherwise (`>/dev/full`): the rest is dropped; once the work is done
  the command says so in one line, `sim: error: cannot write to standard output (...)`,
  and exits 1;
- a character its encoding lacks (`PYTHONIOENCODING=ascii`, a path with 'é'): written as
  a backslash escape (`\\xe9`).

A failure of standard error itself is said nowhere (there is nowhere to say it). Log
records that cannot be written are dropped rather than reported with a traceback
(`logging.raiseExceptions`). `guard_standard_streams` sets this up in a command's process
(`sim.errors.run_command` calls it first); `guard_worker_streams` in a sweep's worker
processes, whose log handlers Hydra set up with the streams before the guard.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import sys
from typing import Any, TextIO


class GuardedStream:
    """A text stream that drops what it cannot write, and keeps the first failure."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.failure: OSError | ValueError | None = None

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                return self.stream.write(text)
            except (OSError, ValueError) as error:
                self._failed(error)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self.stream.flush()
            except (OSError, ValueError) as error:
                self._failed(error)

    def _failed(self, error: OSError | ValueError) -> None:
        self.failure = error
        # What the stream still holds in its buffer is flushed again at exit: send it, and
        # anything written to the descriptor directly, to /dev/null rather than fail again.
        with contextlib.suppress(OSError, ValueError):
            _point_at_devnull(self.stream.fileno())

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, buffer, ...
        return getattr(self.stream, name)


def _point_at_devnull(descriptor: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    if devnull != descriptor:
        os.dup2(devnull, descriptor)
        os.close(devnull)


def _usable(stream: TextIO | None, descriptor: int) -> TextIO:
    """The stream, writing unencodable characters as escapes; /dev/null if it is closed."""
    try:
        os.fstat(descriptor)
    except OSError:  # closed: take its number before any file the command opens does
        _point_at_devnull(descriptor)
    if stream is None:  # Python found it closed at start-up
        stream = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process's life
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="backslashreplace")
    return stream


def guard_standard_streams() -> None:
    """Make standard output and error guarded streams (once per process)."""
    logging.raiseExceptions = False  # a record that cannot be written is dropped, silently
    for name, descriptor in (("stdout", 1), ("stderr", 2)):
        current = getattr(sys, name)
        if not isinstance(current, GuardedStream):
            setattr(sys, name, GuardedStream(_usable(current, descriptor)))


def guard_worker_streams() -> None:
    """In a sweep's worker: guard the streams, and point the log handlers Hydra made with
    the unguarded streams at the guarded ones."""
    unguarded = {id(sys.stdout): "stdout", id(sys.stderr): "stderr"}
    guard_standard_streams()
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict
                                     .values() if isinstance(logger, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            name = unguarded.get(id(getattr(handler, "stream", None)))
            if isinstance(handler, logging.StreamHandler) and name is not None:
                handler.setStream(getattr(sys, name))


def standard_output_failure() -> OSError | ValueError | None:
    """Why standard output could not be written, if it could not and a reader did not
    simply leave (a broken pipe is not a failure: see the module's docstring)."""
    sys.stdout.flush()  # what is still buffered: its failure is found now, not at exit
    failure = getattr(sys.stdout, "failure", None)
    if isinstance(failure, OSError) and failure.errno == errno.EPIPE:
        return None
    return failure
