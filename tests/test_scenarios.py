"""Smoke tests: each scenario builds and runs, and its results are well formed."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import to_dict
from sim.outputs import write_run
from sim.plots import plot_run
from sim.run import simulate
from tests.conftest import make_config


@pytest.mark.parametrize(("overrides", "n_terms"), [
    (["scenario=opportunity_area"], 15),
    (["scenario=national", "scenario.scale=0.05", "horizon_years=3"], 9),
])
def test_scenario_runs_and_writes_well_formed_results(tmp_path, overrides, n_terms):
    config = make_config(*overrides, "seed=3")
    result = simulate(config)
    timeseries = result.timeseries
    assert len(timeseries) == n_terms
    assert list(timeseries["term"]) == list(range(n_terms))
    shares = timeseries[["share_outstanding", "share_good", "share_requires_improvement",
                         "share_inadequate"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    key_columns = ["share_good_or_better", "effectiveness_mean", "teacher_leaving_rate",
                   "vacancy_rate", "n_orphans", "spending_total_gbp"]
    assert timeseries[key_columns].notna().all().all()
    assert len(result.schools) == result.summary["n_schools"] * n_terms // 3
    assert result.schools.groupby("year")["urn"].nunique().eq(result.summary["n_schools"]).all()
    kinds = set(result.events["kind"])
    assert {"inspection", "head_replaced"} <= kinds
    inspections = result.events[result.events["kind"] == "inspection"]
    assert inspections[["old_grade", "new_grade"]].notna().all().all()
    write_run(tmp_path, to_dict(config), result)
    plot_run(tmp_path)
    assert (tmp_path / "summary.png").stat().st_size > 10_000


def test_opportunity_area_is_weaker_and_poorer_than_england():
    area = simulate(make_config("scenario=opportunity_area", "horizon_years=1"))
    england = simulate(make_config("scenario=national", "scenario.scale=0.1", "horizon_years=1"))
    assert area.summary["good_or_better_start"] < england.summary["good_or_better_start"] - 0.05
    assert area.schools["fsm_share"].mean() > england.schools["fsm_share"].mean() + 0.05
    assert area.timeseries["vacancy_rate"].mean() > england.timeseries["vacancy_rate"].mean()
    assert 150 <= area.summary["n_schools"] <= 250


POLICIES = ["status_quo", "universal_partnership", "mat_contracting", "local_governance",
            "combined"]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("scenario", [("scenario=opportunity_area", "horizon_years=3"),
                                      ("scenario=national", "scenario.scale=0.05",
                                       "horizon_years=3")])
def test_every_policy_runs_in_every_scenario(policy, scenario):
    result = simulate(make_config(*scenario, f"policy={policy}", "seed=4"))
    summary = result.summary
    assert summary["policy"] == policy
    spending = result.timeseries.filter(like="spending_").drop(
        columns=["spending_total_gbp", "spending_to_date_gbp"])
    assert np.allclose(spending.sum(axis=1), result.timeseries["spending_total_gbp"])
    kinds = set(result.events["kind"])
    if policy in ("universal_partnership", "combined"):
        assert "peer_review" in kinds and summary["spending_peer_review_gbp"] > 0
    if policy in ("local_governance", "combined"):
        assert summary["spending_data_burden_gbp"] > 0
    if policy in ("mat_contracting", "combined"):
        assert summary["contracts_started"] > 0 and "contract_start" in kinds
    if policy == "status_quo":
        assert summary["spending_peer_review_gbp"] == summary["spending_contracts_gbp"] == 0
