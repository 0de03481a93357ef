"""`python -m sim.compare` on runs of plausible parameter sets, written by hand so that every
verdict, band and value of information is known.

Five sets x three seeds x three policies. Against the status quo, universal partnership
gains 0.01 in every set (robust; seed noise +/-0.002), and cuts orphan terms by 5 in four
sets but adds 1 in set 3 (most); MAT contracting's gain is 0.1 x (support_effect - 0.5) +
0.001, negative in two sets (depends, on support_effect, Spearman +1), the same for every
seed (no seed noise).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.compare.command import main
from sim.compare.reading import MEASURES
from tests.conftest import snapshot

SETS = range(5)
SEEDS = range(3)
POLICIES = ("status_quo", "universal_partnership", "mat_contracting")
SUPPORT = [0.2, 0.4, 0.6, 0.8, 1.0]  # support_effect of each set
DRAIN = [0.05, 0.01, 0.03, 0.02, 0.04]  # giver_drain_rate: unrelated to the effects
PRIORS = {"model.improvement.support_effect": (0.1, 2.0, "log", 0.2, 1.0),
          "model.capacity.giver_drain_rate": (0.0, 0.12, "linear", 0.0, 0.06)}
# The share of its prior each parameter's plausible set keeps, as a run records it.
SHARE_KEPT = {"model.improvement.support_effect": math.log(1.0 / 0.2) / math.log(2.0 / 0.1),
              "model.capacity.giver_drain_rate": 0.5}
Z95 = 1.6448536269514722  # the standard normal's 95th percentile
T95_10 = 1.812461122811676  # t(0.95, 10): 15 pairs in 5 sets


def effect(policy: str, measure: str, index: int, seed: int) -> float:
    """The policy's difference from the status quo in a set and seed."""
    if policy == "status_quo":
        return 0.0
    if policy == "universal_partnership":
        if measure == "good_or_better_change":
            return 0.01 + 0.002 * (seed - 1)
        if measure == "orphan_terms":
            return (1.0 if index == 3 else -5.0) + 0.5 * (seed - 1)
        return 0.1 * (index + 1)
    if measure == "good_or_better_change":
        return 0.1 * (SUPPORT[index] - 0.5) + 0.001
    return -0.2 * (index + 1)


def write_run(folder, policy: str, index: int, seed: int, with_set: bool = True,
              sets: int = 5) -> None:
    folder.mkdir(parents=True)
    config = {"seed": seed, "horizon_years": 2,
              "scenario": {"name": "opportunity_area", "horizon_years": 2},
              "policy": {"name": policy},
              "model": {"improvement": {"support_effect": SUPPORT[index]},
                        "capacity": {"giver_drain_rate": DRAIN[index]}}}
    if with_set:
        config["uncertainty"] = {"plausible_sets": "plausible.csv", "study": "study.yaml",
                                 "sets": sets, "parameter_set": index}
        record = {"parameter_set": index, "plausible_sets_sha256": "0" * 64, "parameters": {
            key: {"value": config["model"][key.split(".")[1]][key.split(".")[2]],
                  "prior_low": low, "prior_high": high, "scale": scale,
                  "plausible_low": plausible_low, "plausible_high": plausible_high,
                  "share_kept": SHARE_KEPT[key]}
            for key, (low, high, scale, plausible_low, plausible_high) in PRIORS.items()}}
        (folder / "parameter_set.json").write_text(json.dumps(record))
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {"scenario": "opportunity_area", "policy": policy, "seed": seed,
               "horizon_years": 2, "good_or_better_final": 0.8,
               **{measure: 0.3 * seed + 0.01 * index + effect(policy, measure, index, seed)
                  for measure in MEASURES}}
    (folder / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"year": [2018] * 3 + [2019] * 3, "term_of_year": [0, 1, 2] * 2,
                  "share_good_or_better": 0.8, "n_orphans": 1, "teacher_leaving_rate": 0.1,
                  "spending_to_date_gbp": 1e6}).to_parquet(folder / "timeseries.parquet")


def write_runs(root, with_set: bool = True) -> None:
    number = 0
    for policy in POLICIES:
        for index in SETS:
            for seed in SEEDS:
                number += 1  # folder names in no useful order
                write_run(root / f"run{(number * 7) % 45:02d}", policy, index, seed, with_set)


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    write_runs(root / "runs")
    assert main([str(root / "runs"), "--output", str(root / "out")]) == 0
    return root / "out"


def row(table: pd.DataFrame, policy: str, measure: str) -> pd.Series:
    return table[(table["policy"] == policy) & (table["measure"] == measure)].iloc[0]


