"""Sweep throughput: 100 Opportunity Area runs through Hydra multirun on all cores.

    python benchmarks/sweep.py            # 11 repetitions after a warm-up
    python benchmarks/sweep.py --smoke    # 4 runs, once

Runs `python -m sim -m scenario=opportunity_area seed=range(100)` with the default local
launcher (joblib, one worker per core), each repetition into a fresh sweep folder, and
reports the wall time of the whole command and runs per second, two ways:
- as the experiment configs run sweeps (`output.plots=false output.progress=false`: the
  sweep's figures come from `python -m sim.compare`), which the target applies to;
- with the single-run defaults, a summary figure drawn for every run.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, median, parse, report, run_module

RUNS = 100


def sweep_once(runs: int, folder: Path, number: int, options: list[str]) -> float:
    sweep_dir = folder / f"sweep{number}"
    wall = run_module("sim", ["-m", "scenario=opportunity_area", f"seed=range({runs})",
                              f"hydra.sweep.dir={sweep_dir}", *options], cwd=folder).wall
    done = list(sweep_dir.glob("*/summary.json"))
    if len(done) != runs:
        raise RuntimeError(f"the sweep finished {len(done)} of {runs} runs")
    return wall


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    runs = 4 if smoke else RUNS
    measures = []
    for options, described, target in (
            (["output.plots=false", "output.progress=false"],
             "as experiment configs run: no per-run figure", ("<=", 15.0)),
            ([], "single-run defaults: a figure per run", None)):
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            for number in range(warm_up):
                sweep_once(runs, folder, number, options)
            walls = []
            for number in range(warm_up, warm_up + repetitions):
                walls.append(sweep_once(runs, folder, number, options))
                print(f"  sweep of {runs} runs ({described}): {walls[-1]:.1f} s", flush=True)
        measures += [
            Measure.of(f"sweep of {runs} Opportunity Area runs, {described}", walls, "s",
                       target if runs == RUNS else None, "joblib launcher, all cores"),
            Measure(f"sweep throughput, {described}", runs / median(walls), "runs/s", None,
                    "runs over the median wall time")]
    return measures


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Sweep", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
