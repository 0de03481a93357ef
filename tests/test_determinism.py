"""Reproducibility: the same config and seed give identical results; seeds differ; the
population and the shocks are common to runs that differ only in the model's rules."""

from __future__ import annotations

import numpy as np
import pandas.testing

from sim.run import simulate
from sim.streams import RandomStreams
from tests.conftest import make_config, make_model


def test_same_seed_same_results_in_process():
    first = simulate(make_config("seed=21", "horizon_years=2"))
    second = simulate(make_config("seed=21", "horizon_years=2"))
    pandas.testing.assert_frame_equal(first.timeseries, second.timeseries)
    pandas.testing.assert_frame_equal(first.events, second.events)
    pandas.testing.assert_frame_equal(first.schools, second.schools)
    assert first.summary == second.summary


def test_different_seed_different_results():
    first = simulate(make_config("seed=21", "horizon_years=2"))
    other = simulate(make_config("seed=22", "horizon_years=2"))
    assert not first.timeseries["effectiveness_mean"].equals(other.timeseries["effectiveness_mean"])


def test_a_policy_does_not_change_the_population_or_its_shocks():
    """Common random numbers: another policy, the same schools and the same first term
    (MAT contracting acts first at the end of the first year)."""
    usual = make_model("seed=5")
    changed = make_model("seed=5", "policy=mat_contracting")
    for name in ("urn", "phase", "x_km", "fsm_share", "effectiveness", "grade", "teachers"):
        assert np.array_equal(getattr(usual.schools, name), getattr(changed.schools, name)), name
    usual.step()
    changed.step()
    assert np.array_equal(usual.schools.effectiveness, changed.schools.effectiveness)
    assert np.array_equal(usual.schools.grade, changed.schools.grade)


def test_each_yearly_step_has_its_own_stream_each_year():
    """A step's stream is the same Generator all year, and another one next year or for
    another step: what one step draws cannot shift another's numbers."""
    streams = RandomStreams(seed=5)
    heads = streams.yearly("heads", term=2)
    assert streams.yearly("heads", term=0) is heads  # terms 0-2 are one year
    first = heads.random(3)
    again = RandomStreams(seed=5).yearly("heads", term=1).random(3)
    assert np.array_equal(first, again)
    others = [RandomStreams(seed=5).yearly("heads", term=5).random(3),
              RandomStreams(seed=5).yearly("academy_orders", term=2).random(3),
              RandomStreams(seed=6).yearly("heads", term=2).random(3),
              RandomStreams(seed=5, purpose=1).yearly("heads", term=2).random(3)]
    assert all(not np.array_equal(first, other) for other in others)


def test_a_years_streams_made_together_are_the_streams_made_one_by_one():
    """The yearly and termly streams are made a year at a time (`RandomStreams._fresh`):
    each is the Generator its step, year or term and seed alone give, asked for in any
    order, in the spin-up's negative terms too, and a new one when a past term is asked
    for again, as when each was made on its own."""
    from sim.streams import STREAMS, TERMLY_STEPS, YEARLY_STEPS

    def alone(seed: int, place: int, when: int) -> np.ndarray:
        parent = np.random.SeedSequence(seed).spawn(len(STREAMS))[STREAMS.index("structure")]
        key = (*parent.spawn_key, when % 2**32, place)
        return np.random.default_rng(np.random.SeedSequence(parent.entropy,
                                                            spawn_key=key)).random(4)

    streams = RandomStreams(seed=7)
    for term in (-4, -3, 0, 1, 2, 5, 1):
        for step in reversed(TERMLY_STEPS):
            place = len(YEARLY_STEPS) + TERMLY_STEPS.index(step)
            assert np.array_equal(streams.termly(step, term).random(4), alone(7, place, term))
        for step in YEARLY_STEPS:
            drawn = streams.yearly(step, term).random(4)
            if term % 3 == 0:  # the year's first ask: nothing drawn from it yet
                year = term // 3
                assert np.array_equal(drawn, alone(7, YEARLY_STEPS.index(step), year)), step


def test_a_streams_children_made_ahead_are_its_children_spawned_one_by_one():
    """`RandomStreams.child` makes a phase's term children `CHILDREN_AHEAD` at a time: each
    is the Generator `spawn(1)` would give at that point, whatever was drawn from the
    parent in between, for each parent on its own."""
    from sim.streams import CHILDREN_AHEAD

    streams, others = RandomStreams(seed=5), RandomStreams(seed=5)
    asked = 2 * CHILDREN_AHEAD + 3
    for _ in range(asked):
        for parent, other in ((streams.workforce, others.workforce),
                              (streams.warm_up, others.warm_up)):
            expected = other.spawn(1)[0].random(3)
            assert np.array_equal(streams.child(parent).random(3), expected)
            parent.random(2)  # draws from the parent do not move its children
            other.random(2)
