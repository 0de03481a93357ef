"""Self-describing, tidy outputs (issue 16, point 3): every row of every table names its
run; a comparison finds what a sweep varied by itself; a place of many local authorities
gets measures by authority; a GIAS run is filed by its place; no running average cost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.areas import compass_regions
from sim.compare.command import main as compare
from sim.compare.reading import MEASURES
from sim.folders import run_key
from sim.places import place_folder, place_name
from tests.conftest import GIAS_FIXTURE, run_cli

QUIET = ("output.plots=false", "output.progress=false")
TABLES = ("timeseries", "schools", "events", "cohorts")
IDENTIFIERS = ("run_key", "scenario", "place", "policy", "seed")


def only_run(root: Path) -> Path:
    """The one run folder under `root`."""
    (summary,) = root.rglob("summary.json")
    return summary.parent


def tables(run: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(run / f"{name}.parquet") for name in TABLES
            if (run / f"{name}.parquet").is_file()}


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    """A small national run: many local authorities, two years."""
    root = tmp_path_factory.mktemp("national")
    done = run_cli("scenario=national", "scenario.scale=0.1", "horizon_years=2", "seed=4",
                   *QUIET, f"hydra.run.dir={root / 'run'}", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "run"


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """A sweep of one policy over a parameter and two seeds: what it varied is the threshold."""
    root = tmp_path_factory.mktemp("sweep")
    done = run_cli("-m", "seed=0,1", "model.trusts.giver_taker_threshold=2,4",
                   "horizon_years=1", *QUIET, f"hydra.sweep.dir={root / 'sweep'}",
                   "hydra.launcher.n_jobs=1", "hydra.launcher.verbose=0", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "sweep"


def test_every_table_of_a_run_names_the_run_on_every_row(national):
    config = yaml.safe_load((national / "config.yaml").read_text())
    expected = {"run_key": run_key(config), "scenario": "national", "place": "national",
                "policy": "status_quo", "seed": 4}
    found = tables(national)
    assert set(found) == set(TABLES)
    for name, table in found.items():
        assert list(table.columns[:5]) == list(IDENTIFIERS), name
        for column, value in expected.items():
            assert (table[column] == value).all(), (name, column)
        for column in ("run_key", "scenario", "place", "policy"):
            assert isinstance(table[column].dtype, pd.CategoricalDtype), (name, column)
        # A single run swept nothing: no column beyond the identifiers and the table's own.
        assert not [c for c in table.columns if "." in c], name
    summary = json.loads((national / "summary.json").read_text())
    assert summary["place"] == "national" and summary["run_key"] == expected["run_key"]


def test_a_sweeps_tables_name_its_swept_values(sweep):
    runs = sorted(path.parent for path in sweep.rglob("summary.json"))
    assert len(runs) == 4
    for run in runs:
        config = yaml.safe_load((run / "config.yaml").read_text())
        threshold = config["model"]["trusts"]["giver_taker_threshold"]
        for name, table in tables(run).items():
            assert list(table.columns[:6]) == [*IDENTIFIERS, "model.trusts.giver_taker_threshold"]
            assert (table["model.trusts.giver_taker_threshold"] == threshold).all(), name
            assert (table["seed"] == config["seed"]).all(), name
            assert (table["run_key"] == run_key(config)).all(), name


def test_compare_groups_by_the_parameter_a_sweep_varied_with_no_option(sweep, capsys):
    assert compare([str(sweep)]) == 0
    manifest = json.loads((sweep / "comparison.json").read_text())
    assert manifest["group"] == "model.trusts.giver_taker_threshold"
    assert manifest["swept_parameters"] == ["model.trusts.giver_taker_threshold"]
    printed = capsys.readouterr().out
    assert "Swept parameters (found in the runs' configs): model.trusts.giver_taker_threshold (2, 4)" \
        in printed
    differences = pd.read_csv(sweep / "differences.csv")
    assert set(differences["model.trusts.giver_taker_threshold"]) == {4}
    assert set(differences["pairs"]) == {2}
    swept = pd.read_csv(sweep / "swept.csv")
    assert set(swept["model.trusts.giver_taker_threshold"]) == {2, 4}
    assert (swept["runs"] == 2).all()
    runs = pd.read_csv(sweep / "runs.csv")
    assert list(runs.columns[:6]) == ["run", "scenario", "policy", "seed", "horizon_years",
                                      "model.trusts.giver_taker_threshold"]
    assert (runs["place"] == "opportunity_area").all() and runs["run_key"].nunique() == 4


def write_run(folder: Path, policy: str, seed: int, supply: float, budget: float) -> None:
    """A run folder written by hand: its config, summary and time series."""
    folder.mkdir(parents=True)
    config = {"scenario": {"name": "opportunity_area", "teacher_supply": supply},
              "policy": {"name": policy, "start_year": 0 if policy == "status_quo" else 1},
              "seed": seed, "horizon_years": 2,
              "model": {"improvement": {"budget_share": budget}}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {"scenario": "opportunity_area", "policy": policy, "seed": seed,
               "horizon_years": 2, **{measure: seed + supply + budget for measure in MEASURES}}
    (folder / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame({"year": [2018] * 3, "term_of_year": [0, 1, 2], "share_good_or_better": 0.8,
                  "n_orphans": 1, "teacher_leaving_rate": 0.1, "spending_to_date_gbp": 1e6}
                 ).to_parquet(folder / "timeseries.parquet")


def test_compare_finds_swept_parameters_in_hand_written_runs(tmp_path, capsys):
    # Two policies, each over two supplies; the budget share is fixed and a policy's start
    # year differs only between policies: neither is swept.
    for policy in ("status_quo", "combined"):
        for seed in (0, 1):
            for supply in (0.8, 1.0):
                write_run(tmp_path / "runs" / f"{policy}_{seed}_{supply}", policy, seed,
                          supply, 0.5)
    assert compare([str(tmp_path / "runs"), "--output", str(tmp_path / "out")]) == 0
    manifest = json.loads((tmp_path / "out" / "comparison.json").read_text())
    assert manifest["group"] == "policy"
    assert manifest["swept_parameters"] == ["scenario.teacher_supply"]
    swept = pd.read_csv(tmp_path / "out" / "swept.csv")
    assert list(swept.columns[:2]) == ["policy", "scenario.teacher_supply"]
    row = swept[(swept["policy"] == "combined") & (swept["scenario.teacher_supply"] == 0.8)
                & (swept["measure"] == "grades_gained")]
    assert row["mean"].item() == pytest.approx(0.5 + 0.8 + 0.5)  # seeds 0 and 1: mean 0.5
    assert "runs paired by seed and scenario.teacher_supply" in capsys.readouterr().out


def test_areas_add_up_to_the_place(national):
    areas = pd.read_parquet(national / "areas.parquet")
    timeseries = pd.read_parquet(national / "timeseries.parquet")
    schools = pd.read_parquet(national / "schools.parquet")
    assert list(areas.columns[:5]) == list(IDENTIFIERS)
    assert set(areas["level"]) == {"local_authority", "region"}
    authorities = areas[areas["level"] == "local_authority"]
    assert authorities["area"].nunique() == schools["local_authority"].nunique() > 1
    year_end = timeseries[timeseries["term_of_year"] == 2].set_index("year")
    measures = ["n_schools", "n_good_or_better", "n_orphans", "teacher_leavers", "teachers"]
    by_year = authorities.groupby("year")[measures].sum()
    # The synthetic regions partition the authorities: their sums are the place's too.
    by_region = areas[areas["level"] == "region"].groupby("year")[measures].sum()
    assert by_region.equals(by_year)
    assert list(by_year.index) == list(year_end.index)
    assert (by_year["n_schools"] == year_end["n_schools"]).all()
    assert (by_year["n_good_or_better"] / by_year["n_schools"]).to_numpy() == pytest.approx(
        year_end["share_good_or_better"].to_numpy(), abs=1e-12)
    # The status quo has no contracts, so every maintained school awaiting a sponsor is an orphan.
    assert (by_year["n_orphans"] == year_end["n_orphans"]).all()
    assert (by_year["teachers"] == schools.groupby("year")["teachers"].sum()).all()
    assert (by_year["teacher_leavers"] == schools.groupby("year")["leavers"].sum()).all()
    assert areas["share_good_or_better"].between(0, 1).all()
    assert areas["teacher_leaving_rate"].between(0, 1).all()


def test_a_synthetic_place_has_nine_compass_regions_of_whole_authorities(national):
    schools = pd.read_parquet(national / "schools.parquet")
    regions = compass_regions(schools)
    first = schools[schools["year"] == schools["year"].min()]
    assert set(regions) == set(first["local_authority"].astype(str))
    assert len(set(regions.values())) == 9
    located = first.assign(region=first["local_authority"].astype(str).map(regions))
    size = located.groupby("region").size()
    # Every school in one region; regions are whole authorities, so with the 15 of this
    # small place they are uneven (England's 150 split finer).
    assert size.sum() == len(first) and size.min() > 0
    centre = located.groupby("region")[["x_km", "y_km"]].mean()
    assert centre.loc["north (synthetic)", "y_km"] > centre.loc["centre (synthetic)", "y_km"] \
        > centre.loc["south (synthetic)", "y_km"]
    assert centre.loc["west (synthetic)", "x_km"] < centre.loc["centre (synthetic)", "x_km"] \
        < centre.loc["east (synthetic)", "x_km"]
    # Too few authorities for nine regions: none.
    few = first[first["local_authority"].astype(str).isin(sorted(regions)[:5])]
    assert compass_regions(few) == {}


def test_a_place_of_one_authority_has_no_area_table(sweep):
    run = sorted(path.parent for path in sweep.rglob("summary.json"))[0]
    assert not (run / "areas.parquet").exists()


def test_a_gias_run_is_filed_and_named_by_its_place(tmp_path):
    done = run_cli("population=gias", f"population.path={GIAS_FIXTURE}",
                   "population.areas=[Blackpool]", "horizon_years=1", *QUIET,
                   f"output.root={tmp_path / 'results'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = only_run(tmp_path / "results")
    assert run.relative_to(tmp_path / "results").parts[:3] == ("runs", "gias-blackpool",
                                                               "status_quo")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["place"] == "Blackpool" and summary["scenario"] == "opportunity_area"
    assert (pd.read_parquet(run / "timeseries.parquet")["place"] == "Blackpool").all()


def test_place_folders_are_safe_names():
    assert place_folder("gias", ["Fenland and East Cambridgeshire"], "opportunity_area") == \
        "gias-fenland-and-east-cambridgeshire"
    assert place_folder("gias", ["../../etc", "St. Helens"], "x") == "gias-etc-st-helens"
    assert place_folder("gias", [], "national") == "gias-all"
    # An area named only by punctuation is not every area's folder.
    dots = place_folder("gias", [".."], "national")
    assert dots.startswith("gias-areas-") and dots != "gias-all"
    assert dots != place_folder("gias", ["..."], "national")
    assert place_folder("synthetic", ["Blackpool"], "national") == "national"
    long = place_folder("gias", ["a very long area name " * 10], "x")
    assert len(long) <= 85 and long.startswith("gias-a-very-long")
    assert place_name("gias", [], "national", "data/edubase.csv") == "every school in edubase.csv"
    assert place_name("synthetic", [], "national", None) == "national"


def test_no_running_average_cost_in_the_time_series(national):
    columns = set(pd.read_parquet(national / "timeseries.parquet").columns)
    assert not {"cost_per_grade_gained_gbp", "cost_per_school_moved_to_good_gbp"} & columns
    assert {"spending_to_date_gbp", "grades_gained_to_date",
            "schools_moved_to_good_to_date"} <= columns


@pytest.fixture(scope="module")
def gias_run(tmp_path_factory) -> Path:
    """A GIAS run of every school in the fixture: three authorities in two regions."""
    root = tmp_path_factory.mktemp("gias")
    done = run_cli("population=gias", f"population.path={GIAS_FIXTURE}", "horizon_years=2",
                   *QUIET, f"hydra.run.dir={root / 'run'}", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "run"


def test_a_gias_run_has_areas_by_local_authority_and_by_region(gias_run):
    areas = pd.read_parquet(gias_run / "areas.parquet")
    regions = json.loads((gias_run / "summary.json").read_text())["population"]["regions"]
    assert regions == {"Blackpool": "North West", "Cambridgeshire": "East of England",
                       "Lancashire": "North West"}
    authorities = areas[areas["level"] == "local_authority"]
    by_region = areas[areas["level"] == "region"]
    assert set(by_region["area"]) == {"North West", "East of England"}
    counts = ["n_schools", "n_good_or_better", "n_orphans", "n_academies", "teachers",
              "teacher_leavers"]
    summed = (authorities.assign(area=authorities["area"].astype(str).map(regions))
              .groupby(["year", "area"])[counts].sum())
    assert summed.equals(by_region.assign(area=by_region["area"].astype(str))
                         .set_index(["year", "area"])[counts].sort_index())
    schools = pd.read_parquet(gias_run / "schools.parquet")
    for level in ("local_authority", "region"):
        assert (areas[areas["level"] == level].groupby("year")["n_schools"].sum()
                == schools.groupby("year").size()).all()


def test_an_extract_without_regions_still_loads_with_no_region_rows(tmp_path):
    from sim.population.gias import select_schools

    text = GIAS_FIXTURE.read_bytes().decode("cp1252").replace("GOR (name)", "Region (other)")
    copy = tmp_path / "no_regions.csv"
    copy.write_text(text, encoding="cp1252", newline="")
    _, kept, _ = select_schools(str(copy), ())
    from sim.population.gias_report import regions_of

    assert (kept["region"] == "").all() and regions_of(kept) == {}
