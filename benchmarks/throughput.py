"""Throughput: England at full scale for 30 terms, against Mesa's BoltzmannWealth example.

    python benchmarks/throughput.py            # 5 repetitions after a warm-up
    python benchmarks/throughput.py --smoke    # tiny sizes, checks the script works

Reports, for the national scenario (about 21,750 schools and 470,000 teachers, seed 0):
- build: constructing the model, labour-market warm-up and spin-up included;
- simulate: 30 terms (10 years) of `model.run()`, and school-terms per second;
- the reference: Mesa's own `BoltzmannWealth` example (`mesa.examples`) with 10,000 agents
  on its own 10 x 10 grid for 20 steps, in agent-steps per second, timed in the same
  process, alternating with the national runs so that both see the same machine load;
- the ratio of the two rates, the median of the per-repetition ratios;
- the peak resident memory of `python -m sim scenario=national` as a whole process.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Measure,
    arguments,
    median,
    parse,
    report,
    run_module,
)

if TYPE_CHECKING:
    from sim.schema import RunConfig

NATIONAL_TERMS = 30
BOLTZMANN_AGENTS, BOLTZMANN_STEPS = 10_000, 20


def national_config(scale: float, terms: int) -> RunConfig:
    from sim.config import configure

    return configure(["scenario=national", f"scenario.scale={scale}", "seed=0",
                      f"horizon_years={terms // 3}", "output.progress=false"])


def time_national(config: RunConfig) -> tuple[float, float, int, int]:
    """Build and simulate once: (build s, simulate s, schools, teachers)."""
    from sim.model import SchoolSystemModel

    started = time.perf_counter()
    model = SchoolSystemModel(config)
    built = time.perf_counter()
    model.run()
    finished = time.perf_counter()
    return built - started, finished - built, model.schools.n, int(model.schools.teachers.sum())


def time_boltzmann(agents: int, steps: int, seed: int) -> float:
    """Seconds for `steps` steps of Mesa's BoltzmannWealth with `agents` agents."""
    from mesa.examples.basic.boltzmann_wealth_model.model import (
        BoltzmannScenario,
        BoltzmannWealth,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example uses Mesa's experimental APIs
        model = BoltzmannWealth(BoltzmannScenario(rng=seed, n=agents))
        started = time.perf_counter()
        for _ in range(steps):
            model.step()
        return time.perf_counter() - started


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    scale, terms = (0.02, 3) if smoke else (1.0, NATIONAL_TERMS)
    agents, steps = (500, 2) if smoke else (BOLTZMANN_AGENTS, BOLTZMANN_STEPS)
    config = national_config(scale, terms)
    for seed in range(warm_up):
        time_national(config)
        time_boltzmann(agents, steps, seed)
    builds, simulates, rates, reference_rates, ratios = [], [], [], [], []
    for repetition in range(repetitions):
        build, simulate, schools, teachers = time_national(config)
        boltzmann = time_boltzmann(agents, steps, seed=repetition)
        builds.append(build)
        simulates.append(simulate)
        rates.append(schools * terms / simulate)
        reference_rates.append(agents * steps / boltzmann)
        ratios.append(rates[-1] / reference_rates[-1])
        print(f"  repetition {repetition + 1}: build {build:.2f} s, simulate {simulate:.2f} s, "
              f"{rates[-1]:,.0f} school-terms/s; Boltzmann {reference_rates[-1]:,.0f} "
              f"agent-steps/s; ratio {ratios[-1]:.1f}", flush=True)

    with tempfile.TemporaryDirectory() as folder:
        memory_runs = [run_module(
            "sim", ["scenario=national", f"scenario.scale={scale}", f"horizon_years={terms // 3}",
                    "output.progress=false"], cwd=Path(folder)) for _ in range(repetitions)]
    national = f"{schools:,} schools, {teachers:,} teachers, {terms} terms"
    return [
        Measure("national: build", median(builds), "s", ("<=", 5.0),
                f"{national}; warm-up and spin-up included"),
        Measure("national: simulate", median(simulates), "s", ("<=", 1.0), national),
        Measure("national: throughput", median(rates), "school-terms/s", None, national),
        Measure("BoltzmannWealth (mesa.examples)", median(reference_rates), "agent-steps/s",
                None, f"{agents:,} agents, 10 x 10 grid, {steps} steps"),
        Measure("ratio to BoltzmannWealth", median(ratios), "x", (">=", 10.0),
                "median of the per-repetition ratios"),
        Measure("national: peak memory", median([memory for _, memory in memory_runs]), "MiB",
                ("<=", 1536.0), "`python -m sim scenario=national` as a whole process"),
    ]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    options = parse(parser)
    report("Throughput", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
