"""`python -m sim.validate`: each measure against a hand computation on tables made by hand,
the patterns file's schema, the command end to end on a tiny run, and bad input, which ends
in one `sim: error:` line, a non-zero status and no files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config import configure, to_dict
from sim.errors import UserError, run_command
from sim.model import SchoolSystemModel
from sim.outputs import write_run
from sim.run import simulate
from sim.scorecard.measures import MEASURES, RunTables, orphan_waits
from sim.scorecard.patterns import Pattern, load_patterns
from sim.scorecard.report import (
    COLUMNS,
    RunScore,
    orphan_wait_distribution,
    scorecard,
    transition_matrix,
)
from sim.scorecard.targets import load_dynamic_targets, load_targets, moving_share_from_tables
from sim.validate.command import main
from tests.conftest import REPOSITORY, environment, make_config

EVENT_COLUMNS = ["term", "year", "kind", "urn", "trust_id", "old_trust_id", "old_grade",
                 "new_grade", "rule", "wait_terms", "detail"]


def events(*rows: dict) -> pd.DataFrame:
    """An events table as a run writes it, from rows giving only what differs."""
    blank = {"term": 0, "kind": "inspection", "urn": 1, "trust_id": None, "old_trust_id": None,
             "old_grade": None, "new_grade": None, "rule": None, "wait_terms": None,
             "detail": None, "outcome": None}
    frame = pd.DataFrame([{**blank, **row} for row in rows], columns=[*blank])
    frame["year"] = 2018 + frame["term"] // 3
    frame["kind"] = pd.Categorical(frame["kind"])
    for column in ("urn", "trust_id", "old_trust_id", "old_grade", "new_grade", "wait_terms"):
        frame[column] = frame[column].astype("Int64")
    for column in ("rule", "detail", "outcome"):
        frame[column] = frame[column].astype("string")
    return frame[[*EVENT_COLUMNS, "outcome"]]


def timeseries(years: int, **columns: list[float]) -> pd.DataFrame:
    terms = np.arange(3 * years)
    return pd.DataFrame({"term": terms, "term_of_year": terms % 3, "n_schools": 10, **columns})


def tables(event_rows: list[dict] = (), years: int = 2, schools: pd.DataFrame | None = None,
           cohorts: pd.DataFrame | None = None, **series: list[float]) -> RunTables:
    panel = schools if schools is not None else pd.DataFrame(
        {"year": [2018], "urn": [1], "governance": ["maintained"], "fsm_share": [0.1]})
    return RunTables(0, 1.0, timeseries(years, **series), panel, events(*event_rows), cohorts)


def inspection(old: int, new: int, detail: str | None = None, **row: object) -> dict:
    return {"kind": "inspection", "old_grade": old, "new_grade": new, "detail": detail, **row}


TRANSITIONS = [inspection(3, 2, "graded"), inspection(3, 1), inspection(3, 3, "graded"),
               inspection(3, 4, "graded"), inspection(3, 2, "ungraded"),
               inspection(4, 2, "graded"), inspection(4, 4), inspection(4, 3, "graded"),
               inspection(4, 1, "graded"), inspection(1, 1), inspection(2, 3, "graded"),
               inspection(2, 2, "ungraded"), inspection(1, 2, "graded")]


@pytest.mark.parametrize(("measure", "expected"), [
    ("ri_to_good_or_better_at_next_graded", 2 / 4),  # the ungraded 3 -> 2 is left out
    ("requires_improvement_to_inadequate_at_next_graded", 1 / 4),
    ("inadequate_to_good_or_better_at_next_graded", 2 / 4),
    ("good_or_better_stays_good_or_better", 3 / 4),  # the ungraded 2 -> 2 counts
    ("share_ungraded_of_inspections", 2 / 13),
])
def test_inspection_measures_by_hand(measure, expected):
    assert MEASURES[measure](tables(TRANSITIONS)) == pytest.approx(expected)


def test_inspection_measures_are_undefined_without_inspections_and_an_empty_detail_is_graded():
    none = tables([{"kind": "join", "detail": "sponsored", "wait_terms": 2}])
    for measure in ("ri_to_good_or_better_at_next_graded", "good_or_better_stays_good_or_better",
                    "share_ungraded_of_inspections"):
        assert MEASURES[measure](none) is None
    older = tables([inspection(3, 2), inspection(3, 3)])  # a run made before `detail` was set
    assert MEASURES["ri_to_good_or_better_at_next_graded"](older) == 0.5
    assert MEASURES["share_ungraded_of_inspections"](older) == 0.0


def test_inspections_per_year_count_schools_once_a_year():
    run = tables([inspection(2, 2, urn=1), inspection(2, 2, urn=2, term=1),
                  inspection(2, 2, urn=2, term=2, detail="ungraded"), inspection(2, 2, urn=3),
                  inspection(2, 2, urn=4, term=4)])
    # year 1: schools 1, 2, 3 of 10; year 2: school 4 of 10
    assert MEASURES["share_of_schools_inspected_per_year"](run) == pytest.approx(0.2)


ORDERS = [{"kind": "conversion", "urn": 1, "term": 0, "detail": "converter"},  # before its order
          {"kind": "academy_order", "urn": 1, "term": 2},
          {"kind": "conversion", "urn": 1, "term": 5, "detail": "sponsored"},  # 3 terms
          {"kind": "academy_order", "urn": 2, "term": 2},
          {"kind": "conversion", "urn": 2, "term": 14, "detail": "sponsored"},  # 12 terms
          {"kind": "academy_order", "urn": 3, "term": 5},
          {"kind": "academy_order", "urn": 3, "term": 8},
          {"kind": "conversion", "urn": 3, "term": 11, "detail": "sponsored"},  # 6 from the first
          {"kind": "academy_order", "urn": 4, "term": 17},  # too late to follow for 12 months
          {"kind": "academy_order", "urn": 5, "term": 2}]  # never opened


def test_academy_order_to_opening_by_hand():
    run = tables(ORDERS, years=6)
    # opened after 3, 12 and 6 terms: the median is 6 terms, 24 months
    assert MEASURES["months_from_academy_order_to_opening_median"](run) == 24.0
    assert MEASURES["months_from_academy_order_to_opening_mean"](run) == pytest.approx(28.0)
    # followed for 12 months: schools 1, 2, 3 and 5, of which 1 opened within 3 terms
    assert MEASURES["share_opened_within_12_months_of_order"](run) == 0.25


def test_academy_order_to_opening_is_undefined_without_conversion_events():
    run = tables([row for row in ORDERS if row["kind"] != "conversion"], years=6)
    assert MEASURES["months_from_academy_order_to_opening_median"](run) is None
    assert MEASURES["share_opened_within_12_months_of_order"](run) is None


def test_cohort_retention_pools_cohorts_weighted_by_entrants():
    cohorts = pd.DataFrame({"cohort": [2018, 2019, 2018], "year": [2020, 2021, 2021],
                            "years_since_entry": [2, 2, 3], "entrants": [100, 300, 100],
                            "still_teaching": [80, 210, 70]})
    cohorts["share_still_teaching"] = cohorts["still_teaching"] / cohorts["entrants"]
    run = tables(cohorts=cohorts)
    assert MEASURES["cohort_retention_after_2_years"](run) == pytest.approx(290 / 400)
    assert MEASURES["cohort_retention_after_3_years"](run) == pytest.approx(0.7)
    assert MEASURES["cohort_retention_after_5_years"](run) is None
    assert MEASURES["cohort_retention_after_2_years"](tables()) is None  # no cohorts.parquet


def test_inspections_are_counted_as_ofsted_counts_them():
    """An ungraded inspection that converts at once is one graded inspection."""
    run = tables([inspection(2, 2, "ungraded", outcome="confirmed", term=0),
                  inspection(2, 2, "ungraded", outcome="graded_inspection_next", term=1),
                  inspection(2, 2, "ungraded", outcome="converted_to_graded", term=1, urn=2),
                  inspection(2, 4, "graded", term=1, urn=2),
                  inspection(3, 2, "graded", term=4, urn=3)], years=2)
    # four inspections over two years of ten schools; two of the four ungraded
    assert MEASURES["inspections_per_school_per_year"](run) == pytest.approx(0.2)
    assert MEASURES["share_ungraded_of_inspections"](run) == pytest.approx(0.5)
    # of the three counted inspections of good schools, two kept good or better
    assert MEASURES["good_or_better_stays_good_or_better"](run) == pytest.approx(2 / 3)


def test_turnover_gap_of_secondary_schools_only():
    year = pd.DataFrame({"urn": range(20), "fsm_share": np.arange(20) / 20, "teachers": 10,
                         "leavers": 1, "movers_out": 0, "governance": "maintained",
                         "phase": ["primary", "secondary"] * 10})
    year.loc[year["phase"] == "secondary", "leavers"] = np.arange(10)
    run = tables(schools=year.assign(year=2018))
    # secondary fifths: FSM 0.05, 0.15 (1 of 20 teachers) against 0.85, 0.95 (17 of 20)
    assert MEASURES["turnover_gap_pp_most_to_least_disadvantaged_secondary"](run) \
        == pytest.approx(80.0)
    assert MEASURES["turnover_gap_pp_most_to_least_disadvantaged"](run) > 0


def test_turnover_of_the_most_and_least_disadvantaged_fifths_by_hand():
    year = pd.DataFrame({"urn": range(10), "fsm_share": np.arange(10) / 10, "teachers": 10,
                         "leavers": [1, 0, 0, 0, 0, 0, 0, 0, 2, 1],
                         "movers_out": [0, 1, 5, 5, 5, 5, 5, 5, 1, 0],
                         "governance": "maintained"})
    panel = pd.concat([year.assign(year=2018), year.assign(year=2019)], ignore_index=True)
    run = tables(schools=panel)
    # most disadvantaged (FSM 0.8, 0.9): 4 of 20 teachers a year; least (0.0, 0.1): 2 of 20
    assert MEASURES["turnover_ratio_most_to_least_disadvantaged"](run) == pytest.approx(2.0)
    assert MEASURES["turnover_gap_pp_most_to_least_disadvantaged"](run) == pytest.approx(10.0)
    older = tables(schools=panel.drop(columns=["leavers", "movers_out"]))
    assert MEASURES["turnover_ratio_most_to_least_disadvantaged"](older) is None


def test_share_of_mats_below_threshold_is_the_highest_yearly_mean():
    run = tables(share_mats_below_threshold=[0.1, 0.2, 0.3, 0.5, 0.6, 0.7])
    assert MEASURES["share_mats_below_threshold_max_over_years"](run) == pytest.approx(0.6)
    assert MEASURES["share_mats_below_threshold_max_over_years"](tables()) is None


def test_orphan_waits_count_those_still_waiting_whose_outcome_is_known():
    run = tables([*({"kind": "placement", "wait_terms": wait, "term": 2}
                    for wait in (0, 2, 4, 8)),
                  {"kind": "join", "detail": "rebrokered", "wait_terms": 1, "term": 2},
                  {"kind": "join", "detail": "sponsored", "wait_terms": 6, "term": 4},  # opening
                  {"kind": "orphan", "wait_terms": 9, "term": 2},  # not the last round
                  *({"kind": "orphan", "wait_terms": wait, "term": 5} for wait in (1, 5, 10))])
    placed, waiting = orphan_waits(run)
    assert sorted(placed) == [0, 2, 4, 8] and sorted(waiting) == [1, 5, 10]
    score = RunScore(0, {}, {}, pd.DataFrame(), placed, waiting)
    values = orphan_wait_distribution([score, score]).set_index("statistic")["value"]
    assert values["schools placed"] == 8 and values["schools still waiting at the end"] == 6
    assert values["wait of those placed, 50% quantile (terms)"] == 3.0
    # within 3 terms: 2 placed of 4 placed + 2 waiting longer; within 6: 3 of 4 + 1
    assert values["share placed within 3 terms"] == pytest.approx(2 / 6)
    assert values["share placed within 6 terms"] == pytest.approx(3 / 5)


def score(seed: int, measures: dict[str, float | None], transitions: pd.DataFrame) -> RunScore:
    targets = {target.name: 0.5 for target in load_targets()}
    return RunScore(seed, targets, measures, transitions, np.zeros(0), np.zeros(0))


def test_transitions_are_pooled_over_runs_as_row_shares():
    first = pd.DataFrame({"old_grade": [3, 3], "new_grade": [2, 3], "inspections": [1, 2]})
    second = pd.DataFrame({"old_grade": [3, 4], "new_grade": [4, 4], "inspections": [1, 5]})
    matrix = transition_matrix([score(0, {}, first), score(1, {}, second)])
    assert matrix.loc[3, [1, 2, 3, 4]].tolist() == [0.0, 0.25, 0.5, 0.25]
    assert matrix.loc[3, "inspections"] == 4 and matrix.loc[4, 4] == 1.0
    assert matrix.loc[1].drop("inspections").isna().all()  # no outstanding school inspected


def test_a_row_is_in_when_the_seed_mean_lies_in_its_band():
    calibration = [Pattern("transition", "a", 0.4, 0.6, "Ofsted"),
                   Pattern("mats", "b", 0.0, 0.5, "rule", optional=True)]
    validation = [Pattern("waits", "c", None, None, None), Pattern("miss", "d", 0.0, 0.1, "x")]
    runs = [score(0, {"a": 0.3, "b": None, "c": 1.0, "d": None}, pd.DataFrame()),
            score(1, {"a": 0.7, "b": None, "c": 3.0, "d": None}, pd.DataFrame()),
            score(2, {"a": None, "b": None, "c": 2.0, "d": None}, pd.DataFrame())]
    table = scorecard(runs, calibration, validation)
    assert list(table.columns) == COLUMNS
    table = table.set_index("name")
    assert "mats" not in table.index  # optional, and undefined in every run
    assert table.loc["transition", ["seed_mean", "seed_min", "seed_max"]].tolist() == \
        pytest.approx([0.5, 0.3, 0.7])
    assert table.loc["transition", "in_band"] == True  # noqa: E712 (a nullable boolean)
    assert pd.isna(table.loc["waits", "in_band"]) and table.loc["waits", "seed_mean"] == 2.0
    assert pd.isna(table.loc["miss", "in_band"]) and pd.isna(table.loc["miss", "seed_mean"])
    assert len(table[table["table"] == "calibration"]) == len(load_targets()) + 1


def test_the_patterns_file_follows_its_schema():
    patterns = load_patterns()
    assert {pattern.measure for pattern in patterns} <= set(MEASURES)
    assert len({pattern.name for pattern in patterns}) == len(patterns)
    for pattern in patterns:
        assert pattern.low is None or (pattern.low <= pattern.high and pattern.source)
    [target] = load_dynamic_targets()
    assert (target.measure, target.low, target.high) == ("ri_to_good_or_better_at_next_graded",
                                                         0.56, 0.78)


@pytest.mark.parametrize(("entry", "said"), [
    ("{name: a, measure: nothing, band: null}", "unknown measure 'nothing'"),
    ("{name: a, measure: share_ungraded_of_inspections, band: [0.5, 0.1], source: x}",
     "low above high"),
    ("{name: a, measure: share_ungraded_of_inspections, band: [0.1, .inf], source: x}",
     "two finite numbers"),
    ("{name: a, measure: share_ungraded_of_inspections, band: [0.1, 0.2]}", "needs its source"),
    ("{name: a, measure: share_ungraded_of_inspections, bands: null}", "unknown key 'bands'"),
])
def test_a_patterns_file_that_breaks_the_schema_is_refused_naming_the_entry(tmp_path, entry, said):
    path = tmp_path / "patterns.yaml"
    path.write_text(f"patterns:\n  - {entry}\n")
    with pytest.raises(UserError, match=said) as refused:
        load_patterns(path)
    assert "pattern 1" in str(refused.value) and "\n" not in str(refused.value)


def test_academies_moving_trust_read_from_the_files_is_what_the_model_tallies():
    model = SchoolSystemModel(configure(["scenario=national", "scenario.scale=0.05",
                                         "horizon_years=2", "output.progress=false"]))
    model.run()
    result = model.results()
    tallied = (np.asarray(model.tallies.trust_moves_by_year, dtype=float)
               / np.maximum(np.asarray(model.tallies.academies_by_year, dtype=float), 1))
    assert moving_share_from_tables(result.events, result.schools) == pytest.approx(tallied)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    """One run of an Opportunity Area, two years, as `python -m sim` writes it."""
    config = make_config("scenario=opportunity_area", "horizon_years=2", "seed=3")
    folder = tmp_path_factory.mktemp("runs") / "run"
    write_run(folder, to_dict(config), simulate(config))
    return folder


def validate(arguments: list[str], capsys) -> tuple[int, str, str]:
    """Run the command as `python -m sim.validate` does, in this process."""
    with pytest.raises(SystemExit) as stopped:
        run_command(lambda: main(arguments))
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def test_the_scorecard_of_existing_runs(tiny_run, tmp_path, capsys):
    output = tmp_path / "card"
    status, out, err = validate(["--runs", str(tiny_run), str(tiny_run), "--output",
                                 str(output)], capsys)
    assert status in (0, 1)  # an Opportunity Area is not England: its targets may miss
    assert "opportunity_area under status_quo" in err  # said, once
    assert sorted(path.name for path in output.iterdir()) == [
        "orphan_waits.csv", "scorecard.csv", "scorecard.md", "transitions.csv"]
    table = pd.read_csv(output / "scorecard.csv")
    assert list(table.columns) == COLUMNS
    assert len(table[table["table"] == "validation"]) == len(load_patterns())
    calibration = table[table["table"] == "calibration"]
    assert (status == 0) == bool(calibration["in_band"].eq(True).all())
    assert "requires_improvement_to_good_or_better_at_next_graded" in set(calibration["name"])
    assert (output / "scorecard.md").read_text() in out  # printed as written
    assert "1 run folder(s) read" in out and "## Validation patterns" in out
    transitions = pd.read_csv(output / "transitions.csv")
    assert len(transitions) == 16 and not list(tiny_run.parent.glob(".*staging"))


def test_the_scorecard_of_new_runs(tmp_path, capsys):
    output = tmp_path / "new" / "card"
    status, out, err = validate(["--seeds", "2", "--years", "1", "--scale", "0.02",
                                 "--workers", "1", "--output", str(output)], capsys)
    assert status in (0, 1)
    assert err.count("finished") == 2 and "seed 1 finished (2 of 2)" in err
    assert (output / "scorecard.csv").is_file() and "2 seed(s)" in out


def test_new_runs_with_the_parameters_of_a_calibration_study(tmp_path, capsys):
    """`--overrides` takes a fit's best_overrides.txt: the runs use those values (a change
    that moves the scorecard), and the scorecard names them."""
    overrides = tmp_path / "best_overrides.txt"
    overrides.write_text("# from a study\nmodel.inspection.noise_sd=0.6\n"
                         "model.improvement.own_improvement_rate=0.2\n")
    cards = {}
    for name, extra in (("default", []), ("fitted", ["--overrides", str(overrides)])):
        status, _, _ = validate(["--seeds", "1", "--years", "2", "--scale", "0.05",
                                   "--workers", "1", "--output", str(tmp_path / name), *extra],
                                  capsys)
        assert status in (0, 1)
        cards[name] = pd.read_csv(tmp_path / name / "scorecard.csv")
    assert "model.inspection.noise_sd=0.6" in (tmp_path / "fitted" / "scorecard.md").read_text()
    assert not cards["default"]["seed_mean"].equals(cards["fitted"]["seed_mean"])


def test_new_runs_in_worker_processes_from_the_command_line(tmp_path):
    """In parallel, from a process that has started no thread before it forks its workers
    (Python warns, here an error, when a process with threads forks)."""
    finished = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-m", "sim.validate", "--seeds", "2",
         "--years", "1", "--scale", "0.02", "--workers", "2", "--output", "card"],
        cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=120)
    assert finished.returncode in (0, 1), finished.stderr
    assert finished.stderr.count("finished") == 2 and "Warning" not in finished.stderr
    assert len(pd.read_csv(tmp_path / "card" / "scorecard.csv")) > len(load_targets())


def test_by_default_the_files_go_to_a_new_folder_under_results(tiny_run, tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second, in the same second, takes <time>_2
        validate(["--runs", str(tiny_run)], capsys)
    written = sorted((tmp_path / "results" / "validation").iterdir())
    assert len(written) == 2 and all((folder / "scorecard.md").is_file() for folder in written)


@pytest.mark.parametrize(("arguments", "said"), [
    (["--runs", "{tmp}/absent"], "does not exist"),
    (["--runs", "{tmp}/empty"], "not a complete run folder"),
    (["--runs", "{tmp}/file.txt"], "is a file"),
    (["--runs", "{parent}"], "it holds run folders (run)"),
    (["--runs", "{run}", "--seeds", "3"], "--seeds is for new runs"),
    (["--seeds", "0"], "--seeds 0: the number of seeds must be from 1 to 1000"),
    (["--scale", "nan"], "--scale nan"),
    (["--years", "3", "--workers", "0"], "--workers 0"),
    (["--runs", "{run}", "--output", "{tmp}/full"], "already holds files"),
    (["--runs", "{run}", "--output", "{run}/card"], "inside the run folder"),
    (["--runs", "{run}", "--output", ""], "names no folder"),
    (["--seeds"], "expected one argument"),
    (["--overrides", "{tmp}/absent.txt"], "cannot be read"),
    (["--overrides", "{tmp}/file.txt"], "is not a model parameter's KEY=VALUE"),
    (["--overrides", "{tmp}/bad_value.txt"], "support_effect"),
    # A key the config does not have, said as `python -m sim` says it (Hydra refuses it
    # while composing, before sim's own checks).
    (["--overrides", "{tmp}/misspelt.txt"], "--overrides {tmp}/misspelt.txt: unknown parameter "
                                            "'model.trusts.giver_taker_treshold'; did you mean "
                                            "'model.trusts.giver_taker_threshold'?"),
    (["--overrides", "{tmp}/unknown.txt"], "unknown parameter 'model.nonsense'"),
    (["--runs", "{run}", "--overrides", "{tmp}/overrides.txt"], "--overrides is for new runs"),
])
def test_bad_input_is_one_line_and_writes_nothing(tiny_run, tmp_path, capsys, arguments, said):
    (tmp_path / "bad_value.txt").write_text("model.improvement.support_effect=-3\n")
    (tmp_path / "misspelt.txt").write_text("model.trusts.giver_taker_treshold=4\n")
    (tmp_path / "unknown.txt").write_text("model.nonsense=3\n")
    (tmp_path / "overrides.txt").write_text("model.improvement.support_effect=0.6\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.txt").write_text("not a run")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("mine")
    before = sorted(tmp_path.rglob("*")) + sorted(tiny_run.parent.rglob("*"))
    arguments = [argument.format(tmp=tmp_path, parent=tiny_run.parent, run=tiny_run)
                 for argument in arguments]
    status, out, err = validate(arguments, capsys)
    assert status == 2 and out == ""
    said = said.format(tmp=tmp_path)
    assert err.startswith("sim: error: ") and err.count("\n") == 1 and said in err, err
    assert sorted(tmp_path.rglob("*")) + sorted(tiny_run.parent.rglob("*")) == before


def test_a_run_without_its_school_panel_is_refused(tiny_run, tmp_path, capsys):
    copy = tmp_path / "run"
    copy.mkdir()
    for path in tiny_run.iterdir():
        if path.name != "schools.parquet":
            (copy / path.name).write_bytes(path.read_bytes())
    status, _, err = validate(["--runs", str(copy), "--output", str(tmp_path / "card")], capsys)
    assert status == 2 and "output.school_panel=false" in err and err.count("\n") == 1


def test_the_command_line_says_bad_input_in_one_line(tmp_path):
    finished = subprocess.run([sys.executable, "-m", "sim.validate", "--seeds", "0"],
                              cwd=tmp_path, env=environment(), capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 2 and finished.stdout == ""
    assert finished.stderr.startswith("sim: error: --seeds 0") and finished.stderr.count("\n") == 1
    assert not list(tmp_path.iterdir()) and REPOSITORY.is_dir()
