"""Global sensitivity analysis: which parameters matter most for the headline outcomes?

    python -m sim.sensitivity                                # Morris screening, 10 trajectories
    python -m sim.sensitivity --trajectories 20 --launcher ray
    python -m sim.sensitivity --sobol --samples 64           # Sobol indices (many more runs)

The parameters and their ranges are in `configs/sensitivity_morris.yaml` (or `--config`).
The command draws a sample with SALib (Morris elementary effects by default; Saltelli's
scheme for Sobol indices with `--sobol`), writes it to `samples.csv`, and runs it as an
ordinary sweep of `python -m sim` over `sensitivity.index`, so any launcher works (joblib on
this machine by default; `--launcher ray` or `submitit_slurm` on a cluster) and an
interrupted analysis resumes where it stopped. Every run uses the same seed (common random
numbers). It then analyses each outcome and writes, into `--output` (by default
`results/sensitivity/<method>`):
- `sample.json`: what the sample is (method, parameters and bounds, size, seeds);
- `samples.csv`: the sample, one row per run;
- `importance.csv`: one row per parameter and outcome, ranked: for Morris, mu* (mean
  absolute elementary effect, in the outcome's units), its confidence interval and sigma
  (spread, a sign of interactions or non-linearity); for Sobol, first-order and total
  indices with confidence intervals;
- `importance.png` and `.svg`: the ranking, one panel per outcome.

A run takes its row's values into its own config, so its folder is keyed by them (like any
sweep's runs): a run is reused only for a row with the same values. An output folder that
holds another sample (other bounds, size or seeds) is refused in one line, never mixed.

Everything is checked before anything is written: the bounds file (each parameter a number
of the model, under model., scenario., population. or policy., in the config the runs will
have, which is the scenario's with the status quo policy), the launcher and the output
folder. The sweep ends with the analysis: Ctrl-C or SIGTERM stops it first, and if the
analysis is killed outright Linux's parent-death signal stops it. Either way one line says
what is kept (the sample and the runs already complete), from which the same command
resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from sim import CONFIG_DIR, errors
from sim.errors import UserError, refuse_bad_arguments, run_command
from sim.files import write_atomically, write_json

if TYPE_CHECKING:  # numpy and pandas load inside the functions, so that Ctrl-C during
    import numpy as np  # start-up reaches run_command and gives its one line
    import pandas as pd

DEFAULT_CONFIG = CONFIG_DIR / "sensitivity_morris.yaml"
SETUP_KEYS = {"scenario", "horizon_years", "seed", "outcomes", "parameters"}
# Only the model's parameters can be varied: the seed, horizon and scenario are the
# analysis's own settings (in the bounds file), and output.* and sensitivity.* are not the
# model's.
VARIED_GROUPS = ("model.", "scenario.", "population.", "policy.")
# Stopping the sweep when the analysis is interrupted: Ctrl-C at a terminal reaches the
# sweep's process too, which then ends by itself; if it has not after this long, or at
# once on SIGTERM, it is sent SIGTERM, and SIGKILL if it still runs after as long again.
ENDS_BY_ITSELF_SECONDS = 10.0
STOP_SECONDS = 30.0
# The sweep's one line when it is interrupted; the analysis says its own instead, which
# also names the sample it keeps.
SWEEP_INTERRUPTED = ("sim: interrupted;", "sim: error: terminated by SIGTERM;")


class SensitivityError(UserError):
    """A problem with the analysis set-up; the message is one line for users."""


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: Any, first: int, second: int) -> None:
        super().__init__(f"'{key}' appears twice (lines {first} and {second})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = lines.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the safe loader refuses it
            if first != key_node.start_mark.line + 1:
                raise _DuplicateKey(key, first, key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)


def load_problem(path: Path) -> tuple[dict, dict]:
    """The SALib problem (names and bounds) and the rest of the set-up, checked."""
    from sim.config import all_declarations

    try:
        setup = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise SensitivityError(f"{path} does not exist: give a bounds file like "
                               f"configs/sensitivity_morris.yaml") from None
    except _DuplicateKey as error:
        raise SensitivityError(f"{path}: {error}; YAML would keep only the last: give each "
                               f"once") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = error.strerror if isinstance(error, OSError) else type(error).__name__
        raise SensitivityError(f"{path} is not a readable YAML bounds file ({reason}): see "
                               f"configs/sensitivity_morris.yaml") from None
    if not isinstance(setup, dict) or not set(setup) >= SETUP_KEYS:
        raise SensitivityError(f"{path} must be a mapping with {', '.join(sorted(SETUP_KEYS))}, "
                               f"as configs/sensitivity_morris.yaml")
    unknown = set(setup) - SETUP_KEYS
    if unknown:
        raise SensitivityError(f"{path}: unknown entry '{sorted(unknown)[0]}' (allowed: "
                               f"{', '.join(sorted(SETUP_KEYS))})")
    _check_setup(setup, path)
    declared = {d.key: d for d in all_declarations()}
    parameters = setup["parameters"]
    if not isinstance(parameters, dict) or len(parameters) < 2:
        raise SensitivityError(f"{path}: parameters must map at least two parameter names to "
                               f"bounds [low, high]")
    for name, bounds in parameters.items():
        declaration = declared.get(str(name))
        if declaration is None:
            raise SensitivityError(f"unknown parameter '{name}' in {path}")
        if not str(name).startswith(VARIED_GROUPS):
            raise SensitivityError(f"'{name}' in {path} cannot be varied: only the model's "
                                   f"parameters can (keys under {', '.join(VARIED_GROUPS)}); "
                                   f"the seed and horizon are the bounds file's own entries")
        if declaration.rule.kind not in ("number", "integer"):
            raise SensitivityError(f"{name} in {path} is {declaration.rule.describe()}: only "
                                   f"single numbers can be varied")
        if not (isinstance(bounds, list) and len(bounds) == 2
                and all(_finite_number(b) for b in bounds) and bounds[0] < bounds[1]):
            raise SensitivityError(f"{name} in {path} needs bounds [low, high] with low < high, "
                                   f"both numbers")
        rule = declaration.rule
        if not (rule.low <= bounds[0] and bounds[1] <= rule.high):
            raise SensitivityError(f"bounds of {name} in {path} must lie within "
                                   f"{rule.describe()}")
    _check_in_the_runs(list(parameters), setup, path)
    problem = {"num_vars": len(parameters), "names": [str(n) for n in parameters],
               "bounds": [[float(b) for b in bounds] for bounds in parameters.values()]}
    return problem, setup


def _check_in_the_runs(names: list[str], setup: dict, path: Path) -> None:
    """Every parameter is one of the config the runs will have (the status quo policy's)."""
    from sim.config import configure, to_dict

    config = to_dict(configure([f"scenario={setup['scenario']}", f"seed={setup['seed']}",
                                f"horizon_years={setup['horizon_years']}"]))
    for name in names:
        try:
            _get(config, name)
        except (KeyError, TypeError):
            raise SensitivityError(
                f"'{name}' in {path} is not a parameter of the analysis's runs "
                f"(scenario={setup['scenario']}, population={config['population']['name']}, "
                f"policy={config['policy']['name']}): list theirs with `python -m sim "
                f"scenario={setup['scenario']} --cfg job`") from None


def _finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_setup(setup: dict, path: Path) -> None:
    from sim.model import SUMMARY_SCALARS

    scenarios = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))
    if setup["scenario"] not in scenarios:
        raise SensitivityError(f"{path}: scenario '{setup['scenario']}' is not one of "
                               f"{', '.join(scenarios)}")
    for key, low, high in (("seed", 0, 2**32 - 1), ("horizon_years", 1, 100)):
        value = setup[key]
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            raise SensitivityError(f"{path}: {key} must be a whole number from {low} to {high}")
    outcomes = setup["outcomes"]
    if not (isinstance(outcomes, list) and outcomes and all(isinstance(o, str) for o in outcomes)):
        raise SensitivityError(f"{path}: outcomes must be a list of names from summary.json")
    for outcome in outcomes:
        if outcome not in SUMMARY_SCALARS:
            raise SensitivityError(f"{path}: outcome '{outcome}' is not a number of "
                                   f"summary.json; choose from {', '.join(SUMMARY_SCALARS)}")


