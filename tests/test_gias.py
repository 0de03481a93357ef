"""Building a population from a GIAS extract: the fixture, its gaps, and bad input."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from sim.parameters import ConfigError
from sim.population import gias
from sim.state import Governance, Phase, TrustKind
from tests.conftest import GIAS_FIXTURE, make_config, make_model, run_cli

GIAS = ("population=gias", f"population.path={GIAS_FIXTURE}")


def fixture_frame() -> pd.DataFrame:
    return pd.read_csv(GIAS_FIXTURE, encoding="cp1252", dtype=str, keep_default_na=False)


def test_the_fixture_is_in_exact_gias_format():
    raw = GIAS_FIXTURE.read_bytes()
    header = raw.split(b"\r\n", 1)[0].decode("ascii").split(",")
    assert len(header) == 140 and header[:3] == ["URN", "LA (code)", "LA (name)"]
    assert set(gias.COLUMNS.values()) <= set(header)
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # Windows-1252, as GIAS publishes it
    assert "’" in raw.decode("cp1252") and "ë" in raw.decode("cp1252")


@pytest.mark.parametrize("scenario", ["opportunity_area", "national"])
def test_the_fixture_builds_and_runs_in_both_scenarios(scenario):
    model = make_model(f"scenario={scenario}", *GIAS, "population.areas=[Blackpool]",
                       "horizon_years=2")
    schools = model.schools
    frame = fixture_frame()
    usable = frame[(frame["LA (name)"] == "Blackpool")
                   & (frame["EstablishmentStatus (name)"] == "Open")
                   & frame["EstablishmentTypeGroup (name)"].isin(
                       ["Academies", "Free Schools", "Local authority maintained schools",
                        "Special schools"])
                   & (frame["TypeOfEstablishment (name)"] != "Non-maintained special school")
                   & (frame["PhaseOfEducation (name)"] != "Nursery")]
    assert sorted(schools.urn.tolist()) == sorted(usable["URN"].astype(int).tolist())
    # Names keep their Windows-1252 characters; grades are the file's, not re-drawn.
    named = dict(zip(schools.name, range(schools.n), strict=True))
    assert "St Aidan’s CofE Primary School" in named and "Brontë Road Academy" in named
    by_urn = usable.set_index(usable["URN"].astype(int))
    rating = by_urn.loc[schools.urn, "OfstedRating (name)"].str.casefold().map(gias.GRADES)
    rated = rating.notna().to_numpy()
    assert (schools.grade[rated] == rating[rated].to_numpy()).all()
    # Phase from type: the special school and the pupil referral unit.
    assert schools.phase[named["Highfield Special School"]] == Phase.SPECIAL
    assert schools.phase[named["Bispham Pupil Referral Unit"]] == Phase.ALTERNATIVE_PROVISION
    # Trusts: a MAT spanning two authorities stays a MAT; a one-school trust is a SAT.
    trust_of = model.trusts.kind[schools.trust[named["Brontë Road Academy"]]]
    assert trust_of == TrustKind.MULTI_ACADEMY_TRUST
    assert schools.governance[named["North Shore High School"]] == Governance.SINGLE_ACADEMY_TRUST
    assert schools.governance[named["Stanley Park Primary School"]] == Governance.MAINTAINED
    model.run()
    result = model.results()
    assert len(result.timeseries) == 6 and result.summary["n_schools"] == len(usable)


def test_effectiveness_lies_with_the_grade():
    """Across many draws, the latent effectiveness of each grade sits in that grade's band
    of the inspection score, so the model's first inspections mostly agree with the file."""
    model = make_model(*GIAS, "seed=3")
    cut = model.parameters.model.inspection.cut_points
    schools = model.schools
    outstanding, inadequate = schools.grade == 1, schools.grade == 4
    assert schools.effectiveness[outstanding].mean() > cut[2] - 0.3
    assert schools.effectiveness[inadequate].mean() < cut[0] + 0.3
    assert schools.effectiveness[outstanding].mean() > schools.effectiveness[inadequate].mean() + 2


