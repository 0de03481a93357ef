"""Where a national term goes: CPU time per term of each phase of `model.run()`.

    python benchmarks/phases.py            # 11 repetitions after a warm-up
    python benchmarks/phases.py --smoke    # tiny sizes, checks the script works

England at full scale (seed 0) for 30 terms; each repetition builds a fresh model and times
each phase's `run_term` (and the yearly phase's `run_year`, the term's record) with
`time.thread_time` round the call: the CPU time of the thread that runs it, so a busy
machine's waiting does not count. England uses a second thread, for the phases that run
beside the workforce phase (`sim.term_phases.BESIDE_WORKFORCE`, marked so) and to draw the next
term's random numbers (`sim.draw_ahead`, a line of its own); "whole term" is the main
thread's, and "other" the rest of its `step()` (policy, tallies). The build (warm-up and
spin-up, which also run phases) is not timed. Timing each call adds a microsecond or two
per phase, not more.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, parse, report
from benchmarks.throughput import NATIONAL_TERMS, national_config


@contextmanager
def timed_phases(seconds: dict[str, float]) -> Iterator[None]:
    """Add each phase's CPU seconds to `seconds` while the block runs."""
    from sim import metrics
    from sim import model as model_module

    targets: list[tuple[Any, str, str]] = [
        (phase, "run_term", phase.__name__.rsplit(".", 1)[-1])
        for phase in model_module.TERM_PHASES]
    targets += [(model_module.YEARLY_PHASE, "run_year", "yearly phase"),
                (metrics, "term_measures", "record")]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def timing(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        def call(*positional: Any, **keywords: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*positional, **keywords)
            finally:
                seconds[label] += time.thread_time() - started
        return call

    for (owner, name, label), (_, _, function) in zip(targets, originals, strict=True):
        setattr(owner, name, timing(function, label))
    try:
        yield
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    from sim import term_phases
    from sim.model import SchoolSystemModel

    scale, terms = (0.02, 3) if smoke else (1.0, NATIONAL_TERMS)
    config = national_config(scale, terms)
    for _ in range(warm_up):
        SchoolSystemModel(config).run()
    per_term: dict[str, list[float]] = defaultdict(list)
    for repetition in range(repetitions):
        model = SchoolSystemModel(config)
        seconds: dict[str, float] = defaultdict(float)
        started, started_process = time.thread_time(), time.process_time()
        with timed_phases(seconds):
            model.run()
        total = time.thread_time() - started
        # Phases run on the second thread beside the workforce phase, if the place does.
        beside = {phase.__name__.rsplit(".", 1)[-1] for phase in term_phases.BESIDE_WORKFORCE
                  } if model._second_thread is not None else set()
        seconds["other"] = total - sum(value for label, value in seconds.items()
                                       if label not in beside)
        seconds["whole term"] = total
        # The second thread's draws made ahead (`sim.draw_ahead`).
        seconds["draws ahead (second thread)"] = max(
            0.0, time.process_time() - started_process - total
            - sum(seconds[label] for label in beside))
        for label in beside:
            seconds[f"{label} (second thread)"] = seconds.pop(label)
        for label, value in seconds.items():
            per_term[label].append(1000 * value / terms)
        print(f"  repetition {repetition + 1}: {1000 * total / terms:.1f} ms a term on the main "
              f"thread", flush=True)
    place = f"{model.schools.n:,} schools, {terms} terms; CPU time, by thread"
    last = ("whole term", "draws ahead (second thread)")
    order = sorted((label for label in per_term if label not in last),
                   key=lambda label: -sorted(per_term[label])[len(per_term[label]) // 2])
    return [Measure.of(f"phase: {label}", per_term[label], "ms/term", None, place)
            for label in [*order, *last]]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    options = parse(parser)
    report("Phases", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
