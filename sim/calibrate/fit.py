"""`python -m sim.calibrate fit`: search the declared ranges for parameter sets that fit England.

    python -m sim.calibrate fit --study results/calibration/england --trials 40
    python -m sim.calibrate fit --study results/calibration/england --trials 40   # 40 more

Each trial draws one value of every free parameter of the declared study
(`configs/calibration/england.yaml`, `sim.calibrate.space`), runs
the national scenario under the status quo for the same `--seeds` seeds as every other
trial (common random numbers, so trials differ by their parameters, not by their luck),
and scores it against the static and transition targets (`sim.calibrate.scoring`). A new
study's first trial is the model's defaults (the hand-tuned set), so the best set is never
worse than today's. A line per finished trial gives its number, score and the best so far.

How values are drawn (`--sampler`, fixed when a study starts):
- `sobol` (the default): a scrambled Sobol sequence over the declared ranges (on each
  parameter's scale), shared by every worker. The trials fill the ranges evenly whatever
  the scores, as history matching's first wave does, so the plausible set is an even
  sample of every parameter set the targets do not rule out, and how far it narrows each
  range (`narrowing.csv`) measures the data, not where a search chose to look. Powers of two
  keep the sequence balanced: the study behind the defaults ran 1,025 trials, the defaults
  and then 1,024 points.
- `tpe`: Optuna's tree-structured Parzen estimator, which concentrates trials where the
  score is low: the quicker way to a best set, but its plausible set is not an even sample.

The study lives in its folder (`--study`) as an Optuna journal (`study.journal`), written as
each trial finishes: a second `fit` with the same folder adds its trials to the same study,
whether the first finished or was killed (trials a kill left running are failed and their
sets run again: `sim.calibrate.abandoned`). `--workers N` runs N processes sharing the
journal (by default one per core); processes on other machines share it through a shared
file system, for example a SLURM array whose every task runs
`fit --study SHARED_FOLDER --trials 64 --workers 1`. A study's scale, years, seeds, sampler
and ranges are fixed when it starts: a `fit` that asks for others is refused.

After the trials, the folder holds (each written whole or not at all):
- `model/calibrated.yaml`: the best trial's values as a model option, used with
  `python -m sim model=calibrated hydra.searchpath=[file://<study folder>]`;
- `best_overrides.txt`: the same values as command-line overrides, one a line;
- `plausible.csv`: every finished trial with every target in band (within seed noise), one
  column per parameter, then per target its seed mean, then the score;
- `narrowing.csv`: per parameter, its declared range, the range of the plausible set, and
  the share of the declared range (on the parameter's scale) that the plausible set keeps
  (`sim.calibrate.narrowing`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd

from sim import errors
from sim.calibrate.abandoned import mark_worker, requeue_abandoned
from sim.calibrate.narrowing import describe, narrowing_table
from sim.calibrate.scoring import distance_sum, score_targets, total
from sim.calibrate.sobol import OFFSET_ATTRIBUTE, SobolSampler
from sim.calibrate.space import DEFAULT_STUDY_FILE, FreeParameter, StudyDeclaration, load_study
from sim.calibrate.study_folder import JOURNAL, check_folder, repair_journal, storage_of
from sim.config import configure
from sim.errors import UserError, refuse_bad_arguments
from sim.files import write_atomically, write_text
from sim.model import SchoolSystemModel
from sim.scorecard.measures import MEASURES, RunTables
from sim.scorecard.targets import run_values, yearly_measures

PROGRAM = "python -m sim.calibrate fit"
STUDY_NAME = "england"
SAMPLERS = ("sobol", "tpe")
# Fewer plausible sets than this measure the sample, not the data: with a handful of sets
# the 5th-95th percentile span of each parameter is mostly chance.
FEW_PLAUSIBLE = 20


def run_seed(study: StudyDeclaration, overrides: list[str], seed: int, scale: float,
             years: int) -> dict[str, float | None]:
    """One national status-quo run with the trial's overrides: each target's value."""
    model = SchoolSystemModel(configure([
        "scenario=national", f"seed={seed}", f"scenario.scale={scale}", f"horizon_years={years}",
        "output.school_panel=false", "output.progress=false", *overrides]))
    model.run()
    result = model.results()
    moves = np.asarray(model.tallies.trust_moves_by_year, dtype=float)
    academies = np.maximum(np.asarray(model.tallies.academies_by_year, dtype=float), 1)
    values: dict[str, float | None] = dict(run_values(
        yearly_measures(result.timeseries, moves / academies, seed), scale))
    tables = RunTables(seed, scale, result.timeseries, result.schools, result.events)
    for target in study.transition_targets:
        values[target.name] = MEASURES[target.measure](tables)
    return values


def bands(study: StudyDeclaration) -> dict[str, tuple[float, float]]:
    found = {t.name: (t.low, t.high) for t in study.static_targets}
    for target in study.transition_targets:
        assert target.low is not None and target.high is not None
        found[target.name] = (target.low, target.high)
    return found


def suggest(trial: optuna.Trial, parameter: FreeParameter) -> float | int:
    log = parameter.scale == "log"
    if parameter.integer:
        return trial.suggest_int(parameter.key, int(parameter.low), int(parameter.high), log=log)
    return trial.suggest_float(parameter.key, parameter.low, parameter.high, log=log)


def overrides_of(values: dict[str, Any]) -> list[str]:
    return [f"{key}={value!r}" for key, value in values.items()]


def objective(trial: optuna.Trial, study: StudyDeclaration, seeds: list[int], scale: float,
              years: int) -> float:
    """A trial's score (the sum of its targets' distances); each target's mean, standard
    error and distance are kept with the trial."""
    mark_worker(trial)
    values = {parameter.key: suggest(trial, parameter) for parameter in study.parameters}
    runs = [run_seed(study, overrides_of(values), seed, scale, years) for seed in seeds]
    by_target = {name: [run.get(name) for run in runs] for name in bands(study)}
    scores = score_targets(by_target, bands(study))
    trial.set_user_attr("targets", {s.name: [None if math.isnan(s.mean) else s.mean,
                                             None if math.isnan(s.standard_error)
                                             else s.standard_error, s.distance]
                                    for s in scores})
    trial.set_user_attr("plausible", all(s.in_band for s in scores))
    trial.set_user_attr("distance", distance_sum(scores))
    return total(scores)


def settings_of(study: StudyDeclaration, seeds: int, scale: float, years: int,
                sampler: str = "sobol", sampler_seed: int = 0) -> dict[str, Any]:
    """What a study is fixed to when it starts (a Sobol study's sequence with its seed)."""
    drawn = {"sampler": sampler} | ({"sampler_seed": sampler_seed} if sampler == "sobol" else {})
    return {"seeds": seeds, "scale": scale, "years": years, **drawn,
            "parameters": {p.key: [p.low, p.high, p.scale] for p in study.parameters},
            "targets": study.target_names}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def distribution_of(parameter: FreeParameter) -> optuna.distributions.BaseDistribution:
    log = parameter.scale == "log"
    if parameter.integer:
        return optuna.distributions.IntDistribution(int(parameter.low), int(parameter.high),
                                                    log=log)
    return optuna.distributions.FloatDistribution(parameter.low, parameter.high, log=log)


def open_study(folder: Path, settings: dict[str, Any], sampler_seed: int,
               declared_parameters: tuple[FreeParameter, ...]) -> optuna.Study:
    """The folder's study, made with these settings if new (its first trial the model's
    defaults); refused if they differ."""
    if settings.get("sampler", "sobol") == "sobol":
        # Every worker walks the same scrambled sequence, numbered by the trials, so the seed
        # is the study's, not the worker's.
        sampler: optuna.samplers.BaseSampler = SobolSampler(
            {p.key: distribution_of(p) for p in declared_parameters}, sampler_seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=sampler_seed)
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage_of(folder),
                                direction="minimize", load_if_exists=True, sampler=sampler)
    saved = study.user_attrs.get("settings")
    if saved is None:
        study.set_user_attr("settings", settings)
        # The hand-tuned defaults are the first trial (where every one is inside its range),
        # so that a study, however short, never ends on a set that fits worse than today's;
        # the Sobol sequence starts at the trial after.
        defaults = {p.key: (int(p.default) if p.integer else p.default)
                    for p in declared_parameters if p.default is not None}
        if len(defaults) == len(declared_parameters):
            study.enqueue_trial(defaults)
        study.set_user_attr(OFFSET_ATTRIBUTE, int(len(defaults) == len(declared_parameters)))
    elif saved != settings:
        differing = [key for key in settings if saved.get(key) != settings[key]]
        raise UserError(f"the study in {folder} was started with other {', '.join(differing)} "
                        f"({', '.join(f'{key} {saved.get(key)}' for key in differing)}); "
                        f"use those, or another --study folder")
    return study


