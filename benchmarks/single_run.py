"""Single run: `python -m sim scenario=opportunity_area` as a whole process.

    python benchmarks/single_run.py            # 11 repetitions after a warm-up
    python benchmarks/single_run.py --smoke    # one repetition

Python start-up, imports, Hydra, the 5-year simulation, the result files and the summary
figure all count: it is what a policy analyst waits for.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, parse, report, run_module

ARGUMENTS = ["scenario=opportunity_area"]


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(warm_up):
            run_module("sim", ARGUMENTS, cwd=Path(folder))
        runs = [run_module("sim", ARGUMENTS, cwd=Path(folder)) for _ in range(repetitions)]
        made = list(Path(folder, "results", "runs").rglob("summary.png"))
        if len(made) != warm_up + repetitions:
            raise RuntimeError(f"expected {warm_up + repetitions} run folders, found {len(made)}")
    return [Measure.of("Opportunity Area: single run", [run.wall for run in runs], "s",
                       ("<=", 2.5), "`python -m sim scenario=opportunity_area`, figure included"),
            Measure.of("Opportunity Area: single run, CPU time", [run.cpu for run in runs], "s",
                       None, "the process's user and system time (os.wait4)"),
            Measure.of("Opportunity Area: peak memory", [run.peak_mib for run in runs], "MiB",
                       None, "whole process")]


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Single run", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
