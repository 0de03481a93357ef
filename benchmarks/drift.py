"""Drift: does a term cost more late in a long run than early? England for 100 years.

    python benchmarks/drift.py            # 11 runs of 100 years after a warm-up run
    python benchmarks/drift.py --smoke    # a fiftieth of England for 3 years, once

A run's cost per term should not grow with the years simulated: state that only
accumulates (closed trusts' hubs kept on the map, ever-longer logs) makes a century-long
run slower at its end than at its start. Each repetition builds the national scenario
(seed 0) and simulates 100 years term by term; the drift is the median time of a year
(three terms) in the last decade over the median in the first, less one. The medians over
a decade's years keep a moment's load on the machine from deciding it. Reported by wall
time (the target, issue 14: at most 10%) and by the process's CPU time alongside.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, median, parse, report
from benchmarks.throughput import national_config

YEARS, WINDOW_YEARS = 100, 10  # a century; its first and last decades are compared
DRIFT_TARGET = 0.10  # issue 14


def year_times(scale: float, years: int) -> tuple[list[float], list[float], int]:
    """Build and simulate `years` years; the wall and CPU seconds of each year, and the
    number of schools."""
    from sim.model import SchoolSystemModel

    model = SchoolSystemModel(national_config(scale, 3 * years))
    walls, cpus = [], []
    for _ in range(years):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(3):
            model.step()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return walls, cpus, model.schools.n


def drift(times: list[float], window: int) -> float:
    """Median year of the last `window` years over the median of the first, less one."""
    return median(times[-window:]) / median(times[:window]) - 1


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    scale, years, window = (0.02, 3, 1) if smoke else (1.0, YEARS, WINDOW_YEARS)
    for _ in range(warm_up):
        year_times(scale, years)
    drifts, cpu_drifts, first, last = [], [], [], []
    schools = 0
    for repetition in range(repetitions):
        walls, cpus, schools = year_times(scale, years)
        drifts.append(100 * drift(walls, window))
        cpu_drifts.append(100 * drift(cpus, window))
        first.append(1000 * median(walls[:window]) / 3)
        last.append(1000 * median(walls[-window:]) / 3)
        print(f"  repetition {repetition + 1}: {first[-1]:.1f} ms per term in the first "
              f"{window} years, {last[-1]:.1f} ms in the last; drift {drifts[-1]:+.1f}% "
              f"(CPU {cpu_drifts[-1]:+.1f}%)", flush=True)
    run = f"{schools:,} schools, {years} years"
    return [
        Measure.of(f"drift over {years} years", drifts, "%", ("<=", 100 * DRIFT_TARGET),
                   f"{run}; wall time per term, last {window} years over first {window}"),
        Measure.of(f"drift over {years} years, CPU time", cpu_drifts, "%", None,
                   "the same runs, time.process_time"),
        Measure.of(f"time per term, first {window} years", first, "ms", None, run),
        Measure.of(f"time per term, last {window} years", last, "ms", None, run),
    ]


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Drift", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
