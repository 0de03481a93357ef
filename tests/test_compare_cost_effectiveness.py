"""`python -m sim.compare`'s cost-effectiveness against the status quo: runs written by hand
so that each policy falls in a known quadrant of the cost-effectiveness plane, with the
dominance verdicts, the ICER and its interval, the reproducible bootstrap and the
acceptability curve checked against what those runs must give."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.compare.command import main
from sim.compare.cost_effectiveness import BOOTSTRAP_SEED, RESAMPLES, verdict
from sim.compare.reading import MEASURES

SEEDS = tuple(range(1, 9))
# Policy -> (extra spending in £, extra schools moved to good, extra grades gained), each
# around a mean with a seed-to-seed wobble that never changes its sign, but "noisy", whose
# gain in schools crosses zero from seed to seed.
EFFECTS = {
    "cheaper_and_better": (-1.0e6, 2.0, 3.0),
    "dearer_and_worse": (1.0e6, -1.5, -2.0),
    "cheaper_and_worse": (-0.5e6, -2.0, -1.0),
    "dearer_and_better": (2.0e6, 4.0, 6.0),
    "noisy": (0.3e6, 0.25, 0.5),
}
POLICIES = ("status_quo", *EFFECTS)


def wobble(seed: int) -> float:
    """A seed's departure from the mean, between -0.3 and 0.3 of it, mean zero over SEEDS."""
    return 0.3 * np.sin(2 * np.pi * seed / len(SEEDS))


def outcome(policy: str, seed: int) -> dict[str, float]:
    spending, schools, grades = 2e7 + 1e5 * seed, 10.0 + seed % 3, 20.0 + seed % 4
    if policy != "status_quo":
        cost, moved, gained = EFFECTS[policy]
        # Effects wobble out of step with costs (a quarter turn later), so that ratios vary.
        spending += cost * (1 + wobble(seed))
        schools += (moved * (1 + wobble(seed + 2)) if policy != "noisy"
                    else moved + 4 * wobble(seed + 2))
        grades += gained * (1 + wobble(seed + 2))
    return {"spending_total_gbp": spending, "schools_moved_to_good": schools,
            "grades_gained": grades}


def write_run(folder, policy: str, seed: int) -> None:
    folder.mkdir(parents=True)
    config = {"scenario": {"name": "opportunity_area", "horizon_years": 2},
              "policy": {"name": policy}, "seed": seed, "horizon_years": 2}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {"scenario": "opportunity_area", "policy": policy, "seed": seed,
               "horizon_years": 2, "good_or_better_final": 0.8,
               **{measure: 1.0 for measure in MEASURES}, **outcome(policy, seed)}
    (folder / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"year": [2018] * 3, "term_of_year": [0, 1, 2],
                  "share_good_or_better": 0.8, "n_orphans": 1, "teacher_leaving_rate": 0.1,
                  "spending_to_date_gbp": 1e6}).to_parquet(folder / "timeseries.parquet")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    root = tmp_path_factory.mktemp("economics")
    for policy in POLICIES:
        for seed in SEEDS:
            write_run(root / "runs" / f"{policy}_seed{seed}", policy, seed)
    assert main([str(root / "runs"), "--output", str(root / "out")]) == 0
    return root


def table(root) -> pd.DataFrame:
    return pd.read_csv(root / "out" / "cost_effectiveness.csv", keep_default_na=False,
                       na_values=[""])


def row(root, policy: str, effect: str = "schools_moved_to_good") -> pd.Series:
    frame = table(root)
    return frame[(frame["policy"] == policy) & (frame["effect"] == effect)].iloc[0]


@pytest.mark.parametrize(("policy", "expected"), [
    ("cheaper_and_better", "dominant"), ("dearer_and_worse", "dominated"),
    ("cheaper_and_worse", "cost-saving but worse"), ("dearer_and_better", "costs more, gains more")])
