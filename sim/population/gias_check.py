"""Check a GIAS extract: judge every row and value by one set of rules.

`check_extract` takes the text of `sim.population.gias_read` and, in one vectorised pass
over the whole file:

- drops a row, for a counted reason, if it is empty, a repeated header line, an exact
  duplicate of an earlier row, not an open state-funded school of a phase the model
  covers, or has no valid URN or no local authority (`DROP_REASONS`, first reason first);
- parses each value the model uses (number or date), then checks it (finite, within a
  plausible range: the bounds below); a value that fails is set aside with its reason
  ("blank", "not a number", "above 5,000", ...) for the builder to impute and count;
- refuses the whole file, in one line, when it is clearly not usable: a column the model
  needs is blank in every row; more than half of the values a column gives are unusable
  (a wrong format, not stray errors); no school has a usable location, size or FSM share;
  or one URN is on two different rows.

docs/ODD.md section 5 lists every rule with its bounds and the reasons for them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ConfigError
from sim.population.gias_read import COLUMNS, DOWNLOAD
from sim.state import Phase

# pandas is loaded when an extract is checked, not with the config, which `python -m sim
# --help` and a refused override read without it.
if TYPE_CHECKING:
    import pandas as pd

# Columns that may be blank in every row: a place with no academies has no trusts, and a
# file may hold no graded inspection. Every other column blank throughout means the file
# was exported without it.
MAY_BE_BLANK_THROUGHOUT = {"district", "trust_code", "trust_name", "ofsted_rating", "ofsted_date",
                           "region"}  # the region is optional (gias_read.OPTIONAL_COLUMNS)

OPEN = {"open", "open, but proposed to close"}
# Establishment type groups of state-funded schools; within them, types that are not.
STATE_FUNDED_GROUPS = {"academies", "free schools", "local authority maintained schools",
                       "special schools"}
NOT_STATE_FUNDED_TYPES = {"non-maintained special school"}
ACADEMY_GROUPS = {"academies", "free schools"}
PHASES = {"primary": Phase.PRIMARY, "middle deemed primary": Phase.PRIMARY,
          "secondary": Phase.SECONDARY, "middle deemed secondary": Phase.SECONDARY,
          "all-through": Phase.SECONDARY, "16 plus": Phase.SECONDARY}
GRADES = {"outstanding": 1, "good": 2, "requires improvement": 3, "inadequate": 4,
          "serious weaknesses": 4, "special measures": 4}

# -- the bounds of plausible values (docs/ODD.md section 5 gives the reasons) -----------
# URNs are six-digit numbers; one spare digit for the future.
URN_MAX = 9_999_999
# Above England's largest state-funded schools (a few thousand pupils).
PUPILS_MAX = 5_000
# A box round England on the British National Grid (metres), with a margin: the Isles of
# Scilly lie near easting 88 km and northing 8 km, Lowestoft near easting 655 km, the
# border north of Berwick near northing 657 km.
EASTING_M = (60_000.0, 670_000.0)
NORTHING_M = (0.0, 670_000.0)
# Ofsted was founded in September 1992; no school was inspected by it before.
OFSTED_BEGAN = datetime.datetime(1992, 9, 1)
# GIAS writes dates dd-mm-yyyy; copies re-saved by a spreadsheet write dd/mm/yyyy or ISO.
DATE_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d")
# More than this share of a column's values unusable is a wrong format, not stray errors.
UNUSABLE_SHARE_MAX = 0.5

# Reasons a row is dropped, in the order they are judged (the first that applies counts).
DROP_REASONS = ("empty row", "repeated header line", "duplicate of an earlier row",
                "not open", "not state-funded", "no phase the model covers", "URN blank",
                f"URN not a whole number from 1 to {URN_MAX:,}", "no local authority")


@dataclass
class Extract:
    """A GIAS extract, read and checked.

    `rows` has one row per data row of the file: the text columns (the keys of `COLUMNS`,
    white space tidied), `drop` (why the row cannot be used, "" if it can), `school` (an
    open state-funded school the model covers, whatever its URN), `model_phase` (or -1),
    `academy`, and the parsed values (`urn_number`, `easting_m`, `northing_m`,
    `pupils_number`, `fsm`, `grade`, `inspected`), each NaN, 0 or NaT where unusable,
    with its reason in `why_<value>` ("" where usable).
    """

    path: str
    rows: pd.DataFrame


def check_extract(frame: pd.DataFrame, path: str) -> Extract:
    """Judge every row and value of the extract by the rules in the module docstring."""
    for name, column in frame.items():
        if name not in MAY_BE_BLANK_THROUGHOUT and (column == "").all():
            raise ConfigError(f"population.path: '{path}': the column '{COLUMNS[str(name)]}' is "
                              f"blank in every row; the model needs it (download the full "
                              f"'all establishment data' extract from {DOWNLOAD})")
    rows = frame.copy()
    # One spelling per local authority (the first seen), whatever the case of the others.
    rows["local_authority"] = rows["local_authority"].groupby(
        rows["local_authority"].str.casefold()).transform("first")
    # Trust codes are whole numbers; a spreadsheet may have written 15001 as 15001.0.
    rows["trust_code"] = rows["trust_code"].str.replace(r"^(\d+)\.0*$", r"\1", regex=True)
    rows["model_phase"], status = _status(rows)
    rows["urn_number"], why_urn = _urn(rows["urn"])
    rows["academy"] = rows["type_group"].str.casefold().isin(ACADEMY_GROUPS)
    rows["drop"] = _drop(rows, status, why_urn)
    # Open state-funded schools the model covers, whatever their URN: the rows whose
    # values are judged as a whole, and from which the file-wide imputations are drawn.
    rows["school"] = np.isin(rows["drop"], ["", *DROP_REASONS[6:8]])
    _refuse_conflicting_urns(rows, path)

    rows["easting_m"], rows["northing_m"], rows["why_location"] = _location(
        rows["easting"], rows["northing"])
    rows["pupils_number"], rows["why_pupils"] = _pupils(rows["pupils"])
    rows["fsm"], rows["why_fsm_share"] = _fsm(rows["fsm_percent"])
    rows["grade"] = rows["ofsted_rating"].str.casefold().map(GRADES).fillna(0).astype(np.int8)
    rows["why_ofsted_rating"] = np.where(
        rows["grade"] > 0, "", np.where(rows["ofsted_rating"] == "", "blank",
                                        "not an Ofsted grade"))
    latest_date, source_of_date = extract_date(path)
    rows["inspected"], rows["why_inspection_date"] = _dates(rows["ofsted_date"], latest_date)
    rows["why_name"] = np.where(rows["name"] == "", "blank", "")
    rows["name"] = rows["name"].mask(rows["name"] == "",
                                     "URN " + rows["urn_number"].astype(str))
    rows["why_academy_trust"] = np.where(rows["academy"] & (rows["trust_code"] == ""),
                                         "blank", "")
    _refuse_unusable_columns(rows, why_urn, path, f"{latest_date:%d-%m-%Y}, {source_of_date}")
    return Extract(path=path, rows=rows)


def extract_date(path: str) -> tuple[pd.Timestamp, str]:
    """The day the extract was taken: from its name (GIAS names files
    edubasealldataYYYYMMDD.csv), else today; and which it was."""
    import pandas as pd

    for digits in re.findall(r"(?<!\d)(\d{8})(?!\d)", Path(path).name):
        day = pd.to_datetime(digits, format="%Y%m%d", errors="coerce")
        if pd.notna(day) and day >= OFSTED_BEGAN:
            return day, "the date in the file's name"
    return pd.Timestamp.today().normalize(), "today, as the file's name holds no date"


def _status(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's model phase (or -1), and why it is not a school the model covers."""
    import pandas as pd

    status = rows["status"].str.casefold()
    group = rows["type_group"].str.casefold()
    kind = rows["type"].str.casefold()
    phase = rows["phase"].str.casefold().map(PHASES).fillna(-1).astype(int)
    special = kind.str.contains("special", regex=False)
    alternative = kind.str.contains("alternative provision", regex=False) | (
        kind == "pupil referral unit")
    phase = phase.mask(special, int(Phase.SPECIAL)).mask(alternative,
                                                         int(Phase.ALTERNATIVE_PROVISION))
    reason = pd.Series("", index=rows.index).mask(phase < 0, "no phase the model covers")
    reason = reason.mask(~group.isin(STATE_FUNDED_GROUPS) | kind.isin(NOT_STATE_FUNDED_TYPES),
                         "not state-funded")
    reason = reason.mask(~status.isin(OPEN), "not open")
    return phase.astype(np.int8), reason


