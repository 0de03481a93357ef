"""Sweep throughput: 100 Opportunity Area runs through Hydra multirun on all cores.

    python benchmarks/sweep.py            # 11 repetitions after a warm-up
    python benchmarks/sweep.py --smoke    # 4 runs, once

Runs `python -m sim -m scenario=opportunity_area seed=range(100)` with the default local
launcher (sim's own: forked workers, one per core, that compose, check and run the jobs),
each repetition into a fresh sweep folder, and reports the wall time of the whole command,
the CPU time of all its processes (the sweep's and its workers': on a machine shared with
other work the wall time varies more than the CPU time does) and runs per second, two ways:
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


def sweep_once(runs: int, folder: Path, number: int, options: list[str]) -> tuple[float, float]:
    """The sweep's wall time and the CPU time of all its processes (s)."""
    sweep_dir = folder / f"sweep{number}"
    run = run_module("sim", ["-m", "scenario=opportunity_area", f"seed=range({runs})",
                             f"hydra.sweep.dir={sweep_dir}", *options], cwd=folder)
    wall, cpu = run.wall, run.cpu
    done = list(sweep_dir.glob("*/summary.json"))
    if len(done) != runs:
        raise RuntimeError(f"the sweep finished {len(done)} of {runs} runs")
    return wall, cpu


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
            walls, cpus = [], []
            for number in range(warm_up, warm_up + repetitions):
                wall, cpu = sweep_once(runs, folder, number, options)
                walls.append(wall)
                cpus.append(cpu)
                print(f"  sweep of {runs} runs ({described}): {wall:.1f} s, CPU {cpu:.1f} s",
                      flush=True)
        measures += [
            Measure.of(f"sweep of {runs} Opportunity Area runs, {described}", walls, "s",
                       target if runs == RUNS else None, "sim's launcher, all cores"),
            Measure.of(f"sweep CPU, all processes, {described}", cpus, "s", None,
                       "the sweep's process and its workers"),
            Measure(f"sweep throughput, {described}", runs / median(walls), "runs/s", None,
                    "runs over the median wall time")]
    return measures


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Sweep", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
