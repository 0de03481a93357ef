"""The workforce phase's compiled kernels (`sim.phases.workforce_kernels`) and their numpy
twins give the same numbers, bit for bit, on the same inputs.

Each step of a term's teacher flows is run twice on copies of the same (stage, school)
counts and register, once with every array sent to the kernels (`sim.compiled.MIN_SCHOOLS`
0) and once with none; the results, the arrays changed in place and the random streams
after the step must agree. (tests/test_compiled.py compares whole runs the same way.)
"""

from __future__ import annotations

import copy
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from sim.phases import careers, recruitment, stage_draws, workforce
from tests.conftest import make_model

SCHOOLS = 3000
STAGES = 5


def place(seed: int) -> dict[str, Any]:
    """Stage counts of a few thousand schools, some of whose teachers are registered."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson([[3], [3], [6], [25], [5]], (STAGES, SCHOOLS)).astype(np.int32)
    # Each cell's members: up to its count, most cells none.
    registered = np.minimum(counts, rng.poisson(0.6, counts.shape)).astype(np.int32)
    cells = np.repeat(np.arange(counts.size, dtype=np.int32), registered.ravel())
    order = rng.permutation(len(cells))  # register order is entry order, not cell order
    return {"counts": counts, "registered": registered, "cells": cells[order],
            "rng": np.random.default_rng(seed + 100),
            "member_rng": np.random.default_rng(seed + 200)}


def twins(monkeypatch, step: Callable[[dict[str, Any]], Any],
          seed: int) -> tuple[tuple[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]:
    """`step` run on the same place through the kernels and through numpy."""
    runs = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        state = copy.deepcopy(place(seed))
        runs.append((step(state), state))
    return runs[0], runs[1]


def assert_same_state(compiled: dict[str, Any], numpy: dict[str, Any]) -> None:
    for name in ("counts", "registered", "cells"):
        assert np.array_equal(compiled[name], numpy[name]), name
    for name in ("rng", "member_rng"):
        assert compiled[name].random() == numpy[name].random(), name


@pytest.mark.parametrize("probability", ["per cell", "per school", "a large mean"])
def test_draw_by_stage_takes_the_same_events(monkeypatch, probability):
    """Leavers (a probability per cell) and movers (per school); a large mean sends the
    draws row by row, to numpy's sampler."""
    def leave(state: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        counts, registered = state["counts"], state["registered"]
        chance = np.random.default_rng(5).uniform(0.0, 0.6, counts.shape)
        if probability == "a large mean":
            counts[3, :10] += 60
            chance[3, :10] = 0.9
        if probability == "per school":
            counts, registered = counts[2:], registered[2:]
            chance = np.broadcast_to(chance[0], counts.shape)
        # Members in the drawn stages, as flat indices into them.
        first = state["counts"].size - counts.size
        member_cells = state["cells"][state["cells"] >= first] - first
        return stage_draws.draw_by_stage(state["rng"], state["member_rng"], counts, registered,
                                     chance, member_cells)

    (compiled, compiled_state), (numpy, numpy_state) = twins(monkeypatch, leave, seed=1)
    assert np.array_equal(compiled[0], numpy[0]) and np.array_equal(compiled[1], numpy[1])
    assert compiled[1].any() and compiled[0].sum() > compiled[1].sum() > 0
    assert_same_state(compiled_state, numpy_state)


def test_promote_by_stage_moves_the_same_teachers_up(monkeypatch):
    def promote(state: dict[str, Any]) -> None:
        stage_draws.promote_by_stage(state["rng"], state["member_rng"], state["counts"],
                                 state["registered"], np.array([1 / 3, 1 / 3, 1 / 9, 1 / 75]),
                                 state["cells"])

    (_, compiled_state), (_, numpy_state) = twins(monkeypatch, promote, seed=2)
    assert not np.array_equal(compiled_state["cells"], place(2)["cells"])
    assert_same_state(compiled_state, numpy_state)


@pytest.fixture(scope="module")
def opportunity_area():
    model = make_model("scenario=opportunity_area", "seed=4", "horizon_years=1")
    model.step()
    return model


@pytest.mark.parametrize("teacher_supply", [0.6, 1.6])
def test_recruit_fills_the_same_posts(monkeypatch, opportunity_area, teacher_supply):
    """Many posts open (some schools lose a third of their teachers), in a tight and a
    loose labour market."""
    model = copy.deepcopy(opportunity_area)
    model.parameters = dataclasses.replace(model.parameters, scenario=dataclasses.replace(
        model.parameters.scenario, teacher_supply=teacher_supply))
    rng = np.random.default_rng(3)
    model.schools.teachers = (model.schools.teachers
                              * rng.uniform(0.66, 1.0, model.schools.n)).astype(np.int32)
    movers = rng.poisson(1.0, model.schools.n).astype(np.int32)
    runs = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        stream = np.random.default_rng(11)
        pull = recruitment.attractiveness(model.schools, model.parameters.model.workforce)
        runs.append((*recruitment.recruit(model, movers, pull, stream), stream.random()))
    (filled, to_movers, after), (numpy_filled, numpy_to_movers, numpy_after) = runs
    assert np.array_equal(filled, numpy_filled) and np.array_equal(to_movers, numpy_to_movers)
    assert after == numpy_after
    assert 0 < to_movers.sum() < filled.sum()


def test_the_register_turns_over_the_same(monkeypatch):
    """Members leave (a mask) and a new cohort enters, through the kernel and numpy."""
    rng = np.random.default_rng(6)
    first, second = rng.poisson(0.8, SCHOOLS), rng.poisson(0.5, SCHOOLS)
    registers = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        register = careers.Cohorts(SCHOOLS)
        register.enter(0, first)
        gone = np.random.default_rng(7).random(len(register.cell)) < 0.2
        register.turn_over(gone, 2, second)
        registers.append(register)
    compiled, numpy = registers
    for name in ("cell", "cohort", "entrants", "leavers", "by_cell"):
        assert np.array_equal(getattr(compiled, name), getattr(numpy, name)), name
        assert getattr(compiled, name).dtype == getattr(numpy, name).dtype, name
    assert compiled.leavers[0] > 0 and compiled.entrants[2] > 0


@pytest.mark.parametrize("areas_in_order", [True, False])
def test_movers_are_placed_in_the_same_posts(monkeypatch, areas_in_order):
    """Movers (some registered) matched to posts in their own authority: short of posts in
    some authorities, short of movers in others; schools in authority order or not."""
    rng = np.random.default_rng(9)
    area = rng.integers(0, 40, SCHOOLS)
    if areas_in_order:
        area = np.sort(area)
    movers = rng.poisson([[0.1], [0.3], [0.05]], (3, SCHOOLS)).astype(np.int32)
    members = np.minimum(movers, rng.poisson(0.1, movers.shape))
    member_cells = rng.permutation(np.repeat(np.arange(movers.size, dtype=np.int32),
                                             members.ravel()))
    posts = rng.poisson(0.5 * (area % 3), SCHOOLS).astype(np.int32)
    runs = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        stream = np.random.default_rng(10)
        runs.append((*stage_draws.place_movers(stream, movers, member_cells, posts, area, 40),
                     stream.random()))
    for compiled, numpy in zip(*runs, strict=True):
        assert np.array_equal(compiled, numpy)
    placed, to_entrants, destination = runs[0][:3]
    assert placed.sum() + to_entrants.sum() == posts.sum() and (destination >= 0).any()
    assert (destination < 0).any() and to_entrants.sum() > 0


def test_stage_counts_are_read_and_written_the_same(monkeypatch, opportunity_area):
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        schools = copy.deepcopy(opportunity_area.schools)
        counts = careers.stage_counts(schools)
        counts[:, ::2] += np.array([1, 0, 2, 3, 1], np.int32)[:, np.newaxis]
        careers.write_stage_counts(schools, counts)
        results.append((counts, careers.stage_counts(schools), schools.teachers))
    for compiled, numpy in zip(*results, strict=True):
        assert np.array_equal(compiled, numpy) and compiled.dtype == numpy.dtype


def test_registered_movers_are_found_and_settled_the_same(monkeypatch):
    """Members who may move (staying, experienced), then those who moved settled at their
    new schools, or gone if they found no post."""
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        state = place(12)
        cells, registered = state["cells"], state["registered"]
        leaving = np.random.default_rng(13).random(len(cells)) < 0.1
        first = 2 * SCHOOLS
        may_move, move_cells = stage_draws.members_who_may_move(cells, leaving, first, SCHOOLS)
        moving = np.random.default_rng(14).random(len(may_move)) < 0.3
        destination = np.random.default_rng(15).integers(0, SCHOOLS, moving.sum())
        destination[::4] = -1  # a quarter found no post
        gone = stage_draws.settle_moved_members(cells, may_move[moving], move_cells[moving],
                                                destination, first, registered[2:], leaving)
        results.append((may_move, move_cells, gone, cells, registered))
        # Some movers found no post and are gone; others moved.
        assert gone.sum() > leaving.sum() and not np.array_equal(cells, place(12)["cells"])
    for compiled, numpy in zip(*results, strict=True):
        assert np.array_equal(compiled, numpy) and compiled.dtype == numpy.dtype


@pytest.mark.parametrize("extra_workload", [0.0, "per school"])
def test_workload_and_pulls_are_the_same(monkeypatch, opportunity_area, extra_workload):
    """Workload (with a policy's extra workload, none or per school), the leaving and
    moving multipliers and the pull on applicants, through the kernels and numpy."""
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        model = copy.deepcopy(opportunity_area)
        model.schools.grade[::7] = 4  # some weak grades, whose pressure adds workload
        if extra_workload == "per school":
            model.policy_effects.extra_workload = np.random.default_rng(16).uniform(
                0.0, 0.2, model.schools.n)
        results.append((*workforce.workload_and_pulls(model), model.schools.workload))
    for compiled, numpy in zip(*results, strict=True):
        assert np.array_equal(compiled, numpy)


def test_termly_probabilities_are_the_same(monkeypatch):
    """Yearly rates times multipliers, capped (some above the cap, one negative, one NaN),
    made termly, through the kernel and numpy."""
    multiplier = np.random.default_rng(17).uniform(0.0, 12.0, SCHOOLS)
    multiplier[:2] = [-1.0, np.nan]
    rates = np.array([0.115, 0.1, 0.09, 0.058, 0.18])
    results = []
    for minimum_size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        results.append(workforce.termly_probability(rates, multiplier))
    assert np.array_equal(*results, equal_nan=True)
    assert np.isnan(results[0][:, 1]).all() and (results[0][:, 0] == 0).all()