@pytest.mark.parametrize("effect", ["schools_moved_to_good", "grades_gained"])
def test_known_quadrants_get_the_standard_verdicts(compared, policy, expected, effect):
    found = row(compared, policy, effect)
    assert found["verdict"] == expected
    assert found["pairs"] == len(SEEDS) and found["baseline"] == "status_quo"
    # Every seed is in the same quadrant, so every resample is too.
    shares = {column: found[column] for column in found.index if column.startswith("share_")}
    assert sorted(shares.values()) == [0, 0, 0, 1]


def test_a_negative_effect_is_never_given_a_negative_cost(compared):
    frame = table(compared)
    worse = frame[frame["incremental_effect"] <= 0]
    assert len(worse) >= 4 and worse["icer_gbp_per_unit_of_effect"].isna().all()
    assert (frame["icer_gbp_per_unit_of_effect"].dropna() > 0).all()
    assert (frame["icer_ci90_low_gbp_per_unit_of_effect"].dropna() > 0).all()
    dearer = row(compared, "dearer_and_worse")
    assert dearer["incremental_cost_gbp"] > 0 > dearer["incremental_effect"]
    # differences.csv no longer holds the ratio of means that could be negative.
    differences = pd.read_csv(compared / "out" / "differences.csv")
    assert not differences["measure"].str.startswith("incremental_cost").any()


def test_the_icer_is_mean_extra_cost_over_mean_extra_effect_with_a_bootstrap_interval(compared):
    found = row(compared, "dearer_and_better")
    cost = np.array([outcome("dearer_and_better", s)["spending_total_gbp"]
                     - outcome("status_quo", s)["spending_total_gbp"] for s in SEEDS])
    gain = np.array([outcome("dearer_and_better", s)["schools_moved_to_good"]
                     - outcome("status_quo", s)["schools_moved_to_good"] for s in SEEDS])
    assert found["incremental_cost_gbp"] == pytest.approx(cost.mean())
    assert found["incremental_effect"] == pytest.approx(gain.mean())
    assert found["icer_gbp_per_unit_of_effect"] == pytest.approx(cost.mean() / gain.mean())
    assert found["icer_gbp_per_unit_of_effect"] == pytest.approx(0.5e6, rel=0.05)
    assert cost.std() > 0 and (cost / gain).std() > 0.05 * 0.5e6  # the ratios vary by seed
    # A percentile interval of resampled means lies within the pairs' range and around
    # the mean; so does the ICER's, within the pairs' ratios.
    assert cost.min() <= found["incremental_cost_ci90_low_gbp"] < cost.mean() \
        < found["incremental_cost_ci90_high_gbp"] <= cost.max()
    ratios = cost / gain
    assert ratios.min() <= found["icer_ci90_low_gbp_per_unit_of_effect"] \
        < found["icer_gbp_per_unit_of_effect"] < found["icer_ci90_high_gbp_per_unit_of_effect"] \
        <= ratios.max()
    assert found["resamples"] == RESAMPLES and found["bootstrap_seed"] == BOOTSTRAP_SEED


def test_a_ratio_whose_resamples_cross_quadrants_has_no_interval_but_their_shares(compared):
    found = row(compared, "noisy")
    shares = found[[c for c in found.index if c.startswith("share_resamples_")]]
    assert 0 < shares["share_resamples_costs_more_gains_more"] < 1
    assert shares.sum() == pytest.approx(1)
    assert np.isnan(found["icer_ci90_low_gbp_per_unit_of_effect"])
    assert np.isnan(found["icer_ci90_high_gbp_per_unit_of_effect"])


