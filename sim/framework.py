"""Mesa, the agent-based modelling framework of the model, loaded once, here.

`sim.model` and `sim.agents` take `mesa` from this module. Loading Mesa 3.5 costs a tenth
of a second or two more than it needs, in its logger's set-up: `mesa.model` names its
logger, and the class its method logger wraps, from the call stack (`inspect.stack()`,
`inspect.getouterframes()` and `inspect.getmodule()` in `mesa.mesa_logging`). For every
frame on the stack those read its source lines and search the loaded modules for its
file, and `getmodule` resolves the real path of every loaded module's file. Mesa uses only
each frame, its function's name and the module it runs in. So, while Mesa loads, those
calls from `mesa.mesa_logging` get the frames with their names and lines but without
source (a record's `code_context` and `index` are None), and a frame's module from the
frame itself; any other caller gets inspect's own, and inspect is as it was once Mesa has
loaded.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Callable, Iterator
from types import FrameType, ModuleType
from typing import Any

LOGGING_MODULE = "mesa.mesa_logging"


def frames_without_source(frame: FrameType | None) -> list[inspect.FrameInfo]:
    """`inspect.getouterframes(frame)`, leaving out what needs the source files."""
    found = []
    while frame is not None:
        code = frame.f_code
        found.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name,
                                       None, None))
        frame = frame.f_back
    return found


@contextlib.contextmanager
def _light_stack_for_mesa_logging() -> Iterator[None]:
    stack, getouterframes, getmodule = inspect.stack, inspect.getouterframes, inspect.getmodule

    def from_mesa_logging() -> bool:  # the caller of the function that asks
        return sys._getframe(2).f_globals.get("__name__") == LOGGING_MODULE

    def light_stack(context: int = 1) -> list[inspect.FrameInfo]:
        if from_mesa_logging():
            return frames_without_source(sys._getframe(1))
        return stack(context)

    def light_getouterframes(frame: FrameType, context: int = 1) -> list[inspect.FrameInfo]:
        if from_mesa_logging():
            return frames_without_source(frame)
        return getouterframes(frame, context)

    def light_getmodule(target: object, _filename: str | None = None) -> ModuleType | None:
        if from_mesa_logging() and isinstance(target, FrameType):
            return sys.modules.get(target.f_globals.get("__name__", ""))
        return getmodule(target, _filename)

    replaced: dict[str, Callable[..., Any]] = {"stack": light_stack,
                                               "getouterframes": light_getouterframes,
                                               "getmodule": light_getmodule}
    for name, replacement in replaced.items():
        setattr(inspect, name, replacement)
    try:
        yield
    finally:
        inspect.stack, inspect.getouterframes, inspect.getmodule = (
            stack, getouterframes, getmodule)


with _light_stack_for_mesa_logging():
    import mesa

__all__ = ["mesa"]
