"""Draws made ahead: each phase's random numbers for the next term, drawn on a second thread
while the rest of this term runs.

A phase that runs every term draws the same values from its stream every term, whatever
happens (common random numbers, `sim.streams`): diagnosis two normals a school, inspection
two normals and two uniforms, improvement a normal and a uniform, the workforce a uniform
for each (stage, school) cell of each of its draws. For England that is some 400,000
values a term, about a sixth of a term's time, and none of them depends on the term's
state, only on the stream. So once a phase has run its term, the values it drew are asked
for again from its stream on a worker thread (`DrawnAhead.draw_ahead`), while the other
phases run on the main one; the next term, the phase is handed them as it asks.

The values are the ones the stream would give, in the order it would give them, so a run
is the same to the bit with or without drawing ahead (tests/test_draw_ahead.py runs both).
A term that asks for anything else (another size, say, or a draw of numpy's binomial
sampler, which a rare large mean needs) gets it from the stream itself: the stream is
first put back where the values handed out so far leave it (its state before drawing
ahead, then those values drawn again), so that it goes on exactly as without drawing
ahead. The same is done at the end of a run (`stop`), so a stream's state afterwards is
never ahead of the run.

The workforce also draws a uniform per member of the register of cohorts
(`sim.phases.careers.Cohorts`) from a child of its stream made for the term
(`sim.streams.RandomStreams.child`), a number that changes from term to term: it says
what the next term's progression and leaving will ask for once the register is settled
(`sim.phases.workforce.expect_member_draws`), and that is drawn ahead in the same way.

Drawing ahead pays only where the draws are large: only places big enough to use the
compiled kernels do it (`sim.compiled.worth_compiling`); a small place's phases draw
from their streams directly, as before. The worker is one thread, so at most one core more
is used; numpy's and numba's samplers release Python's global interpreter lock while they
fill an array, so the two threads run at once. The same thread also runs the phases of
`sim.term_phases.BESIDE_WORKFORCE`. Drawing ahead took England's term from 12.0 to 10.9 ms
of wall time and added about 1.3 ms of CPU time (the worker's share, and the two threads
slowing each other): worth it where a core is free, not where every core is busy already,
so `SWITCH` turns the second thread off, and sim's own sweep launcher does so for its
workers when it runs several at once.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim import sampling


@dataclass(frozen=True)
class Draw:
    """One call for values: which sampler, how many, and (uniforms) their precision."""

    sampler: str  # "random" or "standard_normal"
    size: int
    dtype: str = "float64"
    schools: int | None = None  # standard_normal's compile decision (`sampling`)

    def make(self, generator: np.random.Generator) -> np.ndarray:
        """The values, from `generator` itself."""
        if self.sampler == "random":
            return generator.random(self.size, dtype=np.dtype(self.dtype))
        return sampling.standard_normal(generator, self.size, self.schools)


# "0" (or "false", "no", "off") keeps a run to one thread: no draws made ahead, and no
# phases run beside the workforce phase (`sim.term_phases.BESIDE_WORKFORCE`); unset, a big place
# uses a second thread for both. sim's own sweep launcher sets it for its workers when it
# runs several at once: they use every core already, and a second thread each would only
# add its own cost.
SWITCH = "SIM_SECOND_THREAD"

_workers: dict[int, ThreadPoolExecutor] = {}


def wanted() -> bool:
    """Whether this process uses a second thread for big places (`SWITCH`)."""
    return os.environ.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def shared_worker() -> ThreadPoolExecutor:
    """The process's second thread, for draws made ahead (and the phases beside the
    workforce phase), started when first asked for (a process forked from one that had it
    gets its own: threads do not survive a fork)."""
    worker = _workers.get(os.getpid())
    if worker is None:
        worker = _workers[os.getpid()] = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="sim-second-thread")
    return worker


def _make_all(generator: np.random.Generator, draws: list[Draw]) -> list[np.ndarray]:
    """`draw.make(generator)` of each of `draws` in turn: numpy's samplers and numba's
    (`sim.sampling.standard_normal`) release Python's interpreter lock while they fill an
    array. (One compiled call for the whole plan, which would hold the lock only while it
    started, was measured no faster: 10.25 against 10.23 ms a term.)"""
    return [draw.make(generator) for draw in draws]


class DrawnAhead:
    """A phase's stream whose next term's draws may have been made ahead.

    It answers `random` and `standard_normal` (through `sim.sampling.standard_normal`)
    as the stream would, and `spawn` (which draws nothing) from the stream. Any other use
    of the stream goes through `stream`, which first puts the stream where the values
    handed out so far leave it (and ends drawing ahead for the term).
    """

    def __init__(self, generator: np.random.Generator, worker: ThreadPoolExecutor) -> None:
        self._generator = generator
        self._worker = worker
        self._asked: list[Draw] | None = []  # this term's calls; None once it asked otherwise
        self._planned: list[Draw] = []
        self._made: Future[list[np.ndarray]] | None = None
        self._handed_out = 0
        self._state_before: dict[str, Any] | None = None

    @property
    def stream(self) -> np.random.Generator:
        """The stream itself, where the values handed out so far leave it: for uses other
        than the draws made ahead (drawing ahead stops until the phase's next term)."""
        self._settle()
        self._asked = None
        return self._generator

    def spawn(self, n_children: int) -> list[np.random.Generator]:
        """`Generator.spawn`: children depend on the stream's seed, not on its state."""
        return self._generator.spawn(n_children)

    def random(self, size: int, dtype: type | np.dtype = np.float64) -> np.ndarray:
        """`Generator.random(size, dtype)`."""
        return self._take(Draw("random", int(size), np.dtype(dtype).name))

    def standard_normal(self, size: int, schools: int | None = None) -> np.ndarray:
        """`sim.sampling.standard_normal(stream, size, schools)`."""
        return self._take(Draw("standard_normal", int(size), schools=schools))

    def draw_ahead(self) -> None:
        """Start drawing, on the worker, what this term asked for, for the next term."""
        plan, self._asked = self._asked, []
        self.expect(plan or [])

    def expect(self, plan: list[Draw]) -> None:
        """Start drawing `plan` on the worker, the calls expected next (in place of any
        expected before and not yet handed out)."""
        self._settle()
        plan = [draw for draw in plan if draw.size > 0]
        if not plan:
            return
        self._state_before = self._generator.bit_generator.state
        self._planned, self._handed_out = plan, 0
        self._made = self._worker.submit(_make_all, self._generator, plan)

    def stop(self) -> None:
        """Put the stream where the values handed out leave it, drawing nothing more ahead."""
        self._settle()
        self._asked = []

    def _take(self, draw: Draw) -> np.ndarray:
        if self._asked is not None:
            self._asked.append(draw)
        if self._made is not None:
            if (self._handed_out < len(self._planned)
                    and self._planned[self._handed_out] == draw):
                values = self._made.result()
                made, values[self._handed_out] = values[self._handed_out], None
                self._handed_out += 1
                return made
            self._settle()
        return draw.make(self._generator)

    def _settle(self) -> None:
        """Wait for the worker; if it drew values not handed out, put the stream back where
        the ones handed out leave it: its state before drawing ahead, then those drawn
        again (the same values: nothing else drew from it meanwhile)."""
        if self._made is None:
            return
        self._made.result()
        self._made = None
        if self._handed_out < len(self._planned):
            self._generator.bit_generator.state = self._state_before
            for draw in self._planned[:self._handed_out]:
                draw.make(self._generator)
        self._planned, self._handed_out, self._state_before = [], 0, None

    def __getattr__(self, name: str) -> Any:
        # Any other sampler (numpy's binomial for a rare large mean, say): from the stream.
        return getattr(self.stream, name)
