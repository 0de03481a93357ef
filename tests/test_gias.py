"""Building a population from a GIAS extract: the fixture, its gaps, and bad input."""

from __future__ import annotations

import codecs
import dataclasses
import functools
import gzip
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import ConfigError
from sim.population import gias, gias_check, gias_read
from sim.schema import RunConfig
from sim.state import Governance, Phase, Population, TrustKind
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
    assert report["imputed"] == {what: {"blank": 1} for what in (
        "location", "pupils", "fsm_share", "ofsted_rating", "inspection_date", "academy_trust")}
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


# -- hostile input: every bad file is imputed and counted, or refused in one line ---------

@functools.cache
def _fixture() -> pd.DataFrame:
    return fixture_frame()


def as_csv(frame: pd.DataFrame, encoding: str = "cp1252", line_end: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator=line_end)
    return buffer.getvalue().encode(encoding)


def cell(urn: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """An edit: one value of the row with this URN."""
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[frame["URN"] == str(urn), column] = value
        return frame
    return edit


def column(name: str, value: str | Callable[[pd.Series], pd.Series]
           ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """An edit: every value of a column."""
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame[name] = value(frame[name]) if callable(value) else value
        return frame
    return edit


def extract(*edits: Callable[[pd.DataFrame], pd.DataFrame], encoding: str = "cp1252",
            line_end: str = "\r\n", name: str = "extract.csv",
            then: Callable[[bytes], bytes] = lambda raw: raw) -> Callable[[Path], Path]:
    """A maker of the fixture with edits applied, written as given."""
    def make(folder: Path) -> Path:
        frame = _fixture().copy()
        for edit in edits:
            frame = edit(frame)
        path = folder / name
        path.write_bytes(then(as_csv(frame, encoding, line_end)))
        return path
    return make


def raw(content: bytes | Callable[[bytes], bytes]) -> Callable[[Path], Path]:
    """A maker of a file of these bytes (or of the fixture's bytes, transformed)."""
    def make(folder: Path) -> Path:
        path = folder / "extract.csv"
        path.write_bytes(content(GIAS_FIXTURE.read_bytes()) if callable(content) else content)
        return path
    return make


def rows_added(*rows: Callable[[pd.DataFrame], pd.DataFrame]
               ) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """An edit: rows appended, each made from the fixture by a function."""
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame, *(row(_fixture().copy()) for row in rows)], ignore_index=True)
    return edit


