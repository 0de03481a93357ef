"""`python -m sim.sensitivity`: the command, from its arguments to the ranked importance.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim import errors
from sim.errors import refuse_bad_arguments
from sim.files import write_atomically
from sim.folders import missing_ancestors
from sim.sensitivity.analysis import analyse
from sim.sensitivity.figure import plot
from sim.sensitivity.runs import collect, run_sample
from sim.sensitivity.setup import (
    DEFAULT_CONFIG,
    SensitivityError,
    check_launcher,
    check_output,
    claim_output,
    discard_if_nothing_ran,
    draw_sample,
    load_problem,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.sensitivity",
                                     description="Global sensitivity analysis: which parameters matter most?")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="bounds file (default configs/sensitivity_morris.yaml)")
    parser.add_argument("--sobol", action="store_true", help="Sobol indices instead of Morris")
    parser.add_argument("--trajectories", type=int, default=10,
                        help="Morris trajectories (runs: trajectories x (parameters + 1))")
    parser.add_argument("--samples", type=int, default=64,
                        help="Sobol base sample, a power of 2 (runs: samples x (parameters + 2))")
    parser.add_argument("--launcher", default="local",
                        help="Hydra launcher: local (sim's own, on every core), joblib, "
                             "basic, ray, submitit_local, submitit_slurm")
    parser.add_argument("--output", type=Path, help="folder for the sample, runs and results")
    parser.add_argument("--sample-seed", type=int, default=0, help="seed of the sample")
    refuse_bad_arguments(parser, "python -m sim.sensitivity")
    args = parser.parse_args(argv)
    method = "sobol" if args.sobol else "morris"
    size = args.samples if args.sobol else args.trajectories
    if not 2 <= size <= 100_000:
        raise SensitivityError("--trajectories and --samples must be from 2 to 100000")
    if args.sobol and size & (size - 1):
        raise SensitivityError(f"--samples {size} must be a power of 2 (Saltelli's scheme)")
    if not 0 <= args.sample_seed < 2**32:
        raise SensitivityError("--sample-seed must be a whole number from 0 to 4294967295")
    output = args.output or Path("results") / "sensitivity" / method
    check_output(output)
    problem, setup = load_problem(args.config)
    check_launcher(args.launcher)
    sample = draw_sample(problem, args.sobol, size, args.sample_seed)
    created = missing_ancestors(output)  # removed again if the analysis fails before a run
    samples = output / "samples.csv"
    try:
        claim_output(output, {"method": method, "size": size, "sample_seed": args.sample_seed,
                              "scenario": setup["scenario"], "seed": setup["seed"],
                              "horizon_years": setup["horizon_years"],
                              "parameters": dict(zip(problem["names"], problem["bounds"],
                                                     strict=True))})
        errors.interruption_note = (f"the sample and any runs already complete are kept in "
                                    f"{output}; run the same command again to resume")
        import pandas as pd

        frame = pd.DataFrame(sample, columns=problem["names"])
        write_atomically(samples, lambda path: frame.to_csv(path, index=False))
        print(f"sim.sensitivity: {method}, {problem['num_vars']} parameters, {len(sample)} "
              f"runs in {output}", file=sys.stderr)
        status = run_sample(samples, len(sample), setup, args.launcher, output)
    except (KeyboardInterrupt, errors.Terminated):
        raise  # the sample is kept, to resume (errors.interruption_note says so)
    except BaseException:
        discard_if_nothing_ran(output, created)
        raise
    if status != 0:
        discard_if_nothing_ran(output, created)
        return status  # the sweep has said what failed, in one line
    frame = pd.read_csv(samples)  # the values as the runs read them
    values = collect(output / "runs", frame, setup["outcomes"])
    table = analyse(problem, sample, values, setup["outcomes"], args.sobol, args.sample_seed)
    write_atomically(output / "importance.csv", lambda path: table.to_csv(path, index=False))
    plot(table, args.sobol, output / "importance")
    for outcome, rows in table.groupby("outcome", sort=False):
        ranking = ", ".join(f"{r.parameter} ({r.importance:.3g})" for r in rows.itertuples())
        print(f"{outcome}: {ranking}")
    print(f"\nranked importance in {output / 'importance.csv'} and importance.png")
    return 0
