"""A term's phases in order, and the ones a big place runs beside the workforce phase.

`TERM_PHASES` is the order of a term (each phase its own module under `sim.phases`, each
module's `run_term(model)` the phase); docs/ODD.md section 3 describes it. A place big
enough to use the compiled kernels (`sim.compiled`) has a second thread, which draws the
phases' next random numbers ahead (`sim.draw_ahead`) and runs the phases of
`BESIDE_WORKFORCE` while the main thread runs the workforce phase: they read nothing it
writes and write nothing it reads (teachers against schools' diagnosis and support), so
the run is the one `TERM_PHASES`' order gives, to the bit. tests/test_draw_ahead.py checks
both: that the two sides touch no column of the schools' or trusts' tables that either
changes, and that a run with the second thread writes the same tables as one without.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.phases import (
    capacity,
    diagnosis,
    improvement,
    inspection,
    structure,
    workforce,
)

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor
    from types import ModuleType

    from sim.model import SchoolSystemModel

# The phases of a term, in order.
TERM_PHASES = (workforce, diagnosis, capacity, improvement, inspection, structure)
# Each phase's name, which is also its random stream's (`sim.streams`).
PHASE_NAMES = tuple(phase.__name__.rsplit(".", 1)[-1] for phase in TERM_PHASES)
# The phases a big place runs on its second thread while the workforce phase runs.
BESIDE_WORKFORCE = (diagnosis, capacity)
_AFTER = tuple(phase for phase in TERM_PHASES
               if phase is not workforce and phase not in BESIDE_WORKFORCE)


def run_term(model: SchoolSystemModel, second_thread: ThreadPoolExecutor | None) -> None:
    """The term's phases: in order, or with `BESIDE_WORKFORCE` on `second_thread` while the
    workforce phase runs here, then the rest in order."""
    if second_thread is None:
        run(model, TERM_PHASES)
        return
    beside = second_thread.submit(run, model, BESIDE_WORKFORCE)
    try:
        run(model, (workforce,))
    finally:
        failed = beside.exception()  # (waits: never two threads past this point)
    if failed is not None:
        raise failed
    run(model, _AFTER)


def run(model: SchoolSystemModel, phases: Sequence[ModuleType]) -> None:
    """`phases` in turn, each stream told when its phase is done (`sim.draw_ahead`)."""
    for phase in phases:
        phase.run_term(model)
        model.streams.phase_done(PHASE_NAMES[TERM_PHASES.index(phase)])