def test_the_bootstrap_is_reproducible(compared, tmp_path):
    assert main([str(compared / "runs"), "--output", str(tmp_path / "again")]) == 0
    for name in ("cost_effectiveness.csv", "acceptability.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (compared / "out" / name).read_bytes()


def test_acceptability_probabilities_sum_to_one_at_each_willingness_to_pay(compared):
    curve = pd.read_csv(compared / "out" / "acceptability.csv")
    pay = "willingness_to_pay_gbp_per_school_moved_to_good"
    assert set(curve["policy"]) == set(POLICIES)
    assert curve[pay].min() == 0 and curve[pay].max() == 5e6 and curve[pay].nunique() > 20
    totals = curve.groupby(pay)["probability_highest_net_benefit"].sum()
    assert np.allclose(totals, 1.0)
    best = curve.loc[curve.groupby(pay)["probability_highest_net_benefit"].idxmax()]
    by_pay = best.set_index(pay)["policy"]
    # Worth nothing, a school moved is no reason to spend: the cheapest option wins; worth
    # £5m, the one that moves the most schools does (4 x 5m - 2m beats 2 x 5m + 1m).
    assert by_pay[0] == "cheaper_and_better" and by_pay[5e6] == "dearer_and_better"
    status_quo = curve[curve["policy"] == "status_quo"]
    assert (status_quo["mean_net_benefit_gbp"] == 0).all()
    assert (status_quo["probability_highest_net_benefit"] == 0).all()  # always beaten
    for suffix in ("png", "svg"):
        assert (compared / "out" / f"acceptability.{suffix}").stat().st_size > 10_000


def test_the_verdict_rules_at_the_edges_of_the_quadrants():
    costs = [1.0, -1.0, 0.0, 1.0, -1.0, 0.0, 1.0, 0.0, -1.0]
    effects = [1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 0.0, -1.0, 0.0]
    assert list(verdict(costs, effects)) == [
        "costs more, gains more", "dominant", "dominant", "dominated", "cost-saving but worse",
        "no difference", "dominated", "dominated", "dominant"]


def test_the_status_quo_wins_the_curve_where_nothing_else_is_worth_its_cost(compared, tmp_path):
    runs = sorted((compared / "runs").glob("status_quo_seed*")) + sorted(
        (compared / "runs").glob("dearer_and_better_seed*"))
    assert main([*map(str, runs), "--output", str(tmp_path / "two")]) == 0
    curve = pd.read_csv(tmp_path / "two" / "acceptability.csv")
    pay = "willingness_to_pay_gbp_per_school_moved_to_good"
    status_quo = curve[curve["policy"] == "status_quo"].set_index(pay)
    # Each school moved costs about £0.5m more: below that the status quo is best value.
    assert status_quo.loc[0, "probability_highest_net_benefit"] == 1
    assert status_quo.loc[3e5, "probability_highest_net_benefit"] == 1
    assert status_quo.loc[1e6, "probability_highest_net_benefit"] == 0
    assert np.allclose(curve.groupby(pay)["probability_highest_net_benefit"].sum(), 1.0)


def test_the_printed_verdicts_name_the_quadrant_and_never_a_negative_cost(compared, tmp_path,
                                                                           capsys):
    assert main([str(compared / "runs"), "--output", str(tmp_path / "printed")]) == 0
    out = capsys.readouterr().out
    lines = out.split("Cost-effectiveness against status_quo", 1)[1].splitlines()
    worse = [line for line in lines if line.strip().startswith("dearer_and_worse")]
    assert len(worse) == 2 and all(": dominated (" in line for line in worse)
    dearer = next(line for line in lines if "dearer_and_better, per school" in line)
    assert "(ICER), 90% interval £" in dearer
    assert "-£" not in "".join(line.split("(extra cost")[0] for line in lines)


def test_the_manifest_repeats_each_verdict_and_ratio_never_a_negative_cost(compared):
    """comparison.json, the comparison's summary, carries the incremental ratios too."""
    import json

    manifest = json.loads((compared / "out" / "comparison.json").read_text())
    records = manifest["cost_effectiveness"]
    frame = table(compared)
    assert len(records) == len(frame)
    for record in records:
        found = row(compared, record["policy"], record["effect"])
        assert record["verdict"] == found["verdict"]
        icer = record["icer_gbp_per_unit_of_effect"]
        if record["verdict"] == "costs more, gains more":
            assert icer == pytest.approx(found["icer_gbp_per_unit_of_effect"]) and icer > 0
        else:
            assert icer is None
