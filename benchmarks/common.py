"""What every benchmark script shares: timing, the machine description and the report.

Each figure is the median of `repetitions` timings (11 by default) taken after `warm_up`
untimed ones (imports loaded, caches warm), so one slow repetition on a busy machine does
not decide it; the detail column gives the spread (interquartile range and range). Reports
are appended to `benchmarks/RESULTS.md` as a Markdown section: a heading with the date and
the command, the machine (cores, CPU, memory, library versions, BLAS threads and the load
average when the script started), and a table of measure, value, target and whether the
target is met.
"""

from __future__ import annotations

import argparse
import ctypes
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
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))
# Importing sim first limits BLAS to one thread per process (sim/__init__.py) before numpy
# loads, in the benchmarks as in `python -m sim`; the report says what the threads were.
import sim  # noqa: E402, F401

# The load when the script started: a benchmark is only as quiet as its machine.
LOAD_AT_START = os.getloadavg()
REPETITIONS = 11
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS", "SIM_SECOND_THREAD")  # (the last: sim.draw_ahead)


@dataclass
class Measure:
    """One line of a report. `target` is a bound on `value`: ("<=", 5.0) or (">=", 10.0);
    `samples`, when given, are the repetitions the value is the median of, in its unit."""

    name: str
    value: float
    unit: str
    target: tuple[str, float] | None = None
    detail: str = ""
    samples: tuple[float, ...] = ()

    @classmethod
    def of(cls, name: str, samples: list[float], unit: str,
           target: tuple[str, float] | None = None, detail: str = "") -> Measure:
        """The median of `samples`, which the report shows the spread of."""
        return cls(name, median(samples), unit, target, detail, tuple(samples))

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        relation, bound = self.target
        return self.value <= bound if relation == "<=" else self.value >= bound

    @property
    def shown_detail(self) -> str:
        return "; ".join(part for part in (self.detail, spread(list(self.samples))) if part)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def spread(values: list[float]) -> str:
    """The interquartile range and the range of repetitions, for the detail column."""
    if len(values) < 2:
        return f"n={len(values)}" if values else ""
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return (f"IQR {format_value(low)}-{format_value(high)}, range "
            f"{format_value(min(values))}-{format_value(max(values))}, n={len(values)}")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def blas_threads() -> str:
    """The threads each OpenBLAS loaded in this process would use (numpy's, scipy's), asked
    of the library itself; else the environment's setting."""
    found = []
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
        libraries = sorted({line.split()[-1] for line in maps
                            if "openblas" in line.lower() and line.split()[-1].endswith(".so")})
    except OSError:
        libraries = []
    for library in libraries:
        try:
            loaded = ctypes.CDLL(library)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                       "openblas_get_num_threads"):
            if hasattr(loaded, symbol):
                found.append(f"{getattr(loaded, symbol)()} ({Path(library).parent.name})")
                break
    settings = ", ".join(f"{name}={os.environ.get(name, 'unset')}" for name in THREAD_VARIABLES)
    return f"{' and '.join(found) or 'not asked'}; {settings}"


def machine() -> dict[str, str]:
    import numpy

    try:
        import numba

        numba_version = numba.__version__
    except ImportError:
        numba_version = "not installed"
    blas = numpy.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return {
        "cores": str(os.cpu_count()),
        "CPU": cpu_model(),
        "memory": memory_gib(),
        "Python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba_version,
        "OS": f"{platform.system()} {platform.release()}",
        "BLAS": f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
        "BLAS threads": blas_threads(),
        "load average at start": " ".join(f"{load:.2f}" for load in LOAD_AT_START),
    }


@dataclass
class ProcessRun:
    """A whole process timed from outside: wall time (s), CPU time (s) of the process and of
    the children it waited for, peak resident memory (MiB) as the process saw it since its
    exec (VmHWM), and the kernel's `ru_maxrss` (MiB), which also counts what the process
    shared with its parent before exec."""

    wall: float
    cpu: float
    peak_mib: float
    maxrss_mib: float


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


def run_process(command: list[str], cwd: Path, peak_report: Path | None = None) -> ProcessRun:
    """Run `command` in `cwd` with the repository importable; its wall and CPU time and its
    memory, from `os.wait4` (and, if the command writes it, the VmHWM in `peak_report`)."""
    with open(Path(cwd) / ".benchmark_stderr", "w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=environment(),
                                   stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        message = errors.read()
    Path(cwd, ".benchmark_stderr").unlink(missing_ok=True)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{message}")
    maxrss = usage.ru_maxrss / 1024  # KiB on Linux
    peak = maxrss
    if peak_report is not None and peak_report.exists():
        peak = float(peak_report.read_text()) / 1024
        peak_report.unlink()
    return ProcessRun(elapsed, usage.ru_utime + usage.ru_stime, peak, maxrss)


def run_module(module: str, arguments: list[str], cwd: Path) -> ProcessRun:
    """Run `python -m module arguments` in `cwd` as a whole process (see `ProcessRun`)."""
    report = Path(cwd) / ".peak_memory_kib"
    return run_process([sys.executable, "-c", _MEASURED, str(report), module, *arguments],
                       cwd, peak_report=report)


def environment() -> dict[str, str]:
    """The environment for child processes: the repository importable, and the thread
    settings this process has (sim's, unless the user set their own)."""
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
                     f"| {m.shown_detail} |")
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
            f"{'' if arguments.warm_up == 1 else 's'} (a repetition is what each script repeats: "
            f"a run, a command, a simulated year); the spread is in the detail column."
            f"\n\n{table(measures)}\n")
    print(text)
    if arguments.record:
        output = Path(arguments.results)
        existing = output.read_text() if output.exists() else "# Benchmark results\n"
        from sim.files import write_text

        write_text(output, existing.rstrip("\n") + "\n\n" + text)
        print(f"appended to {output}")
    return text


def arguments(description: str, repetitions: int = REPETITIONS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repetitions", type=int, default=repetitions,
                        help=f"timed repetitions per figure (default {repetitions}, the least "
                             "for a recorded report)")
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
    elif parsed.repetitions < REPETITIONS and parsed.record:
        parser.error(f"a recorded report needs at least {REPETITIONS} repetitions (fewer "
                     "with --no-record for a look; --smoke checks the script)")
    if parsed.repetitions < 1 or parsed.warm_up < 0:
        parser.error("--repetitions must be at least 1 and --warm-up at least 0")
    return parsed