def check_output(output: Path) -> None:
    """The output path is a folder, or can become one (nothing on its way is a file)."""
    for folder in (output, *output.parents):
        if folder.exists():
            if not folder.is_dir():
                raise SensitivityError(f"--output {output}: {folder} is a file, not a folder: "
                                       f"name a folder for the sample, runs and results")
            return


def check_launcher(name: str) -> None:
    """The launcher is an option of Hydra's hydra/launcher group, as `python -m sim` has it."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim.config import register

    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        options = sorted(GlobalHydra.instance().config_loader().get_group_options(
            "hydra/launcher"))
    if name not in options:
        raise SensitivityError(f"unknown launcher '{name}' (--launcher): choose one of "
                               f"{', '.join(options)}")


def draw_sample(problem: dict, sobol: bool, size: int, seed: int) -> np.ndarray:
    if sobol:
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(problem, size, calc_second_order=False, seed=seed)
    from SALib.sample import morris as morris_sample

    return morris_sample.sample(problem, size, num_levels=4, seed=seed)


def claim_output(output: Path, description: dict) -> None:
    """Keep the output folder for this sample: refuse one that holds another's runs."""
    record = output / "sample.json"
    if record.exists():
        try:
            existing = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None
        if existing != description:
            raise SensitivityError(f"{output} holds the runs of another sample (other bounds, "
                                   f"size or seeds): give a new --output, or remove that folder "
                                   f"to start again")
        return
    if output.exists() and any(output.iterdir()):
        raise SensitivityError(f"{output} already holds files that are not a sensitivity "
                               f"analysis's: give a new --output")
    output.mkdir(parents=True, exist_ok=True)
    write_json(record, description)


