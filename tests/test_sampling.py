"""sim.sampling: binomial draws of the right distribution, one uniform per element, monotone;
standard normals drawn by numba exactly as numpy draws them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.sampling import binomial, binomial_rows, standard_normal


@pytest.mark.parametrize(("count", "probability"), [
    (19, 0.03), (2, 0.3), (150, 0.05), (3, 0.95), (40, 0.5), (1, 1 / 3), (200, 0.4),
])
def test_binomial_matches_the_binomial_distribution(count, probability):
    draws = 100_000
    values = binomial(np.random.default_rng(1), np.full(draws, count), probability)
    observed = np.bincount(values, minlength=count + 1)
    expected = stats.binom.pmf(np.arange(count + 1), count, probability) * draws
    enough = expected > 5
    chi_square = ((observed[enough] - expected[enough]) ** 2 / expected[enough]).sum()
    assert stats.chi2.sf(chi_square, enough.sum() - 1) > 0.001
    assert observed[~enough].sum() <= max(5.0, 3 * expected[~enough].sum())


def test_binomial_handles_edges_and_mixed_rows():
    rng = np.random.default_rng(2)
    count = np.array([0, 5, 5, 7, 0, 3])
    probability = np.array([0.5, 0.0, 1.0, 1.0, 0.0, 0.2])
    values = binomial(rng, count, probability)
    assert values.dtype == np.int32
    assert values[:5].tolist() == [0, 0, 5, 7, 0]
    assert 0 <= values[5] <= 3


def test_binomial_uses_one_uniform_per_element_whatever_the_counts():
    """Common random numbers: the stream moves on by the same amount for any counts."""
    first, second = np.random.default_rng(3), np.random.default_rng(3)
    binomial(first, np.full(1000, 20), 0.1)
    binomial(second, np.zeros(1000, int), 0.1)
    assert first.random() == second.random()


def test_binomial_is_monotone_in_the_probability_for_the_same_stream():
    low = binomial(np.random.default_rng(4), np.full(5000, 20), 0.05)
    high = binomial(np.random.default_rng(4), np.full(5000, 20), 0.08)
    assert (high >= low).all() and high.sum() > low.sum()


@pytest.mark.parametrize("probability", [
    0.03, 1 / 3, 0.9, "per element", "with certain and large means"])
def test_the_compiled_walk_draws_what_numpy_draws(probability, monkeypatch):
    """England's arrays take the compiled walk (`sim.compiled`): the same draws, bit for bit,
    and the stream left at the same place."""
    rng = np.random.default_rng(5)
    size = 30_000
    count = rng.poisson(6, size).astype(np.int32)
    count[rng.random(size) < 0.1] = 0
    if probability == "per element":
        probability = rng.uniform(0.0, 0.6, size)
    elif probability == "with certain and large means":
        count[:50] = 400
        probability = rng.uniform(0.0, 0.6, size)
        probability[50:100] = 1.0
    draws = {}
    for minimum_size in (0, size + 1):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        stream = np.random.default_rng(6)
        draws[minimum_size] = (binomial(stream, count, probability), stream.random())
    (compiled, after_compiled), (numpy, after_numpy) = draws.values()
    assert compiled.dtype == numpy.dtype == np.int32
    assert np.array_equal(compiled, numpy) and after_compiled == after_numpy
    # Mostly empty arrays (open posts) are drawn on their non-empty elements only.
    sparse_count = np.where(rng.random(size) < 0.05, count, 0)
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", 0)
    compiled = binomial(np.random.default_rng(7), sparse_count, probability)
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", size + 1)
    assert np.array_equal(compiled, binomial(np.random.default_rng(7), sparse_count, probability))


@pytest.mark.parametrize("probability", ["per row", "per element", "one per school",
                                         "a certain event", "a large mean"])
def test_rows_are_drawn_as_binomial_draws_them_row_after_row(probability, monkeypatch):
    """`binomial_rows` of a (stage, school) array: the draws, and the stream after them, of
    `binomial` called row after row, whether all rows are drawn at once or not."""
    rng = np.random.default_rng(8)
    count = rng.poisson(5, (4, 6000))
    chances = {"per row": np.array([[0.3], [0.02], [0.6], [1 / 9]]),
               "per element": rng.uniform(0.0, 0.6, count.shape),
               "one per school": np.broadcast_to(rng.uniform(0.0, 0.2, 6000), count.shape),
               "a certain event": np.array([[0.3], [1.0], [0.6], [0.1]]),
               "a large mean": np.full(count.shape, 0.1)}[probability]
    if probability == "a large mean":
        count[2, :20] = 60
        chances[2, :20] = 0.9
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", 0)
    stream = np.random.default_rng(9)
    rows = binomial_rows(stream, count, chances)
    after = stream.random()
    stream = np.random.default_rng(9)
    one_by_one = np.stack([binomial(stream, row, float(p[0]) if chances.shape[1] == 1 else p)
                           for row, p in zip(count, chances, strict=True)])
    assert rows.dtype == np.int32 and np.array_equal(rows, one_by_one)
    assert after == stream.random()


def test_compiled_standard_normals_are_numpys_and_leave_the_stream_where_numpy_does():
    """A million draws pass the ziggurat's tail (|x| > 3.65) a few hundred times, the
    branch with a logarithm that numba and numpy could round differently."""
    size = 1_000_000
    compiled_stream, numpy_stream = np.random.default_rng(7), np.random.default_rng(7)
    drawn = standard_normal(compiled_stream, size)
    expected = numpy_stream.standard_normal(size)
    assert (np.abs(expected) > 3.65).sum() > 100
    assert np.array_equal(drawn, expected)
    assert np.array_equal(compiled_stream.random(5), numpy_stream.random(5))


def test_small_draws_of_standard_normals_stay_with_numpy(monkeypatch):
    """Below the compiled size numba is not asked (it would cost a small place its import)."""
    monkeypatch.setattr("sim.sampling._standard_normal_compiled", None)
    drawn = standard_normal(np.random.default_rng(8), 100)
    assert np.array_equal(drawn, np.random.default_rng(8).standard_normal(100))
