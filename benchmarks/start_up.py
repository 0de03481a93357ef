"""Start-up: how long `python -m sim` takes to answer before any simulation.

    python benchmarks/start_up.py            # 11 repetitions after a warm-up
    python benchmarks/start_up.py --smoke    # one repetition

Three answers a user waits for: `--help` (target: under 3 s, issue 11), `--cfg job` (the
composed config) and the one-line refusal of a misspelt parameter. Each is a whole process:
Python's start-up, imports, Hydra's composition.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    Measure,
    arguments,
    environment,
    parse,
    report,
)

ANSWERS = {  # name -> (arguments, expected exit status, target in seconds)
    "python -m sim --help": (["--help"], 0, 3.0),
    "python -m sim --cfg job": (["--cfg", "job"], 0, None),
    "a misspelt parameter refused": (["model.trusts.giver_taker_treshold=4"], 2, None),
}


def answer_once(command: list[str], status: int, folder: Path) -> float:
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-m", "sim", *command], cwd=folder,
                              env=environment(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if finished.returncode != status:
        raise RuntimeError(f"python -m sim {' '.join(command)} exited {finished.returncode}:\n"
                           f"{finished.stderr}")
    return elapsed


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    measures = []
    with tempfile.TemporaryDirectory() as name:
        for label, (command, status, target) in ANSWERS.items():
            for _ in range(warm_up):
                answer_once(command, status, Path(name))
            times = [answer_once(command, status, Path(name)) for _ in range(repetitions)]
            measures.append(Measure.of(label, times, "s", ("<=", target) if target else None,
                                       "whole process"))
    return measures


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("Start-up", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
