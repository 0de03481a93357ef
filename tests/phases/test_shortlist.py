"""A brokering round's shortlist (`sim.mechanics.shortlist`, ODD 7.6): every hub on the
map within reach no further than a school's `candidates_per_school`-th nearest, exact ties
at the cut included, found alike by England's compiled grid search and by its numpy and
scipy twin for smaller places.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sim.mechanics.brokering import Broker, Candidates
from sim.state import TrustKind
from tests.conftest import make_model

TWINS = (("compiled", 0), ("numpy", sys.maxsize))


def _both_twins(monkeypatch, broker: Broker, *arguments, **keywords) -> list[Candidates]:
    """The broker's candidates by the compiled search and by its twin."""
    answers = []
    for _, minimum_size in TWINS:
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
        answers.append(broker.candidates(*arguments, **keywords))
    return answers


def _assert_equal(kernel: Candidates, twin: Candidates) -> None:
    for part in ("position", "trust", "distance_km", "start"):
        assert np.array_equal(getattr(kernel, part), getattr(twin, part)), part


def test_hubs_tied_at_the_cut_all_make_the_list(monkeypatch):
    """Hubs placed (on whole kilometres, so that distances are exact) round a school far
    from every other hub: two trusts 1 km away, four 5 km away (on the axes and on a 3-4-5
    diagonal), so with a shortlist of 3 hubs the cut falls on a four-way tie."""
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=9")
    schools, trusts, hubs = model.schools, model.trusts, model.hubs
    mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    near_a, near_b, *far = (int(trust) for trust in mats[[7, 3, 9, 2, 8, 5]])
    school, x, y = 0, -500.0, -500.0  # no hub within 40 km
    schools.x_km[school], schools.y_km[school] = x, y
    placed = [(near_a, x + 1, y), (near_b, x, y - 1), (near_a, x + 3, y + 4),
              (far[0], x + 5, y), (far[1], x - 5, y), (far[2], x, y + 5), (far[3], x - 3, y - 4),
              (far[0], x + 20, y)]  # a second hub of a listed trust, beyond the cut
    for trust, hub_x, hub_y in placed:
        hubs.add(trust, hub_x, hub_y)
    broker = Broker(model)
    asking = np.array([school])
    kernel, twin = _both_twins(monkeypatch, broker, asking, 40.0, nearest=3)
    _assert_equal(kernel, twin)
    assert kernel.trust.tolist() == sorted([near_a, near_b]) + sorted(far)
    assert kernel.distance_km.tolist() == [1.0, 1.0, 5.0, 5.0, 5.0, 5.0]
    # Its own trust and a trust closed since the map was made are left out; a list cut
    # before the tie is the nearest alone.
    trusts.active[far[1]] = False
    kernel, twin = _both_twins(monkeypatch, broker, asking, 40.0, np.array([near_b]), nearest=3)
    _assert_equal(kernel, twin)
    assert kernel.trust.tolist() == [near_a, *sorted({far[0], far[2], far[3]})]
    kernel, twin = _both_twins(monkeypatch, broker, asking, 40.0, nearest=2)
    _assert_equal(kernel, twin)
    assert kernel.trust.tolist() == sorted([near_a, near_b])
    # A radius exactly on the tie keeps it; one just short leaves it out.
    kernel, twin = _both_twins(monkeypatch, broker, asking, 5.0, nearest=30)
    _assert_equal(kernel, twin)
    assert len(kernel.trust) == 5
    kernel, twin = _both_twins(monkeypatch, broker, asking, np.nextafter(5.0, 0), nearest=30)
    _assert_equal(kernel, twin)
    assert kernel.trust.tolist() == sorted([near_a, near_b])


def _quarter_of_england_with_ties():
    """A quarter of England (seed 4) where 40 MATs have a second hub on another MAT's hub
    (ties at some cuts), and a broker of it after 10 MATs close."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    trusts, hubs = model.trusts, model.hubs
    mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    for trust, other in zip(mats[:40], mats[40:80], strict=True):
        spot = np.flatnonzero(hubs.trust == other)[0]
        hubs.add(int(trust), hubs.x_km[spot], hubs.y_km[spot])
    broker = Broker(model)
    trusts.active[mats[80:90]] = False
    return model, broker


@pytest.mark.parametrize("nearest", [1, 5, 30])
def test_the_twins_agree_on_every_school(monkeypatch, nearest):
    """Every school of a quarter of England, asked at once, its own trust left out and
    some trusts closed; hubs shared by trusts on one spot tie at some cuts."""
    model, broker = _quarter_of_england_with_ties()
    schools = model.schools
    asking = np.arange(schools.n)
    kernel, twin = _both_twins(monkeypatch, broker, asking, 40.0,
                               schools.trust.astype(np.int64), nearest=nearest)
    _assert_equal(kernel, twin)
    assert (np.diff(kernel.start) > nearest).any()  # some lists run on over a tie


def test_the_twins_agree_on_the_rounds_of_a_run(monkeypatch):
    """Each brokering round of a year and a half of a quarter of England gets the same
    shortlists from both."""
    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    candidates = Broker.candidates
    rounds = []

    def both(broker, schools, radius_km, exclude=None, nearest=None):
        answers = []
        for _, minimum_size in TWINS:
            monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
            answers.append(candidates(broker, schools, radius_km, exclude, nearest))
        monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", sys.maxsize)
        if nearest is not None:
            _assert_equal(*answers)
            rounds.append(len(schools))
        return answers[1]

    monkeypatch.setattr(Broker, "candidates", both)
    for _ in range(5):
        model.step()
    assert len(rounds) >= 5 and sum(rounds) > 100


@pytest.mark.parametrize("radius_km", [5.0, 40.0, 120.0])
def test_the_twins_agree_on_every_hub_in_reach(monkeypatch, radius_km):
    """Without a shortlist (every trust with a hub in reach, as mergers ask), England's
    compiled search and its twin's k-d tree give the same pairs and distances: every
    school of a quarter of England, some hubs shared by trusts on one spot, some trusts
    closed."""
    model, broker = _quarter_of_england_with_ties()
    schools = model.schools
    kernel, twin = _both_twins(monkeypatch, broker, np.arange(schools.n), radius_km)
    _assert_equal(kernel, twin)
    assert len(kernel.trust) > schools.n


def test_the_brokers_map_is_the_twins():
    """England's compiled map of hubs (`shortlist.hub_map`) is its numpy twin's: the hubs
    of active MATs, trusts with several, and the widest hub radius, with some trusts
    closed."""
    from sim.mechanics.shortlist import hub_map

    model = make_model("scenario=national", "scenario.scale=0.25", "seed=4")
    trusts, hubs = model.trusts, model.hubs
    mats = np.flatnonzero(trusts.active & (trusts.kind == TrustKind.MULTI_ACADEMY_TRUST))
    trusts.active[mats[:20]] = False
    trusts.hub_radius_km[mats[20:30]] = np.arange(10.0, 20.0)
    maps = [hub_map(hubs.trust, hubs.x_km, hubs.y_km, trusts.active, trusts.kind,
                    trusts.hub_radius_km, use_kernel) for use_kernel in (True, False)]
    for kernel, twin in zip(*maps, strict=True):
        assert np.array_equal(kernel, twin)
    assert maps[0][4].any() and not maps[0][4].all()
