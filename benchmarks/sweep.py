"""Sweep throughput: 100 Opportunity Area runs through Hydra multirun on all cores.

    python benchmarks/sweep.py            # 5 repetitions after a warm-up
    python benchmarks/sweep.py --smoke    # 4 runs, once

Runs `python -m sim -m scenario=opportunity_area seed=range(100)` with the default local
launcher (joblib, one worker per core), each repetition into a fresh sweep folder, and
reports the wall time of the whole command and runs per second.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Measure,
    arguments,
    median,
    parse,
    report,
    run_module,
)

RUNS = 100


def sweep_once(runs: int, folder: Path, number: int) -> float:
    sweep_dir = folder / f"sweep{number}"
    wall, _ = run_module("sim", ["-m", "scenario=opportunity_area", f"seed=range({runs})",
                                 f"hydra.sweep.dir={sweep_dir}"], cwd=folder)
    done = list(sweep_dir.glob("*/summary.json"))
    if len(done) != runs:
        raise RuntimeError(f"the sweep finished {len(done)} of {runs} runs")
    return wall


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    runs = 4 if smoke else RUNS
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for number in range(warm_up):
            sweep_once(runs, folder, number)
        walls = []
        for number in range(warm_up, warm_up + repetitions):
            walls.append(sweep_once(runs, folder, number))
            print(f"  sweep of {runs} runs: {walls[-1]:.1f} s", flush=True)
    wall = median(walls)
    return [Measure(f"sweep of {runs} Opportunity Area runs", wall, "s",
                    ("<=", 60.0) if runs == RUNS else None, "joblib launcher, all cores"),
            Measure("sweep throughput", runs / wall, "runs/s", None, "")]


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Sweep", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
