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
    probability = np.full(len(count), probability, dtype=np.float64) \
        if np.ndim(probability) == 0 else np.asarray(probability, dtype=np.float64)
    drawn = np.flatnonzero(count > 0)
    if 4 * len(drawn) < len(count):  # mostly empty (open posts): work on the rest only
        result = np.zeros(len(count), dtype=np.int32)
        result[drawn] = _invert(rng, count[drawn], probability[drawn], uniform[drawn])
        return result
    return _invert(rng, count, probability, uniform)


def _invert(rng: np.random.Generator, n: np.ndarray, p: np.ndarray, u: np.ndarray) -> np.ndarray:
    result = np.zeros(len(n), dtype=np.int32)
    if len(n) and (p.max() >= 1.0 or n.max() * p.max() > INVERSION_MAX_MEAN):
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
    n, u, cdf, pmf, odds = n[rows], u[rows], pmf[rows], pmf[rows], p[rows] / q[rows]
    k = 0
    while len(rows):
        k += 1
        pmf = pmf * ((n - (k - 1)) / k) * odds
        cdf = cdf + pmf
        result[rows] = k
        more = (u > cdf) & (n > k)
        if not more.all():
            keep = np.flatnonzero(more)
            rows, n, u, cdf, pmf, odds = rows[keep], n[keep], u[keep], cdf[keep], pmf[keep], odds[keep]
    return result