def per_set(policy: str, measure: str) -> np.ndarray:
    return np.array([np.mean([effect(policy, measure, index, seed) for seed in SEEDS])
                     for index in SETS])


def test_verdicts_are_the_known_ones(compared):
    robustness = pd.read_csv(compared / "robustness.csv", keep_default_na=False)
    robust = row(robustness, "universal_partnership", "good_or_better_change")
    assert (robust["verdict"], robust["direction"], robust["sets_with_that_sign"]) == (
        "robust", "higher", 5)
    assert robust["depends_most_on"] == ""
    most = row(robustness, "universal_partnership", "orphan_terms")
    assert (most["verdict"], most["direction"], most["sets_with_that_sign"]) == ("most", "lower", 4)
    depends = row(robustness, "mat_contracting", "good_or_better_change")
    assert (depends["verdict"], depends["direction"], depends["sets_with_that_sign"]) == (
        "depends", "higher", 3)
    assert depends["depends_most_on"] == "model.improvement.support_effect"
    assert float(depends["spearman"]) == pytest.approx(1.0)
    assert row(robustness, "mat_contracting", "orphan_terms")["verdict"] == "robust"


def test_each_sets_difference_is_its_mean_over_seeds_paired_by_set(compared):
    robustness = pd.read_csv(compared / "robustness.csv")
    for policy in POLICIES[1:]:
        for measure in MEASURES:
            found = row(robustness, policy, measure)
            assert [found[f"set_{index}"] for index in SETS] == pytest.approx(
                per_set(policy, measure), abs=1e-9)


def mixture_below(x: float, means: np.ndarray, error: float) -> float:
    return float(np.mean([0.5 * (1 + math.erf((x - m) / (error * math.sqrt(2))))
                          for m in means]))


def test_bands_include_the_spread_over_sets_and_seed_noise(compared):
    differences = pd.read_csv(compared / "differences.csv")
    # The same mean in every set, seed sd 0.002: the band is seed noise alone, and the
    # interval of the mean over the sets is the pooled t interval.
    same = row(differences, "universal_partnership", "good_or_better_change")
    assert same["parameter_sets"] == 5 and same["pairs"] == 15
    assert same["sd_across_seeds"] == pytest.approx(0.002, rel=1e-9)
    assert same["sd_across_sets"] == pytest.approx(0.0, abs=1e-12)
    assert same["band90_low"] == pytest.approx(0.01 - Z95 * 0.002 / math.sqrt(3), rel=1e-6)
    assert same["band90_high"] == pytest.approx(0.01 + Z95 * 0.002 / math.sqrt(3), rel=1e-6)
    assert same["ci90_low"] == pytest.approx(0.01 - T95_10 * 0.002 / math.sqrt(15), rel=1e-6)
    # Four sets at -5 and one at +1, seed sd 0.5: the band's ends are the mixture's 5th
    # and 95th percentiles.
    mixed = row(differences, "universal_partnership", "orphan_terms")
    means, error = per_set("universal_partnership", "orphan_terms"), 0.5 / math.sqrt(3)
    assert mixture_below(mixed["band90_low"], means, error) == pytest.approx(0.05, abs=1e-6)
    assert mixture_below(mixed["band90_high"], means, error) == pytest.approx(0.95, abs=1e-6)
    assert mixed["band90_high"] > 1  # the set that adds orphans is inside the band
    # No seed noise: the lowest and highest of the five sets' differences.
    spread = row(differences, "mat_contracting", "good_or_better_change")
    assert (spread["band90_low"], spread["band90_high"]) == pytest.approx((-0.029, 0.051))
    assert spread["sd_across_sets"] == pytest.approx(np.std(per_set(
        "mat_contracting", "good_or_better_change"), ddof=1))


