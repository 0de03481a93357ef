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

import numpy as np

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

    def yearly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one step of the yearly phase in the year of `term`: the same
        Generator for every draw of that step that year, whatever drew before it."""
        year = term // TERMS_PER_YEAR
        if self._this_year[0] != year:
            self._this_year = (year, {})
        generators = self._this_year[1]
        if step not in generators:
            parent = self._structure_seed
            # A spawn key must be non-negative; the spin-up's years are negative.
            key = (*parent.spawn_key, year % 2**32, YEARLY_STEPS.index(step))
            generators[step] = np.random.default_rng(
                np.random.SeedSequence(parent.entropy, spawn_key=key))
        return generators[step]

    def termly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one of the commissioner's termly steps in `term` (its keys follow
        the yearly steps', so no termly stream is ever a yearly one)."""
        if self._this_term[0] != term:
            self._this_term = (term, {})
        generators = self._this_term[1]
        if step not in generators:
            parent = self._structure_seed
            key = (*parent.spawn_key, term % 2**32, len(YEARLY_STEPS) + TERMLY_STEPS.index(step))
            generators[step] = np.random.default_rng(
                np.random.SeedSequence(parent.entropy, spawn_key=key))
        return generators[step]
