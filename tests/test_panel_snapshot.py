"""The yearly school panel is a true snapshot of each year's end, not a view of the arrays.

If the panel kept a live array instead of a copy, every year's rows would show the state at
the end of the run. So each year's rows are checked against the time series at that
year's last term (the summer term, when the panel is taken), and grades must change
between years.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from sim.run import simulate
from tests.conftest import make_config, make_model

YEARS = 4


@pytest.fixture(scope="module")
def run():
    return simulate(make_config("scenario=opportunity_area", "seed=2", f"horizon_years={YEARS}",
                                "output.school_panel=true"))


def summer_rows(run) -> pd.DataFrame:
    series = run.timeseries
    return series[series["term_of_year"] == 2].set_index("year")


def test_the_panel_has_one_row_per_school_per_year(run):
    panel = run.schools
    assert sorted(panel["year"].unique()) == sorted(summer_rows(run).index)
    assert (panel.groupby("year").size() == run.summary["n_schools"]).all()
    assert not panel.duplicated(["year", "urn"]).any()


def test_each_years_rows_agree_with_the_time_series_at_the_years_end(run):
    panel, summer = run.schools, summer_rows(run)
    for year, rows in panel.groupby("year"):
        expected = summer.loc[year]
        grade = rows["grade"].to_numpy()
        assert grade.mean() > 0
        assert np.mean(grade <= 2) == pytest.approx(expected["share_good_or_better"]), year
        assert np.mean(grade == 1) == pytest.approx(expected["share_outstanding"]), year
        assert np.mean(grade == 4) == pytest.approx(expected["share_inadequate"]), year
        assert rows["effectiveness"].mean() == pytest.approx(expected["effectiveness_mean"]), year
        assert rows["workload"].mean() == pytest.approx(expected["workload_mean"]), year
        assert rows["self_assessment_accuracy"].mean() == pytest.approx(
            expected["self_assessment_accuracy_mean"]), year
        assert rows["teachers"].sum() == expected["teachers"], year
        vacancy_rate = rows["vacancies"].sum() / (rows["teachers"] + rows["vacancies"]).sum()
        assert vacancy_rate == pytest.approx(expected["vacancy_rate"]), year


def test_grades_and_effectiveness_change_between_years(run):
    panel = run.schools.sort_values(["year", "urn"])
    years = sorted(panel["year"].unique())
    for earlier, later in itertools.pairwise(years):
        a, b = panel[panel["year"] == earlier], panel[panel["year"] == later]
        assert (a["urn"].to_numpy() == b["urn"].to_numpy()).all()
        assert (a["grade"].to_numpy() != b["grade"].to_numpy()).any(), (earlier, later)
        assert (a["effectiveness"].to_numpy() != b["effectiveness"].to_numpy()).any()
        assert (a["support_received_fte"].to_numpy() != b["support_received_fte"].to_numpy()).any()


def test_governance_in_the_panel_is_that_years(run):
    panel, summer = run.schools, summer_rows(run)
    for year, rows in panel.groupby("year"):
        primary = rows[rows["phase"] == "primary"]
        academy_share = np.mean(primary["governance"] != "maintained")
        assert academy_share == pytest.approx(summer.loc[year, "academy_share_primary"]), year
        # A maintained school has no trust, and an academy has one, in the same year.
        assert ((rows["governance"] == "maintained") == rows["trust_id"].isna()).all(), year


def test_the_panel_flows_account_for_each_schools_teachers():
    """Each school's year: teachers at its end = teachers a year before - leavers - movers
    out + movers in + new entrants, and `inspected` marks the schools inspected that year."""
    model = make_model("scenario=opportunity_area", "seed=6", "horizon_years=3")
    before = model.schools.teachers.astype(np.int64).copy()
    inspections = []
    model.run()
    result = model.results()
    events = result.events
    for year, rows in result.schools.groupby("year"):
        rows = rows.sort_values("urn")
        flows = (-rows["leavers"] - rows["movers_out"] + rows["movers_in"]
                 + rows["new_entrants"]).to_numpy()
        after = rows["teachers"].to_numpy()
        assert np.array_equal(after - before, flows), year
        before = after
        seen = events[(events["kind"] == "inspection") & (events["year"] == year)]
        inspections.append((set(rows.loc[rows["inspected"], "urn"]), set(seen["urn"])))
    assert all(panel == logged for panel, logged in inspections)
