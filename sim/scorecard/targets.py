"""The calibration targets of `sim/calibration_targets.yaml`, and the yearly measures that
meet them.

Two kinds of target are read from the file:
- *static* targets (`Target`): grade shares, teacher flows, academy shares and trust
  counts, read from a run's timeseries year by year. Stocks (grade shares, academy shares,
  trust counts) are read at the end of each year; flows (teacher leaving, moving,
  vacancies) are averaged over the year's terms; counts are divided by the run's scale, so
  a reduced run is compared with England's figures. `python -m sim.calibrate` checks that
  the start and every year of a run lie in each band (`calibration_table`).
- *dynamic* targets (`Pattern`s of the section `inspection_transitions`): what happens
  at inspections, a measure of a run's events (`sim.scorecard.measures`).

It reads files and tables only, and imports nothing of the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.errors import UserError
from sim.scorecard.patterns import Pattern, band_of
from sim.state import TERMS_PER_YEAR

TARGETS_FILE = "calibration_targets.yaml"
# The dynamic targets' keys in the file's `inspection_transitions`, and their measures.
TRANSITION_MEASURES = {
    "requires_improvement_to_good_or_better_at_next_graded": "ri_to_good_or_better_at_next_graded",
}
# A rule of the model's own rather than a published figure: a MAT's giver:taker ratio is kept
# at or above its due-diligence threshold, so most MATs should be in every year.
MATS_BELOW_THRESHOLD = Pattern(
    "share of MATs below their threshold (max over years)",
    "share_mats_below_threshold_max_over_years", 0.0, 0.5,
    "most MATs at or above their own due-diligence threshold in every year (issue 13)",
    optional=True)


@dataclass(frozen=True)
class Target:
    name: str
    column: str
    low: float
    high: float
    kind: str  # "stock" (end of year), "flow" (mean over the year) or "count" (scaled stock)
    source: str
    # The band holds for the run's first `years` years only (the years its sources cover);
    # None: every year.
    years: int | None = None


def read_targets_file() -> dict[str, Any]:
    return yaml.safe_load(resources.files("sim").joinpath(TARGETS_FILE).read_text())


def load_targets() -> list[Target]:
    """The static calibration bands, from the copy kept in the package."""
    raw = read_targets_file()
    grades = raw["inspection_grades"]
    workforce = raw["teacher_workforce_per_year"]
    structure = raw["system_structure"]
    teachers = workforce["teachers_fte_england"]

    def make(name: str, column: str, band: list[float], kind: str, source: str,
             years: int | None = None) -> Target:
        return Target(name, column, float(band[0]), float(band[1]), kind, source, years)

    academy_years = structure.get("academy_share_years")

    return [
        make("outstanding", "share_outstanding", grades["outstanding"], "stock", grades["source"]),
        make("good", "share_good", grades["good"], "stock", grades["source"]),
        make("requires_improvement", "share_requires_improvement",
             grades["requires_improvement"], "stock", grades["source"]),
        make("inadequate", "share_inadequate", grades["inadequate"], "stock", grades["source"]),
        make("good_or_better_primary", "share_good_or_better_primary",
             grades["good_or_better_primary"], "stock", grades["source"]),
        make("good_or_better_secondary", "share_good_or_better_secondary",
             grades["good_or_better_secondary"], "stock", grades["source"]),
        make("teacher_leaving_state_sector", "teacher_leaving_rate",
             workforce["leaving_state_sector"], "flow", workforce["source"]),
        make("teacher_moving_between_schools", "teacher_moving_rate",
             workforce["moving_between_schools"], "flow", workforce["source"]),
        make("early_career_leaving_after_first_year", "early_career_year1_leaving_rate",
             workforce["early_career_leaving_after_first_year"], "flow", workforce["source"]),
        make("vacancy_rate", "vacancy_rate", workforce["vacancy_rate"], "flow",
             workforce["source"]),
        make("teachers (within 5% of FTE)", "teachers", [0.95 * teachers, 1.05 * teachers],
             "count", workforce["source"]),
        make("state_funded_schools", "n_schools", structure["state_funded_schools_england"],
             "count", structure["source"]),
        make("academy_share_primary", "academy_share_primary",
             structure["academy_share_primary"], "stock", structure["source"], academy_years),
        make("academy_share_secondary", "academy_share_secondary",
             structure["academy_share_secondary"], "stock", structure["source"],
             academy_years),
        make("multi_academy_trusts", "n_multi_academy_trusts", structure["multi_academy_trusts"],
             "count", structure["source"]),
        make("single_academy_trusts", "n_single_academy_trusts",
             structure["single_academy_trusts"], "count", structure["source"]),
        make("academies_moving_trust_per_year", "academies_moving_trust",
             structure["academies_moving_trust_per_year"], "stock", structure["source"]),
    ]


def load_dynamic_targets() -> list[Pattern]:
    """The dynamic calibration targets: each key of `inspection_transitions` but its source,
    as a pattern of its measure."""
    section = dict(read_targets_file()["inspection_transitions"])
    source = section.pop("source")
    targets = []
    for key, band in section.items():
        if key not in TRANSITION_MEASURES:
            raise UserError(f"{TARGETS_FILE}: inspection_transitions.{key} has no measure: add "
                           f"it to TRANSITION_MEASURES in {__name__}")
        low, high = band_of(band, f"{TARGETS_FILE}: inspection_transitions.{key}")
        targets.append(Pattern(key, TRANSITION_MEASURES[key], low, high, source))
    return targets


def moving_share_from_tables(events: pd.DataFrame, schools: pd.DataFrame) -> np.ndarray:
    """Each year's academies moving trust (joins from one trust to another) over the
    academies at the year's end: what the model tallies as it runs, from its result files."""
    years = np.sort(schools["year"].unique())
    academies = (schools["governance"].astype(str) != "maintained").groupby(schools["year"]).sum()
    moves = events[(events["kind"] == "join") & events["old_trust_id"].notna()]
    by_year = moves.groupby(moves["term"] // TERMS_PER_YEAR).size()
    counted = by_year.reindex(range(len(years)), fill_value=0).to_numpy(dtype=float)
    return counted / np.maximum(academies.reindex(years).to_numpy(dtype=float), 1)


def yearly_measures(timeseries: pd.DataFrame, moving_share: np.ndarray, seed: int) -> pd.DataFrame:
    """One row per year (plus 'start'): stocks at the year's end, flows averaged over it."""
    timeseries = timeseries.assign(academies_moving_trust=np.nan)
    year_index = timeseries["term"] // TERMS_PER_YEAR
    ends = timeseries[timeseries["term_of_year"] == TERMS_PER_YEAR - 1].copy()
    ends["academies_moving_trust"] = moving_share[: len(ends)]
    flows = timeseries.groupby(year_index).mean(numeric_only=True)
    rows = []
    for target in load_targets():
        source = flows if target.kind == "flow" else ends.set_index(ends["term"] // TERMS_PER_YEAR)
        for year, value in source[target.column].items():
            rows.append({"seed": seed, "target": target.name, "year": int(year) + 1,
                         "value": float(value)})
        first = timeseries.iloc[0] if target.kind != "flow" else flows.iloc[0]
        start = first[target.column] if target.column != "academies_moving_trust" \
            else moving_share[0]
        rows.append({"seed": seed, "target": target.name, "year": 0, "value": float(start)})
    return pd.DataFrame(rows)


def run_values(measures: pd.DataFrame, scale: float) -> dict[str, float | None]:
    """Each static target's value in one run (the rows of `yearly_measures` for one seed):
    the mean over the run's years (the start left out), counts divided by the run's scale;
    None where the measure is undefined in every year (no primary school, say)."""
    years = measures[measures["year"] >= 1]
    values: dict[str, float | None] = {}
    for target in load_targets():
        yearly = years.loc[(years["target"] == target.name)
                           & (years["year"] <= (target.years or years["year"].max())), "value"]
        yearly = yearly.dropna()
        value = float(yearly.mean()) if len(yearly) else None
        if value is not None and target.kind == "count":
            value /= scale
        values[target.name] = value
    return values


def calibration_table(measures: pd.DataFrame, scale: float) -> pd.DataFrame:
    """Seed-averaged start, yearly range and end of each target, and whether it passes."""
    by_year = measures.groupby(["target", "year"])["value"].mean().unstack("year")
    rows = []
    for target in load_targets():
        values = by_year.loc[target.name].to_numpy(dtype=float)
        if target.kind == "count":
            values = values / scale
        start, years = values[0], values[1:]
        inside = (values >= target.low) & (values <= target.high)
        if target.years is not None:  # judged over the years its sources cover
            inside[target.years + 1:] = True
        rows.append({
            "target": target.name, "low": target.low, "high": target.high,
            "start": start, "min": np.nanmin(years), "max": np.nanmax(years), "end": years[-1],
            "pass": bool(np.all(inside[~np.isnan(values)])),
        })
    return pd.DataFrame(rows)


def number(value: float) -> str:
    """A figure as the tables show it: whole numbers with thousands separators from 100."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


def format_table(table: pd.DataFrame) -> str:
    lines = ["| target | band | start | min over years | max over years | last year | in band |",
             "|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(
            f"| {row.target} | {number(row.low)}-{number(row.high)} | {number(row.start)} | "
            f"{number(row.min)} | {number(row.max)} | {number(row.end)} | "
            f"{'yes' if row.pass_ else 'NO'} |")
    return "\n".join(lines)
