"""The network's distance-decayed views, kept up to date as the structure changes
(`sim.mechanics.proximity`), equal what building them from scratch gives, bit for bit; and
a closed trust's hubs are dropped.

The run is made to change a lot: many voluntary transfers, mergers, single-academy trusts
joining MATs and conversions, under the combined policy (peer clusters and contracts too).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.mechanics.proximity import (
    GroupDecay,
    decay_from_scratch,
    hub_decay_of,
    nearest_hub_from_scratch,
)
from sim.network import same_mat
from sim.state import TERMS_PER_YEAR
from tests.conftest import GIAS_FIXTURE, make_model

BUSY = ("scenario=national", "scenario.scale=0.1", "seed=5", "horizon_years=4",
        "policy=combined", "model.structure.voluntary_transfer_rate=0.15",
        "model.structure.small_mat_merger_rate=0.4",
        "model.structure.single_academy_trust_joins_mat_rate=0.3",
        "model.structure.conversion_rate_by_phase=[0.05,0.05,0.05,0.05]")


def assert_same_matrix(kept, scratch, what: str) -> None:
    assert kept.shape == scratch.shape, what
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(kept, part), getattr(scratch, part)), f"{what}: {part}"


def assert_views_as_from_scratch(model) -> None:
    schools, trusts, hubs, network = model.schools, model.trusts, model.hubs, model.network
    decay = model.parameters.model.capacity.distance_decay_km
    x, y = schools.x_km, schools.y_km
    assert_same_matrix(network.same_trust_decay,
                       decay_from_scratch(same_mat(schools.trust, trusts), x, y, decay),
                       f"same-trust matrix, term {model.term}")
    assert_same_matrix(network.partner_decay,
                       decay_from_scratch(network.cluster_of_school, x, y, decay),
                       f"partner matrix, term {model.term}")
    nearest = nearest_hub_from_scratch(schools.trust, hubs.trust, hubs.x_km, hubs.y_km, x, y)
    assert np.array_equal(network.nearest_hub_km, nearest), f"nearest hub, term {model.term}"
    assert np.array_equal(network.hub_decay, hub_decay_of(nearest, decay)), model.term


def run_checking_views(model) -> int:
    """Run `model` to its horizon, checking its views against rebuilds after every term;
    returns how many times a school changed trust."""
    moves = 0
    for _ in range(model.horizon_terms):
        before = model.schools.trust.copy()
        model.step()
        moves += int((model.schools.trust != before).sum())
        assert_views_as_from_scratch(model)
    return moves


@pytest.fixture(scope="module", params=[0, sys.maxsize], ids=["compiled", "numpy"])
def busy_run(request):
    """A run full of structural change, checked against rebuilds after every term: with
    every array sent to the compiled kernels, and with none."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.compiled.MIN_SCHOOLS", request.param)
        model = make_model(*BUSY)
        closed_at_start = int((~model.trusts.active).sum())
        return model, closed_at_start, run_checking_views(model)


def test_the_kept_views_equal_a_rebuild_after_every_term(busy_run):
    model, _, moves = busy_run
    # The run did change a lot: many schools changed trust, clusters formed.
    assert moves > 0.1 * model.schools.n
    assert (model.network.cluster_of_school >= 0).any()
    assert model.horizon_terms >= 4 * TERMS_PER_YEAR


def test_a_closed_trusts_hubs_are_dropped(busy_run):
    model, closed_at_start, _ = busy_run
    trusts, hubs = model.trusts, model.hubs
    assert (~trusts.active).sum() > closed_at_start + 10  # mergers and joins closed trusts
    assert trusts.active[hubs.trust].all()
    # Every open MAT keeps a hub.
    mats = np.flatnonzero(trusts.active)
    assert np.isin(mats, hubs.trust).all()


def test_a_real_place_keeps_its_views_as_from_scratch():
    """A real place is settled on copies of its schools and trusts: the views must follow
    the model's arrays, not the ones the network was built with."""
    model = make_model("population=gias", f"population.path={GIAS_FIXTURE}", "seed=2",
                       "horizon_years=3", "model.structure.voluntary_transfer_rate=0.3")
    assert run_checking_views(model) > 0


@pytest.mark.parametrize("minimum_sizes", [[0], [sys.maxsize], [0, sys.maxsize, sys.maxsize]],
                         ids=["compiled", "numpy", "alternating"])
