"""Scaling: time per term for synthetic systems of 1,000, 10,000 and 100,000 schools.

    python benchmarks/scaling.py            # 5 repetitions after a warm-up
    python benchmarks/scaling.py --smoke    # tiny sizes, checks the script works

Each system is the national scenario scaled (`scenario.scale`) to the size, simulated for
30 terms. The slope of log(time per term) against log(schools) between 10,000 and 100,000
schools says how the cost grows: 1 is linear.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, median, parse, report
from benchmarks.throughput import national_config, time_national

NATIONAL_SCHOOLS = 21_750
SIZES = (1_000, 10_000, 100_000)
TERMS = 30


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    sizes, terms = ((200, 500, 2_000), 3) if smoke else (SIZES, TERMS)
    per_term: dict[int, float] = {}
    measures = []
    for size in sizes:
        config = national_config(size / NATIONAL_SCHOOLS, terms)
        for _ in range(warm_up):
            time_national(config)
        times = []
        for _ in range(repetitions):
            run = time_national(config)
            schools = run.schools
            times.append(run.simulate / terms)
        per_term[size] = median(times)
        print(f"  {schools:,} schools: {1000 * per_term[size]:.2f} ms per term", flush=True)
        measures.append(Measure(f"{size:,} schools: time per term", 1000 * per_term[size], "ms",
                                None, f"{schools:,} schools built, {terms} terms"))
    _, middle, large = sizes
    slope = math.log(per_term[large] / per_term[middle]) / math.log(large / middle)
    measures.append(Measure(f"slope, {middle:,} to {large:,} schools", slope, "", ("<=", 1.1),
                            "log-log, time per term against schools"))
    return measures


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Scaling", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
