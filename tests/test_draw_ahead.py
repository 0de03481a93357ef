"""Draws made ahead on a second thread (`sim.draw_ahead`) are the stream's own values.

- A stream drawn ahead hands out, call by call, exactly what the stream itself would,
  whether the calls are the ones expected or not (another size, another sampler, another
  precision, a sampler it does not draw ahead, calls left out or added), and is left in
  the stream's own state at the end.
- A run that draws ahead (and runs the phases of `sim.term_phases.BESIDE_WORKFORCE` on the
  second thread beside the workforce phase) writes the same tables, bit for bit, as one
  that does not, and leaves every stream where that one leaves it; `SIM_SECOND_THREAD=0`
  turns both off.
- The phases beside the workforce phase touch no column of the schools' or trusts' tables
  that either side changes, and share nothing else on the model that a phase changes.
"""

from __future__ import annotations

import sys
from dataclasses import fields

import numpy as np
import pytest

from sim import draw_ahead
from sim.draw_ahead import Draw, DrawnAhead, shared_worker
from sim.streams import DRAWN_AHEAD
from tests.conftest import assert_same_run, make_model

CALLS = [Draw("random", 5), Draw("standard_normal", 7, schools=0),
         Draw("random", 3, "float32"), Draw("random", 11, "float32"), Draw("random", 1),
         Draw("standard_normal", 4, schools=sys.maxsize)]


def ask(stream: np.random.Generator | DrawnAhead, call: Draw | str) -> np.ndarray:
    """One call, on a stream drawn ahead or a plain one alike."""
    if call == "binomial":
        return stream.binomial(np.arange(6), 0.3)
    if call.sampler == "random":
        return stream.random(call.size, dtype=np.dtype(call.dtype))
    from sim.sampling import standard_normal

    return standard_normal(stream, call.size, call.schools)


def terms_of_calls(seed: int) -> list[list[Draw | str]]:
    """Six terms of calls: mostly the last term's again, sometimes changed."""
    rng = np.random.default_rng(seed)
    terms = [list(CALLS)]
    for _ in range(5):
        calls = list(terms[-1])
        change = rng.integers(6)
        if change == 1 and calls:  # one call of another size
            at = int(rng.integers(len(calls)))
            if isinstance(calls[at], Draw):
                calls[at] = Draw(calls[at].sampler, calls[at].size + 1, calls[at].dtype,
                                 calls[at].schools)
        elif change == 2:  # a sampler the stream does not draw ahead
            calls.insert(int(rng.integers(len(calls) + 1)), "binomial")
        elif change == 3 and calls:  # a call left out
            calls.pop(int(rng.integers(len(calls))))
        elif change == 4:  # a call added
            calls.append(CALLS[int(rng.integers(len(CALLS)))])
        terms.append(calls)
    return terms


@pytest.mark.parametrize("seed", range(12))
def test_a_stream_drawn_ahead_hands_out_its_own_values(seed):
    plain = np.random.default_rng(seed)
    ahead = DrawnAhead(np.random.default_rng(seed), shared_worker())
    for calls in terms_of_calls(seed):
        for call in calls:
            expected, got = ask(plain, call), ask(ahead, call)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected), call
        ahead.draw_ahead()  # the term is over: its calls are drawn again, ahead
    ahead.stop()
    assert ahead.stream.bit_generator.state == plain.bit_generator.state


def test_an_expected_plan_never_handed_out_leaves_the_stream_untouched():
    plain = np.random.default_rng(1)
    ahead = DrawnAhead(np.random.default_rng(1), shared_worker())
    ahead.expect([Draw("random", 100), Draw("random", 9, "float32")])
    ahead.expect([Draw("random", 3, "float32")])  # expected anew: the first plan is undone
    assert np.array_equal(ahead.random(3, dtype=np.float32),
                          plain.random(3, dtype=np.float32))
    assert np.array_equal(ahead.random(4), plain.random(4))
    ahead.stop()
    assert ahead.stream.bit_generator.state == plain.bit_generator.state


def finished_run(monkeypatch, switch: str) -> object:
    # An Opportunity Area made to go the way a big place goes (compiled kernels, and so
    # drawing ahead) unless switched off.
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", 0)
    monkeypatch.setenv(draw_ahead.SWITCH, switch)
    model = make_model("scenario=opportunity_area", "seed=4", "horizon_years=2",
                       "policy=combined")
    model.run()
    return model