def run_sample(samples: Path, n_runs: int, setup: dict, launcher: str, output: Path) -> int:
    """Run every row of the sample as one sweep of `python -m sim`; returns its exit status.

    The sweep runs in a child process, which ends with this one: if the analysis is
    interrupted (Ctrl-C) or terminated (SIGTERM) it stops the sweep before leaving, and
    Linux's parent-death signal sends the sweep SIGTERM if this process is killed outright.
    The sweep's standard error is passed on, but for its line on being interrupted: the
    analysis says its own, which names what it keeps (errors.interruption_note).
    """
    command = [sys.executable, "-m", "sim", "-m",
               f"scenario={setup['scenario']}", f"seed={setup['seed']}",
               f"horizon_years={setup['horizon_years']}",
               f"sensitivity.samples={samples.resolve()}",
               f"sensitivity.index=range(0,{n_runs})",
               "output.plots=false", "output.progress=false",
               f"hydra.sweep.dir={(output / 'runs').resolve()}", f"hydra/launcher={launcher}"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace",
                               preexec_fn=_parent_death_signal())
    assert process.stderr is not None
    relay = threading.Thread(target=_relay, args=(process.stderr,), daemon=True)
    relay.start()
    try:
        status = process.wait()
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        _stop(process, ctrl_c=isinstance(stopped, KeyboardInterrupt))
        relay.join(timeout=5)
        raise
    relay.join(timeout=5)  # the sweep's last lines, before the analysis says more
    if status == 130:  # the sweep alone was interrupted (its line was held back)
        raise KeyboardInterrupt
    if status == 143:
        raise errors.Terminated(signal.SIGTERM)
    return status


