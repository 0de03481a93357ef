"""Write tests/data/gias_fixture.csv: a small, invented extract in exact GIAS format.

    python tests/data/make_gias_fixture.py

The header is the full header of a GIAS "all establishment data" file
(`edubasealldataYYYYMMDD.csv`, 140 columns). The establishments are invented (names,
URNs, trusts, numbers), placed in real local authority and district names so that area
and Opportunity Area selection can be tested. The file is Windows-1252, as GIAS publishes
it, with characters outside ASCII in names, and it has the gaps real files have: no
Ofsted rating, blank FSM, blank coordinates, blank pupils, no inspection date, an academy
with no trust code. It also holds rows the loader must drop: closed, independent,
non-maintained special, nursery.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (code)", "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (code)", "ReasonEstablishmentOpened (name)", "OpenDate",
    "ReasonEstablishmentClosed (code)", "ReasonEstablishmentClosed (name)", "CloseDate",
    "PhaseOfEducation (code)", "PhaseOfEducation (name)", "StatutoryLowAge", "StatutoryHighAge",
    "Boarders (code)", "Boarders (name)", "NurseryProvision (name)", "OfficialSixthForm (code)",
    "OfficialSixthForm (name)", "Gender (code)", "Gender (name)", "ReligiousCharacter (code)",
    "ReligiousCharacter (name)", "ReligiousEthos (name)", "Diocese (code)", "Diocese (name)",
    "AdmissionsPolicy (code)", "AdmissionsPolicy (name)", "SchoolCapacity",
    "SpecialClasses (code)", "SpecialClasses (name)", "CensusDate", "NumberOfPupils",
    "NumberOfBoys", "NumberOfGirls", "PercentageFSM", "TrustSchoolFlag (code)",
    "TrustSchoolFlag (name)", "Trusts (code)", "Trusts (name)", "SchoolSponsorFlag (name)",
    "SchoolSponsors (name)", "FederationFlag (name)", "Federations (code)", "Federations (name)",
    "UKPRN", "FEHEIdentifier", "FurtherEducationType (name)", "OfstedLastInsp",
    "OfstedSpecialMeasures (code)", "OfstedSpecialMeasures (name)", "LastChangedDate", "Street",
    "Locality", "Address3", "Town", "County (name)", "Postcode", "SchoolWebsite", "TelephoneNum",
    "HeadTitle (name)", "HeadFirstName", "HeadLastName", "HeadPreferredJobTitle",
    "BSOInspectorateName (name)", "InspectorateReport", "DateOfLastInspectionVisit",
    "NextInspectionVisit", "TeenMoth (name)", "TeenMothPlaces", "CCF (name)", "SENPRU (name)",
    "EBD (name)", "PlacesPRU", "FTProv (name)", "EdByOther (name)", "Section41Approved (name)",
    *[f"SEN{number} (name)" for number in range(1, 14)],
    "TypeOfResourcedProvision (name)", "ResourcedProvisionOnRoll", "ResourcedProvisionCapacity",
    "SenUnitOnRoll", "SenUnitCapacity", "GOR (code)", "GOR (name)",
    "DistrictAdministrative (code)", "DistrictAdministrative (name)", "AdministrativeWard (code)",
    "AdministrativeWard (name)", "ParliamentaryConstituency (code)",
    "ParliamentaryConstituency (name)", "UrbanRural (code)", "UrbanRural (name)",
    "GSSLACode (name)", "Easting", "Northing", "MSOA (name)", "LSOA (name)",
    "InspectorateName (name)", "SENStat", "SENNoStat", "BoardingEstablishment (name)",
    "PropsName", "PreviousLA (code)", "PreviousLA (name)", "PreviousEstablishmentNumber",
    "OfstedRating (name)", "RSCRegion (name)", "Country (name)", "UPRN", "SiteName",
    "QABName (code)", "QABName (name)", "EstablishmentAccredited (code)",
    "EstablishmentAccredited (name)", "QABReport", "CHNumber", "MSOA (code)", "LSOA (code)",
    "FSM", "AccreditationExpiryDate",
]
assert len(HEADER) == 140

# (type name, type code, group name, group code)
COMMUNITY = ("Community school", "1", "Local authority maintained schools", "4")
VOLUNTARY = ("Voluntary aided school", "2", "Local authority maintained schools", "4")
CONVERTER = ("Academy converter", "28", "Academies", "10")
SPONSORED = ("Academy sponsor led", "34", "Academies", "10")
FREE = ("Free schools", "35", "Free Schools", "11")
SPECIAL = ("Community special school", "7", "Special schools", "5")
ACADEMY_SPECIAL = ("Academy special converter", "33", "Academies", "10")
PRU = ("Pupil referral unit", "14", "Local authority maintained schools", "4")
INDEPENDENT = ("Other independent school", "11", "Independent schools", "3")
NON_MAINTAINED = ("Non-maintained special school", "8", "Special schools", "5")
NURSERY = ("Local authority nursery school", "15", "Local authority maintained schools", "4")

# Local authority, its code, districts with a grid reference (easting, northing) each.
PLACES = {
    "Blackpool": ("890", {"Blackpool": (331500, 436000)}),
    "Lancashire": ("888", {"Fylde": (337000, 430000), "Wyre": (334000, 444000),
                           "Ribble Valley": (374000, 441000)}),
    "Cambridgeshire": ("873", {"Fenland": (541000, 300000), "East Cambridgeshire": (555000, 276000),
                               "Cambridge": (545500, 258500)}),
}
TRUSTS = {
    "15001": "Fylde Coast Learning Trust",
    "15002": "Promenade Schools Trust",
    "15003": "North Shore Academy Trust",
    "15004": "Isle of Ely Learning Partnership",
    "15005": "Brontë Academy Trust",
}


def rows() -> list[dict[str, str]]:
    rng = np.random.default_rng(20260101)
    table: list[dict[str, str]] = []
    grades = ["Outstanding", "Good", "Good", "Good", "Requires improvement", "Inadequate",
              "Serious Weaknesses", "Special Measures"]

    def add(la: str, district: str, name: str, kind: tuple[str, str, str, str], phase: str,
            *, status: str = "Open", trust: str = "", rating: str | None = None,
            fsm: str | None = None, pupils: str | None = None, location: bool = True,
            inspected: str | None = None) -> None:
        code, districts = PLACES[la]
        easting, northing = districts[district]
        urn = str(990001 + len(table))
        row = dict.fromkeys(HEADER, "")
        row.update({
            "URN": urn, "LA (code)": code, "LA (name)": la,
            "EstablishmentNumber": str(2000 + len(table)), "EstablishmentName": name,
            "TypeOfEstablishment (code)": kind[1], "TypeOfEstablishment (name)": kind[0],
            "EstablishmentTypeGroup (code)": kind[3], "EstablishmentTypeGroup (name)": kind[2],
            "EstablishmentStatus (code)": "1" if status.startswith("Open") else "2",
            "EstablishmentStatus (name)": status,
            "PhaseOfEducation (name)": phase,
            "PhaseOfEducation (code)": {"Primary": "2", "Secondary": "4", "Nursery": "1",
                                        "Not applicable": "0", "All-through": "7"}.get(phase, "0"),
            "Gender (name)": "Mixed", "Country (name)": "United Kingdom",
            "CensusDate": "18-01-2018",
            "NumberOfPupils": pupils if pupils is not None else str(
                int(rng.integers(150, 450) if phase != "Secondary" else rng.integers(700, 1400))),
            "PercentageFSM": fsm if fsm is not None else f"{rng.uniform(8, 45):.1f}",
            "Trusts (code)": trust, "Trusts (name)": TRUSTS.get(trust, ""),
            "TrustSchoolFlag (name)": "Supported by a multi-academy trust" if trust else
            "Not applicable",
            "OfstedLastInsp": inspected if inspected is not None else
            f"{rng.integers(1, 28):02d}-{rng.integers(1, 13):02d}-{rng.integers(2014, 2019)}",
            "OfstedRating (name)": rating if rating is not None else grades[
                int(rng.integers(0, len(grades)))],
            "DistrictAdministrative (name)": district,
            "Easting": str(easting + int(rng.integers(-3000, 3000))) if location else "",
            "Northing": str(northing + int(rng.integers(-3000, 3000))) if location else "",
            "Town": district, "GOR (name)": "North West" if la != "Cambridgeshire" else "East of England",
            "LastChangedDate": "01-09-2018",
        })
        if status == "Closed":
            row["CloseDate"] = "31-08-2016"
        table.append(row)

    # Blackpool: two MATs (one reaching into Lancashire), a single-academy trust, an
    # academy with no trust code, maintained schools, and rows to drop.
    for number in range(1, 5):
        add("Blackpool", "Blackpool", f"Fylde Coast Primary Academy No {number}", CONVERTER,
            "Primary", trust="15001")
    add("Blackpool", "Blackpool", "Brontë Road Academy", SPONSORED, "Secondary", trust="15001")
    for name in ("Promenade Primary Academy", "Tower View Academy", "Pleasure Beach Academy"):
        add("Blackpool", "Blackpool", name, SPONSORED, "Primary", trust="15002")
    add("Blackpool", "Blackpool", "North Shore High School", CONVERTER, "Secondary", trust="15003")
    add("Blackpool", "Blackpool", "Waterloo Free School", FREE, "All-through")
    add("Blackpool", "Blackpool", "St Aidan’s CofE Primary School", VOLUNTARY, "Primary",
        rating="", inspected="")
    add("Blackpool", "Blackpool", "Marton Moss Primary School", COMMUNITY, "Primary", fsm="")
    add("Blackpool", "Blackpool", "Layton Primary School", COMMUNITY, "Primary", location=False)
    add("Blackpool", "Blackpool", "Revoe Café Lane Primary", COMMUNITY, "Primary", pupils="")
    add("Blackpool", "Blackpool", "Stanley Park Primary School", COMMUNITY, "Primary")
    add("Blackpool", "Blackpool", "Highfield Special School", SPECIAL, "Not applicable")
    add("Blackpool", "Blackpool", "Bispham Pupil Referral Unit", PRU, "Not applicable")
    add("Blackpool", "Blackpool", "Old Central Primary School", COMMUNITY, "Primary",
        status="Closed")
    add("Blackpool", "Blackpool", "Grand Theatre Prep School", INDEPENDENT, "Primary")
    add("Blackpool", "Blackpool", "Seagull Nursery School", NURSERY, "Nursery")
    add("Blackpool", "Blackpool", "Lighthouse Non-maintained Special School", NON_MAINTAINED,
        "Not applicable")
    # Lancashire: two of the Fylde Coast trust's schools, and maintained schools.
    add("Lancashire", "Fylde", "Lytham Sands Primary Academy", CONVERTER, "Primary", trust="15001")
    add("Lancashire", "Wyre", "Fleetwood Dock Primary Academy", CONVERTER, "Primary", trust="15001")
    for number, district in enumerate(("Fylde", "Wyre", "Fylde", "Wyre"), start=1):
        add("Lancashire", district, f"{district} Village Primary School {number}", COMMUNITY,
            "Primary")
    add("Lancashire", "Wyre", "Wyre Estuary High School", COMMUNITY, "Secondary")
    add("Lancashire", "Fylde", "Kirkham Grammar Prep", INDEPENDENT, "Primary")
    # A district with establishments but no school the model can use.
    add("Lancashire", "Ribble Valley", "Clitheroe Castle Prep", INDEPENDENT, "Primary")
    add("Lancashire", "Ribble Valley", "Pendle Hill Primary School", COMMUNITY, "Primary",
        status="Closed")
    # Cambridgeshire: Fenland and East Cambridgeshire (an Opportunity Area) and Cambridge.
    for number in range(1, 4):
        add("Cambridgeshire", "Fenland", f"Isle of Ely Primary Academy No {number}", CONVERTER,
            "Primary", trust="15004")
    add("Cambridgeshire", "East Cambridgeshire", "Soham Æthelred Academy", SPONSORED,
        "Secondary", trust="15004")
    add("Cambridgeshire", "East Cambridgeshire", "Brontë Fen Academy", ACADEMY_SPECIAL,
        "Not applicable", trust="15005")
    add("Cambridgeshire", "East Cambridgeshire", "Brontë Meadow Academy", CONVERTER, "Primary",
        trust="15005")
    for number in range(1, 6):
        add("Cambridgeshire", "Fenland", f"Wisbech Fen Primary School {number}", COMMUNITY,
            "Primary")
    add("Cambridgeshire", "Fenland", "March Town High School", COMMUNITY, "Secondary")
    for number in range(1, 4):
        add("Cambridgeshire", "East Cambridgeshire", f"Littleport Primary School {number}",
            COMMUNITY, "Primary", rating="" if number == 3 else None)
    add("Cambridgeshire", "East Cambridgeshire", "Ely Closed Junior School", COMMUNITY,
        "Primary", status="Closed")
    for number in range(1, 4):
        add("Cambridgeshire", "Cambridge", f"Cam Riverside Primary School {number}", COMMUNITY,
            "Primary")
    add("Cambridgeshire", "Cambridge", "Parker’s Piece College", INDEPENDENT, "Secondary")
    return table


def write(path: Path, encoding: str = "cp1252") -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows())


if __name__ == "__main__":
    write(Path(__file__).with_name("gias_fixture.csv"))