def test_a_run_drawn_ahead_is_the_same_run(monkeypatch):
    ahead, plain = finished_run(monkeypatch, "1"), finished_run(monkeypatch, "0")
    assert all(isinstance(getattr(ahead.streams, name), DrawnAhead) for name in DRAWN_AHEAD)
    assert not any(isinstance(getattr(plain.streams, name), DrawnAhead) for name in DRAWN_AHEAD)
    assert_same_run(ahead, plain)
    for name in DRAWN_AHEAD:
        assert (getattr(ahead.streams, name).stream.bit_generator.state
                == getattr(plain.streams, name).bit_generator.state), name


@pytest.mark.parametrize(("value", "wanted"), [(None, True), ("1", True), ("0", False),
                                                (" off ", False), ("False", False),
                                                ("no", False), ("yes", True)])
def test_the_switch(monkeypatch, value, wanted):
    if value is None:
        monkeypatch.delenv(draw_ahead.SWITCH, raising=False)
    else:
        monkeypatch.setenv(draw_ahead.SWITCH, value)
    assert draw_ahead.wanted() is wanted


class Recorded:
    """Names of the attributes read or set on an object while recording (its class swapped
    for a subclass that notes them)."""

    def __init__(self, target: object) -> None:
        self.target, self.names = target, set()
        names, original = self.names, type(target)

        class Recording(original):  # type: ignore[misc, valid-type]
            def __getattribute__(self, name: str) -> object:
                names.add(name)
                return original.__getattribute__(self, name)

            def __setattr__(self, name: str, value: object) -> None:
                names.add(name)
                original.__setattr__(self, name, value)

        self.original, self.recording = original, Recording

    def __enter__(self) -> set[str]:
        self.target.__class__ = self.recording
        return self.names

    def __exit__(self, *exception: object) -> None:
        self.target.__class__ = self.original


def arrays_of(state: object) -> dict[str, np.ndarray]:
    return {column.name: np.array(getattr(state, column.name), copy=True)
            for column in fields(state)}


def changed(before: dict[str, np.ndarray], state: object) -> set[str]:
    after = arrays_of(state)
    return {name for name in before
            if before[name].shape != after[name].shape
            or not np.array_equal(before[name], after[name],
                                  equal_nan=before[name].dtype.kind == "f")}


@pytest.mark.parametrize("minimum_schools", [0, sys.maxsize], ids=["compiled", "numpy"])
def test_the_phases_beside_the_workforce_share_nothing_either_changes(monkeypatch,
                                                                       minimum_schools):
    # A big place runs `BESIDE_WORKFORCE` on the second thread while the workforce phase runs
    # (`sim.term_phases.run_term`): that is only the same run if neither side
    # reads or writes any school's or trust's column that the other changes.
    from sim import term_phases

    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_schools)
    monkeypatch.setenv(draw_ahead.SWITCH, "0")  # one thread: each side recorded alone
    model = make_model("scenario=opportunity_area", "seed=5", "horizon_years=2",
                       "policy=combined")
    for _ in range(4):  # into a year, with trusts and orphans moving
        model.step()
    touched: dict[str, dict[str, set[str]]] = {}
    changes: dict[str, dict[str, set[str]]] = {}
    sides = {"workforce": (term_phases.workforce,), "beside": term_phases.BESIDE_WORKFORCE}
    for side, phases in sides.items():
        before = {"schools": arrays_of(model.schools), "trusts": arrays_of(model.trusts)}
        with (Recorded(model.schools) as schools, Recorded(model.trusts) as trusts,
              Recorded(model) as on_model):
            for phase in phases:
                phase.run_term(model)
        touched[side] = {"schools": schools, "trusts": trusts, "model": on_model}
        changes[side] = {name: changed(before[name], getattr(model, name))
                         for name in ("schools", "trusts")}
    # On the model itself, the two sides share only its tables (checked below), its
    # streams (each side draws from its own) and what no phase changes.
    assert touched["workforce"]["model"] & touched["beside"]["model"] <= {
        "__class__", "schools", "trusts", "streams", "parameters", "policy_effects", "term",
        "n_areas", "area_index"}
    for table in ("schools", "trusts"):
        shared = touched["workforce"][table] & touched["beside"][table]
        if table == "schools":  # (the check sees what each side changes)
            assert {"teachers", "workload"} <= changes["workforce"][table]
            assert {"is_giver", "support_received"} <= changes["beside"][table]
        assert not shared & (changes["workforce"][table] | changes["beside"][table]), table
        assert not touched["beside"][table] & changes["workforce"][table], table
        assert not touched["workforce"][table] & changes["beside"][table], table