def test_gaps_are_imputed_counted_and_reported():
    model = make_model(*GIAS, "population.areas=[Blackpool]", "horizon_years=1")
    model.run()
    report = model.results().summary["population"]
    assert report["imputed"] == {"location": 1, "pupils": 1, "fsm_share": 1, "ofsted_rating": 1,
                                 "inspection_date": 1, "academy_trust": 1}
    assert report["dropped"] == {"no phase the model covers": 1, "not open": 1,
                                 "not state-funded": 2}
    assert report["rows_read"] == len(fixture_frame()) and report["schools"] == model.schools.n
    schools = model.schools
    assert np.isfinite(schools.x_km).all() and (schools.pupils > 0).all()
    assert ((schools.fsm_share >= 0) & (schools.fsm_share <= 1)).all()
    json.dumps(report)  # as summary.json holds it


def test_a_utf8_copy_loads_the_same_schools(tmp_path):
    copy = tmp_path / "utf8.csv"
    copy.write_text(GIAS_FIXTURE.read_bytes().decode("cp1252"), encoding="utf-8-sig")
    original = make_model(*GIAS, "seed=2")
    converted = make_model("population=gias", f"population.path={copy}", "seed=2")
    assert original.schools.name.tolist() == converted.schools.name.tolist()
    assert np.array_equal(original.schools.effectiveness, converted.schools.effectiveness)


def test_opportunity_areas_name_their_districts():
    model = make_model(*GIAS, "population.areas=['fenland and east cambridgeshire']")
    frame = fixture_frame()
    districts = set(frame.set_index(frame["URN"].astype(int)).loc[
        model.schools.urn, "DistrictAdministrative (name)"])
    assert districts == {"Fenland", "East Cambridgeshire"}
    assert gias.resolve_areas(["Stoke-on-Trent", "Ipswich"]) == ["Stoke-on-Trent", "Ipswich"]
    assert len(gias.OPPORTUNITY_AREAS_FILE.read_text().split("opportunity_areas:")[1]
               .strip().splitlines()) == 12


@pytest.mark.parametrize(("content", "areas", "words"), [
    (None, [], "no such file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", [], "not a CSV file"),
    (b"", [], "is empty"),
    (b"name,value\nschool,1\n", [], "lacks the GIAS columns 'URN', 'EstablishmentName'"),
    ("fixture", ["Blackpol"], "did you mean 'Blackpool'"),
    ("fixture", ["Narnia"], "matches no local authority or district"),
    ("fixture", ["Ribble Valley"], "no open state-funded school"),
])
def test_bad_input_gets_one_line_naming_the_problem(tmp_path, content, areas, words):
    path = GIAS_FIXTURE if content == "fixture" else tmp_path / "extract.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    config = make_config(*GIAS)
    parameters = dataclasses.replace(
        config, population=dataclasses.replace(config.population, path=str(path), areas=areas))
    with pytest.raises(ConfigError) as error:
        gias.build_gias_population(parameters.scenario, parameters.population,
                                   parameters.model, np.random.default_rng(0))
    message = str(error.value)
    assert words in message and "\n" not in message


def test_the_command_line_stops_bad_input_with_one_line_and_writes_nothing(tmp_path):
    for arguments, words in [
        (["population.path=missing.csv"], "no such file 'missing.csv'"),
        ([f"population.path={GIAS_FIXTURE}", "population.areas=[Blackpol]"], "did you mean"),
    ]:
        finished = run_cli("population=gias", *arguments, cwd=tmp_path)
        assert finished.returncode == 2
        assert finished.stderr.strip().splitlines()[-1].startswith("sim: error: ")
        assert words in finished.stderr and "Traceback" not in finished.stderr
        assert not any(path.is_file() for path in tmp_path.rglob("*"))
