"""What a report is made from: a run folder, or a folder `sim.compare` wrote.

A run folder holds `summary.json` and `timeseries.parquet` (and, by default, the yearly
`schools.parquet` panel the map is drawn from). A comparison folder holds `sim.compare`'s
manifest `comparison.json`, its tables and figures; the map is drawn from the first run of
its baseline (runs.csv names every run's folder). Only files are read, never the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from sim.compare.reading import UnusableRunError, check_series
from sim.errors import UserError
from sim.plot_data import place_name

RUN_FILES = ("summary.json", "timeseries.parquet")
# What the page reads from a run's summary.json; a run without them is refused.
SUMMARY_KEYS = ("policy", "seed", "horizon_years", "good_or_better_start",
                "good_or_better_final", "good_or_better_change", "teacher_leaving_rate_mean",
                "orphans_final", "orphan_terms")
# What the page reads from a run's timeseries.parquet (`findings`, `drivers`), checked as
# `sim.compare` checks the columns it reads: a run without them is refused.
SERIES_READ = ("year", "term_of_year", "spending_total_gbp", "teacher_leaving_rate",
               "early_career_year1_leaving_rate", "vacancy_rate", "giver_taker_ratio_median",
               "share_mats_below_threshold")
COMPARISON_MANIFEST = "comparison.json"


@dataclass
class Run:
    """One run's files, read."""

    folder: Path
    summary: dict[str, object]
    timeseries: pd.DataFrame
    panel: pd.DataFrame | None
    config: dict[str, object]

    @property
    def place(self) -> str:
        """The place's name, as the run's figure titles it (`sim.plot_data.place_name`)."""
        return place_name(self.summary, self.config)


@dataclass
class Comparison:
    """A comparison's tables, read, and the run the map is drawn from."""

    folder: Path
    manifest: dict[str, object]
    runs: pd.DataFrame
    differences: pd.DataFrame
    cost_effectiveness: pd.DataFrame | None
    robustness: pd.DataFrame | None
    map_run: Run | None
    notes: list[str] = field(default_factory=list)


def read(path: Path) -> Run | Comparison:
    """The run or comparison in `path`, or a one-line UserError saying what it needs."""
    if not path.exists():
        raise UserError(f"{path} does not exist: give a run folder or a folder sim.compare "
                        f"wrote")
    if not path.is_dir():
        raise UserError(f"{path} is not a folder: give a run folder or a folder sim.compare "
                        f"wrote")
    if (path / COMPARISON_MANIFEST).is_file():
        return read_comparison(path)
    if all((path / name).is_file() for name in RUN_FILES):
        run = read_run(path)
        try:  # the page reads these columns; a comparison's map reads only the panel
            check_series(run.timeseries, SERIES_READ)
        except UnusableRunError as problem:
            raise UserError(f"the run in {path} cannot be reported: {problem} (damaged, or "
                            f"written by another version): run it again") from None
        return run
    if any(path.glob("*/summary.json")):
        raise UserError(f"{path} is a sweep that has not been compared: run "
                        f"'python -m sim.compare {path}' first, then report on it")
    raise UserError(f"{path} holds neither a run (summary.json, timeseries.parquet) nor a "
                    f"comparison (comparison.json): give a run folder or a folder sim.compare "
                    f"wrote")


def read_run(folder: Path) -> Run:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        timeseries = pd.read_parquet(folder / "timeseries.parquet")
        panel_path = folder / "schools.parquet"
        panel = pd.read_parquet(panel_path) if panel_path.is_file() else None
        config_path = folder / "config.yaml"
        config = (yaml.safe_load(config_path.read_text(encoding="utf-8"))
                  if config_path.is_file() else {}) or {}
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise UserError(f"cannot read the run in {folder} ({error}): its files are damaged; "
                        f"run it again") from error
    if not isinstance(summary, dict) or not isinstance(config, dict):
        raise UserError(f"the run in {folder} has a summary.json or config.yaml that is not "
                        f"a mapping: run it again")
    missing = [key for key in SUMMARY_KEYS if summary.get(key) is None]
    if missing:
        raise UserError(f"the run in {folder} has no {', '.join(missing)} in summary.json "
                        f"(damaged, or written by another version): run it again")
    return Run(folder, summary, timeseries, panel, config)


def _table(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read {path} ({error}): run python -m sim.compare "
                        f"again") from error


def read_comparison(folder: Path) -> Comparison:
    try:
        manifest = json.loads((folder / COMPARISON_MANIFEST).read_text(encoding="utf-8"))
        runs = pd.read_csv(folder / "runs.csv")
        differences = pd.read_csv(folder / "differences.csv")
    except (OSError, ValueError) as error:
        raise UserError(f"cannot read the comparison in {folder}: {error}; run "
                        f"python -m sim.compare again") from error
    if manifest.get("written_by") != "sim.compare" or not manifest.get("complete", False):
        raise UserError(f"{folder / COMPARISON_MANIFEST} is not a complete comparison: run "
                        f"python -m sim.compare again")
    comparison = Comparison(folder, manifest, runs, differences,
                            _table(folder / "cost_effectiveness.csv"),
                            _table(folder / "robustness.csv"), None)
    comparison.map_run = _first_baseline_run(comparison)
    return comparison


def _same_value(value: object, baseline: object) -> bool:
    """Whether a run's setting is the baseline's: as text, or as numbers (runs.csv reads a
    threshold of 3 as 3.0, the manifest records it as '3')."""
    if str(value) == str(baseline):
        return True
    try:
        return float(value) == float(baseline)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _first_baseline_run(comparison: Comparison) -> Run | None:
    """The baseline's run with the lowest seed whose folder can still be found: as
    recorded (relative to where sim.compare ran), or under the comparison's folder."""
    runs = comparison.runs
    group = str(comparison.manifest.get("group", "policy"))
    baseline = comparison.manifest.get("baseline")
    if group in runs.columns and baseline is not None:
        runs = runs[[_same_value(value, baseline) for value in runs[group]]]
    if "seed" in runs.columns:
        runs = runs.sort_values("seed")
    for recorded in runs.get("run", pd.Series(dtype=str)).astype(str):
        for candidate in (Path(recorded), comparison.folder / Path(recorded).name):
            if all((candidate / name).is_file() for name in RUN_FILES):
                return read_run(candidate)
    comparison.notes.append("no run folder of the baseline was found, so the page has no map")
    return None
