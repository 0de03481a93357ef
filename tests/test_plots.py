"""The numbers `summary.png` shows, computed from a run's files (`sim.plot_data`).

Each panel's data are checked on small hand-made frames whose answer is known, and one
real run of the GIAS fixture checks the title and that the figure is drawn from its files.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from sim import plot_data
from sim.config import to_dict
from sim.outputs import write_run
from sim.plots import plot_run
from sim.run import simulate
from tests.conftest import GIAS_FIXTURE, make_config


def test_wilson_interval_gives_the_published_values():
    # Newcombe (1998), table I: 0 of 10 gives 0 to 0.2775; 5 of 10 gives 0.2366 to 0.7634.
    low, high = plot_data.wilson_interval(np.array([0, 5]), np.array([10, 10]))
    assert low == pytest.approx([0.0, 0.2366], abs=1e-4)
    assert high == pytest.approx([0.2775, 0.7634], abs=1e-4)


def test_wilson_interval_holds_the_rate_at_its_ends_and_is_empty_without_trials():
    low, high = plot_data.wilson_interval(np.array([0, 7, 7, 0]), np.array([7, 7, 9, 0]))
    rate = np.array([0, 1, 7 / 9, np.nan])
    assert (low[:3] <= rate[:3]).all() and (rate[:3] <= high[:3]).all()
    assert np.isnan(low[3]) and np.isnan(high[3])


def schools_panel(least_grades: list[int], most_grades: list[int], middle: int = 6,
                  year: int = 2018) -> pd.DataFrame:
    """One year's panel: the least disadvantaged fifth with `least_grades`, the most
    with `most_grades`, and `middle` schools between, in shuffled file order."""
    size = len(least_grades)
    fsm = np.concatenate([np.linspace(0.01, 0.05, size), np.linspace(0.2, 0.4, middle),
                          np.linspace(0.6, 0.9, size)])
    grades = [*least_grades, *[4] * middle, *most_grades]
    order = np.random.default_rng(1).permutation(len(fsm))
    return pd.DataFrame({"year": year, "urn": np.arange(len(fsm))[order],
                         "fsm_share": fsm[order], "grade": np.array(grades)[order]})


def test_disadvantage_gap_is_least_minus_most_disadvantaged_good_or_better_in_points():
    # Fifths of 2 schools: the least disadvantaged both good or better, the most one of two.
    panel = pd.concat([schools_panel([1, 2], [2, 3]), schools_panel([2, 3], [4, 4], year=2019)])
    gap = plot_data.disadvantage_gap(panel)
    assert list(gap["year"]) == [2018, 2019]
    assert list(gap["least_percent"]) == [100.0, 50.0]
    assert list(gap["most_percent"]) == [50.0, 0.0]
    assert list(gap["gap_points"]) == [50.0, 50.0]
    assert list(gap["least_schools"]) == [2, 2] and list(gap["most_schools"]) == [2, 2]
    assert (gap["gap_low"] < gap["gap_points"]).all()
    assert (gap["gap_points"] < gap["gap_high"]).all()
    assert (gap["gap_high"] <= 100).all() and (gap["gap_low"] >= -100).all()


def test_disadvantage_gap_interval_narrows_with_more_schools_a_fifth():
    small = plot_data.disadvantage_gap(schools_panel([2] * 8 + [3] * 2, [2] * 5 + [3] * 5,
                                                     middle=30))
    large = plot_data.disadvantage_gap(schools_panel([2] * 80 + [3] * 20, [2] * 50 + [3] * 50,
                                                     middle=300))
    assert small["gap_points"].item() == pytest.approx(30) == large["gap_points"].item()
    width = (small["gap_high"] - small["gap_low"]).item()
    assert (large["gap_high"] - large["gap_low"]).item() < width / 2.5


def teacher_terms(rates: list[float], teachers: list[int], start_year: int = 2018
                  ) -> pd.DataFrame:
    terms = np.arange(len(rates))
    return pd.DataFrame({"term": terms, "year": start_year + terms // 3,
                         "term_of_year": terms % 3, "teacher_leaving_rate": rates,
                         "teachers": teachers})


def test_teacher_leaving_is_the_year_not_the_term_and_its_interval_holds_it():
    # Terms swinging 4% <-> 27% a year, as a small place's do: the year is their mean.
    terms = teacher_terms([0.04, 0.27, 0.04, 0.27, 0.04, 0.27], [300] * 6)
    leaving = plot_data.teacher_leaving(terms)
    assert list(leaving["year"]) == [2018, 2019]
    assert list(leaving["time"]) == [2018.5, 2019.5]
    assert leaving["percent"].to_numpy() == pytest.approx([35 / 3, 58 / 3])
    # Leavers: each term's rate / 3 x its teachers; out of the year's mean teachers.
    assert leaving["leavers"].to_numpy() == pytest.approx([35, 58])
    assert leaving["teachers"].tolist() == [300, 300]
    assert (leaving["low"] < leaving["percent"]).all()
    assert (leaving["percent"] < leaving["high"]).all()


def test_teacher_leaving_counts_the_recorded_leavers_when_the_record_has_them():
    terms = teacher_terms([0.04, 0.27, 0.04], [300] * 3)
    # Counts that the rates alone would not give: the counts are what is read.
    terms["teacher_leavers"] = [5, 20, 6]
    terms["teachers_at_risk"] = [310, 300, 290]
    leaving = plot_data.teacher_leaving(terms)
    assert leaving["leavers"].tolist() == [31]
    assert leaving["teachers"].tolist() == [300]
    assert leaving["percent"].item() == pytest.approx(31 / 300 * 100)


def test_teacher_leaving_interval_is_wider_for_a_small_place_and_a_part_year_is_left_out():
    small = plot_data.teacher_leaving(teacher_terms([0.1] * 4, [200] * 4))
    large = plot_data.teacher_leaving(teacher_terms([0.1] * 3, [20_000] * 3))
    assert list(small["year"]) == [2018]  # the one term of 2019 is not a year
    assert small["percent"].item() == pytest.approx(10) == large["percent"].item()
    assert (small["high"] - small["low"]).item() > 5 * (large["high"] - large["low"]).item()
    # The teacher-weighted mean: a term with twice the teachers counts twice.
    weighted = plot_data.teacher_leaving(teacher_terms([0.3, 0.0, 0.0], [200, 100, 100]))
    assert weighted["percent"].item() == pytest.approx(15)


def test_early_career_retention_is_each_cohort_still_teaching_over_its_entrants():
    cohorts = pd.DataFrame({"cohort": [1, 1, 2, 1], "year": [1, 2, 2, 3],
                            "years_since_entry": [0, 1, 0, 2],
                            "entrants": [200, 200, 50, 200],
                            "still_teaching": [190, 160, 45, 150]})
    retention = plot_data.early_career_retention(cohorts, start_year=2018)
    assert list(retention["years_since_entry"]) == [0, 1, 0]  # 2 years on is not shown
    assert list(retention["year"]) == [2018, 2019, 2019]
    assert list(retention["time"]) == [2018.5, 2019.5, 2019.5]
    assert retention["percent"].tolist() == [95.0, 80.0, 90.0]
    assert (retention["low"] < retention["percent"]).all()
    assert (retention["percent"] < retention["high"]).all()
    widths = retention["high"] - retention["low"]
    assert widths.iloc[2] > widths.iloc[0]  # 50 entrants say less than 200


def test_orphans_are_counted_by_wait_with_their_median_wait_less_those_contracted():
    timeseries = pd.DataFrame({"term": [0, 1, 2], "year": 2018, "term_of_year": [0, 1, 2],
                               "n_orphans": [3, 0, 2]})
    events = pd.DataFrame({"term": [0, 0, 0, 2, 2, 2, 2], "urn": [1, 2, 3, 1, 2, 3, 3],
                           "kind": pd.Categorical(["orphan"] * 6 + ["contract_start"]),
                           "wait_terms": pd.array([1, 2, 9, 3, 5, 11, pd.NA], dtype="Int64")})
    # School 3 waited 11 terms, then a MAT was contracted to support it in term 2: at the
    # term's end it is no longer an orphan.
    orphans = plot_data.orphans_by_wait(timeseries, events)
    bands = [label for label, _, _ in plot_data.WAIT_BANDS]
    assert orphans[bands].to_numpy().tolist() == [[2, 0, 1], [0, 0, 0], [1, 1, 0]]
    assert (orphans[bands].sum(axis=1) == orphans["waiting"]).all()
    assert orphans["median_wait_terms"].tolist()[0] == 2  # the median, not the mean (4)
    assert np.isnan(orphans["median_wait_terms"].iloc[1])
    assert orphans["median_wait_terms"].iloc[2] == 4


def test_stretched_trusts_are_a_percentage_and_empty_without_trusts():
    timeseries = pd.DataFrame({"term": [0, 1], "year": 2018, "term_of_year": [0, 1],
                               "n_multi_academy_trusts": [4, 0],
                               "share_mats_below_threshold": [0.75, 0.0]})
    stretched = plot_data.stretched_trusts(timeseries)
    assert stretched["percent"].iloc[0] == 75
    assert np.isnan(stretched["percent"].iloc[1])


def test_average_cost_is_all_spending_so_far_over_schools_moved_to_good_so_far():
    terms = np.arange(6)
    spent = [1e6] * 6
    timeseries = pd.DataFrame({
        "term": terms, "year": 2018 + terms // 3, "term_of_year": terms % 3,
        "spending_total_gbp": spent, "spending_to_date_gbp": np.cumsum(spent),
        "schools_moved_to_good_to_date": [0, 1, 0, 1, 2, 4],
        # The columns another engineer is removing: the figure must not read them.
        "cost_per_school_moved_to_good_gbp": [99.0] * 6})
    spending = plot_data.spending(timeseries)
    assert spending["spending_gbp"].tolist() == [3e6, 3e6]
    assert np.isnan(spending["average_cost_per_school_moved_gbp"].iloc[0])  # no net move
    assert spending["average_cost_per_school_moved_gbp"].iloc[1] == 6e6 / 4
    assert spending["average_cost_per_school_moved_gbp"].tolist()[1] == plot_data.spending(
        timeseries.drop(columns="cost_per_school_moved_to_good_gbp"))[
        "average_cost_per_school_moved_gbp"].tolist()[1]


def test_synthetic_titles_name_the_scenario_policy_and_scale():
    files = plot_data.RunFiles(
        timeseries=pd.DataFrame(), config={"scenario": {"scale": 0.1}},
        summary={"scenario": "national", "policy": "combined", "seed": 2, "n_schools": 2175,
                 "horizon_years": 2})
    assert plot_data.figure_title(files) == (
        "England at scale 0.1 under All three levers, seed 2: 2,175 schools, 2 years")


@pytest.fixture(scope="module")
def gias_run(tmp_path_factory):
    """A one-year run of the GIAS fixture's Blackpool, written as `python -m sim` writes."""
    folder = tmp_path_factory.mktemp("gias_run")
    config = make_config("population=gias", f"population.path={GIAS_FIXTURE}",
                         "population.areas=[Blackpool]", "horizon_years=1")
    write_run(folder, to_dict(config), simulate(config))
    return folder


