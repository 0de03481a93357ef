"""The data behind sim.compare's figures, on runs written by hand.

- `comparison.png` draws each group's paired difference from the baseline over time: a
  policy whose every term is the status quo's with the same seed plus 1 differs by exactly
  1, with an interval of zero width; a run with no status-quo partner is in no pair; runs
  of parameter sets are paired by set and seed.
- Every figure gives a policy the same colour (`sim.labels.policy_colour`), whichever
  other policies a comparison holds.
- The heat map's cells are paired differences from the reference cell, and its text is
  black on light cells and white on dark ones.
- `cost_effectiveness.png` draws the resamples whose percentiles are cost_effectiveness.csv's
  intervals.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from sim.compare import cost_effectiveness, figures, over_time
from sim.compare.heat_map import heat_map_cells, relative_luminance, text_colour
from sim.compare.pairing import compare
from sim.compare.reading import MEASURES
from sim.compare.style import group_colours
from sim.labels import POLICY_COLOURS, measure_name

TERMS = 6  # two years
COLUMNS = ("share_good_or_better", "n_orphans", "teacher_leaving_rate", "spending_to_date_gbp",
           "good_or_better_gap")


def base_series(seed: int, parameter_set: int = 0) -> pd.DataFrame:
    """A status-quo run's series that differs by seed and set, so a wrong pair shows; in
    eighths, which floats hold exactly, so that a difference of 1 is exactly 1."""
    terms = np.arange(TERMS)
    level = 0.125 * seed + 0.25 * terms**2 + 4.0 * parameter_set
    return pd.DataFrame({column: level * (number + 1) for number, column in enumerate(COLUMNS)},
                        index=pd.Index(terms, name="term"))


def make_comparison(runs: list[tuple[str, int, int, float]], with_sets: bool = False):
    """A comparison of runs given as (policy, seed, parameter set, shift over the status
    quo's series), and their series; runs are listed in the given order, not by seed."""
    rows, settings, series = [], [], {}
    for number, (policy, seed, parameter_set, shift) in enumerate(runs):
        run = f"run{number}"
        rows.append({"run": run, "scenario": "opportunity_area", "policy": policy, "seed": seed,
                     "horizon_years": 2, **{m: float(seed + shift) for m in MEASURES},
                     "schools_moved_to_good": float(seed % 2 + shift),
                     "good_or_better_final": 0.75})
        setting = {"scenario": "opportunity_area", "policy": policy, "seed": str(seed),
                   "horizon_years": "2"}
        if with_sets:
            setting["uncertainty.parameter_set"] = str(parameter_set)
        settings.append(setting)
        series[run] = base_series(seed, parameter_set) + shift
    table, frame = pd.DataFrame(rows), pd.DataFrame(settings, dtype=object)
    return compare(table, frame, "policy", None), series


def test_a_policy_one_above_the_status_quo_every_term_differs_by_exactly_one():
    runs = [("universal_partnership", seed, 0, 1.0) for seed in (2, 0, 1)]
    runs += [("status_quo", seed, 0, 0.0) for seed in (1, 2, 0)]
    comparison, series = make_comparison(runs)
    frame = over_time.paired_over_time(comparison, series)
    assert set(frame["measure"]) == set(COLUMNS)  # the gap too: every run has it
    assert len(frame) == len(COLUMNS) * TERMS
    assert (frame["pairs"] == 3).all()
    assert (frame["mean_difference"] == 1.0).all()
    assert (frame["ci90_low"] == 1.0).all() and (frame["ci90_high"] == 1.0).all()
    assert list(frame["year"].iloc[:3]) == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_a_run_with_no_status_quo_partner_is_left_out():
    runs = [("mat_contracting", seed, 0, 1.0) for seed in (0, 1, 2)]
    runs += [("mat_contracting", 9, 0, 100.0)]  # no status quo run of seed 9
    runs += [("status_quo", seed, 0, 0.0) for seed in (0, 1, 2)]
    comparison, series = make_comparison(runs)
    frame = over_time.paired_over_time(comparison, series)
    assert (frame["pairs"] == 3).all()
    assert (frame["mean_difference"] == 1.0).all()


def test_runs_of_parameter_sets_are_paired_by_set_and_seed():
    runs = [(policy, seed, parameter_set, shift)
            for policy, shift in (("combined", 1.0), ("status_quo", 0.0))
            for parameter_set in (1, 0) for seed in (0, 1)]
    comparison, series = make_comparison(runs, with_sets=True)
    assert "uncertainty.parameter_set" in comparison.keys
    frame = over_time.paired_over_time(comparison, series)
    assert (frame["pairs"] == 4).all()
    assert (frame["mean_difference"] == 1.0).all() and (frame["ci90_high"] == 1.0).all()


def test_the_disadvantage_gap_is_drawn_only_when_every_run_has_it():
    runs = [("combined", 0, 0, 1.0), ("combined", 1, 0, 1.0), ("status_quo", 0, 0, 0.0),
            ("status_quo", 1, 0, 0.0)]
    comparison, series = make_comparison(runs)
    series["run0"] = series["run0"].drop(columns="good_or_better_gap")  # an older run
    frame = over_time.paired_over_time(comparison, series)
    assert "good_or_better_gap" not in set(frame["measure"])
    assert over_time.drawn_panels(series) == [c for c in over_time.PANELS
                                              if c != "good_or_better_gap"]


def svg_colours(svg: bytes) -> set[str]:
    return set(re.findall(r"#[0-9a-f]{6}", svg.decode("utf-8").lower()))


def test_a_policy_has_the_same_colour_in_every_figure_whatever_else_is_compared():
    every = [(policy, seed, 0, 1.0 if policy != "status_quo" else 0.0)
             for policy in POLICY_COLOURS for seed in (0, 1, 2)]
    alone = [run for run in every if run[0] in ("status_quo", "local_governance")]
    colour = POLICY_COLOURS["local_governance"].lower()
    for runs in (every, alone):
        comparison, series = make_comparison(runs)
        assert group_colours(comparison)["local_governance"].lower() == colour
        assert group_colours(comparison)["status_quo"] == "#000000"
        with figures.quietly():
            drawn = {"comparison": over_time.plot_differences_over_time(
                comparison, over_time.paired_over_time(comparison, series)),
                "differences": figures.plot_differences(comparison),
                "outcomes": figures.plot_outcomes(comparison)}
        for name, files in drawn.items():
            assert colour in svg_colours(files["svg"]), f"{name} lacks local governance's colour"
    # Alone with the status quo, local governance is not given the first colour of a cycle.
    assert colour != "#1f77b4"


def test_differences_of_shares_and_rates_are_in_percentage_points():
    for measure in ("good_or_better_change", "teacher_leaving_rate_mean"):
        assert measure_name(measure)[1:] == ("percentage points", 100.0)
    assert over_time.PANELS["teacher_leaving_rate"][1] == "percentage points"


@pytest.mark.parametrize(("rgba", "expected"), [
    ((1.0, 1.0, 1.0, 1.0), "black"), ((0.96, 0.91, 0.55, 1.0), "black"),  # white, yellow
    ((0.0, 0.0, 0.0, 1.0), "white"), ((0.0, 0.24, 0.19, 1.0), "white"),  # black, dark teal
    ((0.33, 0.19, 0.02, 1.0), "white")])  # dark brown
def test_heat_map_text_is_black_on_light_cells_and_white_on_dark(rgba, expected):
    assert text_colour(rgba) == expected


def test_heat_map_text_reads_at_both_ends_and_the_middle_of_its_colour_map():
    from matplotlib import colormaps

    colour_map = colormaps["BrBG"]
    assert text_colour(colour_map(0.0)) == text_colour(colour_map(1.0)) == "white"
    assert text_colour(colour_map(0.5)) == "black"
    assert relative_luminance((1.0, 1.0, 1.0)) == pytest.approx(1.0)


def test_heat_map_cells_are_paired_differences_from_the_reference():
    """Threshold 3 is the reference; threshold 5 is its run plus 2 at every seed and supply."""
    rows, settings = [], []
    for threshold in (3, 5):
        for supply in ("0.5", "1"):
            for seed in (0, 1, 2):
                value = 10.0 * seed + (2.0 if threshold == 5 else 0.0) + float(supply)
                rows.append({"run": f"t{threshold}s{supply}n{seed}", "scenario": "opportunity_area",
                             "policy": "status_quo", "seed": seed, "horizon_years": 2,
                             **{m: value for m in MEASURES}})
                settings.append({"scenario": "opportunity_area", "policy": "status_quo",
                                 "seed": str(seed), "horizon_years": "2",
                                 "model.trusts.giver_taker_threshold": str(threshold),
                                 "scenario.teacher_supply": supply})
    comparison = compare(pd.DataFrame(rows), pd.DataFrame(settings, dtype=object),
                         "model.trusts.giver_taker_threshold", "3")
    parameters = ["model.trusts.giver_taker_threshold", "scenario.teacher_supply"]
    cells = heat_map_cells(comparison, parameters, "orphan_terms").set_index(
        ["row_value", "column_value"])
    assert (cells["pairs"] == 3).all()
    assert list(cells.loc[3.0, "mean_difference"]) == [0.0, 0.0]
    assert list(cells.loc[5.0, "mean_difference"]) == [2.0, 2.0]
    assert list(cells.loc[5.0, "standard_error"]) == [0.0, 0.0]


def test_the_plane_draws_the_resamples_of_the_cost_effectiveness_table():
    runs = [("universal_partnership", seed, 0, 1.0 + 0.3 * (seed % 3)) for seed in range(6)]
    runs += [("status_quo", seed, 0, 0.0) for seed in range(6)]
    comparison, _ = make_comparison(runs)
    economics = cost_effectiveness.analyse(comparison)
    for _, row in economics.table.iterrows():
        cloud = economics.resamples[(row["policy"], row["effect"])]
        assert cloud.shape == (cost_effectiveness.RESAMPLES, 2)
        (cost_low, effect_low), (cost_high, effect_high) = np.quantile(cloud, [0.05, 0.95],
                                                                       axis=0)
        assert cost_low == pytest.approx(row["incremental_cost_ci90_low_gbp"])
        assert cost_high == pytest.approx(row["incremental_cost_ci90_high_gbp"])
        assert effect_low == pytest.approx(row["incremental_effect_ci90_low"])
        assert effect_high == pytest.approx(row["incremental_effect_ci90_high"])


def test_a_heat_map_number_that_rounds_to_zero_has_no_sign():
    from sim.compare.heat_map import signed

    assert [signed(v, 1) for v in (-0.02, 0.0, 0.04, 1.25, -0.4)] == ["0.0", "0.0", "0.0",
                                                                       "+1.2", "-0.4"]


def write_run(folder, policy: str, seed: int, shift: float) -> None:
    """A run folder as a run writes it, with the files sim.compare reads."""
    import json

    import yaml

    folder.mkdir(parents=True)
    config = {"scenario": {"name": "opportunity_area", "horizon_years": 2},
              "policy": {"name": policy}, "seed": seed, "horizon_years": 2}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {"scenario": "opportunity_area", "policy": policy, "seed": seed,
               "horizon_years": 2, "good_or_better_final": 0.75, "schools_moved_to_good": shift,
               **{measure: seed + shift for measure in MEASURES}}
    (folder / "summary.json").write_text(json.dumps(summary))
    series = base_series(seed) + shift
    pd.DataFrame({"year": 2018 + series.index // 3, "term_of_year": series.index % 3,
                  **{column: series[column] for column in COLUMNS}}).to_parquet(
        folder / "timeseries.parquet")


def test_the_command_writes_the_paired_figure_and_the_levels_beside_it(tmp_path):
    from sim.compare.command import main

    for policy, shift in (("status_quo", 0.0), ("combined", 1.0)):
        for seed in (0, 1, 2):
            write_run(tmp_path / "runs" / f"{policy}_{seed}", policy, seed, shift + 0.5 * seed)
    assert main([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    for figure in ("comparison", "levels", "differences", "outcomes", "cost_effectiveness"):
        assert (tmp_path / "out" / f"{figure}.png").stat().st_size > 10_000, figure
    # One policy alone: nothing to pair, so comparison.png holds the levels, and no levels.png.
    assert main([str(tmp_path / "runs" / "combined_0"), str(tmp_path / "runs" / "combined_1"),
                 "--output", str(tmp_path / "alone")]) == 0
    assert (tmp_path / "alone" / "comparison.png").exists()
    assert not (tmp_path / "alone" / "levels.png").exists()


def test_settings_are_named_in_words_and_abbreviations_keep_their_capitals():
    from sim.compare.style import in_a_sentence, parameter_name

    assert parameter_name("scenario.teacher_supply") == "Teacher supply (applicants per post)"
    assert parameter_name("model.improvement.shock_sd") == "Shock sd"
    assert parameter_name("model.trusts.hub_radius_km") == "Trusts' hub radius (km)"
    assert parameter_name("policy.mat_contracting.review_days_per_school") == (
        "Review days per school")
    assert in_a_sentence("MAT contract target (grades)") == "MAT contract target (grades)"
    assert in_a_sentence("Teacher supply") == "teacher supply"
