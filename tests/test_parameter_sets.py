"""`+uncertainty=plausible`: which parameter sets a sweep runs, applying one to a run, and the
sweep over sets x seeds x policies through sim's own launcher (sim.parameter_sets)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.compare.command import main as compare
from sim.compare.reading import MEASURES
from sim.config import configure, to_dict
from sim.errors import ConfigError
from sim.folders import run_key
from sim.parameter_sets import read_study, share_kept
from tests.conftest import REPOSITORY, run_cli, snapshot

STUDY = REPOSITORY / "configs" / "calibration" / "england.yaml"
PARAMETERS = read_study(STUDY)
TINY = ["scenario=opportunity_area", "scenario.scale=0.2", "horizon_years=1"]


def value_at(parameter, share: float) -> float:
    """The value at a share of the parameter's prior range, on its scale."""
    if parameter.scale == "log":
        return math.exp(math.log(parameter.low)
                        + share * (math.log(parameter.high) - math.log(parameter.low)))
    return parameter.low + share * (parameter.high - parameter.low)


def write_table(path: Path, rows: list[list[float]], trials: list[int] | None = None) -> Path:
    """A plausible table in the layout of sim.calibrate fit: rows given as shares of each
    parameter's prior range (a target column and the score after them, as the fit writes)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trial", *(p.column for p in PARAMETERS), "good", "score"])
        for number, shares in enumerate(rows):
            trial = trials[number] if trials else 10 * number
            writer.writerow([trial, *(repr(value_at(p, s)) for p, s in zip(PARAMETERS, shares,
                                                                            strict=True)),
                             0.66, 0.0])
    return path


def spread_on_first(*shares: float) -> list[list[float]]:
    """Rows at the middle of every prior but the first parameter's (support_effect, searched
    on a log scale), which takes the given shares."""
    return [[share] + [0.5] * (len(PARAMETERS) - 1) for share in shares]


@pytest.fixture
def table(tmp_path) -> Path:
    # Farthest-point order from row 0 (share 0.5): rows 2 and 3 tie at 0.5 away (the earlier,
    # 2, first), then 3, then row 1 (0.1 from row 0) before row 4 (0.05 from row 0).
    return write_table(tmp_path / "plausible.csv", spread_on_first(0.5, 0.6, 1.0, 0.0, 0.55))


def uncertain(table: Path, *overrides: str):
    return configure([*TINY, "+uncertainty=plausible", f"uncertainty.plausible_sets={table}",
                      *overrides])


def test_sets_are_taken_in_farthest_point_order_from_the_first_row(table):
    support = [uncertain(table, "uncertainty.sets=5", f"uncertainty.parameter_set={k}")
               .model.improvement.support_effect for k in range(5)]
    first = PARAMETERS[0]
    assert first.key == "model.improvement.support_effect"
    expected = [value_at(first, share) for share in (0.5, 1.0, 0.0, 0.6, 0.55)]
    assert support == pytest.approx(expected, rel=1e-12)


def test_a_larger_k_keeps_the_sets_of_a_smaller_one(table):
    for index in range(3):
        smaller = to_dict(uncertain(table, "uncertainty.sets=3", f"uncertainty.parameter_set={index}"))
        larger = to_dict(uncertain(table, "uncertainty.sets=5", f"uncertainty.parameter_set={index}"))
        assert smaller["model"] == larger["model"]
        assert run_key(smaller) == run_key(larger)  # a sweep with more sets skips these runs


def test_every_free_parameter_takes_its_sets_value_and_the_others_keep_theirs(tmp_path):
    shares = [[0.1 * (number + 1) for number in range(len(PARAMETERS))]]
    run = uncertain(write_table(tmp_path / "one.csv", shares), "uncertainty.sets=1")
    config = to_dict(run)
    for parameter, share in zip(PARAMETERS, shares[0], strict=True):
        block, leaf = parameter.column.split(".")
        assert config["model"][block][leaf] == pytest.approx(value_at(parameter, share))
    plain = to_dict(configure(TINY))
    assert config["model"]["trusts"] == plain["model"]["trusts"]
    assert config["uncertainty"]["parameter_set"] == 0


def test_a_run_without_the_option_has_no_uncertainty_in_its_config():
    config = to_dict(configure(TINY))
    assert "uncertainty" not in config
    assert "uncertainty" not in yaml.safe_dump(config)


@pytest.mark.parametrize(("overrides", "expected"), [
    (["uncertainty.sets=6"], "uncertainty.sets=6 is more than the 5 plausible parameter sets"),
    (["uncertainty.sets=3", "uncertainty.parameter_set=3"],
     "uncertainty.parameter_set=3 is not one of the 3 sets run (0 to 2)"),
    (["uncertainty.sets=5", "model.improvement.support_effect=0.3"],
     "model.improvement.support_effect=0.3 is set, but parameter set 0"),
    (["uncertainty.sets=5", "sensitivity.samples=x.csv", "sensitivity.index=0"], "not both"),
    (["uncertainty.sets=5", "uncertainty.study=absent.yaml"],
     "uncertainty.study: there is no file 'absent.yaml'"),
])
def test_what_cannot_be_run_is_refused(table, overrides, expected):
    with pytest.raises(ConfigError) as refused:
        uncertain(table, *overrides)
    assert expected in str(refused.value)


@pytest.mark.parametrize(("header_change", "expected"), [
    (("improvement.support_effect", "improvement.support_effectz"),
     "it has no column improvement.support_effect"),
    (("trial", "number"), "it has no 'trial' column"),
    (("good", "improvement.fit_weight"), "is a parameter the study does not declare"),
])
def test_a_table_that_is_not_the_studys_is_refused(table, header_change, expected):
    text = table.read_text()
    header, rest = text.split("\n", 1)
    table.write_text(header.replace(*header_change) + "\n" + rest)
    with pytest.raises(ConfigError, match=expected):
        uncertain(table)


def test_a_value_outside_the_prior_is_refused(tmp_path):
    table = write_table(tmp_path / "wide.csv", spread_on_first(0.5, 1.5))
    with pytest.raises(ConfigError, match="outside the study's prior range"):
        uncertain(table, "uncertainty.sets=2")


def test_the_sweep_pairs_every_set_and_seed_with_every_policy(table, tmp_path):
    """Through sim's own launcher (two workers): 2 sets x 2 seeds x 2 policies, each run's
    config holding its set's values, its folder and parameter_set.json naming the set; a
    saved config run again gives the same files; a larger K runs only the new sets."""
    sweep = tmp_path / "sweep"
    arguments = ["-m", *TINY, "+uncertainty=plausible", f"uncertainty.plausible_sets={table}",
                 "seed=0,1", "policy=status_quo,universal_partnership", "output.plots=false",
                 "output.progress=false", f"hydra.sweep.dir={sweep}", "hydra.launcher.n_jobs=2"]
    result = run_cli(*arguments, "uncertainty.sets=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    runs = sorted(p for p in sweep.iterdir() if (p / "summary.json").exists())
    seen = set()
    for run in runs:
        config = yaml.safe_load((run / "config.yaml").read_text())
        recorded = json.loads((run / "parameter_set.json").read_text())
        index = config["uncertainty"]["parameter_set"]
        assert f"_set{index}_" in run.name and recorded["parameter_set"] == index
        assert recorded["plausible_sets"] == str(table) and recorded["row"] == [0, 2][index]
        support = config["model"]["improvement"]["support_effect"]
        assert support == recorded["parameters"]["model.improvement.support_effect"]["value"]
        # the share of its prior each parameter keeps is the fit's narrowing.csv measure
        kept = pd.read_csv(table)["improvement.support_effect"]
        assert recorded["parameters"]["model.improvement.support_effect"]["share_kept"] == \
            pytest.approx(share_kept(list(kept), 0.1, 2.0, log=True))
        seen.add((config["policy"]["name"], config["seed"], index))
    assert seen == {(policy, seed, index) for policy in ("status_quo", "universal_partnership")
                    for seed in (0, 1) for index in (0, 1)}
    with open(sweep / "plan.csv", newline="") as handle:
        assert "uncertainty.parameter_set" in next(csv.reader(handle))

    saved = yaml.safe_load((runs[-1] / "config.yaml").read_text())
    again = tmp_path / "again"
    overrides = [f"{group}={saved[group]['name']}" for group in ("scenario", "population",
                                                                 "policy")]
    overrides += [f"{key}={as_override(value)}" for key, value in leaves(saved)
                  if not key.startswith("uncertainty.")]
    uncertainty = [f"uncertainty.{key}={value}" for key, value in saved["uncertainty"].items()]
    result = run_cli(*overrides, "+uncertainty=plausible", *uncertainty,
                     f"hydra.run.dir={again}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("config.yaml", "summary.json", "parameter_set.json"):
        assert (again / name).read_bytes() == (runs[-1] / name).read_bytes(), name
    # The same series; the sweep's job also names its swept value on every row, which a
    # single run has none of (sim.places).
    single, job = (pd.read_parquet(folder / "timeseries.parquet") for folder in (again, runs[-1]))
    assert list(job.columns.difference(single.columns)) == ["uncertainty.parameter_set"]
    assert (job["uncertainty.parameter_set"] == index).all()
    pd.testing.assert_frame_equal(job[single.columns], single, check_exact=True)

    result = run_cli(*arguments, "uncertainty.sets=3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "(8 already complete)" in result.stderr
    assert len([p for p in sweep.iterdir() if (p / "summary.json").exists()]) == 12

    # The comparison of the sweep: paired by seed and set, with verdicts for every policy
    # and measure over the three sets, and the value of information.
    assert compare([str(sweep)]) == 0
    robustness = pd.read_csv(sweep / "robustness.csv", keep_default_na=False)
    assert len(robustness) == len(MEASURES) and set(robustness["parameter_sets"]) == {3}
    assert set(robustness["verdict"]) <= {"robust", "most", "depends", "no difference"}
    zero = robustness[[f"set_{index}" for index in range(3)]].astype(float).eq(0).all(axis=1)
    assert (robustness.loc[zero, "verdict"] == "no difference").all()  # never "robust"
    assert (robustness["depends_most_on"] == "").all()  # three sets name no parameter
    differences = pd.read_csv(sweep / "differences.csv")
    assert set(differences.dropna(subset=["band90_low"])["pairs"]) == {6}
    assert (sweep / "value_of_information.csv").exists() and (sweep / "robustness.png").exists()

    # The table replaced: the saved config names the change rather than run other values.
    write_table(table, spread_on_first(0.5, 0.6, 0.9, 0.0, 0.55))
    before = snapshot(tmp_path)
    result = run_cli(*overrides, "+uncertainty=plausible", *uncertainty,
                     f"hydra.run.dir={tmp_path / 'third'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("sim: error: model.improvement.support_effect=")
    assert "the table has changed since that run" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and snapshot(tmp_path) == before


def as_override(value) -> str:
    """A value as the command line writes it (the values of a saved config.yaml)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ",".join(as_override(item) for item in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def leaves(tree: dict, prefix: str = ""):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_a_single_run_takes_set_0_and_a_k_beyond_the_table_is_one_line(table, tmp_path):
    result = run_cli(*TINY, "+uncertainty=plausible", f"uncertainty.plausible_sets={table}",
                     "uncertainty.sets=5", "output.plots=false",
                     f"hydra.run.dir={tmp_path / 'one'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "one" / "parameter_set.json").read_text())["row"] == 0
    assert f"parameter set 0 of {table} (trial 0)" in result.stdout
    before = snapshot(tmp_path)
    result = run_cli("-m", *TINY, "+uncertainty=plausible", f"uncertainty.plausible_sets={table}",
                     "uncertainty.sets=9", f"hydra.sweep.dir={tmp_path / 'many'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"sim: error: uncertainty.sets=9 is more than the 5 plausible "
                             f"parameter sets of {table}: choose at most 5\n")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("arguments", "expected"), [
    (["uncertainty=plausible"], "the uncertainty group is added with a '+': write "
                                "+uncertainty=plausible"),
    (["uncertainty.sets=3"], "'uncertainty.sets' is a setting of the uncertainty group, which is "
                             "not in the run: add it with +uncertainty=plausible"),
    (["+uncertainty.sets=3"], "'uncertainty' has settings only with its option"),
    (["~uncertainty"], "Could not delete 'uncertainty'. No match in the defaults list"),
])
def test_settings_without_the_option_say_how_to_add_it(arguments, expected, tmp_path):
    result = run_cli(*arguments, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"sim: error: {expected}")
    assert list(tmp_path.iterdir()) == []


def test_the_committed_plausible_set_composes_with_the_default_study():
    run = configure([*TINY, "+uncertainty=plausible"])
    assert run.uncertainty.sets == 10
    assert run.uncertainty.plausible_sets == "configs/calibration/england_plausible.csv"


def test_an_experiment_sweep_with_parameter_sets_gets_a_folder_of_its_own():
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from sim import CONFIG_DIR
    from sim.config import register

    register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        config = compose(config_name="config", return_hydra_config=True, overrides=[
            "experiment=policy_comparison", "+uncertainty=plausible", "uncertainty.sets=4"])
    GlobalHydra.instance().clear()
    sweeper = config.hydra.sweeper.params
    assert sweeper["uncertainty.parameter_set"] == "range(4)"
    assert sweeper["policy"].count(",") == 4  # the experiment's own sweep is kept
    config.hydra.runtime.choices.experiment = "policy_comparison"  # as Hydra's run sets it
    assert config.hydra.sweep.dir == "results/experiments/policy_comparison_plausible"