def renamed(mapping: Callable[[str], str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.rename(columns=mapping)


def gzipped(raw_bytes: bytes) -> bytes:
    return gzip.compress(raw_bytes)


def zipped(raw_bytes: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("edubasealldata20250101.csv", raw_bytes)
    return buffer.getvalue()


def folder(path: Path) -> Path:
    (path / "extract").mkdir()
    (path / "extract" / "edubasealldata20250101.csv").write_bytes(GIAS_FIXTURE.read_bytes())
    return path / "extract"


def too_large(path: Path) -> Path:
    big = path / "extract.csv"
    with big.open("wb") as handle:  # sparse: takes no room on the disk
        handle.truncate(gias_read.MAX_BYTES + 1)
    return big


# The fixture's report for the areas the cases use; each case states its differences.
FIXTURE_REPORT = {
    "Blackpool": (17, {"no phase the model covers": 1, "not open": 1, "not state-funded": 2},
                  {what: {"blank": 1} for what in ("location", "pupils", "fsm_share",
                                                   "ofsted_rating", "inspection_date",
                                                   "academy_trust")}),
    "Fylde": (3, {"not state-funded": 1}, {}),
    "Cambridge": (3, {"not state-funded": 1}, {}),
    " fenland  AND east cambridgeshire": (15, {"not open": 1}, {"ofsted_rating": {"blank": 1}}),
    "": (42, {"no phase the model covers": 1, "not open": 3, "not state-funded": 5},
         {what: {"blank": 1} for what in ("location", "pupils", "fsm_share", "inspection_date",
                                          "academy_trust")} | {"ofsted_rating": {"blank": 2}}),
}
URN_INVALID = "URN not a whole number from 1 to 9,999,999"
NOT_WELL_FORMED = "not have the header's 140 fields"


@dataclass
class Case:
    """A hostile input: either refused with a line holding `refused`, or loaded with the
    fixture's report for `areas` changed by `schools`, `dropped` and `imputed`."""

    make: Callable[[Path], Path]
    areas: tuple[str, ...] = ("Blackpool",)
    refused: str = ""
    schools: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, dict[str, int]] = field(default_factory=dict)
    check: Callable[[Population], object] = lambda population: None


def school(population: Population, urn: int) -> int:
    return int(np.flatnonzero(population.schools.urn == urn)[0])


HOSTILE = {
    # The hostile tester's first findings.
    "a row twice": Case(extract(rows_added(lambda frame: frame[frame["URN"] == "990001"])),
                        dropped={"duplicate of an earlier row": 1}),
    "one URN on two different rows": Case(
        extract(rows_added(lambda frame: cell(990001, "EstablishmentName", "Impostor")(
            frame)[frame["URN"] == "990001"])),
        refused="URN 990001 is on 2 different rows (data rows 1 and 52)"),
    "pupils 10,000,000": Case(extract(cell(990001, "NumberOfPupils", "10000000")),
                              imputed={"pupils": {"above 5,000": 1}},
                              check=lambda population: population.schools.pupils.max() < 5_000),
    "pupils 1e10": Case(extract(cell(990002, "NumberOfPupils", "1e10")),
                        imputed={"pupils": {"above 5,000": 1}}),
    "Easting inf": Case(extract(cell(990001, "Easting", "inf")),
                        imputed={"location": {"not a number": 1}}),
    "URN blank": Case(extract(cell(990001, "URN", "")), schools=-1, dropped={"URN blank": 1}),
    "URN of 20 digits": Case(extract(cell(990001, "URN", "12345678901234567890")), schools=-1,
                             dropped={URN_INVALID: 1}),
    "URN negative or fractional": Case(
        extract(cell(990001, "URN", "-5"), cell(990002, "URN", "990002.5")), schools=-2,
        dropped={URN_INVALID: 2}),
    "URN written as 990003.0": Case(extract(cell(990003, "URN", "990003.0")),
                                    check=lambda population: school(population, 990003)),
    "header only": Case(extract(lambda frame: frame.iloc[:0]),
                        refused="has a header but no rows"),
    # Encodings and line ends.
    "UTF-8 with a byte-order mark": Case(extract(encoding="utf-8-sig")),
    "UTF-8 without a byte-order mark": Case(extract(encoding="utf-8")),
    "a UTF-8 byte-order mark on Windows-1252 text": Case(
        raw(lambda fixture: codecs.BOM_UTF8 + fixture),
        check=lambda population: "Brontë Road Academy" in population.schools.name),
    "UTF-16 with a byte-order mark": Case(extract(encoding="utf-16")),
    "UTF-16 without a byte-order mark": Case(extract(encoding="utf-16-le"),
                                            refused="holds NUL bytes"),
    "a byte neither Windows-1252 nor UTF-8": Case(
        raw(lambda fixture: fixture.replace(b"Stanley Park", b"Stanley\x81Park")),
        refused="byte 0x81 on line 16 is neither"),
    "UTF-32": Case(extract(encoding="utf-32"), refused="holds NUL bytes"),
    "a NUL byte far into the file": Case(raw(lambda fixture: fixture + b"x" * 70_000 + b"\x00"),
                                         refused="holds NUL bytes"),
    "LF line ends": Case(extract(line_end="\n")),
    "CR line ends": Case(extract(line_end="\r")),
    # Quoting and the shape of rows.
    "a quoted comma and line break in a name": Case(
        extract(cell(990015, "EstablishmentName", "Stanley Park,\r\nPrimary School")),
        check=lambda population: population.schools.name[school(population, 990015)]
        == "Stanley Park, Primary School"),
    "an unquoted comma in a name": Case(
        raw(lambda fixture: fixture.replace(b"Stanley Park Primary", b"Stanley, Park Primary")),
        refused=f"{NOT_WELL_FORMED} (the first, '990015,890,Blackpool"),
    "a file cut short in a row": Case(raw(lambda fixture: fixture[:-300]),
                                      refused=NOT_WELL_FORMED),
    "a quote never closed": Case(
        raw(lambda fixture: fixture.replace(b"Stanley Park", b'"Stanley Park')),
        refused=NOT_WELL_FORMED),
    "a line of 3 MB": Case(
        extract(cell(990015, "EstablishmentName", "Stanley Park " * 250_000)),
        check=lambda population: len(population.schools.name[school(population, 990015)])
        > 3_000_000),
    # Columns.
    "extra and reordered columns": Case(extract(
        lambda frame: frame.assign(Extra="x, y")[["Extra", *reversed(frame.columns)]])),
    "column names in other case and spacing": Case(extract(
        renamed(lambda name: f" {name.upper()} " if name.startswith("Ofsted") else name))),
    "a column twice": Case(extract(lambda frame: frame.assign(Dup=frame["URN"]).rename(
        columns={"Dup": "URN"})), refused="has the column 'URN' 2 times"),
    "separated by semicolons": Case(
        raw(lambda fixture: fixture.replace(b",", b";")), refused="separated by semicolons"),
    "separated by tabs": Case(
        raw(lambda fixture: fixture.replace(b",", b"\t")), refused="separated by tabs"),
    "only the URN column": Case(raw(b"URN\n1\n"), refused="and 11 more; is it"),
    "LA (name) blank in every row": Case(extract(column("LA (name)", "")), areas=(),
                                         refused="the column 'LA (name)' is blank in every row"),
    "NumberOfPupils blank in every row": Case(
        extract(column("NumberOfPupils", "")),
        refused="the column 'NumberOfPupils' is blank in every row"),
    "NumberOfPupils blank for every open school": Case(
        extract(lambda frame: frame.assign(NumberOfPupils=frame["NumberOfPupils"].where(
            frame["EstablishmentStatus (name)"] == "Closed", ""))),
        refused="no open state-funded school has a usable NumberOfPupils (blank 42)"),
    "OfstedRating blank in every row": Case(
        extract(column("OfstedRating (name)", "")),
        imputed={"ofsted_rating": {"blank": 17}}),
    "ratings as numbers": Case(
        extract(column("OfstedRating (name)", "2")),
        refused="OfstedRating (name) is unusable for 42 of the 42 open state-funded schools "
                "that give it (e.g. '2': not an Ofsted grade)"),
    "Trusts blank in every row": Case(
        extract(column("Trusts (code)", ""), column("Trusts (name)", "")),
        refused="Trusts (code) is unusable for 18 of the 18 open state-funded academies (e.g. '': "
                "blank)"),
    # Values out of range or in another form.
    "negative pupils": Case(extract(cell(990001, "NumberOfPupils", "-20")),
                            imputed={"pupils": {"negative": 1}}),
    "fractional pupils": Case(
        extract(cell(990001, "NumberOfPupils", "250.4")),
        imputed={"pupils": {"not a whole number (rounded)": 1}},
        check=lambda population: population.schools.pupils[school(population, 990001)] == 250),
    "pupils 'nan'": Case(extract(cell(990001, "NumberOfPupils", "nan")),
                         imputed={"pupils": {"not a number": 1}}),
    "pupils 5,000, the most": Case(extract(cell(990001, "NumberOfPupils", "5000")),
                                   check=lambda population: population.schools.pupils.max() == 5_000),
    "pupils 5,001": Case(extract(cell(990001, "NumberOfPupils", "5001")),
                         imputed={"pupils": {"above 5,000": 1}}),
    "pupils with a thousands separator": Case(extract(cell(990001, "NumberOfPupils", "1,234")),
                                              imputed={"pupils": {"not a number": 1}}),
    "FSM 100, the most": Case(extract(cell(990001, "PercentageFSM", "100"))),
    "FSM below 0": Case(extract(cell(990001, "PercentageFSM", "-0.1")),
                        imputed={"fsm_share": {"outside 0-100": 1}}),
    "FSM suppressed": Case(extract(cell(990001, "PercentageFSM", "SUPP")),
                           imputed={"fsm_share": {"not a number": 1}}),
    "FSM above 100": Case(extract(cell(990001, "PercentageFSM", "140")),
                          imputed={"fsm_share": {"outside 0-100": 1}}),
    "FSM with a decimal comma in every row": Case(
        extract(column("PercentageFSM", lambda values: values.str.replace(".", ",")),),
        refused="PercentageFSM is unusable for 41 of the 41 open state-funded schools that "
                "give it (e.g. '38,6': not a number)"),
    "Easting without Northing": Case(extract(cell(990001, "Northing", "")),
                                     imputed={"location": {"only one of easting and northing": 1}}),
    "a location outside England": Case(extract(cell(990001, "Easting", "900000")),
                                       imputed={"location": {"outside England": 1}}),
    "a location at zero": Case(extract(cell(990001, "Easting", "0"), cell(990001, "Northing", "0")),
                               imputed={"location": {"zero": 1}}),
    "grid references in kilometres": Case(
        extract(column("Easting", lambda values: values.str[:3]),
                column("Northing", lambda values: values.str[:3])),
        refused="Easting and Northing is unusable for 41 of the 41 open state-funded schools "
                "that give it (e.g. '333, 435': outside England)"),
    "dates as dd/mm/yyyy and yyyy-mm-dd": Case(extract(
        column("OfstedLastInsp", lambda values: values.str.replace("-", "/")),
        cell(990001, "OfstedLastInsp", "2016-01-07"))),
    "an impossible date": Case(extract(cell(990001, "OfstedLastInsp", "31-02-2019")),
                               imputed={"inspection_date": {"not a date": 1}}),
    "a date with a two-digit year": Case(extract(cell(990001, "OfstedLastInsp", "07-01-16")),
                                         imputed={"inspection_date": {"not a date": 1}}),
    "dates in a form not read": Case(
        extract(column("OfstedLastInsp", lambda values: values.str.replace("-", " "))),
        refused="OfstedLastInsp is unusable for 41 of the 41"),
    "an inspection date in the future": Case(
        extract(cell(990001, "OfstedLastInsp", "01-01-2099")),
        imputed={"inspection_date": {"after the extract's date": 1}},
        # Had 2099 been taken as the extract's date, every inspection would be 80 years old.
        check=lambda population: (population.schools.last_inspection_term > -20).all()),
    "a date after the date in the file's name": Case(
        extract(cell(990001, "OfstedLastInsp", "15-01-2019"),
                name="edubasealldata20181231.csv"),
        imputed={"inspection_date": {"after the extract's date": 1}}),
    "most dates after the date in the file's name": Case(
        extract(name="edubasealldata20150101.csv"),
        refused="after the extract's date (01-01-2015, the date in the file's name)"),
    "a date before Ofsted began": Case(extract(cell(990001, "OfstedLastInsp", "01-01-1900")),
                                       imputed={"inspection_date": {"before Ofsted began (1992)": 1}}),
    "a rating that is not a grade": Case(extract(cell(990001, "OfstedRating (name)", "Excellent")),
                                         imputed={"ofsted_rating": {"not an Ofsted grade": 1}}),
    "a blank name": Case(
        extract(cell(990015, "EstablishmentName", "")), imputed={"name": {"blank": 1}},
        check=lambda population: "URN 990015" in population.schools.name),
    # Rows.
    "a trust code on a maintained school": Case(
        extract(cell(990015, "Trusts (code)", "15001")),
        check=lambda population: population.schools.governance[school(population, 990015)]
        == Governance.MAINTAINED),
    "a trust code written as 15002.0": Case(
        extract(cell(990006, "Trusts (code)", "15002.0")),
        check=lambda population: len({population.schools.trust[school(population, urn)]
                                      for urn in (990006, 990007, 990008)}) == 1),
    "an academy whose trust's other schools are outside the area": Case(
        extract(), areas=("Fylde",),
        check=lambda population: population.trusts.kind[population.schools.trust[school(
            population, 990022)]] == TrustKind.MULTI_ACADEMY_TRUST),
    "a local authority in capitals": Case(
        extract(cell(990015, "LA (name)", "BLACKPOOL")),
        check=lambda population: population.local_authority_names == ["Blackpool"]),
    "a school with no local authority": Case(
        extract(cell(990015, "LA (name)", "")), areas=(), schools=-1,
        dropped={"no local authority": 1}),
    "status in capitals": Case(
        extract(column("EstablishmentStatus (name)", lambda values: values.str.upper()))),
    "a repeated header line, then the file again": Case(
        raw(lambda fixture: fixture + fixture), areas=(),
        dropped={"repeated header line": 1, "duplicate of an earlier row": 51}),
    "empty rows": Case(raw(lambda fixture: fixture + b"," * 139 + b"\r\n" + b"," * 139 + b"\r\n"),
                       areas=(), dropped={"empty row": 2}),
    "URN 0": Case(extract(cell(990001, "URN", "0")), schools=-1, dropped={URN_INVALID: 1}),
    "one URN on an open and a closed row": Case(
        extract(rows_added(lambda frame: cell(990001, "EstablishmentStatus (name)", "Closed")(
            frame)[frame["URN"] == "990001"])),
        refused="URN 990001 is on 2 different rows"),
    "URNs unusable for most schools": Case(
        extract(column("URN", lambda values: "A" + values)),
        refused="URN is unusable for 42 of the 42"),
    "every school closed": Case(extract(column("EstablishmentStatus (name)", "Closed")),
                                refused="'Blackpool' has 21 establishments in"),
    "every establishment of the file closed": Case(
        extract(column("EstablishmentStatus (name)", "Closed")), areas=(),
        refused="has 51 establishments but no open state-funded school the model covers "
                "(not open 51)"),
    # Paths and kinds of file.
    "no such file": Case(lambda path: path / "missing.csv", refused="no such file"),
    "a folder": Case(folder, refused="is a folder, not a file; did you mean"),
    "/dev/null": Case(lambda path: Path("/dev/null"), refused="is not a regular file"),
    "a file of blank lines": Case(raw(b"\r\n\r\n  \n"), refused="is empty"),
    "a header, then blank lines": Case(raw(lambda fixture: fixture.split(b"\r\n")[0] + b"\r\n" * 3),
                                       refused="has a header but no rows"),
    "an empty file": Case(raw(b""), refused="is empty"),
    "a PNG image": Case(raw(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), refused="holds NUL bytes"),
    "a gzip archive": Case(raw(gzipped), refused="is a gzip archive: unpack it"),
    "an Excel workbook": Case(raw(b"PK\x03\x04\x14\x00\x06\x00"),
                              refused="or save the sheet as CSV"),
    "a zip archive": Case(raw(zipped), refused="is a zip archive or an Excel workbook"),
    "a web page": Case(raw(b"<!DOCTYPE html><html><body>Sign in</body></html>"),
                       refused="is a web page"),
    "a file of 1 GB": Case(too_large, refused="files over 1 GB are not read"),
    "a first line 'sep=,' from a spreadsheet": Case(raw(lambda fixture: b"sep=,\r\n" + fixture)),
    "a CSV file of other data": Case(
        raw(b"name,value\nschool,1\n"),
        refused="lacks the GIAS columns 'URN', 'EstablishmentName', 'EstablishmentStatus "
                "(name)', 'EstablishmentTypeGroup (name)' and 12 more; is it"),
    # Areas.
    "areas named twice": Case(extract(), areas=("Blackpool", " blackpool ")),
    "an Opportunity Area in other case and spacing": Case(
        extract(), areas=(" fenland  AND east cambridgeshire",)),
    "an area named by a number": Case(extract(), areas=("123",),
                                      refused="'123' matches no local authority or district"),
    "an area with no academies": Case(
        extract(), areas=("Cambridge",),
        check=lambda population: (population.schools.governance == Governance.MAINTAINED).all()
        and len(population.hubs.trust) == 0),
    "a blank area name": Case(extract(), areas=("Blackpool", ""),
                              refused="an area name is blank"),
    "an area with no open state school": Case(
        extract(), areas=("Blackpool", "Ribble Valley"),
        refused="'Ribble Valley' has 2 establishments in"),
    "a misspelt area": Case(extract(), areas=("Blackpol",), refused="did you mean 'Blackpool'?"),
    "an unknown area": Case(extract(), areas=("Narnia",),
                            refused="matches no local authority or district"),
    "an Opportunity Area the file lacks": Case(
        extract(lambda frame: frame[frame["LA (name)"] != "Blackpool"]),
        refused="'Blackpool' is an Opportunity Area (Blackpool), and"),
}


@pytest.fixture(scope="module")
def gias_parameters() -> RunConfig:
    return make_config(*GIAS)


def load(parameters: RunConfig, path: Path, areas: list[str]) -> Population:
    population = dataclasses.replace(parameters.population, path=str(path), areas=areas)
    return gias.build_gias_population(parameters.scenario, population, parameters.model,
                                      np.random.default_rng(0))


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_input_is_imputed_and_counted_or_refused_in_one_line(name, tmp_path,
                                                                     gias_parameters):
    case = HOSTILE[name]
    path = case.make(tmp_path)
    if case.refused:
        with pytest.raises(ConfigError) as error:
            load(gias_parameters, path, list(case.areas))
        message = str(error.value)
        assert case.refused in message and "\n" not in message
        assert len(message.replace(str(path), "")) < 400  # the path is as long as it is
        return
    population = load(gias_parameters, path, list(case.areas))
    schools, dropped, imputed = FIXTURE_REPORT[case.areas[0] if case.areas else ""]
    report = population.report
    assert report["schools"] == population.schools.n == schools + case.schools
    assert report["dropped"] == {**dropped, **case.dropped}
    assert report["imputed"] == {what: {**imputed.get(what, {}), **case.imputed.get(what, {})}
                                 for what in gias.IMPUTED if what in imputed | case.imputed}
    assert report["rows_in_areas"] == report["schools"] + sum(report["dropped"].values())
    assert report["areas"] == [" ".join(area.split()) for area in case.areas][:1 if case.areas else 0]
    assert_a_sound_population(population)
    assert case.check(population) is not False


def assert_a_sound_population(population: Population) -> None:
    """No NaN or infinity anywhere, values in their ranges, one school per URN."""
    for arrays in (population.schools, population.trusts, population.hubs):
        for array_field in fields(arrays):
            values = getattr(arrays, array_field.name)
            if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                assert np.isfinite(values).all(), array_field.name
    schools = population.schools
    assert len(set(schools.urn)) == schools.n and (schools.urn > 0).all()
    assert ((schools.pupils >= 1) & (schools.pupils <= gias_check.PUPILS_MAX)).all()
    assert ((schools.fsm_share >= 0) & (schools.fsm_share <= 1)).all()
    assert ((schools.x_km > 60) & (schools.x_km < 670) & (schools.y_km > 0)
            & (schools.y_km < 670)).all()
    assert (schools.last_inspection_term < 0).all() and (schools.inspection_due_term > 0).all()


def test_an_unreadable_file_is_refused_in_one_line(tmp_path, monkeypatch, gias_parameters):
    path = tmp_path / "extract.csv"
    path.write_bytes(GIAS_FIXTURE.read_bytes())

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError, match=r"cannot read '.*extract.csv' \(Permission denied\)"):
        load(gias_parameters, path, [])


def test_the_command_line_stops_bad_input_with_one_line_and_writes_nothing(tmp_path):
    inputs, work = tmp_path / "inputs", tmp_path / "work"
    inputs.mkdir()
    work.mkdir()
    archive = inputs / "edubasealldata20250101.csv.gz"
    archive.write_bytes(gzipped(GIAS_FIXTURE.read_bytes()))
    twice = HOSTILE["one URN on two different rows"].make(inputs)
    for arguments, words in [
        (["population.path=missing.csv"], "no such file 'missing.csv'"),
        ([f"population.path={GIAS_FIXTURE}", "population.areas=[Blackpol]"], "did you mean"),
        ([f"population.path={archive}"], "is a gzip archive: unpack it"),
        ([f"population.path={twice}"], "URN 990001 is on 2 different rows"),
    ]:
        finished = run_cli("population=gias", *arguments, cwd=work)
        assert finished.returncode == 2
        assert finished.stderr.strip().splitlines()[-1].startswith("sim: error: ")
        assert words in finished.stderr and "Traceback" not in finished.stderr
        assert not any(path.is_file() for path in work.rglob("*"))
