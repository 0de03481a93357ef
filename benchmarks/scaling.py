"""Scaling: time per term and peak memory from 10,000 to 1,000,000 schools at England's density.

    python benchmarks/scaling.py                          # 10k, 30k, 100k, 300k and 1M
    python benchmarks/scaling.py --sizes 10000 100000     # chosen sizes
    python benchmarks/scaling.py --smoke                  # tiny sizes, checks the script works

Each size is the national scenario at `scenario.scale` = size / 21,750: the counts of
schools, trusts and local authorities and the region's area grow together, so schools are
as dense as in England and every school has as many neighbours and brokering candidates at
any size (docs/ODD.md section 5). Each size runs in a fresh process (so one size's memory
does not weigh on the next), built once (seed 0; the 72-term spin-up included, timed as the
build) and then simulated year by year: `--warm-up` years untimed, then `--repetitions`
timed years (11 by default: 12 years, 36 terms). A year is three terms with every phase and
the yearly structure phase once, the cycle a term's cost repeats in; a size's time per term
is the median over its timed years of the year's time over three.

Reports, per size: time per term (wall, and CPU time of the process alongside) with its
spread over years, the build, the MAT hubs within the commissioner's search radius of a
school (what density does to brokering), and peak memory (VmHWM; `ru_maxrss` from
`os.wait4` in the detail); then the log-log slope of time per term against schools, fitted
over every size from 10,000 to 1,000,000 (1 is linear), and the peak memory at the largest.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, median, parse, report, run_process

NATIONAL_SCHOOLS = 21_750
SIZES = (10_000, 30_000, 100_000, 300_000, 1_000_000)
SMOKE_SIZES = (200, 500, 2_000)
SLOPE_RANGE = (10_000, 1_000_000)  # the slope's target is over this range (issue 14)
MEMORY_TARGET_MIB = 8 * 1024  # at a million schools (issue 14)
_CHILD = "import sys; from benchmarks.scaling import one_size; one_size(*sys.argv[1:])"


def one_size(size: str, warm_up_years: str, years: str, output: str) -> None:
    """In a fresh process: build a place of `size` schools, simulate it year by year and
    write the timings to `output` (JSON)."""
    import numpy as np
    from scipy.spatial import cKDTree

    from benchmarks.throughput import national_config
    from sim.model import SchoolSystemModel
    from sim.state import TrustKind

    warm, timed = int(warm_up_years), int(years)
    config = national_config(int(size) / NATIONAL_SCHOOLS, 3 * (warm + timed))
    started, started_cpu = time.perf_counter(), time.process_time()
    model = SchoolSystemModel(config)
    build, build_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    schools, hubs, trusts = model.schools, model.hubs, model.trusts
    on_map = trusts.kind[hubs.trust] == TrustKind.MULTI_ACADEMY_TRUST
    points = np.column_stack([schools.x_km, schools.y_km])
    in_reach = cKDTree(np.column_stack([hubs.x_km[on_map], hubs.y_km[on_map]])).query_ball_point(
        points, config.model.structure.search_radius_km, return_length=True)
    walls, cpus = [], []
    for year in range(warm + timed):
        started, started_cpu = time.perf_counter(), time.process_time()
        for _ in range(3):
            model.step()
        if year >= warm:
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - started_cpu)
    Path(output).write_text(json.dumps({
        "schools": int(schools.n), "build": build, "build_cpu": build_cpu,
        "year_walls": walls, "year_cpus": cpus, "hubs_in_reach": float(in_reach.mean()),
        "peak_kib": _own_peak_kib()}))


def _own_peak_kib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    return float("nan")


def fitted_slope(sizes: list[float], times: list[float]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    x = [math.log(size) for size in sizes]
    y = [math.log(value) for value in times]
    mean_x, mean_y = sum(x) / len(x), sum(y) / len(y)
    return (sum((a - mean_x) * (b - mean_y) for a, b in zip(x, y, strict=True))
            / sum((a - mean_x) ** 2 for a in x))


def measure(smoke: bool, repetitions: int, warm_up: int,
            sizes: tuple[int, ...] = SIZES) -> list[Measure]:
    sizes = SMOKE_SIZES if smoke else sizes
    per_term: dict[int, float] = {}
    per_term_cpu: dict[int, float] = {}
    measures, peaks = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            output = Path(folder) / f"size{size}.json"
            process = run_process([sys.executable, "-c", _CHILD, str(size), str(warm_up),
                                   str(repetitions), str(output)], cwd=Path(folder))
            found = json.loads(output.read_text())
            schools = found["schools"]
            terms = [1000 * wall / 3 for wall in found["year_walls"]]
            terms_cpu = [1000 * cpu / 3 for cpu in found["year_cpus"]]
            per_term[schools], per_term_cpu[schools] = median(terms), median(terms_cpu)
            peaks[schools] = (found["peak_kib"] / 1024, process.maxrss_mib)
            print(f"  {schools:,} schools: build {found['build']:.1f} s, "
                  f"{per_term[schools]:.1f} ms per term (CPU {per_term_cpu[schools]:.1f}), "
                  f"peak {peaks[schools][0]:,.0f} MiB", flush=True)
            label = f"{schools:,} schools"
            measures += [
                Measure.of(f"{label}: time per term", terms, "ms", None,
                           f"wall; median of {len(terms)} years of 3 terms"),
                Measure.of(f"{label}: time per term, CPU time", terms_cpu, "ms", None,
                           "time.process_time"),
                Measure(f"{label}: build", found["build"], "s", None,
                        f"one build, spin-up included; CPU {found['build_cpu']:.1f} s; "
                        f"{found['hubs_in_reach']:.0f} MAT hubs within the search radius of "
                        f"a school (mean)"),
                Measure(f"{label}: peak memory", peaks[schools][0], "MiB",
                        ("<=", MEMORY_TARGET_MIB) if schools >= SLOPE_RANGE[1] else None,
                        f"whole process (VmHWM); ru_maxrss {peaks[schools][1]:,.0f} MiB")]
    fitted = sorted(per_term) if smoke else [
        s for s in sorted(per_term) if SLOPE_RANGE[0] * 0.99 <= s <= SLOPE_RANGE[1] * 1.01]
    if len(fitted) >= 2:
        pairs = ", ".join(
            f"{a:,}-{b:,}: {fitted_slope([a, b], [per_term[a], per_term[b]]):.2f}"
            for a, b in itertools.pairwise(fitted))
        spans_range = fitted[0] <= SLOPE_RANGE[0] * 1.01 and fitted[-1] >= SLOPE_RANGE[1] * 0.99
        span = f"{fitted[0]:,} to {fitted[-1]:,} schools"
        measures += [
            Measure(f"slope, {span}", fitted_slope(fitted, [per_term[s] for s in fitted]), "",
                    ("<=", 1.1) if spans_range else None,
                    f"log-log least squares over {len(fitted)} sizes, wall time per term; "
                    f"pairwise {pairs}"),
            Measure(f"slope, {span}, CPU time",
                    fitted_slope(fitted, [per_term_cpu[s] for s in fitted]), "", None,
                    "the same fit of CPU time per term")]
    return measures


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="numbers of schools (default: 10,000 to 1,000,000)")
    options = parse(parser)
    report("Scaling", measure(options.smoke, options.repetitions, options.warm_up,
                              tuple(options.sizes)), options)


if __name__ == "__main__":
    main()