def test_value_of_information_by_hand(compared):
    information = pd.read_csv(compared / "value_of_information.csv", keep_default_na=False)
    utility = {policy: per_set(policy, "good_or_better_change") for policy in POLICIES}
    best_mean = max(values.mean() for values in utility.values())
    perfect = np.max(list(utility.values()), axis=0).mean() - best_mean
    rows = information[information["measure"] == "good_or_better_change"]
    first = rows[rows["kind"] == "perfect"].iloc[0]
    assert float(first["value_of_information"]) == pytest.approx(perfect, rel=1e-9)
    assert first["best"] == "mat_contracting" and int(first["sets_where_another_is_best"]) == 2
    for parameter, values in (("model.improvement.support_effect", SUPPORT),
                              ("model.capacity.giver_drain_rate", DRAIN)):
        order = sorted(SETS, key=lambda index, v=values: v[index])
        bins = [order[:3], order[3:]]  # floor(sqrt(5)) = 2 bins, of 3 and 2 sets
        partial = sum(len(members) / 5 * max(utility[p][members].mean() for p in POLICIES)
                      for members in bins) - best_mean
        found = rows[rows["parameter"] == parameter].iloc[0]
        assert float(found["value_of_information"]) == pytest.approx(max(partial, 0), abs=1e-12)
        assert int(found["bins"]) == 2
    support = rows[rows["parameter"] == "model.improvement.support_effect"].iloc[0]
    assert float(support["value_of_information"]) > 0.01
    assert float(support["plausible_share_of_prior"]) == pytest.approx(
        math.log(1.0 / 0.2) / math.log(2.0 / 0.1))
    drain = rows[rows["parameter"] == "model.capacity.giver_drain_rate"].iloc[0]
    assert float(drain["plausible_share_of_prior"]) == pytest.approx(0.5)


def test_the_printed_lines_name_verdicts_and_what_the_answers_depend_on(tmp_path, capsys):
    write_runs(tmp_path / "runs")
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    line = next(text for text in printed.splitlines()
                if text.strip().startswith("good_or_better_change: mat_contracting"))
    assert "mat_contracting depends (+ in 3/5; most on model.improvement.support_effect, " \
           "Spearman +1.00, p " in line
    assert "universal_partnership robust (+ in 5/5)" in line
    assert "depends most on model.improvement.support_effect" in printed
    assert "worth a trial or new data" in printed
    for name in ("robustness.png", "robustness.svg"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    manifest = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert manifest["parameter_sets"] == 5
    assert {"robustness.csv", "value_of_information.csv", "robustness.png"} <= set(
        manifest["files"])


def test_runs_without_sets_get_none_of_it(tmp_path):
    write_runs(tmp_path / "runs", with_set=False)
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    written = {path.name for path in (tmp_path / "out").iterdir()}
    assert not written & {"robustness.csv", "value_of_information.csv", "robustness.png"}
    columns = pd.read_csv(tmp_path / "out" / "differences.csv").columns
    assert "band90_low" not in columns and "parameter_sets" not in columns


def test_runs_with_and_without_sets_are_refused_together(tmp_path, capsys):
    write_runs(tmp_path / "runs")
    write_run(tmp_path / "runs" / "plain", "status_quo", 0, 9, with_set=False)
    before = snapshot(tmp_path)
    with pytest.raises(Exception) as refused:
        main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")])
    assert "45 of the 46 runs took a plausible parameter set" in str(refused.value)
    assert snapshot(tmp_path) == before


def test_a_run_whose_record_of_its_set_is_lost_is_skipped_and_named(tmp_path, capsys):
    write_runs(tmp_path / "runs")
    (tmp_path / "runs" / "run07" / "parameter_set.json").write_text("{")
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    assert "parameter_set.json cannot be read" in capsys.readouterr().err
    missing = pd.read_csv(tmp_path / "out" / "missing.csv")
    assert any("parameter_set.json" in reason for reason in missing["reason"])


def test_runs_of_sweeps_with_different_numbers_of_sets_still_pair(tmp_path):
    """A sweep resumed with more sets (uncertainty.sets=10) made one policy's runs: set k is
    the same set, so they pair with the others' runs of set k."""
    for index in SETS:
        for seed in SEEDS:
            for policy in POLICIES:
                write_run(tmp_path / "runs" / f"{policy}_{index}_{seed}", policy, index, seed,
                          sets=10 if policy == "mat_contracting" else 5)
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    differences = pd.read_csv(tmp_path / "out" / "differences.csv")
    assert set(differences["pairs"]) == {15}


def test_cost_effectiveness_pairs_runs_by_seed_and_parameter_set(compared):
    table = pd.read_csv(compared / "cost_effectiveness.csv")
    found = table[(table["policy"] == "mat_contracting") & (table["effect"] == "grades_gained")]
    found = found.iloc[0]
    assert found["pairs"] == len(SETS) * len(SEEDS)  # not every set with every other set
    by_hand = [effect("mat_contracting", "spending_total_gbp", index, seed)
               for index in SETS for seed in SEEDS]
    assert found["incremental_cost_gbp"] == pytest.approx(np.mean(by_hand))
    # These runs record no schools moved to good (as runs before it was recorded): empty.
    moved = table[(table["policy"] == "mat_contracting")
                  & (table["effect"] == "schools_moved_to_good")].iloc[0]
    assert moved["pairs"] == 0 and pd.isna(moved["verdict"])
