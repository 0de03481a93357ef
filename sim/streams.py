"""The run's random streams: one numpy Generator per phase, and one per step of each year.

Every stream is spawned from the run's seed, so that two runs that differ only in the
policy see the same schools, teachers and shocks (common random numbers). A phase that
runs every term draws a fixed number of values whatever happens, so its stream stays in
step across policies. The yearly phase cannot: how many schools convert, how many trusts
are founded and how many candidates a brokering round weighs depend on what happened. So
each step of each year draws from its own stream (`yearly`), derived from the seed, the
year and the step alone: a policy that changes one conversion changes the draws of that
step that year, never which heads leave or which schools get academy orders.

A step's stream is seeded as numpy's `SeedSequence(seed entropy, spawn_key=(structure's
key, year or term, step))` would seed it, but that takes numpy about a tenth of a
millisecond, a dozen times a year. Most of the work, mixing the seed and the structure
stream's key into the pool, is the same for every step's stream; `_StepSeeds` does it
once and mixes in only the last two words per stream (checked against numpy when made).
"""

from __future__ import annotations

import numpy as np

from sim.state import TERMS_PER_YEAR

# numpy's SeedSequence constants (numpy/random/bit_generator.pyx): its pool of 32-bit words
# and the hashes that mix entropy into it and draw a state out of it.
_MASK_32 = 0xFFFFFFFF
_POOL_SIZE = 4
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715

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
        self._step_seeds = _StepSeeds.of(self._structure_seed)

    def yearly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one step of the yearly phase in the year of `term`: the same
        Generator for every draw of that step that year, whatever drew before it."""
        year = term // TERMS_PER_YEAR
        if self._this_year[0] != year:
            self._this_year = (year, {})
        generators = self._this_year[1]
        if step not in generators:
            # A spawn key must be non-negative; the spin-up's years are negative.
            generators[step] = self._generator(year % 2**32, YEARLY_STEPS.index(step))
        return generators[step]

    def termly(self, step: str, term: int) -> np.random.Generator:
        """The stream of one of the commissioner's termly steps in `term` (its keys follow
        the yearly steps', so no termly stream is ever a yearly one)."""
        if self._this_term[0] != term:
            self._this_term = (term, {})
        generators = self._this_term[1]
        if step not in generators:
            generators[step] = self._generator(
                term % 2**32, len(YEARLY_STEPS) + TERMLY_STEPS.index(step))
        return generators[step]

    def _generator(self, *key: int) -> np.random.Generator:
        """The Generator of `SeedSequence(structure's entropy, spawn_key=(structure's key,
        *key))`, each word of `key` below 2**32."""
        if self._step_seeds is None:
            parent = self._structure_seed
            return np.random.default_rng(
                np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, *key)))
        return np.random.Generator(np.random.PCG64(self._step_seeds.child(key)))


class _StepSeeds:
    """numpy's SeedSequence for keys that differ from one stream to the next only in their
    last words: the pool with everything before those words mixed in, and the hash
    constant it left off at (numpy's `mix_entropy`, cut in two)."""

    def __init__(self, pool: list[int], hash_constant: int) -> None:
        self.pool, self.hash_constant = pool, hash_constant

    @classmethod
    def of(cls, parent: np.random.SeedSequence) -> _StepSeeds | None:
        """The seeds of `parent`'s key extended by more words, or None (numpy seeds them
        itself) for an entropy this does not read or a numpy that mixes otherwise."""
        try:
            entropy = _words(parent.entropy)
            key = _words(list(parent.spawn_key))
        except ValueError:
            return None
        # With a spawn key, numpy pads the entropy with zeros to the pool's size.
        entropy += [0] * (_POOL_SIZE - len(entropy))
        hash_constant, pool = _INIT_A, []
        for word in entropy[:_POOL_SIZE]:
            mixed, hash_constant = _hash_mix(word, hash_constant)
            pool.append(mixed)
        # Every word mixed into every other, so that late words affect earlier ones.
        for source in range(_POOL_SIZE):
            for target in range(_POOL_SIZE):
                if source != target:
                    mixed, hash_constant = _hash_mix(pool[source], hash_constant)
                    pool[target] = _mix(pool[target], mixed)
        seeds = cls(pool, _mix_in(pool, entropy[_POOL_SIZE:] + key, hash_constant))
        expected = np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, 1, 2))
        return seeds if np.array_equal(seeds.child((1, 2)).state,
                                       expected.generate_state(4, np.uint64)) else None

    def child(self, key: tuple[int, ...]) -> _FixedSeed:
        """The seed of the stream whose spawn key ends in `key` (words below 2**32):
        numpy's `generate_state(4, np.uint64)` of its SeedSequence."""
        pool = list(self.pool)
        _mix_in(pool, list(key), self.hash_constant)
        hash_constant, halves = _INIT_B, []
        for index in range(2 * 4):
            word = pool[index % _POOL_SIZE] ^ hash_constant
            hash_constant = (hash_constant * _MULT_B) & _MASK_32
            word = (word * hash_constant) & _MASK_32
            halves.append(word ^ (word >> 16))
        return _FixedSeed(np.array([low | high << 32 for low, high
                                    in zip(halves[::2], halves[1::2], strict=True)], np.uint64))


class _FixedSeed(np.random.bit_generator.ISeedSequence):
    """A seed sequence that gives one state already drawn (a bit generator asks once)."""

    def __init__(self, state: np.ndarray) -> None:
        self.state = state

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        if n_words != len(self.state) or np.dtype(dtype) != np.uint64:
            raise ValueError("this seed holds 4 words of 64 bits")
        return self.state.copy()


def _words(entropy: object) -> list[int]:
    """An entropy as numpy's SeedSequence reads it: 32-bit words, least first, of each
    non-negative integer in turn."""
    if isinstance(entropy, (list, tuple)):
        return [word for part in entropy for word in _words(part)]
    if not isinstance(entropy, (int, np.integer)) or entropy < 0:
        raise ValueError("not a non-negative integer")
    value, words = int(entropy), [int(entropy) & _MASK_32]
    while value > _MASK_32:
        value >>= 32
        words.append(value & _MASK_32)
    return words


def _mix_in(pool: list[int], words: list[int], hash_constant: int) -> int:
    """Mix each word into every word of `pool`, in place; returns the hash constant."""
    for word in words:
        for target in range(_POOL_SIZE):
            mixed, hash_constant = _hash_mix(word, hash_constant)
            pool[target] = _mix(pool[target], mixed)
    return hash_constant


def _hash_mix(value: int, hash_constant: int) -> tuple[int, int]:
    """numpy's `hashmix`: a word hashed, and the hash constant moved on."""
    value ^= hash_constant
    hash_constant = (hash_constant * _MULT_A) & _MASK_32
    value = (value * hash_constant) & _MASK_32
    return value ^ (value >> 16), hash_constant


def _mix(x: int, y: int) -> int:
    """numpy's `mix` of two 32-bit words."""
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK_32
    return result ^ (result >> 16)
