"""The compiled kernels (`sim.compiled`): the same run as their numpy twins, and never loaded
for a small place.

- A run with every array sent to the kernels writes the same tables, bit for bit, as the
  same run with none sent (the sampler's own twins are compared in tests/test_sampling.py).
- Importing the model and running an Opportunity Area does not import numba: its start-up
  would cost such a short run more than the kernels gain.
- A place goes one way: every step asks `worth_compiling` with the place's number of
  schools, whatever the array at hand (a register's members, a (stage, school) array), so
  no place runs some steps compiled and others with numpy.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim import compiled
from tests.conftest import REPOSITORY, assert_same_run, environment, make_model


def finished_run(monkeypatch, minimum_size: int) -> object:
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_size)
    model = make_model("scenario=opportunity_area", "seed=3", "horizon_years=2",
                       "policy=combined")
    model.run()
    return model


def test_the_kernels_give_the_run_their_numpy_twins_give(monkeypatch):
    assert_same_run(finished_run(monkeypatch, 0), finished_run(monkeypatch, sys.maxsize))


@pytest.mark.parametrize("minimum_schools", [0, sys.maxsize], ids=["compiled", "numpy"])
def test_every_step_asks_with_the_places_number_of_schools(monkeypatch, minimum_schools):
    monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", minimum_schools)
    asked: list[int] = []
    decide = compiled.worth_compiling

    def spy(schools: int) -> bool:
        asked.append(schools)
        return decide(schools)

    monkeypatch.setattr("sim.compiled.worth_compiling", spy)
    model = make_model("scenario=opportunity_area", "seed=3", "horizon_years=3",
                       "policy=combined")
    model.run()
    model.results()
    assert len(asked) > 100
    assert set(asked) == {model.schools.n}


def test_a_small_place_never_imports_numba():
    script = ("import sys\n"
              "from tests.conftest import make_model\n"
              "make_model('scenario=opportunity_area', 'horizon_years=1').run()\n"
              "assert 'numba' not in sys.modules, 'numba was imported'\n")
    finished = subprocess.run([sys.executable, "-c", script], cwd=REPOSITORY,
                              env=environment(), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
