"""What every benchmark script shares: timing, the machine description and the report.

Each figure is the median of `repetitions` timings taken after `warm_up` untimed ones
(imports loaded, caches warm), so one slow repetition on a busy machine does not decide
it. Reports are appended to `benchmarks/RESULTS.md` as a Markdown section: a heading with
the date and the command, the machine, and a table of measure, value, target and whether
the target is met.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


@dataclass
class Measure:
    """One line of a report. `target` is a bound on `value`: ("<=", 5.0) or (">=", 10.0)."""

    name: str
    value: float
    unit: str
    target: tuple[str, float] | None = None
    detail: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        relation, bound = self.target
        return self.value <= bound if relation == "<=" else self.value >= bound


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    import numpy

    return {
        "cores": str(os.cpu_count()),
        "CPU": cpu_model(),
        "Python": platform.python_version(),
        "numpy": numpy.__version__,
        "OS": f"{platform.system()} {platform.release()}",
    }


# Runs a module as `python -m` would and, at exit, writes the process's peak resident
# memory (VmHWM, which starts afresh at exec) to the file named by the first argument.
# Asking the process itself matters: the rusage of a child started from a large parent
# counts the parent's pages that the child shared before exec.
_MEASURED = """
import atexit, runpy, sys
report, module = sys.argv[1], sys.argv[2]
def _peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(report, "w").write(line.split()[1])
atexit.register(_peak)
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def run_module(module: str, arguments: list[str], cwd: Path) -> tuple[float, float]:
    """Run `python -m module arguments` in `cwd`; return its wall time (s) and peak
    resident memory (MiB)."""
    report = Path(cwd) / ".peak_memory_kib"
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-c", _MEASURED, str(report), module, *arguments],
                              cwd=cwd, env=environment(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"python -m {module} {' '.join(arguments)} failed:\n{finished.stderr}")
    peak = float(report.read_text()) / 1024 if report.exists() else float("nan")
    report.unlink(missing_ok=True)
    return elapsed, peak


def environment() -> dict[str, str]:
    """The environment for child processes: the repository importable, no warnings."""
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": f"{REPOSITORY}{os.pathsep}{path}" if path else str(REPOSITORY)}


def format_value(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(measures: list[Measure]) -> str:
    lines = ["| measure | value | unit | target | met | detail |", "|---|---|---|---|---|---|"]
    for m in measures:
        target = f"{m.target[0]} {format_value(m.target[1])}" if m.target else ""
        met = {True: "yes", False: "**no**", None: ""}[m.met]
        lines.append(f"| {m.name} | {format_value(m.value)} | {m.unit} | {target} | {met} "
                     f"| {m.detail} |")
    return "\n".join(lines)


def report(title: str, measures: list[Measure], arguments: argparse.Namespace) -> str:
    """Print the report and append it to the results file (unless --no-record)."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    script = Path(sys.argv[0]).resolve()
    shown = script.relative_to(REPOSITORY).as_posix() if script.is_relative_to(REPOSITORY) \
        else sys.argv[0]
    command = " ".join(["python", shown, *sys.argv[1:]])
    if arguments.smoke:
        measures = [replace(m, target=None) for m in measures]
        title += " (smoke: tiny sizes, targets not judged)"
    described = ", ".join(f"{key} {value}" for key, value in machine().items())
    text = (f"## {title}, {stamp}\n\n`{command}`\n\nMachine: {described}. Medians of "
            f"{arguments.repetitions} repetitions after {arguments.warm_up} warm-up"
            f"{'' if arguments.warm_up == 1 else 's'}.\n\n{table(measures)}\n")
    print(text)
    if arguments.record:
        output = Path(arguments.results)
        existing = output.read_text() if output.exists() else "# Benchmark results\n"
        from sim.files import write_text

        write_text(output, existing.rstrip("\n") + "\n\n" + text)
        print(f"appended to {output}")
    return text


def arguments(description: str, repetitions: int = 5) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repetitions", type=int, default=repetitions,
                        help=f"timed repetitions per figure (default {repetitions}, at least 5 "
                             "for a report)")
    parser.add_argument("--warm-up", type=int, default=1, help="untimed runs first (default 1)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and one repetition: checks the script works (CI)")
    parser.add_argument("--results", default=str(RESULTS),
                        help="the Markdown file the report is appended to")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="print the report only")
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    parsed = parser.parse_args()
    if parsed.smoke:  # sizes are tiny: nothing is judged, and RESULTS.md is left alone
        parsed.repetitions, parsed.warm_up = 1, 0
        parsed.record = parsed.record and parsed.results != str(RESULTS)
    elif parsed.repetitions < 5:
        parser.error("a report needs at least 5 repetitions (use --smoke to check the script)")
    return parsed