def _urn(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """URNs as whole numbers (0 where unusable), and why each is unusable."""
    import pandas as pd

    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    valid = np.isfinite(number) & (number == np.round(number)) & (number >= 1) & (
        number <= URN_MAX)
    why = np.where(valid, "", np.where(text == "", "URN blank", DROP_REASONS[7]))
    return pd.Series(np.where(valid, number, 0).astype(np.int64), index=text.index), why


def _drop(rows: pd.DataFrame, status: pd.Series, why_urn: np.ndarray) -> np.ndarray:
    """Why each row cannot be used ("" if it can): the first reason of DROP_REASONS."""
    text = rows[list(COLUMNS)]
    empty = (text == "").all(axis=1).to_numpy()
    header = (rows["urn"].str.casefold() == "urn").to_numpy()
    duplicate = text.duplicated().to_numpy()
    no_authority = (rows["local_authority"] == "").to_numpy()
    return np.select(
        [empty, header, duplicate, (status != "").to_numpy(), why_urn != "", no_authority],
        [DROP_REASONS[0], DROP_REASONS[1], DROP_REASONS[2], status.to_numpy(dtype=object),
         why_urn.astype(object), DROP_REASONS[8]], "").astype(object)


def _refuse_conflicting_urns(rows: pd.DataFrame, path: str) -> None:
    """One URN on two rows that differ: the file cannot say which school it is."""
    counted = ~np.isin(rows["drop"], DROP_REASONS[:3]) & (rows["urn_number"] > 0)
    urns = rows["urn_number"][counted]
    repeated = urns[urns.duplicated(keep=False)]
    if len(repeated):
        urn = repeated.iloc[0]
        rows_of_urn = repeated.index[repeated == urn]
        where = " and ".join(str(index + 1) for index in rows_of_urn[:3]) + (
            " and more" if len(rows_of_urn) > 3 else "")
        raise ConfigError(f"population.path: '{path}': URN {urn} is on {len(rows_of_urn)} "
                          f"different rows (data rows {where}); a GIAS extract has one row per "
                          f"establishment: remove the wrong one")


def _numbers(text: pd.Series) -> np.ndarray:
    """Text as numbers: NaN where blank, not a number, or not finite (nan, inf)."""
    import pandas as pd

    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(number), number, np.nan)


