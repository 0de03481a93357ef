"""Parameter sets of a calibration study's plausible set: which K a sweep runs, and applying one.

`+uncertainty=plausible` (configs/uncertainty/plausible.yaml) gives a run the node
`uncertainty` (`sim.schema.ParameterUncertainty`) and adds a sweep over
`uncertainty.parameter_set` in range(`uncertainty.sets`), so that every parameter set and
seed sees every policy (common random numbers). When the run's config is loaded
(`sim.config.load`), `apply_parameter_set` sets the model's free parameters to the values
of its set, so that the run's config.yaml holds the values the run used, and its run key
(and so its folder in a sweep) changes with them.

Which K sets: the plausible table (`python -m sim.calibrate fit`'s plausible.csv, from
`uncertainty.plausible_sets`) holds every parameter set that kept all targets in band, in
trial order; a search's later trials crowd where the fit is best, so the first K rows
would cover little of the plausible region. The sets are taken instead in a fixed
farthest-point order: the table's first row first (a fit's first trial is the model's
hand-tuned defaults), then, each time, the row farthest (Euclidean) from every set taken
so far, each parameter measured as a share of its declared prior range (on the log scale
for a parameter searched on one; the ranges of `uncertainty.study`), ties to the earlier
row. The order spreads the K sets over the plausible region, which is what a verdict
"robust for every plausible set" and the binning of `sim.compare`'s value of information
need, and it depends on nothing but the table: set k is the same row for every K above k,
so a sweep with more sets keeps the runs of one with fewer.

What is refused, in one line, before any run: a table or study that cannot be read, a
table whose parameters are not the study's or whose values lie outside the study's prior
ranges, K above the table's rows, a set index not below K, a free parameter also set
otherwise (on the command line, by model=calibrated: it would be silently replaced; a value
equal to the model's default is taken as not set), and a sensitivity sample in the same run.
A saved config.yaml run again passes (its values are its set's), unless the table has since
changed, which the same rule then names.

Each run with a parameter set writes `parameter_set.json` (`provenance`): the table and
its SHA-256, the set's index, row and trial, and per free parameter its value, its prior
range and scale, and the range the whole plausible set spans, which `sim.compare` reads to
say how far the calibration narrowed each parameter.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from sim import CONFIG_DIR
from sim.errors import ConfigError
from sim.parameters import check_value, format_value
from sim.schema import ParameterUncertainty, RunConfig, all_declarations

PROVENANCE_FILE = "parameter_set.json"
SCALES = ("linear", "log")


EVEN_SAMPLE_SPAN = 0.9  # the 5th to 95th percentile of an even sample spans 0.9 of its range


def share_kept(values: list[float], low: float, high: float, log: bool) -> float:
    """How much of a declared range [low, high] a plausible set's values keep: their 5th to
    95th percentile span, on the parameter's scale, over that of an even sample of the
    whole range (1: no narrowing). The one definition, used by the fit's narrowing.csv and
    recorded with every run of a plausible set."""
    import numpy as np  # only runs of plausible sets need it

    ends = np.array([low, high, *np.quantile(np.asarray(values, dtype=float), [0.05, 0.95])])
    if log:
        if ends.min() <= 0:
            return math.nan
        ends = np.log(ends)
    span = ends[1] - ends[0]
    return float(min((ends[3] - ends[2]) / (EVEN_SAMPLE_SPAN * span), 1.0)) if span > 0 \
        else math.nan

@dataclass(frozen=True)
class FreeParameter:
    """A free parameter of the study: its key, prior range and scale, and the model's default."""

    key: str
    low: float
    high: float
    scale: str
    default: float
    integer: bool

    @property
    def column(self) -> str:
        """Its column in the plausible table: the key without `model.`."""
        return self.key.removeprefix("model.")

    def share(self, value: float) -> float:
        """Where a value lies in the prior range, 0 at its low and 1 at its high, on its scale."""
        if self.scale == "log":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)


