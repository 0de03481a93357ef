"""Interleaving two lists of events (`sim.events.interleave`): the order a stable sort on
(the event each comes before, then which list) gives, as the brokering round's refusals
and outcomes and a join's conversions and joins were once put in order."""

from __future__ import annotations

import numpy as np

from sim.events import interleave, interleaved


def test_interleaving_is_the_stable_sort_it_replaces():
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 50):
        before = np.sort(rng.integers(0, max(n, 1), rng.integers(0, 3 * n + 1))) if n else \
            np.zeros(0, np.int64)
        first_at, second_at = interleave(before, n)
        order = np.argsort(np.concatenate([2 * before, 2 * np.arange(n) + 1]), kind="stable")
        labels = np.concatenate([np.arange(len(before)), 1000 + np.arange(n)])
        merged = interleaved(first_at, second_at, np.int64, np.arange(len(before)),
                             1000 + np.arange(n))
        assert np.array_equal(merged, labels[order])
