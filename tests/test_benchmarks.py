"""The benchmark scripts still work (CI smoke run); their timings are not judged here.

The smoke run of every script takes about 20 s, so it is marked slow: CI runs it
(`.ci/run` passes `--slow`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.common import Measure, spread, table
from benchmarks.drift import drift
from benchmarks.scaling import fitted_slope
from tests.conftest import REPOSITORY


@pytest.mark.slow
def test_every_benchmark_script_runs_and_reports(tmp_path):
    results = tmp_path / "RESULTS.md"
    finished = subprocess.run(
        [sys.executable, "benchmarks/run_all.py", "--smoke", "--results", str(results)],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    report = results.read_text()
    for measure in ("national: simulate", "ratio to BoltzmannWealth |",
                    "ratio to BoltzmannWealth, CPU time", "national: peak memory",
                    "schools: time per term", "schools: peak memory", "slope", "drift over",
                    "Opportunity Area: single run", "GIAS: load the whole extract",
                    "sweep of 4 Opportunity Area runs, as experiment configs run"):
        assert measure in report
    for described in ("Machine: cores", "memory", "numba", "BLAS threads",
                      "OPENBLAS_NUM_THREADS=1", "load average at start"):
        assert described in report
    assert "targets not judged" in report
    assert not (REPOSITORY / "benchmarks" / "RESULTS.md").exists() or \
        "smoke" not in (REPOSITORY / "benchmarks" / "RESULTS.md").read_text()


def test_a_measure_is_the_median_of_its_repetitions_and_shows_their_spread():
    measure = Measure.of("time", [5.0, 1.0, 2.0, 4.0, 3.0], "s", ("<=", 3.0))
    assert measure.value == 3.0 and measure.met
    assert spread([5.0, 1.0, 2.0, 4.0, 3.0]) == "IQR 2.00-4.00, range 1.00-5.00, n=5"
    assert "IQR 2.00-4.00" in table([measure])


def test_the_slope_of_a_power_law_is_its_exponent_and_drift_compares_decades():
    sizes = [10_000, 30_000, 100_000, 1_000_000]
    assert abs(fitted_slope(sizes, [2e-6 * size**1.25 for size in sizes]) - 1.25) < 1e-9
    assert abs(drift([1.0] * 10 + [1.2] * 80 + [1.1] * 10, 10) - 0.1) < 1e-9
