"""The per-term phases' compiled passes and their numpy twins give the same numbers, bit for bit.

A big place's phases run compiled loops (`sim.compiled`: the capacity, improvement,
inspection and diagnosis passes, and the record's counts); a small place runs their numpy
twins. Each test takes one model in mid-run, with every source of support in use (peer
clusters, contracts, an improvement budget, a local measuring system, schools waiting for
a sponsor), copies it twice, runs one phase on each copy, once with every array sent to
the kernels and once with none, and compares everything the phase writes, down to the
sign of a zero.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import fields

import numpy as np
import pytest

from sim import metrics
from sim.model import SchoolSystemModel
from sim.phases import capacity, diagnosis, improvement, inspection
from tests.conftest import make_model


@pytest.fixture(scope="module")
def mid_run() -> SchoolSystemModel:
    model = make_model("scenario=opportunity_area", "seed=3", "horizon_years=2",
                       "policy=combined")
    for _ in range(4):
        model.step()
    schools, support = model.schools, model.support.by_source
    assert model.network.n_clusters > 0 and schools.under_contract.any()
    assert support.budget.any() and support.peers.any() and schools.awaiting_sponsor.any()
    assert model.policy_effects.area_view_error_sd is not None
    return model


def same_bits(first: object, second: object) -> bool:
    """The same numbers to the last bit (and the sign of a zero); counts may differ in
    width (the workforce phase's kernels count some flows in int32, its numpy path in
    int64)."""
    first, second = np.asarray(first), np.asarray(second)
    if first.dtype.kind in "iu" and second.dtype.kind in "iu":
        return np.array_equal(first, second)
    return first.dtype == second.dtype and first.shape == second.shape and (
        first.tobytes() == second.tobytes())


def run_twice(monkeypatch, model: SchoolSystemModel, step) -> tuple[object, object, object,
                                                                    object]:
    """(compiled model, numpy model, what step returned on each)."""
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        copied = copy.deepcopy(model)
        results.append((copied, step(copied)))
    (compiled_model, compiled_result), (numpy_model, numpy_result) = results
    return compiled_model, numpy_model, compiled_result, numpy_result


def assert_same_state(compiled_model: SchoolSystemModel, numpy_model: SchoolSystemModel) -> None:
    for column in fields(compiled_model.schools):
        assert same_bits(getattr(compiled_model.schools, column.name),
                         getattr(numpy_model.schools, column.name)), column.name
    for column in fields(compiled_model.trusts):
        assert same_bits(getattr(compiled_model.trusts, column.name),
                         getattr(numpy_model.trusts, column.name)), column.name
    for column in fields(compiled_model.support.by_source):
        assert same_bits(getattr(compiled_model.support.by_source, column.name),
                         getattr(numpy_model.support.by_source, column.name)), column.name
    assert compiled_model.support.spending_gbp == numpy_model.support.spending_gbp
    for column in fields(compiled_model.tallies):
        compiled_value = getattr(compiled_model.tallies, column.name)
        numpy_value = getattr(numpy_model.tallies, column.name)
        if isinstance(compiled_value, dict):
            assert all(same_bits(compiled_value[key], numpy_value[key])
                       for key in compiled_value), column.name
        elif isinstance(compiled_value, np.ndarray):
            assert same_bits(compiled_value, numpy_value), column.name
        else:
            assert compiled_value == numpy_value, column.name


@pytest.mark.parametrize("phase", [diagnosis, capacity, improvement, inspection],
                         ids=lambda phase: phase.__name__.rsplit(".", 1)[-1])
def test_a_phase_writes_the_same_bits_compiled_or_not(monkeypatch, mid_run, phase):
    compiled_model, numpy_model, _, _ = run_twice(monkeypatch, mid_run, phase.run_term)
    assert_same_state(compiled_model, numpy_model)
    compiled_events = compiled_model.events.to_frame(
        compiled_model.schools.urn, compiled_model.trusts.trust_id, 2019)
    numpy_events = numpy_model.events.to_frame(
        numpy_model.schools.urn, numpy_model.trusts.trust_id, 2019)
    assert compiled_events.equals(numpy_events)


def test_the_term_record_is_the_same_compiled_or_not(monkeypatch, mid_run):
    _, _, compiled_row, numpy_row = run_twice(monkeypatch, mid_run, metrics.term_measures)
    assert list(compiled_row) == list(numpy_row)
    for name, value in compiled_row.items():
        assert type(value) is type(numpy_row[name]), name
        assert same_bits(value, numpy_row[name]), name


def test_giver_taker_ratios_are_the_same_compiled_or_not(monkeypatch, mid_run):
    _, _, compiled_ratios, numpy_ratios = run_twice(monkeypatch, mid_run,
                                                    capacity.giver_taker_ratios)
    for compiled_part, numpy_part in zip(compiled_ratios, numpy_ratios, strict=True):
        assert same_bits(compiled_part, numpy_part)


def test_a_whole_term_with_its_sums_is_the_same_compiled_or_not(monkeypatch, mid_run):
    compiled_model, numpy_model, _, _ = run_twice(monkeypatch, mid_run,
                                                  SchoolSystemModel.step)
    assert_same_state(compiled_model, numpy_model)
    assert compiled_model._timeseries[-1].keys() == numpy_model._timeseries[-1].keys()
    for name, value in compiled_model._timeseries[-1].items():
        assert same_bits(value, numpy_model._timeseries[-1][name]), name
