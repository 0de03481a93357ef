"""Read a GIAS extract: from a path to the 16 columns the model uses, as text.

`read_extract` takes the file's bytes to one row of text per data row, and refuses, in
one line that names the problem and the fix, anything that is not a readable,
well-formed CSV file with the GIAS columns:

- a path that is not set, does not exist, is a folder or a device, cannot be read, or
  names a file over 1 GB;
- an empty file, an archive (gzip, zip, bzip2, xz, 7-Zip), a workbook, a PDF, a web page,
  or binary data (NUL bytes);
- text neither UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark,
  nor Windows-1252 (as GIAS publishes it);
- a header without the GIAS columns (or with one of them twice), or separated by
  semicolons or tabs;
- a row whose number of fields differs from the header's (an unquoted comma, a quote
  never closed, a file cut short), or no row at all.

Line ends may be CRLF, LF or CR; quoted values may hold commas and line breaks; columns
may come in any order, with others among them, their names in any case and spacing.
`sim.population.gias_check` judges the values.
"""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import ConfigError

# pandas and pyarrow are loaded when an extract is read, not with the config, which
# `python -m sim --help` and a refused override read without them.
if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

DOWNLOAD = "https://get-information-schools.service.gov.uk/Downloads"

COLUMNS = {
    "urn": "URN",
    "name": "EstablishmentName",
    "status": "EstablishmentStatus (name)",
    "type_group": "EstablishmentTypeGroup (name)",
    "type": "TypeOfEstablishment (name)",
    "phase": "PhaseOfEducation (name)",
    "easting": "Easting",
    "northing": "Northing",
    "local_authority": "LA (name)",
    "district": "DistrictAdministrative (name)",
    "trust_code": "Trusts (code)",
    "trust_name": "Trusts (name)",
    "pupils": "NumberOfPupils",
    "fsm_percent": "PercentageFSM",
    "ofsted_rating": "OfstedRating (name)",
    "ofsted_date": "OfstedLastInsp",
}
# Read when the file has them, blank otherwise: a real extract always has them, but the
# model does not need them, so an extract without them still loads. The region (GIAS's
# government office region) names each local authority's region in areas.parquet.
OPTIONAL_COLUMNS = {"region": "GOR (name)"}
# Free-text columns, whose runs of white space (line breaks in quoted names) become one space.
FREE_TEXT = ("name", "local_authority", "district", "trust_name", "region")

# A national extract is 60-80 MB; a file of more than ten times that is not one, and
# reading it would exhaust the memory of most machines.
MAX_BYTES = 1_000_000_000

# Files that are not text, by their first bytes, and what to do instead.
SIGNATURES = (
    (b"\x1f\x8b", "a gzip archive: unpack it (gunzip) and give the CSV inside"),
    (b"PK\x03\x04", "a zip archive or an Excel workbook: unzip it and give the CSV inside, "
                    "or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook: save the sheet as CSV"),
    (b"BZh", "a bzip2 archive: unpack it (bunzip2) and give the CSV inside"),
    (b"\xfd7zXZ\x00", "an xz archive: unpack it (unxz) and give the CSV inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: unpack it and give the CSV inside"),
    (b"%PDF", "a PDF document, not CSV"),
)



def check_path(path: str | Path | None) -> Path:
    """The extract's path, if it names a readable regular file; ConfigError otherwise."""
    if path is None or not str(path).strip():
        raise ConfigError(f"population.path is not set: give a GIAS extract with "
                          f"population.path=PATH (download edubasealldataYYYYMMDD.csv from "
                          f"{DOWNLOAD})")
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"population.path: no such file '{path}'")
    if path.is_dir():
        inside = sorted(path.glob("*.csv"))[:3]
        hint = (f"; did you mean {' or '.join(repr(str(file)) for file in inside)}?" if inside
                else "; give the extract's CSV file")
        raise ConfigError(f"population.path: '{path}' is a folder, not a file{hint}")
    if not path.is_file():
        raise ConfigError(f"population.path: '{path}' is not a regular file (a device, pipe "
                          f"or socket); give the extract's CSV file")
    return path


def read_extract(path: str | Path | None) -> pd.DataFrame:
    """The GIAS columns the model uses, as text ("" where blank), one row per data row."""
    import pandas as pd

    path = check_path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(f"population.path: '{path}' is {size / 1e9:.1f} GB; a GIAS extract "
                          f"is under 0.1 GB, and files over {MAX_BYTES / 1e9:.0f} GB are not read")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"population.path: cannot read '{path}' "
                          f"({error.strerror or error})") from error
    text = _decode(_not_binary(raw, path), path)
    if "\x00" in text:
        raise ConfigError(f"population.path: '{path}' is not a CSV file (it holds NUL bytes: "
                          f"binary data, or UTF-16 text without a byte-order mark; save it "
                          f"as CSV in UTF-8 or Windows-1252)")
    # A spreadsheet may write its separator on a first line of its own ("sep=,").
    if re.match(r"sep=.?(\r\n|\r|\n)", text[:8]):
        text = text[text.index("\n" if "\n" in text[:8] else "\r") + 1:]
    header = _header(text, path)
    table = _parse(text.encode("utf-8"), header, path)
    if table.num_rows == 0:
        raise ConfigError(f"population.path: '{path}' has a header but no rows; download the "
                          f"extract again ({DOWNLOAD})")
    frame = pd.DataFrame({name: _tidy(table.column(header[name]), name in FREE_TEXT)
                          for name in COLUMNS})
    for name in OPTIONAL_COLUMNS:
        frame[name] = (_tidy(table.column(header[name]), name in FREE_TEXT) if name in header
                       else "")
    return frame