def _relay(stream: IO[str]) -> None:
    """Pass the sweep's standard error on, line by line, but for its interruption line."""
    try:
        for line in stream:
            if not line.startswith(SWEEP_INTERRUPTED):
                sys.stderr.write(line)
                sys.stderr.flush()
    except (OSError, ValueError):
        pass  # our standard error is gone: nobody is reading


def _stop(process: subprocess.Popen[str], ctrl_c: bool) -> None:
    """End the sweep's process: wait for it if Ctrl-C reached it too, else SIGTERM, SIGKILL.

    A second Ctrl-C or SIGTERM while waiting moves on to the next, harder step.
    """
    steps: list[signal.Signals | None] = [None] if ctrl_c else []
    steps += [signal.SIGTERM, signal.SIGKILL]
    for step in steps:
        try:
            if step is not None:
                process.send_signal(step)
            process.wait(ENDS_BY_ITSELF_SECONDS if step is None else STOP_SECONDS)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt, errors.Terminated):
            continue


def _parent_death_signal() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child is sent SIGTERM when this process ends (Linux).

    As sim.run's `_stop_with_the_sweep` does for a sweep's workers; elsewhere, None.
    The C function is found here, before the fork: the child only calls it.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, set_parent_death_signal, sigterm = os.getpid(), 1, int(signal.SIGTERM)

    def die_with_the_parent() -> None:
        prctl(set_parent_death_signal, sigterm)
        if os.getppid() != parent:  # the parent ended before the signal was set
            os.kill(os.getpid(), sigterm)

    return die_with_the_parent


def collect(sweep: Path, sample: pd.DataFrame, outcomes: list[str]) -> np.ndarray:
    """Outcomes of each sample row, in sample order, from the runs made with its values."""
    import numpy as np

    values = np.full((len(sample), len(outcomes)), np.nan)
    found = np.zeros(len(sample), dtype=bool)
    for summary_path in sweep.glob("*/summary.json"):
        try:
            config = yaml.safe_load((summary_path.parent / "config.yaml").read_text())
            summary = json.loads(summary_path.read_text())
            index = config["sensitivity"]["index"]
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            continue  # not a run of a sample, or a damaged one: it matches no row
        if not (isinstance(index, int) and 0 <= index < len(sample)
                and isinstance(summary, dict)):
            continue
        try:
            same = all(_same(_get(config, name), value)
                       for name, value in sample.iloc[index].items())
        except (KeyError, TypeError):
            same = False
        if not same:
            continue  # a run of another sample that had this row number
        found[index] = True
        values[index] = [summary[o] if _finite_number(summary.get(o)) else np.nan
                         for o in outcomes]
    missing = np.flatnonzero(~found)
    if len(missing):
        shown = ", ".join(str(i) for i in missing[:10])
        raise SensitivityError(f"{len(missing)} sample rows have no complete run (rows "
                               f"{shown}{' ...' if len(missing) > 10 else ''}); run the same "
                               f"command again to resume")
    undefined = {outcome: int(np.isnan(values[:, column]).sum())
                 for column, outcome in enumerate(outcomes)}
    undefined = {outcome: count for outcome, count in undefined.items() if count}
    if undefined:
        said = ", ".join(f"{outcome} in {count} of {len(sample)} runs"
                         for outcome, count in undefined.items())
        raise SensitivityError(f"an outcome is undefined (null in summary.json): {said}; every "
                               f"run is complete, so running again will not help: choose "
                               f"another outcome, or a larger place (scenario, or its scale)")
    return values


def _get(config: dict, dotted: str) -> Any:
    for part in str(dotted).split("."):
        config = config[part]
    return config


def _same(stored: Any, sampled: float) -> bool:
    """A run's value is its row's (integer parameters are rounded, as the run rounds them)."""
    if isinstance(stored, int) and not isinstance(stored, bool):
        return stored == round(sampled)
    return isinstance(stored, float) and stored == float(sampled)


