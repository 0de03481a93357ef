"""Ctrl-C or SIGTERM that Python would swallow, raised again where it counts.

A command's signal handlers (`sim.errors.install_signal_handlers`) raise `KeyboardInterrupt`
(or `Terminated`) in the main thread wherever it is. If that is inside a callback Python
only reports exceptions from (importlib's clean-up of a module lock, run while the
libraries load), the exception is printed as "Exception ignored in ..." with a traceback,
and the command goes on, deaf to more signals (the handlers ignore any after the first). So
such an exception, caught by `sys.unraisablehook`, is raised again in the main thread a
moment later, once out of the hook (an exception raised in the hook itself would only be
printed too): the command then stops with its one line, as for any Ctrl-C.
"""

from __future__ import annotations

import _thread
import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

# How long after a swallowed signal it is raised again in the main thread.
RAISE_AGAIN_AFTER_SECONDS = 0.01

_hook_before: list[Callable[..., object]] = []
_received: list[list[int]] = []


def raise_swallowed_signals_again(received: list[int]) -> None:
    """From now on, raise again a signal's exception that a callback swallowed; `received`
    lists the signals the command's handlers have taken (none: an exception of the same
    kind raised otherwise is reported as Python would)."""
    _received[:] = [received]
    if sys.unraisablehook is not _unraisable:
        _hook_before[:] = [sys.unraisablehook]
        sys.unraisablehook = _unraisable


def _unraisable(unraisable: object) -> None:
    error = getattr(unraisable, "exc_value", None)
    # A signal's exception is a BaseException that is not an Exception.
    if (isinstance(error, BaseException) and not isinstance(error, Exception)
            and _received and _received[0]):
        signal.signal(signal.SIGINT, lambda number, frame: _raise_again(error))
        threading.Timer(RAISE_AGAIN_AFTER_SECONDS, _thread.interrupt_main,
                        args=(signal.SIGINT,)).start()
        return
    _hook_before[0](unraisable)


def _raise_again(error: BaseException) -> NoReturn:
    for number in (signal.SIGINT, signal.SIGTERM):  # as the handlers leave them
        signal.signal(number, signal.SIG_IGN)
    raise error