@dataclass
class PlausibleTable:
    """A plausible table read and checked against its study, with its farthest-point order."""

    path: Path
    sha256: str
    parameters: tuple[FreeParameter, ...]
    trials: list[int]
    values: list[list[float]]  # one row per plausible set, one value per parameter
    order: list[int] = field(default_factory=list)  # rows, as far as asked for
    _nearest: list[float] = field(default_factory=list)  # each row's distance to the order
    _shares: list[list[float]] = field(default_factory=list)  # rows as shares of the priors

    def row_of(self, index: int) -> int:
        """The table row of set `index` in the farthest-point order (extended as needed)."""
        if not self._shares:
            self._shares = [[p.share(v) for p, v in zip(self.parameters, row, strict=True)]
                            for row in self.values]
        shares = self._shares
        while len(self.order) <= index:
            if not self.order:
                chosen = 0
                self._nearest = [math.inf] * len(self.values)
            else:
                chosen = max(range(len(self.values)),
                             key=lambda row: (self._nearest[row], -row))
            self.order.append(chosen)
            for row, point in enumerate(shares):
                distance = math.dist(point, shares[chosen])
                self._nearest[row] = min(self._nearest[row], distance)
        return self.order[index]


_tables: dict[tuple[Any, ...], PlausibleTable] = {}  # one read per file state and process


def find_file(text: str, key: str) -> Path:
    """A file named by a setting: as given, or relative to the working folder, else to the
    project's folder (where configs/ is), so the default works from any folder."""
    path = Path(text).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, CONFIG_DIR.parent / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{key}: there is no file '{text}' (looked for in "
                      f"{' and '.join(str(c.parent) for c in candidates)}): name a plausible.csv "
                      f"of python -m sim.calibrate fit and its study's declaration")


def read_study(path: Path) -> tuple[FreeParameter, ...]:
    """The free parameters a study declares (configs/calibration/england.yaml's layout)."""
    declared = {d.key: d for d in all_declarations()}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"uncertainty.study: cannot read {path}: "
                          f"{str(error).splitlines()[0]}") from None
    entries = raw.get("parameters") if isinstance(raw, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"uncertainty.study: {path} declares no free parameters (a "
                          f"'parameters:' section, as configs/calibration/england.yaml has)")
    found = []
    for key, entry in entries.items():
        declaration = declared.get(str(key))
        if declaration is None or not str(key).startswith("model.") or \
                declaration.rule.kind not in ("number", "integer"):
            raise ConfigError(f"uncertainty.study: {path} declares '{key}', which is not a "
                              f"numeric parameter of the model")
        low, high = (entry.get(end) if isinstance(entry, dict) else None for end in ("low", "high"))
        scale = entry.get("scale") if isinstance(entry, dict) else None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (low, high)) or not low < high or scale not in SCALES \
                or (scale == "log" and low <= 0):
            raise ConfigError(f"uncertainty.study: {path}: '{key}' needs a low below its high "
                              f"(above 0 on a log scale) and a scale, linear or log")
        found.append(FreeParameter(str(key), float(low), float(high), str(scale),
                                   float(declaration.default),
                                   declaration.rule.kind == "integer"))
    return tuple(found)