def test_a_gias_run_is_titled_by_its_place_not_the_scenario(gias_run):
    summary = json.loads((gias_run / "summary.json").read_text())
    assert summary["scenario"] == "opportunity_area"  # the scenario sets only the conditions
    title = plot_data.figure_title(plot_data.read_run(gias_run))
    assert title.startswith("Blackpool (GIAS extract gias_fixture.csv) under Status quo")
    assert "Opportunity Area" not in title


def test_the_figure_is_drawn_from_the_files_with_or_without_the_panel(gias_run, tmp_path):
    files = plot_data.read_run(gias_run)
    orphans = plot_data.orphans_by_wait(files.timeseries, files.orphan_events)
    bands = [label for label, _, _ in plot_data.WAIT_BANDS]
    assert (orphans[bands].sum(axis=1) == orphans["waiting"]).all()  # as the record counts
    assert plot_run(gias_run).stat().st_size > 10_000
    without_panel = tmp_path / "run"
    shutil.copytree(gias_run, without_panel)
    (without_panel / "schools.parquet").unlink()
    (without_panel / "summary.png").unlink()
    assert plot_run(without_panel).stat().st_size > 10_000


@pytest.mark.parametrize("n_schools", [1, 2, 4])
def test_a_place_of_fewer_than_five_schools_has_no_fifths_and_still_gets_its_figure(
        tmp_path, n_schools):
    """Fifths are ranks: with fewer than five schools there is no least disadvantaged one
    (a school of 1 ranks in the top fifth), so its count is 0 and its share nan, and the
    figure says so rather than failing after the whole run."""
    one_year = schools_panel([2] * 1, [3] * 1, middle=n_schools - 2) if n_schools >= 2 \
        else pd.DataFrame({"year": [2018], "urn": [1], "fsm_share": [0.3], "grade": [2]})
    gap = plot_data.disadvantage_gap(one_year)
    assert gap["least_schools"].item() == 0 and gap["most_schools"].item() == 1
    assert gap[["least_percent", "gap_points", "gap_low", "gap_high"]].isna().all(axis=None)
    header, *rows = GIAS_FIXTURE.read_bytes().splitlines(keepends=True)  # (Windows-1252)
    place = tmp_path / "gias.csv"
    place.write_bytes(header + b"".join([row for row in rows
                                         if b",Blackpool," in row][:n_schools]))
    config = make_config("population=gias", f"population.path={place}",
                         "population.areas=[Blackpool]", "horizon_years=1")
    folder = tmp_path / "run"
    write_run(folder, to_dict(config), simulate(config))
    assert plot_run(folder).stat().st_size > 10_000