def _location(easting_text: pd.Series, northing_text: pd.Series
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid references in metres (NaN where unusable), and why each location is unusable."""
    easting, northing = _numbers(easting_text), _numbers(northing_text)
    blank_e, blank_n = (easting_text == "").to_numpy(), (northing_text == "").to_numpy()
    zero = (easting == 0) | (northing == 0)
    unreadable = (np.isnan(easting) & ~blank_e) | (np.isnan(northing) & ~blank_n)
    outside = ~((easting > EASTING_M[0]) & (easting < EASTING_M[1])
                & (northing > NORTHING_M[0]) & (northing < NORTHING_M[1]))
    why = np.select([blank_e & blank_n, blank_e | blank_n, unreadable, zero, outside],
                    ["blank", "only one of easting and northing", "not a number", "zero",
                     "outside England"], "")
    usable = why == ""
    return np.where(usable, easting, np.nan), np.where(usable, northing, np.nan), why


def _pupils(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Pupils (NaN where unusable; fractions rounded), and why each is unusable or rounded."""
    number = _numbers(text)
    rounded = np.round(number)
    why = np.select(
        [(text == "").to_numpy(), np.isnan(number), rounded < 0, rounded == 0,
         rounded > PUPILS_MAX, rounded != number],
        ["blank", "not a number", "negative", "zero", f"above {PUPILS_MAX:,}",
         "not a whole number (rounded)"], "")
    usable = (why == "") | (why == "not a whole number (rounded)")
    return np.where(usable, rounded, np.nan), why


def _fsm(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """FSM shares from percentages (NaN where unusable), and why each is unusable."""
    number = _numbers(text)
    why = np.select([(text == "").to_numpy(), np.isnan(number), (number < 0) | (number > 100)],
                    ["blank", "not a number", "outside 0-100"], "")
    return np.where(why == "", number / 100.0, np.nan), why


def _dates(text: pd.Series, latest: pd.Timestamp) -> tuple[pd.Series, np.ndarray]:
    """Inspection dates (NaT where unusable), and why each is unusable."""
    import pandas as pd

    when = pd.to_datetime(text, format=DATE_FORMATS[0], errors="coerce")
    for date_format in DATE_FORMATS[1:]:
        unread = when.isna() & (text != "")
        if not unread.any():
            break
        when = when.mask(unread, pd.to_datetime(text[unread], format=date_format,
                                                errors="coerce"))
    why = np.select([(text == "").to_numpy(), when.isna().to_numpy(),
                     (when < OFSTED_BEGAN).to_numpy(), (when > latest).to_numpy()],
                    ["blank", "not a date", "before Ofsted began (1992)",
                     "after the extract's date"], "")
    return when.where(why == ""), why


# The columns whose values are checked: as the file names them, the reasons that are gaps
# (a value legitimately missing, not wrong), what a usable value looks like, and whether
# the model needs it (no open state-funded school with a usable value is refused).
CHECKED = {
    "urn": ("URN", {"URN blank"}, f"a whole number from 1 to {URN_MAX:,}, such as 100000",
            True),
    "location": ("Easting and Northing", {"blank", "zero"},
                 "metres on the British National Grid within England, such as 331500 and "
                 "436000", True),
    "pupils": ("NumberOfPupils", {"blank", "zero"},
               f"a whole number from 1 to {PUPILS_MAX:,}, such as 412", True),
    "fsm_share": ("PercentageFSM", {"blank"}, "a percentage from 0 to 100, such as 23.4", True),
    "ofsted_rating": ("OfstedRating (name)", {"blank"},
                      "Outstanding, Good, Requires improvement, Inadequate, Serious Weaknesses "
                      "or Special Measures", False),
    "inspection_date": ("OfstedLastInsp", {"blank"},
                        "dates as dd-mm-yyyy (or dd/mm/yyyy or yyyy-mm-dd) from 1992 to the "
                        "extract's date, such as 07-01-2016", False),
    # Every academy belongs to a trust, so a blank code is not a gap.
    "academy_trust": ("Trusts (code)", set(), "an academy's trust code, such as 16789", False),
}
# Reasons whose value is still used, changed: counted, but neither a gap nor unusable.
ADJUSTED = {"not a whole number (rounded)"}
TEXT_OF = {"urn": "urn", "location": "easting", "pupils": "pupils", "fsm_share": "fsm_percent",
           "ofsted_rating": "ofsted_rating", "inspection_date": "ofsted_date",
           "academy_trust": "trust_code"}


def _refuse_unusable_columns(rows: pd.DataFrame, why_urn: np.ndarray, path: str,
                             latest_date: str) -> None:
    """Refuse the file when, among its open state-funded schools, more than half of the
    values a column gives are unusable, or a column the model needs has no usable value."""
    import pandas as pd

    schools = rows["school"].to_numpy()
    academies = schools & rows["academy"].to_numpy()
    for column, (label, gaps, expected, needed) in CHECKED.items():
        within = academies if column == "academy_trust" else schools
        why = (why_urn if column == "urn" else rows[f"why_{column}"].to_numpy())[within]
        if not len(why):
            continue
        gap = np.isin(why, list(gaps))
        unusable = ~gap & ~np.isin(why, ["", *ADJUSTED])
        given = int((~gap).sum())
        if unusable.sum() > UNUSABLE_SHARE_MAX * given:
            first = np.flatnonzero(unusable)[0]
            example = rows[TEXT_OF[column]].to_numpy()[within][first]
            if column == "location":
                example = f"{example}, {rows['northing'].to_numpy()[within][first]}"
            reason = why[first] + (f" ({latest_date})" if why[first].startswith("after") else "")
            kind = "academies" if column == "academy_trust" else "schools that give it"
            raise ConfigError(
                f"population.path: '{path}': {label} is unusable for {unusable.sum()} of the "
                f"{given} open state-funded {kind} (e.g. {example[:40]!r}: {reason}); the "
                f"model reads {expected}")
        if needed and given == 0:
            counts = ", ".join(f"{reason} {count}" for reason, count in
                               pd.Series(why).value_counts().sort_index().items())
            raise ConfigError(f"population.path: '{path}': no open state-funded school has a "
                              f"usable {label} ({counts}); the model needs it: download the "
                              f"full 'all establishment data' extract from {DOWNLOAD}")
