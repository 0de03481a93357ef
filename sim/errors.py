"""What a user sees when something goes wrong: one line, an exit status, never a traceback.

Every command of the project (`python -m sim`, `sim.compare`, `sim.sensitivity`,
`sim.calibrate`, `sim.validate`, `sim.docs`) runs its work through `run_command`, the one
top-level handler. It turns whatever reaches it into a single line on standard error:

| what happened | line | exit status |
|---|---|---|
| a `UserError` (bad input: a parameter, a path, a file) | `sim: error: <message>` | 2 |
| Ctrl-C (SIGINT) | `sim: interrupted; <what was kept>` | 130 |
| SIGTERM (a scheduler or `kill`) | `sim: error: terminated by SIGTERM; <what was kept>` | 143 |
| the disk is full | `sim: error: no space left on the device ...` | 1 |
| any other error of the operating system | `sim: error: <what failed>: <why>` | 1 |
| anything unexpected (a bug) | `sim: error: unexpected <type>: <line>; the traceback is in <file>` | 1 |

An unexpected error's traceback goes to a log file in the system's temporary folder (never
into the user's folders), which the line names; with no temporary folder it can write to,
the line names where the error was raised instead. `ENOSPC` is recognised whether it
reaches the handler directly or as the cause of another error. Once Ctrl-C or SIGTERM has
arrived, whatever error the unwinding work ends with (a library's, raised while it was
being stopped) is reported as the interruption it is.

Standard output and error that cannot be written (closed, a reader that left, full) are
`sim.standard_streams`' concern: `run_command` guards them before the command starts, and a working
folder that no longer exists is refused before anything else.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import importlib
import logging
import os
import platform
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NoReturn

from sim.loading import loading_libraries
from sim.standard_streams import guard_standard_streams, standard_output_failure
from sim.swallowed_signals import raise_swallowed_signals_again

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PREFIX = "sim"


class UserError(Exception):
    """A problem the user can fix (bad input, mostly); the message is one line.

    `status` is the exit status: 2 for bad input, 1 for work that failed in part.
    """

    status = 2


class ConfigError(UserError):
    """A config value or override that cannot be used; the message is one line for users."""


class NonFiniteOutputError(RuntimeError):
    """A result holds NaN or inf where a number is promised: a fault of the model, caught
    before anything is written."""


class Refused(BaseException):
    """A UserError raised inside Hydra's callbacks, which report any Exception as a warning
    and carry on: a BaseException passes through them to the top-level handler."""

    def __init__(self, error: UserError) -> None:
        super().__init__(str(error))
        self.error = error


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM.

    A BaseException, like KeyboardInterrupt, so that the clean-up of `finally` blocks and
    `except BaseException` runs, but `except Exception` does not swallow it.
    """


# The signals (SIGINT, SIGTERM) that stopped the command, first first: an error raised while
# its work unwinds from one is reported as that signal.
signals_received: list[int] = []

# What an interrupted or terminated command kept, said after "interrupted; ". Commands set
# it as their work progresses (a sweep: the runs already complete are kept).
interruption_note = "nothing was written"


def one_line(text: object) -> str:
    """The text on one line: line breaks become '; ', runs of spaces collapse."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return "; ".join(lines)


def user_error_within(error: BaseException) -> UserError | None:
    """A UserError this error was raised from (a resolver's, wrapped by OmegaConf), if any."""
    seen = 0
    inner: BaseException | None = error
    while inner is not None and seen < 20:
        if isinstance(inner, UserError):
            return inner
        inner = inner.__cause__ or inner.__context__
        seen += 1
    return None


def _terminate(signal_number: int, frame: object) -> None:
    signals_received.append(signal.SIGTERM)
    _ignore_further_signals()
    raise Terminated(signal_number)


# Whether Ctrl-C was ignored when the command started: a shell without job control starts
# a background job (`python -m sim ... &` in a script) with SIGINT ignored, so that Ctrl-C
# at the terminal stops the script but not its background work. Python keeps that choice,
# and so does the command: noted at the first install, before any handler of ours is set.
_interrupt_ignored_at_start: bool | None = None


def install_signal_handlers() -> None:
    """SIGTERM raises `Terminated` in the main thread, so clean-up runs as for Ctrl-C; after
    the first Ctrl-C or SIGTERM, more of either are ignored, so that a scheduler's repeated
    SIGTERM (SLURM's scancel signals every process) cannot cut the clean-up short. Ctrl-C
    stays ignored if the command was started with it ignored."""
    global _interrupt_ignored_at_start
    if _interrupt_ignored_at_start is None:
        _interrupt_ignored_at_start = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.signal(signal.SIGTERM, _terminate)
    if not _interrupt_ignored_at_start:
        signal.signal(signal.SIGINT, _interrupt)
    raise_swallowed_signals_again(signals_received)


def _interrupt(signal_number: int, frame: object) -> None:
    signals_received.append(signal.SIGINT)
    _ignore_further_signals()
    raise KeyboardInterrupt


def _ignore_further_signals() -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)


