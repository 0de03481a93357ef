"""`python -m sim.compare` against a hand computation: runs written by hand in an order
that is not the seeds', one seed missing on one side.

Differences must pair runs by seed (common random numbers), never by the order in which
runs are found, and the documented 90% interval is the two-sided t interval:
mean +/- t(0.95, n - 1) * sd / sqrt(n), with sd across seeds (ddof 1).
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

# t quantiles (0.95, df) from the tables, so that a wrong quantile in the code is not
# copied here: df 2 and 3.
T95 = {2: 2.919985580, 3: 2.353363435}
POLICIES = ("status_quo", "universal_partnership")
SEEDS = {"status_quo": (4, 1, 7, 2), "universal_partnership": (7, 2, 4)}  # seed 1 missing
FOLDER_ORDER = ("c", "a", "f", "b", "e", "d", "g")  # names that do not follow the seeds


def value(policy: str, seed: int, measure: str) -> float:
    """A distinct value per run and measure, so that a wrong pair gives a wrong mean."""
    base = 10.0 * seed + (3.0 if policy == "universal_partnership" else 0.0) * (1 + seed % 3)
    return base + 0.37 * sorted(MEASURES).index(measure) + seed**2 / 7


def write_run(folder, policy: str, seed: int) -> None:
    folder.mkdir(parents=True)
    config = {"scenario": {"name": "opportunity_area", "horizon_years": 2},
              "policy": {"name": policy}, "seed": seed, "horizon_years": 2,
              "model": {"structure": {"head_leaving_rate": 0.1}}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {"scenario": "opportunity_area", "policy": policy, "seed": seed,
               "horizon_years": 2, "good_or_better_final": 0.8,
               **{measure: value(policy, seed, measure) for measure in MEASURES}}
    (folder / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"year": [2018] * 3 + [2019] * 3, "term_of_year": [0, 1, 2] * 2,
                  "share_good_or_better": 0.8, "n_orphans": 1, "teacher_leaving_rate": 0.1,
                  "spending_to_date_gbp": 1e6}).to_parquet(folder / "timeseries.parquet")


@pytest.fixture(scope="module")
def differences(tmp_path_factory) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("hand")
    names = iter(FOLDER_ORDER)
    for policy in POLICIES:
        for seed in SEEDS[policy]:
            write_run(root / "runs" / next(names), policy, seed)
    assert main([str(root / "runs"), "--output", str(root / "out")]) == 0
    frame = pd.read_csv(root / "out" / "differences.csv")
    frame.attrs["missing"] = pd.read_csv(root / "out" / "missing.csv")
    return frame


@pytest.mark.parametrize("measure", sorted(MEASURES))
def test_differences_pair_by_seed(differences, measure):
    paired = sorted(set(SEEDS["status_quo"]) & set(SEEDS["universal_partnership"]))
    by_hand = np.array([value("universal_partnership", seed, measure)
                        - value("status_quo", seed, measure) for seed in paired])
    row = differences[differences["measure"] == measure].iloc[0]
    assert row["policy"] == "universal_partnership" and row["baseline"] == "status_quo"
    assert row["pairs"] == len(paired) == 3 and row["pairs_left_out"] == 0
    mean = by_hand.mean()
    sd = math.sqrt(((by_hand - mean) ** 2).sum() / (len(by_hand) - 1))
    half = T95[len(by_hand) - 1] * sd / math.sqrt(len(by_hand))
    assert row["mean_difference"] == pytest.approx(mean, rel=1e-9)
    assert row["sd_across_seeds"] == pytest.approx(sd, rel=1e-9)
    assert row["ci90_low"] == pytest.approx(mean - half, rel=1e-7)
    assert row["ci90_high"] == pytest.approx(mean + half, rel=1e-7)


def test_the_run_without_a_partner_is_named(differences):
    missing = differences.attrs["missing"]
    assert len(missing) == 1
    assert "seed=1" in missing.iloc[0]["missing_run"]
    assert "universal_partnership" in missing.iloc[0]["missing_run"]


def test_the_t_table_is_what_scipy_gives():
    from scipy import stats

    for df, quantile in T95.items():
        assert stats.t.ppf(0.95, df) == pytest.approx(quantile, rel=1e-8)