def read_table(path: Path, parameters: tuple[FreeParameter, ...]) -> PlausibleTable:
    """The plausible table, checked: a trial and a value inside its prior for every
    parameter on every row, no column of another model parameter."""
    try:
        data = path.read_bytes()
        rows = list(csv.reader(data.decode("utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ConfigError(f"uncertainty.plausible_sets: cannot read {path}: "
                          f"{getattr(error, 'strerror', None) or error}") from None
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    where = f"uncertainty.plausible_sets: {path}"
    model_columns = {d.key.removeprefix("model.") for d in all_declarations()
                     if d.key.startswith("model.")}
    ours = {p.column for p in parameters}
    strangers = [c for c in header if c in model_columns and c not in ours]
    absent = [p.column for p in parameters if p.column not in header]
    if "trial" not in header or absent or strangers:
        why = ("it has no 'trial' column" if "trial" not in header else
               f"it has no column {', '.join(absent)}" if absent else
               f"its column {', '.join(strangers)} is a parameter the study does not declare")
        raise ConfigError(f"{where} is not a plausible set of that study ({why}): give the "
                          f"plausible.csv that study's fit wrote")
    positions = [header.index(p.column) for p in parameters]
    trials, values = [], []
    for number, row in enumerate(body, start=2):
        if not row:
            continue
        try:
            trial = int(row[header.index("trial")])
            numbers = [float(row[position]) for position in positions]
        except (ValueError, IndexError):
            raise ConfigError(f"{where}, line {number}: a trial or parameter value that is "
                              f"not a number") from None
        for parameter, value in zip(parameters, numbers, strict=True):
            slack = 1e-9 * (parameter.high - parameter.low)
            if not parameter.low - slack <= value <= parameter.high + slack:
                raise ConfigError(f"{where}, line {number}: {parameter.key}={value:g} lies "
                                  f"outside the study's prior range {parameter.low:g} to "
                                  f"{parameter.high:g}: the table is not that study's")
        trials.append(trial)
        values.append(numbers)
    if not values:
        raise ConfigError(f"{where} holds no plausible set: the fit kept none in band")
    return PlausibleTable(path, hashlib.sha256(data).hexdigest(), parameters, trials, values)


def plausible_table(settings: ParameterUncertainty | DictConfig) -> PlausibleTable:
    """The table and study a run's settings name, read once per state of the two files."""
    table_path = find_file(settings.plausible_sets, "uncertainty.plausible_sets")
    study_path = find_file(settings.study, "uncertainty.study")
    states = []
    for path in (table_path, study_path):
        status = os.stat(path)
        states.append((str(path.resolve()), status.st_mtime_ns, status.st_size))
    key = tuple(states)
    if key not in _tables:
        _tables[key] = read_table(table_path, read_study(study_path))
    return _tables[key]


def same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def apply_parameter_set(job: DictConfig) -> None:
    """Set the model's free parameters to the values of the job's parameter set (a job
    without `uncertainty` is left as it is); refuse, in one line, what the module's
    docstring lists."""
    settings = job.get("uncertainty")
    if settings is None:
        return
    declared = {d.key: d for d in all_declarations()}
    for name in ("sets", "parameter_set"):
        check_value(f"uncertainty.{name}", settings[name], declared[f"uncertainty.{name}"].rule)
    if job.sensitivity.samples is not None or job.sensitivity.index is not None:
        raise ConfigError("a run takes a row of a sensitivity sample or a plausible parameter "
                          "set, not both: leave out +uncertainty=plausible or the sensitivity "
                          "settings")
    table = plausible_table(settings)
    sets, index = settings.sets, settings.parameter_set
    if sets > len(table.values):
        raise ConfigError(f"uncertainty.sets={sets} is more than the {len(table.values)} "
                          f"plausible parameter sets of {settings.plausible_sets}: choose at "
                          f"most {len(table.values)}")
    if index >= sets:
        raise ConfigError(f"uncertainty.parameter_set={index} is not one of the {sets} sets run "
                          f"(0 to {sets - 1}): choose one of them, or raise uncertainty.sets")
    row = table.row_of(index)
    for parameter, value in zip(table.parameters, table.values[row], strict=True):
        current = OmegaConf.select(job, parameter.key)
        if not (same(current, parameter.default) or same(current, value)):
            raise ConfigError(
                f"{parameter.key}={format_value(current)} is set, but parameter set {index} of "
                f"{settings.plausible_sets} (trial {table.trials[row]}) sets it to "
                f"{format_value(value)}: leave it out of a run with +uncertainty=plausible "
                f"(or, for a saved config.yaml, the table has changed since that run)")
        OmegaConf.update(job, parameter.key, round(value) if parameter.integer else value,
                         merge=False)


def provenance(run: RunConfig) -> dict[str, Any]:
    """What `parameter_set.json` records of a run's parameter set (see the docstring)."""
    settings = run.uncertainty
    table = plausible_table(settings)
    row = table.row_of(settings.parameter_set)
    columns = list(zip(*table.values, strict=True))
    return {
        "parameter_set": settings.parameter_set, "sets": settings.sets,
        "plausible_sets": settings.plausible_sets, "plausible_sets_sha256": table.sha256,
        "study": settings.study, "table_rows": len(table.values), "row": row,
        "trial": table.trials[row],
        "order": "farthest point over shares of the prior ranges, from the table's first row",
        "parameters": {
            p.key: {"value": table.values[row][number], "prior_low": p.low,
                    "prior_high": p.high, "scale": p.scale,
                    "plausible_low": min(columns[number]), "plausible_high": max(columns[number]),
                    "share_kept": share_kept(list(columns[number]), p.low, p.high,
                                             p.scale == "log")}
            for number, p in enumerate(table.parameters)},
    }
