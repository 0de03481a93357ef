"""Every benchmark in one report: throughput, phases, scaling, drift, start-up, single run, sweep and
GIAS loading.

    python benchmarks/run_all.py            # tens of minutes on 2 cores
    python benchmarks/run_all.py --smoke    # a minute: checks every script works (CI)

Prints one table with every figure, its target and whether it is met, and appends it to
benchmarks/RESULTS.md with the machine description.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    drift,
    gias_load,
    phases,
    scaling,
    single_run,
    start_up,
    sweep,
    throughput,
)
from benchmarks.common import arguments, parse, report


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    measures = []
    for module in (throughput, phases, scaling, drift, start_up, single_run, sweep, gias_load):
        print(f"{module.__name__.split('.')[-1]} ...", flush=True)
        measures.extend(module.measure(options.smoke, options.repetitions, options.warm_up))
    report("All benchmarks", measures, options)
    if not options.smoke and not all(m.met is not False for m in measures):
        sys.exit("some targets are not met")


if __name__ == "__main__":
    main()
