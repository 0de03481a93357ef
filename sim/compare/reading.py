"""Reading run folders for a comparison: which runs there are, and which could not be used.

A run folder is a folder that holds a `summary.json`; folders whose names start with `.`
(staging folders of runs still being written or killed, `.failed/`, `.incomplete/`) are
never looked into. Each run's `summary.json`, `config.yaml` and `timeseries.parquet` are
read and checked here, before anything is written; a run whose files cannot be used is
skipped and named, with what is wrong (`UnusableRunError`), and the rest are compared.

What counts as an undefined value: `null` in `summary.json`, a headline measure that is
absent, and the bare `NaN` or `Infinity` that older versions of the simulator wrote
(Python's `json` writes them, though they are not JSON). All three are read as NaN and
left out of the pairs they would be in (see `sim.compare.pairing`).

What counts as damaged: a headline measure (or a time-series value) that is infinite (a
number too large for a float, such as `1e400`, reads as infinity) or larger in size than
`LARGEST` (1e15). No run produces such a value (the largest, spending, is some £1e10 for
England over decades), and a difference or mean of such values overflows, so the run is
skipped and named like any other run that cannot be used, rather than compared.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import UserError, one_line

MEASURES = {  # headline scalar of summary.json -> (label, unit); the differences are of these
    "good_or_better_change": ("Change in good-or-better share", "percentage points"),
    "orphan_terms": ("Orphan-school terms", "school-terms"),
    "teacher_leaving_rate_mean": ("Teacher leaving rate", "percentage points"),
    "good_or_better_gap_final": ("Disadvantage gap in good-or-better share at the end",
                                 "percentage points"),
    "spending_total_gbp": ("Spending", "£ million"),
    "grades_gained": ("Net grades gained at inspections", "grades"),
}
OUTCOMES = {  # headline scalar -> (label, scale), for the distributions of final outcomes
    "good_or_better_final": ("Good or better at the end (%)", 100),
    "orphan_terms": ("Orphan-school terms", 1),
    "teacher_leaving_rate_mean": ("Teacher leaving (% per year)", 100),
    "spending_total_gbp": ("Spending (£ million)", 1e-6),
}
SERIES = {  # time-series column -> (title, unit, scale)
    "share_good_or_better": ("Good or better", "% of schools", 100),
    "n_orphans": ("Orphan schools", "schools waiting for a sponsor", 1),
    "teacher_leaving_rate": ("Teachers leaving", "% of teachers per year", 100),
    "spending_to_date_gbp": ("Spending to date", "£ million", 1e-6),
}
# Time-series columns read when a run has them (runs of older versions may not): the
# comparison figure draws a panel for one only when every run has it.
OPTIONAL_SERIES = ("good_or_better_gap",)
# What identifies a run, from summary.json or else from config.yaml.
IDENTITY = {"scenario": ("scenario.name",), "policy": ("policy.name",), "seed": ("seed",),
            "horizon_years": ("horizon_years", "scenario.horizon_years")}
NOT_PARAMETERS = ("output.",)  # where results go and how they are drawn: not a setting
NULL = "null"  # an explicit null setting (policy.end_year: null), as settings text
# No measure of a run is larger in size than this; a value beyond it marks the run damaged.
LARGEST = 1e15


class UnusableRunError(Exception):
    """A run folder whose files cannot be used; the message says what is wrong, in a line."""


@dataclass
class Found:
    """What the paths hold: run folders, and the folders that may name runs that are not
    there (sweeps with a plan, `.failed/` records or staging folders)."""

    runs: list[Path] = field(default_factory=list)
    sweeps: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Runs:
    """The runs that could be read: one row of `table` and of `settings`, and one time
    series, per run. `settings` holds each run's identity and parameters as text, the way
    they are compared: numbers without a needless decimal point (3.0 is '3'), an explicit
    null as 'null', and '' for a parameter the run does not have (another policy's)."""

    table: pd.DataFrame
    settings: pd.DataFrame
    series: dict[str, pd.DataFrame]
    skipped: list[tuple[Path, str]]  # (run folder, what is wrong)
    bare_non_finite: list[str]  # runs whose summary.json holds bare NaN or Infinity
    # Runs of a plausible parameter set (+uncertainty=plausible): their parameter_set.json.
    parameter_sets: dict[str, dict[str, Any]] = field(default_factory=dict)


def is_sweep(folder: Path, names: list[str]) -> bool:
    """Whether a folder may name runs that are not in it: a plan, failures, or staging."""
    return ("plan.csv" in names or ".failed" in names or ".incomplete" in names
            or any(name.startswith(".") and name.endswith(".staging") for name in names))


def find_runs(paths: list[Path]) -> Found:
    """Every run folder under the paths, each once, in order; raises UserError for a path
    that is missing, a file, or holds neither runs nor a record of any."""
    found = Found()
    seen_runs: set[Path] = set()
    given: dict[Path, Path] = {}
    for path in paths:
        if not path.exists():
            raise UserError(f"{path} does not exist: give run folders or sweep folders")
        if not path.is_dir():
            parent = path.parent
            hint = (f" ({parent} is a run folder: give that)"
                    if (parent / "summary.json").is_file() else "")
            raise UserError(f"{path} is a file, not a folder: give run folders or sweep "
                            f"folders{hint}")
        resolved = path.resolve()
        if resolved in given:
            spelled = "" if str(given[resolved]) == str(path) else f" (also as {given[resolved]})"
            found.notes.append(f"{path} is given twice{spelled}; its runs are read once")
            continue
        for other, spelled in given.items():
            if resolved.is_relative_to(other) or other.is_relative_to(resolved):
                inner, outer = (path, spelled) if resolved.is_relative_to(other) \
                    else (spelled, path)
                found.notes.append(f"{inner} is inside {outer}, also given; each run is read once")
        given[resolved] = path
        anything, problems = False, len(found.warnings)
        for folder, is_run in walk(path, found.warnings):
            anything = True
            key = folder.resolve()
            if key in seen_runs:
                continue
            seen_runs.add(key)
            (found.runs if is_run else found.sweeps).append(folder)
        if not anything:
            why = found.warnings[problems] if len(found.warnings) > problems else (
                "no folder in it has a summary.json")
            raise UserError(f"{path} holds no runs: {why} (give a run folder or a sweep folder)")
    return found


def walk(root: Path, warnings: list[str]) -> Iterator[tuple[Path, bool]]:
    """(folder, True) for each run folder under root, (folder, False) for each sweep-like
    folder. Hidden folders are not entered, nor run folders; a link to a run folder is a
    run, but links are not followed further (a link up the tree would read runs that were
    not asked for)."""
    def unreadable(error: OSError) -> None:
        warnings.append(f"cannot look into {error.filename}: {error.strerror}; skipped")

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        if "summary.json" in files:
            subfolders[:] = []
            yield here, True
            continue
        if is_sweep(here, [*subfolders, *files]):
            yield here, False
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in subfolders:
            if (here / name).is_symlink() and (here / name / "summary.json").is_file():
                yield here / name, True


def leaves(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted key, value) of a nested mapping; lists are values, not branches."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def is_number(value: Any) -> bool:
    """Whether the value is a number (numpy's included), and not a flag."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def as_number(value: Any) -> float | None:
    """The value as a finite number, if it is one or is text that reads as one."""
    if is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def number_text(number: float) -> str:
    """3.0 -> '3', 0.25 -> '0.25': whole numbers without a decimal point."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def setting_text(value: Any) -> str:
    """How a setting is compared and named: 3 and 3.0 alike, null as 'null'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NULL
    return number_text(float(value)) if is_number(value) else str(value)


def read_summary(run: Path) -> tuple[dict[str, Any], bool]:
    """The summary's values, and whether it held bare NaN or Infinity (read as undefined)."""
    path = run / "summary.json"
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise UnusableRunError("summary.json is not UTF-8 text") from None
    except OSError as error:
        raise UnusableRunError(f"summary.json cannot be read ({error.strerror})") from None
    if not text.strip():
        raise UnusableRunError("summary.json is empty")
    non_finite: list[str] = []

    def undefined(name: str) -> None:  # json calls this for bare NaN, Infinity, -Infinity
        non_finite.append(name)

    try:
        summary = json.loads(text, parse_constant=undefined)
    except json.JSONDecodeError as error:
        raise UnusableRunError(f"summary.json is not valid JSON ({error.msg}, line {error.lineno}); "
                     f"truncated?") from None
    if not isinstance(summary, dict):
        raise UnusableRunError("summary.json holds no JSON object")
    for measure in {**MEASURES, **OUTCOMES}:
        value = summary.get(measure)
        if value is not None and not is_number(value):
            raise UnusableRunError(f"summary.json has {measure}={json.dumps(value)[:40]}, not a number")
        if value is not None and not abs(value) <= LARGEST:  # infinite, or absurdly large
            raise UnusableRunError(f"summary.json has {measure}={json.dumps(value)[:40]}, beyond "
                                   f"any value a run produces (size over {LARGEST:g}): "
                                   f"damaged?")
    return summary, bool(non_finite)


def read_config(run: Path) -> dict[str, Any]:
    """The run's parameters, as dotted keys."""
    import yaml

    path = run / "config.yaml"
    if not path.is_file():
        raise UnusableRunError("it has no config.yaml")
    try:
        config = yaml.load(path.read_text(encoding="utf-8"),
                           Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: faster
    except UnicodeDecodeError:
        raise UnusableRunError("config.yaml is not UTF-8 text") from None
    except OSError as error:
        raise UnusableRunError(f"config.yaml cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise UnusableRunError(f"config.yaml is not valid YAML ({problem}{where})") from None
    if config is None:
        raise UnusableRunError("config.yaml is empty")
    if not isinstance(config, dict):
        raise UnusableRunError("config.yaml holds no mapping of parameters")
    return {key: (str(value) if isinstance(value, list) else value)
            for key, value in leaves(config) if not key.startswith(NOT_PARAMETERS)}


def check_series(series: pd.DataFrame, columns: Iterable[str]) -> None:
    """Refuse a run's time series without one of `columns`, or without rows: a damaged
    file, or another of the run's tables copied over it (`sim.report` checks with it too)."""
    absent = [c for c in columns if c not in series.columns]
    if absent:
        raise UnusableRunError(f"timeseries.parquet has no column {', '.join(absent)}")
    if series.empty:
        raise UnusableRunError("timeseries.parquet has no rows")


def read_series(run: Path) -> pd.DataFrame:
    """The time series the figures draw, indexed by term (year * 3 + term of the year)."""
    path = run / "timeseries.parquet"
    if not path.is_file():
        raise UnusableRunError("it has no timeseries.parquet")
    try:
        series = pd.read_parquet(path)
    except Exception as error:  # pyarrow's errors for a truncated or foreign file vary
        message = one_line(error).replace(str(path), path.name)
        raise UnusableRunError(f"timeseries.parquet cannot be read ({message[:160]})") from None
    check_series(series, ("year", "term_of_year", *SERIES))
    terms = pd.to_numeric(series["year"], errors="coerce") * 3 + pd.to_numeric(
        series["term_of_year"], errors="coerce")
    if terms.isna().any() or terms.duplicated().any():
        raise UnusableRunError("timeseries.parquet has missing or repeated terms")
    present = [c for c in OPTIONAL_SERIES if c in series.columns]
    columns = {c: pd.to_numeric(series[c], errors="coerce").to_numpy(dtype=float)
               for c in (*SERIES, *present)}
    for column, values in columns.items():
        damaged = np.abs(values) > LARGEST  # infinity included; NaN (undefined) is not
        if damaged.any():
            raise UnusableRunError(f"timeseries.parquet has {column}={values[damaged][0]:g}, "
                                   f"beyond any value a run produces (size over "
                                   f"{LARGEST:g}): damaged?")
    return pd.DataFrame(columns, index=pd.Index(terms.astype(int).to_numpy(), name="term"))


def read_run(run: Path) -> tuple[dict[str, Any], dict[str, str], pd.DataFrame, bool]:
    """A run's row of the table (identity, headline scalars, parameters), its settings as
    text, its time series, and whether its summary.json held bare NaN or Infinity."""
    summary, non_finite = read_summary(run)
    parameters = read_config(run)
    row: dict[str, Any] = {"run": str(run)}
    for key, sources in IDENTITY.items():
        value = summary.get(key)
        for source in sources:
            value = parameters.get(source) if value is None else value
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise UnusableRunError(f"neither summary.json nor config.yaml gives its {key}")
        if key in ("seed", "horizon_years"):
            if not is_number(value) or not float(value).is_integer():
                raise UnusableRunError(f"its {key} is {value!r}, not a whole number")
            value = int(value)
        row[key] = value
    for key, value in summary.items():
        if key not in row:
            row[key] = (json.dumps(value) if isinstance(value, dict | list) else value)
    for measure in {**MEASURES, **OUTCOMES}:
        row.setdefault(measure, None)  # absent: undefined, like null
    for key, value in parameters.items():
        if "." in key and key not in row:
            row[key] = value
    settings = {key: setting_text(row[key]) for key in IDENTITY}
    settings.update({key: setting_text(value) for key, value in parameters.items() if "." in key})
    return row, settings, read_series(run), non_finite


PARAMETER_SET_FIELDS = ("value", "prior_low", "prior_high", "plausible_low", "plausible_high")


def read_parameter_set(run: Path, index: str) -> dict[str, Any]:
    """A run's parameter_set.json (written by a run of a plausible parameter set), checked
    against the set its config.yaml names."""
    try:
        record = json.loads((run / "parameter_set.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        why = error.strerror if isinstance(error, OSError) else "not JSON text"
        raise UnusableRunError(f"its config.yaml names parameter set {index}, but its "
                               f"parameter_set.json cannot be read ({why})") from None
    parameters = record.get("parameters") if isinstance(record, dict) else None
    usable = (isinstance(parameters, dict) and parameters
              and setting_text(record.get("parameter_set")) == index
              and isinstance(record.get("plausible_sets_sha256"), str)
              and all(isinstance(entry, dict) and entry.get("scale") in ("linear", "log")
                      and all(is_number(entry.get(name)) for name in PARAMETER_SET_FIELDS)
                      for entry in parameters.values()))
    if not usable:
        raise UnusableRunError(f"its parameter_set.json is not the record of parameter set "
                               f"{index} that a run writes")
    return record


def read_runs(folders: list[Path]) -> Runs:
    """Read every run; those that cannot be used are skipped, each with its reason."""
    rows, settings, series, skipped, non_finite = [], [], {}, [], []
    parameter_sets: dict[str, dict[str, Any]] = {}
    for folder in folders:
        try:
            row, setting, timeseries, bare = read_run(folder)
            index = setting.get("uncertainty.parameter_set", "")
            if index:
                parameter_sets[row["run"]] = read_parameter_set(folder, index)
        except UnusableRunError as problem:
            skipped.append((folder, str(problem)))
            continue
        rows.append(row)
        settings.append(setting)
        series[row["run"]] = timeseries
        if bare:
            non_finite.append(row["run"])
    table = tidy(pd.DataFrame(rows))
    for measure in {**MEASURES, **OUTCOMES}:
        if measure in table.columns:
            table[measure] = pd.to_numeric(table[measure], errors="coerce").astype(float)
    return Runs(table, pd.DataFrame(settings, dtype=object).fillna(""), series, skipped,
                non_finite, parameter_sets)


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of one kind each, so that Parquet can hold them: a column whose values mix
    text and numbers (a parameter given as 3 in one run and 'high' in another) becomes text."""
    for column in table.columns:
        values = table[column].dropna()
        kinds = {("number" if is_number(v) else type(v).__name__) for v in values}
        if len(kinds) > 1:
            table[column] = table[column].map(lambda v: v if v is None or (
                isinstance(v, float) and math.isnan(v)) else str(v))
    return table
