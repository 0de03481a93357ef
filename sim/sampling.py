"""Random sampling the model needs beyond what numpy's Generator offers directly.

`binomial` draws Binomial(count, probability) for every school at once by inversion of
one uniform per school. numpy's own sampler runs a scalar algorithm per element (about
65 ns each, with a logarithm and an exponential); here the common case, no event or one,
is settled for all schools by a handful of array operations, and only the few schools
with more events go round the loop again. It is about twice as fast for the teacher flows.

Inversion also helps common random numbers: each school uses exactly one uniform per call
whatever its count, so the streams of two policies stay aligned, and the same uniform
gives more events where the probability is higher, so a policy that changes a school's
leaving rate changes its leavers monotonically rather than redrawing them.
"""

from __future__ import annotations

import numpy as np

# Above this mean the loop would take many rounds and rounding would build up in the
# recurrence; numpy switches algorithm at the same point.
INVERSION_MAX_MEAN = 30.0
# Below this many rows left, `_continue` finishes element by element.
SCALAR_TAIL = 32


def binomial(rng: np.random.Generator, count: np.ndarray,
             probability: float | np.ndarray) -> np.ndarray:
    """Binomial(count, probability) per element, as int32, from one uniform per element.

    X is the least k with U <= F(k), F the binomial CDF, built term by term from
    P(X = 0) = (1 - p)^n with P(X = k) = P(X = k - 1) (n - k + 1) / k p / (1 - p).
    Elements with a mean above `INVERSION_MAX_MEAN` (none in the default model) are drawn
    by numpy afterwards, from the same stream.
    """
    count = np.asarray(count)
    uniform = rng.random(len(count))
    positive = count > 0
    if 4 * np.count_nonzero(positive) < len(count):
        # Mostly empty (open posts): work on the rest only.
        drawn = np.flatnonzero(positive)
        result = np.zeros(len(count), dtype=np.int32)
        if np.ndim(probability) != 0:
            probability = np.asarray(probability)[drawn]
        result[drawn] = _invert(rng, count[drawn], probability, uniform[drawn])
        return result
    return _invert(rng, count, probability, uniform)


def _invert(rng: np.random.Generator, n: np.ndarray, p: float | np.ndarray,
            u: np.ndarray) -> np.ndarray:
    result = np.zeros(len(n), dtype=np.int32)
    if len(n) == 0:
        return result
    largest_n = int(n.max())
    if np.ndim(p) == 0 and p < 1.0 and largest_n * p <= INVERSION_MAX_MEAN:
        # One probability for all: P(X = 0) = (1 - p)^n from a table over n, computed
        # as exp(n log(1 - p)) exactly as for an array of probabilities.
        q = 1.0 - float(p)
        no_event = np.exp(np.arange(largest_n + 1) * np.log(np.full(largest_n + 1, q)))
        pmf = no_event[n]
        rows = np.flatnonzero(u > pmf)  # X >= 1
        return _continue(result, rows, n[rows], u[rows], pmf[rows], float(p) / q)
    p = np.full(len(n), p, dtype=np.float64) if np.ndim(p) == 0 else np.asarray(p, np.float64)
    largest_p = p.max()
    if largest_p >= 1.0 or largest_n * largest_p > INVERSION_MAX_MEAN:
        # Rare here: certain events, and large means, which numpy's own sampler handles.
        # Both are then left out of the inversion by a zero probability.
        certain = p >= 1.0
        large = ~certain & (n * p > INVERSION_MAX_MEAN)
        result[certain] = n[certain]
        result[large] = rng.binomial(n[large], p[large])
        p = np.where(certain | large, 0.0, p)
    # A school with no teachers, or no chance, has P(X = 0) = 1 and never enters the loop.
    q = 1.0 - p
    pmf = np.exp(n * np.log(q))
    rows = np.flatnonzero(u > pmf)  # X >= 1
    return _continue(result, rows, n[rows], u[rows], pmf[rows], p[rows] / q[rows])


def _continue(result: np.ndarray, rows: np.ndarray, n: np.ndarray, u: np.ndarray,
              pmf: np.ndarray, odds: float | np.ndarray) -> np.ndarray:
    """Walk the CDF up from k = 1 for the `rows` known to have X >= 1."""
    cdf = pmf
    k = 0
    while len(rows):
        if len(rows) <= SCALAR_TAIL:
            return _finish_one_by_one(result, rows, n, u, cdf, pmf, odds, k)
        k += 1
        pmf = pmf * ((n - (k - 1)) / k) * odds
        cdf = cdf + pmf
        result[rows] = k
        more = (u > cdf) & (n > k)
        if not more.all():
            keep = np.flatnonzero(more)
            rows, n, u, cdf, pmf = rows[keep], n[keep], u[keep], cdf[keep], pmf[keep]
            if np.ndim(odds):
                odds = odds[keep]
    return result


def _finish_one_by_one(result: np.ndarray, rows: np.ndarray, n: np.ndarray, u: np.ndarray,
                       cdf: np.ndarray, pmf: np.ndarray, odds: float | np.ndarray,
                       k: int) -> np.ndarray:
    """The last few rows of `_continue`, known to have X > k, walked in plain Python: the
    same arithmetic in the same order (so the same numbers), without numpy's per-call cost
    on arrays of a few elements."""
    odds_of = odds.tolist() if np.ndim(odds) else [odds] * len(rows)
    for row, count, uniform, walked, mass, ratio in zip(
            rows.tolist(), n.tolist(), u.tolist(), cdf.tolist(), pmf.tolist(), odds_of,
            strict=True):
        events = k
        while True:
            events += 1
            mass = mass * ((count - (events - 1)) / events) * ratio
            walked = walked + mass
            if not (uniform > walked and count > events):
                break
        result[row] = events
    return result