def _no_space(error: BaseException | None) -> bool:
    """Whether the error, or any error it was raised from, is 'no space left on device'."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "No space left on device" in str(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def temporary_folders() -> list[str]:
    """Where a traceback's log may go: the temporary folders the system names, never the
    working folder (which `tempfile` falls back on, and which is the user's)."""
    named = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    candidates = [folder for folder in (*named, "/tmp", "/var/tmp", "/usr/tmp") if folder]
    return list(dict.fromkeys(candidates))


def log_traceback(error: BaseException) -> str | None:
    """Write the error's traceback, with the command and versions, to a temporary file;
    its path, or None if no temporary folder can be written."""
    try:
        working = os.getcwd()
    except OSError as why:
        working = f"(none: {why.strerror})"
    text = (f"command: {' '.join(sys.argv)}\nworking folder: {working}\n"
            f"python {platform.python_version()} on {platform.platform()}\n\n"
            + "".join(traceback.format_exception(error)))
    for folder in temporary_folders():
        try:
            descriptor, path = tempfile.mkstemp(prefix="sim-error-", suffix=".log", dir=folder)
        except OSError:
            continue
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            continue
        return path
    return None


def _where_raised(error: BaseException) -> str:
    """The file and line the error was raised at (the innermost frame of its traceback)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "an unknown place"


def fail(message: str, status: int) -> NoReturn:
    print(f"{PREFIX}: error: {one_line(message)}", file=sys.stderr)
    sys.exit(status)


# Whether the command owns its process (`python -m sim...`, through `run_command_module`),
# rather than being called from other code (a test, a notebook).
_command_owns_the_process = False


def _stop(status: int) -> NoReturn:
    """Exit with `status` after an interruption or SIGTERM, its line printed.

    A command that owns its process leaves at once, its streams and logs flushed: once a
    Ctrl-C has passed through code a C extension ran while it was being imported, CPython
    notes an unhandled KeyboardInterrupt for good and, at the end of an ordinary exit,
    kills the process with SIGINT itself, whatever status it was given (about one
    interruption in ten while the libraries load, measured); and the exit handlers of a
    library whose import was cut short can hang. Everything the command made was removed
    while the error unwound (staging folders, a sweep's workers)."""
    if not _command_owns_the_process:
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    logging.shutdown()
    os._exit(status)


def report(error: BaseException) -> NoReturn:
    """Print the one line for an error that reached the top, and exit with its status."""
    first = signals_received[0] if signals_received else None
    if isinstance(error, KeyboardInterrupt) or (first == signal.SIGINT
                                                and not isinstance(error, Terminated)):
        print(f"{PREFIX}: interrupted; {interruption_note}", file=sys.stderr)
        _stop(130)
    if isinstance(error, Terminated) or first == signal.SIGTERM:
        print(f"{PREFIX}: error: {one_line(f'terminated by SIGTERM; {interruption_note}')}",
              file=sys.stderr)
        _stop(143)
    if isinstance(error, Refused):
        error = error.error
    if isinstance(error, UserError):
        fail(str(error), error.status)
    if _no_space(error):
        where = getattr(error, "filename", None)
        place = f" writing {where}" if where else ""
        fail(f"no space left on the device{place}; free some space (or choose another "
             f"folder) and run the command again: {interruption_note}", 1)
    if isinstance(error, OSError) and error.errno is not None:
        where = f" {error.filename}" if error.filename else ""
        fail(f"cannot use{where}: {error.strerror or error}", 1)
    path = log_traceback(error)
    said = one_line(error) or "(no message)"
    where = (f"the traceback is in {path}" if path is not None else
             f"raised at {_where_raised(error)}; no temporary folder could be written for "
             f"the traceback (set TMPDIR to a writable folder to keep one)")
    fail(f"unexpected {type(error).__name__}: {said}; {where} (please report it)", 1)


def refuse_bad_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Make an argparse parser raise a one-line UserError instead of printing its usage."""

    def refuse(message: str) -> NoReturn:
        raise UserError(f"{message} (see {command} --help)")

    parser.error = refuse  # type: ignore[method-assign]


def run_command_module(module: str) -> NoReturn:
    """Run the `main` of a command's module (`python -m sim`, `sim.compare`,
    `sim.sensitivity`) as `run_command` does, loading the module only once the signal
    handlers are set: Ctrl-C or SIGTERM while Hydra, numpy and the model load gets the one
    line too."""
    global _command_owns_the_process
    _command_owns_the_process = True
    install_signal_handlers()
    try:
        with loading_libraries():
            main = importlib.import_module(module).main
    except (KeyboardInterrupt, Terminated) as stopped:
        report(stopped)
    run_command(main)


def run_command(main: Callable[[], int | None]) -> NoReturn:
    """Run a command's `main`, turning anything that reaches the top into one line.

    SIGTERM raises `Terminated` while the command works. Once its work is done, Ctrl-C and
    SIGTERM are held back while the process exits: the work is complete and its files in
    place, and a signal during the interpreter's clean-up would otherwise kill it with no
    message or print a traceback from a library's exit handler. Nor does the exit take the
    process's objects apart (`_exiting`).
    """
    install_signal_handlers()
    guard_standard_streams()
    try:
        check_working_folder()
        status = main()
    except SystemExit:
        _exiting()
        raise
    except BaseException as error:  # the one place every error is reported
        _exiting()
        report(error)
    _exiting()
    failure = standard_output_failure()
    if failure is not None and not status:
        reason = failure.strerror if isinstance(failure, OSError) else str(failure)
        fail(f"cannot write to standard output ({reason}): what the command printed there "
             f"is lost; its work is otherwise complete", 1)
    sys.exit(status or 0)


def check_working_folder() -> None:
    """Refuse to start in a working folder that no longer exists: every relative path, and
    Hydra's own, would fail later with no word of why."""
    try:
        os.getcwd()
    except FileNotFoundError:
        raise UserError("the working folder no longer exists (it was removed or renamed "
                        "while the shell was in it): cd to an existing folder and run the "
                        "command again") from None


def _exiting() -> None:
    """From here the process only exits: hold Ctrl-C and SIGTERM back, and spare the
    interpreter's exit the garbage collector's walk through every object the process
    made (modules, classes, a run's tables: the collector would take them apart one by
    one, a third of a second or more with pandas and matplotlib loaded). Frozen objects
    are left to the operating system; the command has closed its files already, and the
    exit handlers still run (logging's flushes and closes its log)."""
    _hold_signals()
    gc.freeze()


def _hold_signals() -> None:
    """Ignore Ctrl-C and SIGTERM from now on: the process is only exiting. (Blocking them
    would not do: a signal goes to any thread that does not block it, and libraries'
    threads do not.)"""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while work that must finish runs (ending worker
    processes, removing staging folders, moving files into place); one that arrived
    meanwhile takes effect after.

    Their handlers are swapped for one that notes the signal, rather than the signals
    blocked: a process-wide signal may reach any thread (pyarrow's, BLAS's), whose handler
    would still interrupt the main one.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread has signal handlers to swap (and receives signals)
        return
    received: list[int] = []
    previous = {number: signal.signal(number, lambda number, frame: received.append(number))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            if handler is not None:  # None: not set from Python, and cannot be restored
                signal.signal(number, handler)
    if signal.SIGTERM in received:
        raise Terminated(signal.SIGTERM)
    if signal.SIGINT in received:
        raise KeyboardInterrupt


def quiet_worker() -> None:
    """Start a worker process of a command (a ProcessPoolExecutor's `initializer`). Ctrl-C
    reaches every process of a terminal's group: the command answers it (it ends its
    workers, then says what it kept), so a worker ignores it; SIGTERM, from the command or
    from the command's death (Linux), ends the worker at once, without a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda number, frame: os._exit(128 + number))
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the command still ends its workers
        pass


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `quiet_worker` processes; if the block is interrupted or fails, the
    workers are ended (there is no public way to stop work already running) before the
    error goes on, and the pool is shut down either way."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, initializer=quiet_worker)
    try:
        yield pool
    except BaseException:
        for process in multiprocessing.active_children():
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
