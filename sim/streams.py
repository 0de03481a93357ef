"""The run's random streams: one numpy Generator per phase, and one per step of each year.

Every stream is spawned from the run's seed, so that two runs that differ only in the
policy see the same schools, teachers and shocks (common random numbers). A phase that
runs every term draws a fixed number of values whatever happens, so its stream stays in
step across policies. The yearly phase cannot: how many schools convert, how many trusts
are founded and how many candidates a brokering round weighs depend on what happened. So
each step of each year draws from its own stream (`yearly`), derived from the seed, the
year and the step alone: a policy that changes one conversion changes the draws of that
step that year, never which heads leave or which schools get academy orders.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from sim.draw_ahead import Draw, DrawnAhead, shared_worker
from sim.state import TERMS_PER_YEAR

# Spawned in this order from the seed; the order fixes each stream's numbers.
STREAMS = ("population", "workforce", "diagnosis", "improvement", "inspection", "structure",
           "policy", "warm_up")
# The steps of the yearly phase, each with its own stream every year (`structure` above is
# their parent and is not drawn from itself). A step's place fixes its stream, so
# "academy_orders" and "brokering", yearly until issue 13 and termly since (below), keep
# their places unused: removing them would change every later step's draws.
YEARLY_STEPS = ("heads", "academy_orders", "rebrokering", "brokering", "conversions",
                "new_trusts", "single_academy_trusts", "transfers", "mergers")
# The commissioner's steps every term (academy orders after the term's inspections, its
# brokering round), each with its own stream every term, as the yearly steps have.
TERMLY_STEPS = ("academy_orders", "brokering")
# The yearly steps that keep their places but no longer draw (above).
RETIRED_YEARLY_STEPS = ("academy_orders", "brokering")
# The phases' streams that draw the same values every term, drawn ahead for a big place
# (`RandomStreams.draw_ahead`).
DRAWN_AHEAD = ("workforce", "diagnosis", "improvement", "inspection")
# Children of a phase's stream made at a time (`child`): a year's terms, four years ahead.
CHILDREN_AHEAD = 4 * TERMS_PER_YEAR


class RandomStreams:
    """One numpy Generator per phase (`streams.workforce`, ...), and per yearly step.

    `purpose` separates the streams of the spin-up before the run from the run's own.
    """

    def __init__(self, seed: int, purpose: int = 0) -> None:
        entropy = seed if purpose == 0 else [seed, purpose]
        children = np.random.SeedSequence(entropy).spawn(len(STREAMS))
        for name, child in zip(STREAMS, children, strict=True):
            if name == "structure":
                self._structure_seed = child
            else:
                setattr(self, name, np.random.default_rng(child))
        self._this_year: tuple[int, dict[str, np.random.Generator]] = (0, {})
        self._this_term: tuple[int, dict[str, np.random.Generator]] = (0, {})
        # The streams of one year not yet handed out, by (place among the steps, year or
        # term), made together (`_fresh`).
        self._ahead: tuple[int | None, dict[tuple[int, int], np.random.Generator]] = (None, {})
        # Children of the phases' streams made ahead (`child`), by the parent's identity;
        # the parent is kept with them, so that its identity is never another's.
        self._children: dict[int, tuple[np.random.Generator, list[np.random.Generator]]] = {}
        self._worker: ThreadPoolExecutor | None = None  # while drawing ahead (`draw_ahead`)
        # The next year's streams (`_fresh`), being made on the worker while drawing ahead.
        self._next_year: Future[tuple[int, dict[tuple[int, int], np.random.Generator]]] | None = None

    def draw_ahead(self) -> None:
        """From now on, once a phase of `DRAWN_AHEAD` has run its term, draw its next term's
        values on a worker thread (`sim.draw_ahead`): the same values, sooner."""
        worker = self._worker = shared_worker()
        for name in DRAWN_AHEAD:
            stream = getattr(self, name)
            if not isinstance(stream, DrawnAhead):
                setattr(self, name, DrawnAhead(stream, worker))

    def phase_done(self, name: str) -> None:
        """The phase `name` has run its term: its stream may draw the next term's ahead."""
        stream = getattr(self, name, None)
        if isinstance(stream, DrawnAhead):
            stream.draw_ahead()

    def expect_from_child(self, parent: np.random.Generator, plan: list[Draw]) -> None:
        """If drawing ahead, start drawing `plan` from the next child of `parent` (the one
        `child` hands out next), in place of any plan expected of it before."""
        if self._worker is None:
            return
        waiting = self._waiting_children(parent)
        if not isinstance(waiting[-1], DrawnAhead):
            waiting[-1] = DrawnAhead(waiting[-1], self._worker)
        waiting[-1].expect(plan)

    def stop_drawing_ahead(self) -> None:
        """Put each stream drawn ahead where the values handed out leave it (the end of a
        run: no stream's state is then ahead of the run)."""
        for name in DRAWN_AHEAD:
            stream = getattr(self, name)
            if isinstance(stream, DrawnAhead):
                stream.stop()

    def child(self, parent: np.random.Generator) -> np.random.Generator:
        """The next child of `parent`: `parent.spawn(1)[0]`, the same Generator, but made
        `CHILDREN_AHEAD` at a time. A child depends only on how many were spawned from
        `parent` before it, so making them ahead changes no draw; made one a term, each
        cost about 90 microseconds (numpy's seeding code, pushed out of the processor's
        caches by a term's work), made together about 10 each after the first."""
        return self._waiting_children(parent).pop()

    def _waiting_children(self, parent: np.random.Generator) -> list[np.random.Generator]:
        """The children of `parent` made and not yet handed out, the next last (never
        none)."""
        kept = self._children.get(id(parent))
        if kept is None or kept[0] is not parent:
            kept = self._children[id(parent)] = (parent, [])
        waiting = kept[1]
        if not waiting:
            waiting.extend(reversed(parent.spawn(CHILDREN_AHEAD)))
        return waiting

    def yearly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one step of the yearly phase in the year of `term`: the same
        Generator for every draw of that step that year, whatever drew before it."""
        year = term // TERMS_PER_YEAR
        if self._this_year[0] != year:
            self._this_year = (year, {})
        generators = self._this_year[1]
        if step not in generators:
            generators[step] = self._fresh(YEARLY_STEPS.index(step), year, year)
        return generators[step]

    def termly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one of the commissioner's termly steps in `term` (its keys follow
        the yearly steps', so no termly stream is ever a yearly one)."""
        if self._this_term[0] != term:
            self._this_term = (term, {})
        generators = self._this_term[1]
        if step not in generators:
            generators[step] = self._fresh(len(YEARLY_STEPS) + TERMLY_STEPS.index(step), term,
                                           term // TERMS_PER_YEAR)
        return generators[step]

    def _fresh(self, place: int, when: int, year: int) -> np.random.Generator:
        """A new Generator for the step at `place` (among the yearly steps, then the termly
        ones) in `when` (its year, or its term), nothing drawn from it yet.

        Made with the rest of `year`'s streams the first time one of them is asked for:
        each Generator costs about 10 microseconds to make when numpy's seeding code is
        in the processor's caches, and five times that when a term's work over the schools
        has pushed it out, as it has by the time a step asks for its stream. Made together,
        a year's thirteen streams pay that once; while drawing ahead (`draw_ahead`), the
        worker makes them during the year before. They are the same streams: each depends
        on the seed, its step and its year or term alone, not on when or where it is made."""
        if self._ahead[0] != year:
            made = self._next_year.result() if self._next_year is not None else None
            self._ahead = (year, made[1] if made is not None and made[0] == year
                           else self._year_of_streams(year))
            if self._worker is not None:  # next year's made meanwhile on the worker
                self._next_year = self._worker.submit(
                    lambda: (year + 1, self._year_of_streams(year + 1)))
        made = self._ahead[1].pop((place, when), None)
        return made if made is not None else self._new(place, when)

    def _year_of_streams(self, year: int) -> dict[tuple[int, int], np.random.Generator]:
        """The streams of `year`'s steps and of its terms' steps, by (place, when)."""
        first_term = year * TERMS_PER_YEAR
        return {
            **{(YEARLY_STEPS.index(step), year): self._new(YEARLY_STEPS.index(step), year)
               for step in YEARLY_STEPS if step not in RETIRED_YEARLY_STEPS},
            **{(len(YEARLY_STEPS) + index, term): self._new(len(YEARLY_STEPS) + index, term)
               for term in range(first_term, first_term + TERMS_PER_YEAR)
               for index in range(len(TERMLY_STEPS))}}

    def _new(self, place: int, when: int) -> np.random.Generator:
        """The stream of the step at `place` in `when`, spawned from the `structure` seed."""
        parent = self._structure_seed
        # A spawn key must be non-negative; the spin-up's years and terms are negative.
        key = (*parent.spawn_key, when % 2**32, place)
        return np.random.default_rng(np.random.SeedSequence(parent.entropy, spawn_key=key))