def test_an_update_rewrites_only_the_groups_that_changed(monkeypatch, minimum_sizes):
    """By the compiled rewrite (`sim.mechanics.rewrite`), by its numpy twin, and by each in
    turn (a matrix kept one way is read the other when the place's size is judged anew)."""
    rng = np.random.default_rng(3)
    n = 400
    x, y = rng.random(n) * 50, rng.random(n) * 50
    group = np.where(rng.random(n) < 0.6, rng.integers(0, 30, n), -1)
    kept = GroupDecay(x, y, 15.0)
    held = []
    for update in range(20):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_sizes[update % len(minimum_sizes)])
        movers = rng.choice(n, 12, replace=False)
        group = group.copy()
        group[movers] = rng.integers(-1, 35, len(movers))  # into new groups, and out
        before = kept.matrix
        assert kept.update(group)
        assert_same_matrix(kept.matrix, decay_from_scratch(group, x, y, 15.0), "update")
        assert before is not kept.matrix  # replaced, never changed in place
        held.append((kept.frozen(), group))
    assert not kept.update(group.copy())  # nothing moved: nothing to do
    # A matrix frozen at an earlier update is that update's, read after later ones.
    for frozen, grouping in held:
        assert_same_matrix(frozen.matrix, decay_from_scratch(grouping, x, y, 15.0), "frozen")


def test_the_rows_wanted_are_written_and_the_others_wait(monkeypatch):
    """England's rows are written when read (`sim.mechanics.rewrite`): after each update,
    the rows of a random subset are read (and the pool fills and is packed now and then);
    those rows are a rebuild's, and so is the whole matrix when read now and then."""
    from sim.mechanics.proximity import as_csr

    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", 0)
    rng = np.random.default_rng(7)
    n = 400
    x, y = rng.random(n) * 50, rng.random(n) * 50
    group = np.where(rng.random(n) < 0.6, rng.integers(0, 30, n), -1)
    kept = GroupDecay(x, y, 15.0)
    for update in range(40):
        movers = rng.choice(n, 12, replace=False)
        group = group.copy()
        group[movers] = rng.integers(-1, 35, len(movers))
        assert kept.update(group)
        wanted = rng.random(n) < 0.3
        read = as_csr(kept.rows(wanted))
        scratch = decay_from_scratch(group, x, y, 15.0)
        for row in np.flatnonzero(wanted):
            span = slice(scratch.indptr[row], scratch.indptr[row + 1])
            assert np.array_equal(read[row].indices, scratch.indices[span]), row
            assert np.array_equal(read[row].data, scratch.data[span]), row
        if update % 5 == 4:
            assert_same_matrix(kept.matrix, scratch, "whole")


def test_the_compiled_nearest_hub_update_equals_the_numpy_way(monkeypatch):
    """`NearestHub.update` by `sim.mechanics.hub_kernels` and by its numpy twin, through
    schools changing trust and trusts opening and closing hubs."""
    from sim.mechanics.proximity import NearestHub

    rng = np.random.default_rng(5)
    n, n_trusts = 500, 40
    x, y = rng.random(n) * 80, rng.random(n) * 80
    trust = np.where(rng.random(n) < 0.7, rng.integers(0, n_trusts, n), -1)
    hub_trust = rng.integers(0, n_trusts - 5, 60)  # the last trusts have no hub at first
    hub_x, hub_y = rng.random(60) * 80, rng.random(60) * 80
    kept = {size: NearestHub(x, y, 15.0) for size in (0, sys.maxsize)}
    for _ in range(12):
        trust = trust.copy()
        movers = rng.choice(n, 25, replace=False)
        trust[movers] = rng.integers(-1, n_trusts, len(movers))
        # A few hubs dropped (of trusts closing) and a few opened.
        opened = rng.integers(0, n_trusts, 3)
        kept_hubs = rng.random(len(hub_trust)) < 0.97
        hub_trust = np.r_[hub_trust[kept_hubs], opened]
        hub_x = np.r_[hub_x[kept_hubs], rng.random(3) * 80]
        hub_y = np.r_[hub_y[kept_hubs], rng.random(3) * 80]
        for size, hubs in kept.items():
            monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", size)
            hubs.update(trust, hub_trust, hub_x, hub_y, n_trusts)
        compiled_way, numpy_way = kept[0], kept[sys.maxsize]
        assert np.array_equal(compiled_way.nearest_km, numpy_way.nearest_km)
        assert np.array_equal(compiled_way.decay.view(np.int64), numpy_way.decay.view(np.int64))
        assert np.array_equal(compiled_way.trust, numpy_way.trust)
        assert np.array_equal(compiled_way.hubs_per_trust, numpy_way.hubs_per_trust)


def test_same_mat_is_the_same_compiled_or_not(monkeypatch):
    model = make_model("scenario=national", "scenario.scale=0.05", "seed=2", "horizon_years=1")
    schools, trusts = model.schools, model.trusts
    found = {}
    for size in (0, sys.maxsize):
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", size)
        found[size] = same_mat(schools.trust, trusts)
    assert np.array_equal(found[0], found[sys.maxsize])
    assert found[0].dtype == found[sys.maxsize].dtype
    assert (found[0] >= 0).any() and (found[0] < 0).any()
