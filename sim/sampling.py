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

For England's arrays the walk up the distribution is a compiled loop (`sim.compiled`):
the same arithmetic in the same order, element by element, so the same draws, without a
round of numpy calls per step. numpy still computes P(X = 0), with exp and log.
"""

from __future__ import annotations

import numpy as np

from sim import compiled

# Above this mean the loop would take many rounds and rounding would build up in the
# recurrence; numpy switches algorithm at the same point.
INVERSION_MAX_MEAN = 30.0
# Below this many rows left, `_continue` finishes element by element.
SCALAR_TAIL = 32
# Steps of the compiled walk tabulated by count (the first four taken without a branch).
_TABULATED = 8


def standard_normal(rng: np.random.Generator, size: int,
                    schools: int | None = None) -> np.ndarray:
    """`size` standard normal draws from `rng`: exactly `rng.standard_normal(size)`, the
    same values and the stream left in the same state. `schools`, the place's number of
    schools (`size` unless given), decides which way they are drawn
    (`sim.compiled.worth_compiling`).

    For England's arrays numba draws them: its `Generator.standard_normal` is a port of
    numpy's ziggurat on the same bit generator (the same values; tests/test_sampling.py
    compares them), without numpy's per-draw call through its C-API, about three times
    faster (60 rather than 190 microseconds for England's 21,750 schools).
    """
    if not isinstance(rng, np.random.Generator):  # a stream drawn ahead (`sim.draw_ahead`)
        return rng.standard_normal(size, schools)
    if not compiled.worth_compiling(size if schools is None else schools):
        return rng.standard_normal(size)
    drawn = np.empty(size)
    _standard_normal_compiled(rng, drawn)
    return drawn


@compiled.kernel
def _standard_normal_compiled(rng: np.random.Generator, drawn: np.ndarray) -> None:
    for element in range(len(drawn)):
        drawn[element] = rng.standard_normal()


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
    walk_compiled = compiled.worth_compiling(len(count))  # one per school
    positive = count > 0
    if 4 * np.count_nonzero(positive) < len(count):
        # Mostly empty (open posts): work on the rest only.
        drawn = np.flatnonzero(positive)
        result = np.zeros(len(count), dtype=np.int32)
        if np.ndim(probability) != 0:
            probability = np.asarray(probability)[drawn]
        result[drawn] = _invert(rng, count[drawn], probability, uniform[drawn], walk_compiled)
        return result
    return _invert(rng, count, probability, uniform, walk_compiled)


def binomial_rows(rng: np.random.Generator, count: np.ndarray, probability: np.ndarray,
                  largest_count: np.ndarray | None = None,
                  log_staying: np.ndarray | None = None) -> np.ndarray:
    """`binomial` of each row of a 2-d `count` in turn, at a probability per element or
    per row (a column), as an int32 array of the same shape. `largest_count`, each row's
    largest count, and `log_staying`, log(1 - p) shaped as `probability` (computed as
    here), may be given if known.

    For England's arrays all rows are drawn at once, from one call for the uniforms (the
    stream's values in the same order as row after row) and one compiled walk, unless a
    row may hold a certain event or a large mean, whose draws from numpy's sampler come
    between the rows' uniforms: then row by row, as `binomial` draws them.
    """
    per_row = probability.shape[-1] == 1
    if compiled.worth_compiling(count.shape[1]) and count.shape[1] > 0:
        # Rows that share their probabilities (a view of one row) are checked once, and
        # take its logarithm once.
        shared = probability[:1] if probability.strides[0] == 0 else probability
        largest_p = shared.max(axis=1)
        if largest_count is None:
            largest_count = count.max(axis=1)
        if (largest_p < 1.0).all() and (largest_count * largest_p <= INVERSION_MAX_MEAN).all():
            uniform = rng.random(count.size).reshape(count.shape)
            result = np.zeros(count.shape, dtype=np.int32)
            # numpy's exp and log give each element the same value whatever the array's
            # shape, so these are the values `binomial` computes row by row.
            if log_staying is None:
                log_q = np.subtract(1.0, shared)
                np.log(log_q, out=log_q)
            else:  # the caller's: never written here
                log_q = log_staying[:1] if log_staying.strides[0] == 0 else log_staying
            if per_row:
                no_event = np.exp(np.arange(int(largest_count.max()) + 1) * log_q)
                return _walk_from_tables(result, uniform, count, no_event,
                                         probability[:, 0] / (1.0 - probability[:, 0]))
            # Computed in place where the shapes allow: each fresh temporary of a national
            # (stage, school) array costs some of its pages' faults.
            no_event = log_q if log_q.shape == count.shape and log_staying is None \
                else np.empty(count.shape)
            _exponent_of_no_event(count, log_q, no_event)
            _walk_each(result, uniform, count, np.exp(no_event, out=no_event), probability,
                       True)
            return result
    return np.stack([binomial(rng, row, float(p[0]) if per_row else p)
                     for row, p in zip(count, probability, strict=True)])


def _invert(rng: np.random.Generator, n: np.ndarray, p: float | np.ndarray,
            u: np.ndarray, walk_compiled: bool) -> np.ndarray:
    result = np.zeros(len(n), dtype=np.int32)
    if len(n) == 0:
        return result
    largest_n = int(n.max())
    if np.ndim(p) == 0 and p < 1.0 and largest_n * p <= INVERSION_MAX_MEAN:
        # One probability for all: P(X = 0) = (1 - p)^n from a table over n, computed
        # as exp(n log(1 - p)) exactly as for an array of probabilities.
        q = 1.0 - float(p)
        no_event = np.exp(np.arange(largest_n + 1) * np.log(np.full(largest_n + 1, q)))
        if walk_compiled:
            _walk_from_tables(result[np.newaxis], u[np.newaxis], n[np.newaxis],
                              no_event[np.newaxis], np.array([float(p) / q]))
            return result
        pmf = no_event[n]
        rows = np.flatnonzero(u > pmf)  # X >= 1
        return _continue(result, rows, n[rows], u[rows], pmf[rows], float(p) / q)
    p = np.full(len(n), p, dtype=np.float64) if np.ndim(p) == 0 else np.asarray(p, np.float64)
    if walk_compiled:
        return _invert_compiled(rng, n, p, u, result)
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


def _invert_compiled(rng: np.random.Generator, n: np.ndarray, p: np.ndarray, u: np.ndarray,
                     result: np.ndarray) -> np.ndarray:
    """`_invert` for a probability per element, the walk compiled: the kernel also finds
    the certain events and the large means, and numpy then draws the large ones (the walk
    draws nothing, so the stream moves on exactly as in `_invert`).

    P(X = 0) is only needed where there may be no event and may be one: elsewhere (no
    count, or a certain event) its logarithm's argument is 1 rather than 1 - p, which
    gives no element a different draw, and spares numpy's exp and log the zeros and
    infinities they take a slow path for (open posts are mostly none, or certain).
    """
    no_event = np.empty(len(p))
    _no_event_argument(n, p, no_event)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(no_event, out=no_event)
        np.exp(np.multiply(n, no_event, out=no_event), out=no_event)
    if _walk_each(result[np.newaxis], u[np.newaxis], n[np.newaxis], no_event[np.newaxis],
                  p[np.newaxis], False):
        large = np.flatnonzero(result < 0)
        result[large] = rng.binomial(n[large], p[large])
    return result


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


@compiled.kernel
def _walk_from_tables(result: np.ndarray, u: np.ndarray, n: np.ndarray, no_event: np.ndarray,
                      odds: np.ndarray) -> np.ndarray:
    """`_continue` for one probability per row of 2-d arrays, as a compiled loop.

    With one probability, every element of count c walks the same CDF, F(0), F(1), ...,
    so its first `_TABULATED` steps are built once per count (the same arithmetic in the
    same order as the walk) and each element only compares its uniform with them: X is
    the number of k < c with U > F(k), F rising with k. Comparisons alone are several
    times faster than the walk's arithmetic where many elements take several steps (a
    third of early-career teachers move up a year each term); the rare element that
    passes the table walks on from its last step as `_continue` does."""
    largest = no_event.shape[1] - 1
    # Step by count: F(k) and P(X = k) for k < c, and F(k) = +inf from k = c on (no
    # uniform is above it, so X never passes c). A count's steps are next to each other
    # (one cache line), found from an unsigned index (no test for a negative one).
    cdf = np.empty((largest + 1) * _TABULATED)
    pmf = np.empty((largest + 1) * _TABULATED)
    for line in range(n.shape[0]):
        ratio = odds[line]
        for count in range(largest + 1):
            mass = no_event[line, count]
            walked = mass
            for events in range(_TABULATED):
                step = count * _TABULATED + events
                if events >= count:
                    cdf[step] = np.inf
                    continue
                if events > 0:
                    mass = mass * ((count - (events - 1)) / events) * ratio
                    walked = walked + mass
                cdf[step], pmf[step] = walked, mass
        for row in range(n.shape[1]):
            count, uniform = n[line, row], u[line, row]
            first = np.uint64(count) * np.uint64(_TABULATED)
            # The first steps without a branch to mispredict (most elements stop in them).
            events = ((uniform > cdf[first]) + (uniform > cdf[first + np.uint64(1)])
                      + (uniform > cdf[first + np.uint64(2)])
                      + (uniform > cdf[first + np.uint64(3)]))
            if events == 4:  # rare: walk on through the table, then past it
                while events < _TABULATED and uniform > cdf[first + np.uint64(events)]:
                    events += 1
                if events == _TABULATED and count > _TABULATED:
                    events -= 1
                    mass = pmf[first + np.uint64(events)]
                    walked = cdf[first + np.uint64(events)]
                    while uniform > walked and count > events:
                        events += 1
                        mass = mass * ((count - (events - 1)) / events) * ratio
                        walked = walked + mass
            result[line, row] = events
    return result


@compiled.kernel
def _walk_each(result: np.ndarray, u: np.ndarray, n: np.ndarray, no_event: np.ndarray,
               p: np.ndarray, checked: bool) -> int:
    """`_continue` for a probability per element of 2-d arrays, as a compiled loop (`p`
    may be a view whose rows share one row's values), into `result`, zeros. A certain
    event gives the count; an element of large mean is left at -1 for numpy's sampler (as
    `_invert` leaves them out of the inversion). Returns how many were left. If
    `checked`, the caller has found neither (`binomial_rows`): the counts and
    probabilities are then read only where a walk starts (memory traffic is most of the
    time of the rest).

    Which elements walk, and how far, is random: a branch on it is mispredicted about as
    often as it is taken, at the cost of some twenty steps of arithmetic. So the walk goes
    a step at a time over a list of the elements still walking, which each step rewrites
    without a branch (an element is written at the list's end, which only moves on if it
    walks on; `&` rather than `and`, which branches). Each element takes the same
    steps, in the same order, as in `_continue`.
    """
    large = 0
    lines, elements = n.shape
    walking = np.empty(elements, np.int64)
    mass_of, walked_of, odds_of = np.empty(elements), np.empty(elements), np.empty(elements)
    for line in range(lines):
        found = 0
        if checked:
            for row in range(elements):
                walking[found] = row
                found += u[line, row] > no_event[line, row]
        else:
            for row in range(elements):
                count, probability = n[line, row], p[line, row]
                certain = probability >= 1.0
                too_large = (not certain) & (count * probability > INVERSION_MAX_MEAN)
                result[line, row] = count if certain else (-1 if too_large else 0)
                large += too_large
                walking[found] = row
                found += (not certain) & (not too_large) & (u[line, row] > no_event[line, row])
        # The first step of each element that walks (it has X >= 1).
        events, still = 1, 0
        for index in range(found):
            row = walking[index]
            count, probability = n[line, row], p[line, row]
            odds = probability / (1.0 - probability)
            mass = no_event[line, row] * ((count - (events - 1)) / events) * odds
            walked = no_event[line, row] + mass
            result[line, row] = events
            walking[still], mass_of[still], walked_of[still], odds_of[still] = (
                row, mass, walked, odds)
            still += (u[line, row] > walked) & (count > events)
        while still:
            events, found, still = events + 1, still, 0
            for index in range(found):
                row = walking[index]
                count = n[line, row]
                mass = mass_of[index] * ((count - (events - 1)) / events) * odds_of[index]
                walked = walked_of[index] + mass
                result[line, row] = events
                walking[still], mass_of[still], walked_of[still], odds_of[still] = (
                    row, mass, walked, odds_of[index])
                still += (u[line, row] > walked) & (count > events)
    return large


@compiled.kernel
def _no_event_argument(n: np.ndarray, p: np.ndarray, argument: np.ndarray) -> None:
    """1 - p, the argument of the logarithm of P(X = 0) = (1 - p)^n, where 0 < n and p < 1;
    1 elsewhere, where the walk does not read P(X = 0) or finds it 1 whatever p is (the
    twin of `1.0 - p` for `_invert_compiled`)."""
    for element in range(len(n)):
        needed = (n[element] > 0) & (p[element] < 1.0)
        argument[element] = 1.0 - p[element] if needed else 1.0


@compiled.kernel
def _exponent_of_no_event(count: np.ndarray, log_q: np.ndarray, exponent: np.ndarray) -> None:
    """n log(1 - p), the exponent of P(X = 0), for 2-d arrays: the twin of numpy's
    `np.multiply(count, log_q)` (`log_q` one row per row of `count`, or one row for all),
    without numpy's buffered conversion of the counts to floating point (the same exact
    conversion, then the same product)."""
    shared = log_q.shape[0] == 1
    for line in range(count.shape[0]):
        row = 0 if shared else line
        for element in range(count.shape[1]):
            exponent[line, element] = count[line, element] * log_q[row, element]