def _not_binary(raw: bytes, path: Path) -> bytes:
    """The bytes, if they can be text; ConfigError naming what the file is otherwise."""
    if not raw.strip():
        raise ConfigError(f"population.path: '{path}' is empty; it should be a GIAS extract")
    for signature, what in SIGNATURES:
        if raw.startswith(signature):
            raise ConfigError(f"population.path: '{path}' is {what}")
    if raw.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"<"):
        raise ConfigError(f"population.path: '{path}' is a web page (HTML or XML), not CSV: the "
                          f"download may have failed; download the extract again ({DOWNLOAD})")
    return raw


def _decode(raw: bytes, path: Path) -> str:
    """Text from bytes: GIAS files are Windows-1252; UTF-8 copies (with or without a
    byte-order mark) circulate, and a spreadsheet may save UTF-16 with a byte-order mark."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ConfigError(f"population.path: '{path}' starts as UTF-16 text but byte "
                              f"{error.start} cannot be read; save it as CSV again") from error
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"population.path: '{path}' is not text in Windows-1252 or UTF-8 "
                          f"(byte {raw[error.start]:#04x} on line {line} is neither); save it "
                          f"as CSV in UTF-8") from error


def _header(text: str, path: Path) -> dict[str, str]:
    """The file's name of each column the model uses, matched ignoring case and spaces."""
    line_break = re.search(r"[\r\n]", text)
    first_line = text[:line_break.start()] if line_break else text
    try:
        names = next(csv.reader([first_line]))
    except (csv.Error, StopIteration) as error:
        raise ConfigError(f"population.path: '{path}' is not a CSV file (its first line cannot "
                          f"be read as a header: {error})") from error
    folded: dict[str, list[str]] = {}
    for name in names:
        folded.setdefault(" ".join(name.split()).casefold(), []).append(name)
    header, missing = {}, []
    for column, wanted in COLUMNS.items():
        found = folded.get(wanted.casefold(), [])
        if len(found) > 1:
            raise ConfigError(f"population.path: '{path}' has the column '{wanted}' "
                              f"{len(found)} times; a GIAS extract has each column once")
        if found:
            header[column] = found[0]
        else:
            missing.append(wanted)
    for column, wanted in OPTIONAL_COLUMNS.items():
        found = folded.get(wanted.casefold(), [])
        if found:
            header[column] = found[0]
    if missing:
        separator = max([(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")],
                        key=lambda pair: first_line.count(pair[0]))
        if first_line.count(separator[0]) > first_line.count(","):
            raise ConfigError(f"population.path: '{path}' is separated by {separator[1]}, not "
                              f"commas; a GIAS extract is comma-separated CSV: save it as CSV "
                              f"(comma delimited) or download it again")
        named = ", ".join(repr(column) for column in missing[:4]) + (
            f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise ConfigError(f"population.path: '{path}' lacks the GIAS columns {named}; is it "
                          f"an 'all establishment data' extract ({DOWNLOAD})?")
    return header


def _parse(data: bytes, header: dict[str, str], path: Path) -> pa.Table:
    """The used columns as strings, every row holding exactly the header's fields."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    bad_rows: list[pa_csv.InvalidRow] = []

    def refuse_later(row: pa_csv.InvalidRow) -> str:
        bad_rows.append(row)
        return "skip"

    columns = list(header.values())
    convert = pa_csv.ConvertOptions(include_columns=columns, strings_can_be_null=False,
                                    column_types=dict.fromkeys(columns, pa.string()))
    parse = pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=refuse_later)
    block_size = 1 << 24
    while True:
        try:
            table = pa_csv.read_csv(pa.BufferReader(data), convert_options=convert,
                                    parse_options=parse,
                                    read_options=pa_csv.ReadOptions(block_size=block_size))
            break
        except pa.ArrowInvalid as error:
            if "straddl" in str(error) and block_size < len(data):
                # A row longer than a block: read the file as one block.
                block_size, bad_rows[:] = len(data) + 1, []
                continue
            reason = " ".join(str(error).split())[:200]
            raise ConfigError(f"population.path: '{path}' is not a well-formed CSV file "
                              f"({reason})") from error
    if bad_rows:
        first = bad_rows[0]
        start = data.find(first.text.encode("utf-8")[:200])
        line = data.count(b"\n", 0, start) + 1
        where = f" on line {line}" if start >= 0 else ""
        excerpt = " ".join(first.text.split())[:60]
        raise ConfigError(
            f"population.path: '{path}' is not a well-formed CSV file: {len(bad_rows)} "
            f"{'rows do' if len(bad_rows) > 1 else 'row does'} not have the header's "
            f"{first.expected_columns} fields (the first, {excerpt!r}{where}, has "
            f"{first.actual_columns}); a value holding a comma or line break must be in "
            f"double quotes, and a file cut short must be downloaded again")
    return table


def _tidy(column: pa.ChunkedArray, free_text: bool) -> pd.Series:
    """Text without surrounding white space; in free text, runs of white space as one space."""
    import pyarrow.compute as pc

    if free_text:
        column = pc.replace_substring_regex(column, r"\s+", " ")
    return pc.utf8_trim_whitespace(column).to_pandas()
