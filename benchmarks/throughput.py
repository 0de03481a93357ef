"""Throughput: England at full scale for 30 terms, against Mesa's BoltzmannWealth example.

    python benchmarks/throughput.py            # 11 repetitions after a warm-up
    python benchmarks/throughput.py --smoke    # tiny sizes, checks the script works

Reports, for the national scenario (about 21,750 schools and 455,000 teachers, seed 0):
- build: constructing the model, labour-market warm-up and spin-up included;
- simulate: 30 terms (10 years) of `model.run()`, and school-terms per second;
- the reference: Mesa's own `BoltzmannWealth` example (`mesa.examples`) with 10,000 agents
  on its own 10 x 10 grid for 20 steps, in agent-steps per second, timed in the same
  process, alternating with the national runs so that both see the same machine load;
- the ratio of the two rates, the median of the per-repetition ratios, twice: by wall
  time (the target) and by the process's CPU time (`time.process_time`, which time spent
  waiting for a busy machine's cores does not count);
- the peak resident memory of `python -m sim scenario=national` as a whole process.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, parse, report, run_module

if TYPE_CHECKING:
    from sim.schema import RunConfig

NATIONAL_TERMS = 30
BOLTZMANN_AGENTS, BOLTZMANN_STEPS = 10_000, 20


def national_config(scale: float, terms: int) -> RunConfig:
    from sim.config import configure

    return configure(["scenario=national", f"scenario.scale={scale}", "seed=0",
                      f"horizon_years={terms // 3}", "output.progress=false"])


@dataclass
class NationalRun:
    """One build and run: wall and process CPU seconds of each, and the place's size."""

    build: float
    simulate: float
    build_cpu: float
    simulate_cpu: float
    schools: int
    teachers: int


def time_national(config: RunConfig) -> NationalRun:
    """Build and simulate once."""
    from sim.model import SchoolSystemModel

    started, started_cpu = time.perf_counter(), time.process_time()
    model = SchoolSystemModel(config)
    built, built_cpu = time.perf_counter(), time.process_time()
    model.run()
    finished, finished_cpu = time.perf_counter(), time.process_time()
    return NationalRun(built - started, finished - built, built_cpu - started_cpu,
                       finished_cpu - built_cpu, model.schools.n,
                       int(model.schools.teachers.sum()))


def time_boltzmann(agents: int, steps: int, seed: int) -> tuple[float, float]:
    """Wall and process CPU seconds for `steps` steps of Mesa's BoltzmannWealth with
    `agents` agents."""
    from mesa.examples.basic.boltzmann_wealth_model.model import (
        BoltzmannScenario,
        BoltzmannWealth,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example uses Mesa's experimental APIs
        model = BoltzmannWealth(BoltzmannScenario(rng=seed, n=agents))
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            model.step()
        return time.perf_counter() - started, time.process_time() - started_cpu


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    scale, terms = (0.02, 3) if smoke else (1.0, NATIONAL_TERMS)
    agents, steps = (500, 2) if smoke else (BOLTZMANN_AGENTS, BOLTZMANN_STEPS)
    config = national_config(scale, terms)
    for seed in range(warm_up):
        time_national(config)
        time_boltzmann(agents, steps, seed)
    runs: list[NationalRun] = []
    rates, reference_rates, ratios, cpu_ratios = [], [], [], []
    for repetition in range(repetitions):
        run = time_national(config)
        boltzmann, boltzmann_cpu = time_boltzmann(agents, steps, seed=repetition)
        runs.append(run)
        rates.append(run.schools * terms / run.simulate)
        reference_rates.append(agents * steps / boltzmann)
        ratios.append(rates[-1] / reference_rates[-1])
        cpu_ratios.append((run.schools * terms / run.simulate_cpu)
                          / (agents * steps / boltzmann_cpu))
        print(f"  repetition {repetition + 1}: build {run.build:.2f} s, simulate "
              f"{run.simulate:.2f} s (CPU {run.simulate_cpu:.2f} s), {rates[-1]:,.0f} "
              f"school-terms/s; Boltzmann {reference_rates[-1]:,.0f} agent-steps/s; ratio "
              f"{ratios[-1]:.1f} (CPU {cpu_ratios[-1]:.1f})", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        memory_runs = [run_module(
            "sim", ["scenario=national", f"scenario.scale={scale}", f"horizon_years={terms // 3}",
                    "output.progress=false"], cwd=Path(folder)) for _ in range(repetitions)]
    national = f"{runs[-1].schools:,} schools, {runs[-1].teachers:,} teachers, {terms} terms"
    return [
        Measure.of("national: build", [run.build for run in runs], "s", ("<=", 5.0),
                   f"{national}; warm-up and spin-up included"),
        Measure.of("national: simulate", [run.simulate for run in runs], "s", ("<=", 1.0),
                   national),
        Measure.of("national: simulate, CPU time", [run.simulate_cpu for run in runs], "s",
                   None, f"{national}; time.process_time"),
        Measure.of("national: throughput", rates, "school-terms/s", None, national),
        Measure.of("BoltzmannWealth (mesa.examples)", reference_rates, "agent-steps/s",
                   None, f"{agents:,} agents, 10 x 10 grid, {steps} steps"),
        Measure.of("ratio to BoltzmannWealth", ratios, "x", (">=", 12.0),
                   "wall time; median of the per-repetition ratios"),
        Measure.of("ratio to BoltzmannWealth, CPU time", cpu_ratios, "x", None,
                   "process CPU time (time.process_time) of the same runs"),
        Measure.of("national: peak memory", [run.peak_mib for run in memory_runs], "MiB",
                   ("<=", 1536.0), "`python -m sim scenario=national` as a whole process"),
    ]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    options = parse(parser)
    report("Throughput", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