def report_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """A line per finished trial: its number, score, and the best so far."""
    if trial.state != optuna.trial.TrialState.COMPLETE:
        print(f"trial {trial.number}: {trial.state.name.lower()}", flush=True)
        return
    best = study.best_trial
    print(f"trial {trial.number}: score {trial.value:.4f}"
          f"{' (plausible)' if trial.user_attrs.get('plausible') else ''}; "
          f"best {best.value:.4f} (trial {best.number})", flush=True)


def work(folder: Path, study_file: Path, trials: int, seeds: int, scale: float, years: int,
         sampler: str, study_seed: int, sampler_seed: int) -> None:
    """Run `trials` trials of the folder's study in this process."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    declared = load_study(study_file)
    study = open_study(folder, settings_of(declared, seeds, scale, years, sampler, study_seed),
                       sampler_seed, declared.parameters)
    study.optimize(lambda trial: objective(trial, declared, list(range(seeds)), scale, years),
                   n_trials=trials, callbacks=[report_trial], catch=())


def run_in_workers(workers: int, shares: list[tuple[Any, ...]]) -> None:
    """Run `work` once per share, each in a worker process of its own
    (`sim.errors.worker_pool`: interrupted, or a worker failing, the others are ended)."""
    with errors.worker_pool(workers) as pool:
        for future in [pool.submit(work, *share) for share in shares]:
            future.result()


def write_outputs(folder: Path, study: optuna.Study, declared: StudyDeclaration) -> int:
    """Write the best parameter set and the plausible set; the number of plausible trials."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        return 0
    best = study.best_trial
    lines = ["# The best trial of the study in this folder (python -m sim.calibrate fit):",
             f"# trial {best.number}, score {best.value:.4f}. Use it with",
             "#   python -m sim model=calibrated hydra.searchpath=[file://<this study folder>]",
             "defaults:", "  - default", "  - _self_"]
    nested: dict[str, dict[str, Any]] = {}
    for parameter in declared.parameters:
        block, _, leaf = parameter.column.rpartition(".")
        nested.setdefault(block, {})[leaf] = best.params[parameter.key]
    for block, leaves in nested.items():
        lines.append(f"{block}:")
        lines.extend(f"  {leaf}: {value!r}" for leaf, value in leaves.items())
    (folder / "model").mkdir(exist_ok=True)
    write_text(folder / "model" / "calibrated.yaml", "\n".join(lines) + "\n")
    write_text(folder / "best_overrides.txt", "\n".join(
        overrides_of({p.key: best.params[p.key] for p in declared.parameters})) + "\n")
    rows = []
    for trial in complete:
        if not trial.user_attrs.get("plausible"):
            continue
        row: dict[str, Any] = {"trial": trial.number}
        row.update({p.column: trial.params[p.key] for p in declared.parameters})
        row.update({name: trial.user_attrs["targets"][name][0] for name in declared.target_names})
        row["score"] = trial.value
        rows.append(row)
    columns = ["trial", *(p.column for p in declared.parameters), *declared.target_names, "score"]
    table = pd.DataFrame(rows, columns=columns)
    write_atomically(folder / "plausible.csv", lambda path: table.to_csv(path, index=False))
    narrowed = narrowing_table(declared.parameters, table)
    write_atomically(folder / "narrowing.csv", lambda path: narrowed.to_csv(path, index=False))
    return len(rows)


