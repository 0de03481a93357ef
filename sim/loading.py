"""Loading libraries without the garbage collector's pauses.

Loading Hydra, pandas, scipy, Mesa and matplotlib makes some hundred and fifty thousand
objects (modules, classes, functions, tables of constants), and each time the number of
objects grows by a quarter, Python's garbage collector walks every one of them looking for
cycles to free. It finds next to nothing: what a library defines lives as long as the
process. `loading_libraries()` holds the collector off while a block loads modules, then
freezes every object that exists (`gc.freeze`), so that later collections walk only what
the work itself makes. `python -m sim` loads in three such blocks: the command, the model
when a run starts, matplotlib when the figure is drawn; a block that loads nothing new (the
second run of a sweep's worker, say) freezes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def loading_libraries() -> Iterator[None]:
    """Hold the garbage collector off while the block loads modules, then freeze what
    exists if it loaded any, and let the collector run again if it ran before."""
    modules_before = len(sys.modules)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if len(sys.modules) > modules_before:
            gc.freeze()
        if was_enabled:
            gc.enable()