def analyse(problem: dict, sample: np.ndarray, values: np.ndarray, outcomes: list[str],
            sobol: bool, seed: int) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for column, outcome in enumerate(outcomes):
        y = values[:, column]
        if sobol:
            from SALib.analyze import sobol as sobol_analyse

            result = sobol_analyse.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["ST"][i], "total_order": result["ST"][i],
                             "total_order_conf": result["ST_conf"][i],
                             "first_order": result["S1"][i],
                             "first_order_conf": result["S1_conf"][i]})
        else:
            from SALib.analyze import morris as morris_analyse

            result = morris_analyse.analyze(problem, sample, y, num_levels=4, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["mu_star"][i], "mu_star": result["mu_star"][i],
                             "mu_star_conf": result["mu_star_conf"][i],
                             "mu": result["mu"][i], "sigma": result["sigma"][i]})
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("outcome")["importance"].rank(ascending=False, method="min")
    return table.sort_values(["outcome", "rank"]).reset_index(drop=True)


def plot(table: pd.DataFrame, sobol: bool, path: Path) -> None:
    from matplotlib.figure import Figure

    outcomes = list(dict.fromkeys(table["outcome"]))
    figure = Figure(figsize=(5.5 * len(outcomes), 5), layout="constrained")
    axes = figure.subplots(1, len(outcomes), squeeze=False)
    for axis, outcome in zip(axes[0], outcomes, strict=True):
        rows = table[table["outcome"] == outcome].sort_values("importance")
        error = rows["total_order_conf"] if sobol else rows["mu_star_conf"]
        axis.barh(rows["parameter"], rows["importance"], xerr=error, color="#4c72b0",
                  alpha=0.85, capsize=3)
        axis.set(title=outcome.replace("_", " "),
                 xlabel="total-order Sobol index" if sobol
                 else "mu* (mean absolute elementary effect, outcome units)")
        axis.tick_params(axis="y", labelsize=8)
    figure.suptitle(("Sobol" if sobol else "Morris") + " sensitivity: parameters ranked by "
                    "importance (with 95% intervals)", fontsize=13)
    write_atomically(path.with_suffix(".png"), lambda file: figure.savefig(
        file, format="png", dpi=110, metadata={"Software": None}))
    write_atomically(path.with_suffix(".svg"), lambda file: figure.savefig(
        file, format="svg", metadata={"Date": None, "Creator": None}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.sensitivity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG,
                        help="bounds file (default configs/sensitivity_morris.yaml)")
    parser.add_argument("--sobol", action="store_true", help="Sobol indices instead of Morris")
    parser.add_argument("--trajectories", type=int, default=10,
                        help="Morris trajectories (runs: trajectories x (parameters + 1))")
    parser.add_argument("--samples", type=int, default=64,
                        help="Sobol base sample, a power of 2 (runs: samples x (parameters + 2))")
    parser.add_argument("--launcher", default="local",
                        help="Hydra launcher: local (joblib), basic, ray, submitit_local, "
                             "submitit_slurm")
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
    claim_output(output, {"method": method, "size": size, "sample_seed": args.sample_seed,
                          "scenario": setup["scenario"], "seed": setup["seed"],
                          "horizon_years": setup["horizon_years"],
                          "parameters": dict(zip(problem["names"], problem["bounds"],
                                                 strict=True))})
    errors.interruption_note = (f"the sample and any runs already complete are kept in "
                                f"{output}; run the same command again to resume")
    import pandas as pd

    frame = pd.DataFrame(sample, columns=problem["names"])
    samples = output / "samples.csv"
    write_atomically(samples, lambda path: frame.to_csv(path, index=False))
    print(f"sim.sensitivity: {method}, {problem['num_vars']} parameters, {len(sample)} runs "
          f"in {output}", file=sys.stderr)
    status = run_sample(samples, len(sample), setup, args.launcher, output)
    if status != 0:
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


if __name__ == "__main__":
    errors.install_signal_handlers()  # SIGTERM raises errors.Terminated, as Ctrl-C does
    run_command(main)