def check_corners(study: StudyDeclaration) -> None:
    """Refuse, before any run, ranges whose ends break a rule spanning several parameters
    (two shares that must sum to at most 1, say): every value at its low, then at its high."""
    for end in ("low", "high"):
        values = {p.key: (int(getattr(p, end)) if p.integer else getattr(p, end))
                  for p in study.parameters}
        try:
            configure(["scenario=national", *overrides_of(values)])
        except UserError as error:
            raise UserError(f"with every free parameter at its {end}: {error}") from None


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", required=True, help="the study's folder (made if new)")
    parser.add_argument("--config", default=str(DEFAULT_STUDY_FILE),
                        help="the declared parameters and targets (default "
                             "configs/calibration/england.yaml)")
    parser.add_argument("--trials", type=int, default=20, help="trials to add (default 20)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per trial (default 3)")
    parser.add_argument("--years", type=int, default=10, help="years to simulate (default 10)")
    parser.add_argument("--scale", type=float, default=0.2,
                        help="size of England to simulate, 0.001 to 1 (default 0.2)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes sharing the study (default: one per core)")
    parser.add_argument("--sampler", choices=SAMPLERS, default="sobol",
                        help="how values are drawn: sobol, an even sample of the ranges (the "
                             "default), or tpe, a search that concentrates on low scores")
    parser.add_argument("--sampler-seed", type=int, default=0, help="the sampler's seed")
    refuse_bad_arguments(parser, PROGRAM)
    args = parser.parse_args(argv)
    if args.workers is None:
        args.workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
    if not (1 <= args.trials <= 100_000 and 1 <= args.seeds <= 1000 and 1 <= args.years <= 100
            and 0.001 <= args.scale <= 1 and 1 <= args.workers <= 256
            and 0 <= args.sampler_seed < 2**31):
        parser.error("--trials must be from 1 to 100,000, --seeds from 1 to 1000, --years from "
                     "1 to 100, --scale from 0.001 to 1, --workers from 1 to 256 and "
                     "--sampler-seed from 0 to 2^31-1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    declared = load_study(Path(args.config))
    check_corners(declared)
    folder = check_folder(args.study)
    folder.mkdir(parents=True, exist_ok=True)
    repaired = repair_journal(folder)
    if repaired:
        print(f"Study {folder}: {repaired}", flush=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = settings_of(declared, args.seeds, args.scale, args.years, args.sampler,
                           args.sampler_seed)
    study = open_study(folder, settings, args.sampler_seed, declared.parameters)
    abandoned = requeue_abandoned(study)
    if abandoned:
        print(f"trials {', '.join(map(str, abandoned))} were left running by a fit that was "
              f"stopped or killed: marked failed, their parameter sets queued again", flush=True)
    before = len(study.trials)
    print(f"Calibration study {folder}: {len(declared.parameters)} parameters, "
          f"{len(declared.target_names)} targets, {plural(args.seeds, 'seed')} of "
          f"{plural(args.years, 'year')} at scale {args.scale:g}; {plural(before, 'trial')} so "
          f"far, {args.trials} to add", flush=True)
    workers = min(args.workers, args.trials)
    shares = [args.trials // workers + (index < args.trials % workers) for index in range(workers)]
    # Each process samples from its own stream, moved on by the trials already made, so that
    # neither the workers nor a resumed study repeat the first one's random start.
    # A Sobol study's workers share its one sequence, and so its seed.
    sampler_seeds = [args.sampler_seed if args.sampler == "sobol"
                     else args.sampler_seed + before + index * 100_003 for index in range(workers)]
    common = (folder, Path(args.config), args.seeds, args.scale, args.years, args.sampler,
              args.sampler_seed)
    # From here on an interrupted fit keeps what it finished: the journal holds every trial
    # complete, and a fit with the same folder goes on from them.
    errors.interruption_note = (f"the trials finished are kept in {folder / JOURNAL}; the "
                                f"same command goes on from them")
    if workers == 1:
        work(*common[:2], args.trials, *common[2:], sampler_seeds[0])
    else:
        run_in_workers(workers, [(*common[:2], share, *common[2:], seed)
                                 for share, seed in zip(shares, sampler_seeds, strict=True)])
    study = open_study(folder, settings, args.sampler_seed, declared.parameters)
    plausible = write_outputs(folder, study, declared)
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if complete:
        best = study.best_trial
        print(f"{len(complete)} trials complete; best score {best.value:.4f} (trial "
              f"{best.number}); {plausible} plausible (every target in band). Written: "
              f"{folder / 'model' / 'calibrated.yaml'}, {folder / 'best_overrides.txt'}, "
              f"{folder / 'plausible.csv'}, {folder / 'narrowing.csv'}", flush=True)
        if plausible:
            print("What the targets leave of each declared range (the plausible set's):")
            if plausible < FEW_PLAUSIBLE:
                print(f"  (only {plural(plausible, 'plausible set')}: too few to say how much "
                      f"the targets narrow each range; add trials)")
            print("\n".join(describe(pd.read_csv(folder / "narrowing.csv"))), flush=True)
    else:
        print("no trial completed; nothing written", file=sys.stderr)
    return 0
