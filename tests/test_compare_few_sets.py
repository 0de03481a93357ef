"""`python -m sim.compare` on runs of few plausible parameter sets: one set (which says
nothing about parameter uncertainty), three (too few for a rank correlation or a partial
value of information), one seed per set, and differences of exactly 0 in every set.

The run folders are written by hand as in `tests/test_compare_parameter_sets`, whose
`effect`, `SUPPORT` and `DRAIN` are replaced here where a test needs other numbers.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import tests.test_compare_parameter_sets as hand
from sim.compare.command import main
from sim.compare.parameter_sets import MIN_SETS_FOR_CORRELATION


def write(root, sets: range, seeds: range, policies: tuple[str, ...] = hand.POLICIES,
          recorded_sets: int = 5) -> None:
    for policy in policies:
        for index in sets:
            for seed in seeds:
                hand.write_run(root / f"{policy}_seed{seed}_set{index}", policy, index, seed,
                               sets=recorded_sets)


def robustness_row(folder, policy: str, measure: str) -> pd.Series:
    table = pd.read_csv(folder / "robustness.csv", keep_default_na=False)
    return table[(table["policy"] == policy) & (table["measure"] == measure)].iloc[0]


@pytest.mark.parametrize("index, recorded_sets", [(0, 1), (3, 10)],
                         ids=["a sweep of one set", "one set taken from a sweep of ten"])
def test_runs_of_one_parameter_set_are_compared_by_seed_with_a_note(
        tmp_path, capsys, index, recorded_sets):
    write(tmp_path / "runs", range(index, index + 1), range(3), recorded_sets=recorded_sets)
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"every run is of plausible parameter set {index}: one set says nothing about " \
           f"parameter uncertainty" in err
    differences = pd.read_csv(tmp_path / "out" / "differences.csv")
    assert set(differences["pairs"]) == {3}  # paired by seed
    found = differences[(differences["policy"] == "universal_partnership")
                        & (differences["measure"] == "good_or_better_change")].iloc[0]
    assert found["mean_difference"] == pytest.approx(0.01)
    assert found["sd_across_seeds"] == pytest.approx(0.002)
    written = {path.name for path in (tmp_path / "out").iterdir()}
    assert not written & {"robustness.csv", "value_of_information.csv", "robustness.png"}
    assert "cost_effectiveness.csv" in written


def three_set_effect(policy: str, measure: str, index: int, seed: int) -> float:
    """Universal partnership changes nothing but orphan terms (fewer in sets 0 and 1, more
    in set 2); MAT contracting gains grades, more with a larger support effect."""
    if policy == "status_quo":
        return 0.0
    if policy == "universal_partnership":
        if measure == "orphan_terms":
            return 1.0 if index == 2 else -1.0
        return 0.0
    return 0.1 * (index + 1) + 0.01 * seed


@pytest.fixture
def three_sets(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hand, "effect", three_set_effect)
    write(tmp_path / "runs", range(3), range(2))
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    return tmp_path / "out", capsys.readouterr()


def test_a_difference_of_zero_in_every_set_is_no_difference_not_robust(three_sets):
    out, printed = three_sets
    found = robustness_row(out, "universal_partnership", "good_or_better_change")
    assert (found["verdict"], found["direction"]) == ("no difference", "none")
    line = next(text for text in printed.out.splitlines()
                if text.strip().startswith("good_or_better_change: "))
    assert "universal_partnership no difference (0 in 3/3)" in line
    assert "mat_contracting robust (+ in 3/3)" in line


def test_three_sets_name_no_parameter_and_say_why(three_sets):
    out, printed = three_sets
    found = robustness_row(out, "universal_partnership", "orphan_terms")
    assert found["verdict"] == "depends"
    assert (found["depends_most_on"], found["spearman"], found["spearman_p"]) == ("", "", "")
    why = f"too few sets (3) for a rank correlation: it needs at least {MIN_SETS_FOR_CORRELATION}"
    assert found["why_no_parameter"] == why
    assert f"universal_partnership depends (- in 2/3; no parameter named: {why})" in printed.out
    assert "Spearman" not in printed.out


def test_three_sets_give_no_partial_value_of_information(three_sets):
    out, printed = three_sets
    information = pd.read_csv(out / "value_of_information.csv")
    partial = information[information["kind"] == "partial"]
    assert len(partial) and partial["value_of_information"].isna().all()
    assert set(partial["bins"]) == {1}
    assert set(partial["note"]) == {"one bin (3 sets): a partial value needs at least 4 sets "
                                    "(two bins)"}
    perfect = information[information["kind"] == "perfect"]
    assert perfect["value_of_information"].notna().all()
    assert "no partial values: 3 sets make one bin" in printed.out
    assert "worth a trial or new data (" not in printed.out
    assert "depends most on" not in printed.out


def test_one_seed_per_set_says_the_band_leaves_out_seed_noise(tmp_path, capsys):
    write(tmp_path / "one", range(5), range(1))
    assert main([str(tmp_path / "one"), "--output", str(tmp_path / "one_out")]) == 0
    assert "one seed per parameter set: the 90% band (band90_low/band90_high) is the spread " \
           "of the sets' differences alone and leaves out seed noise" in capsys.readouterr().err
    write(tmp_path / "three", range(5), range(3))  # seed noise measured: no such note
    assert main([str(tmp_path / "three"), "--output", str(tmp_path / "three_out")]) == 0
    assert "one seed per parameter set" not in capsys.readouterr().err


def test_the_p_value_of_a_perfect_rank_correlation_over_five_sets_is_exact(tmp_path):
    """Five sets in the order of the support effect: rho = +1, which two orderings of the
    120 reach in size, p = 1/60 (scipy's t approximation says 0)."""
    write(tmp_path / "runs", range(5), range(3))
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    found = robustness_row(tmp_path / "out", "mat_contracting", "good_or_better_change")
    assert found["depends_most_on"] == "model.improvement.support_effect"
    assert float(found["spearman"]) == pytest.approx(1.0)
    assert float(found["spearman_p"]) == pytest.approx(1 / 60)
    assert found["why_no_parameter"] == ""


def test_parameters_tied_for_the_largest_correlation_are_not_told_apart(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(hand, "DRAIN", [0.01, 0.02, 0.03, 0.04, 0.05])  # in step with SUPPORT
    write(tmp_path / "runs", range(5), range(3))
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    found = robustness_row(tmp_path / "out", "mat_contracting", "good_or_better_change")
    assert found["verdict"] == "depends" and found["depends_most_on"] == ""
    assert found["why_no_parameter"] == "2 parameters tie for the largest |Spearman| (1.00)"
    assert "no parameter named: 2 parameters tie" in capsys.readouterr().out
    assert math.isclose(float(found["share_with_that_sign"]), 0.6)
