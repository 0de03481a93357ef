"""What drives the result, the caveats and the provenance of a report (`sim.report.findings`
says how each is chosen)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml

import sim
from sim.report.findings import DIFFERENCES, MECHANISMS, _interval, _measurable, option_name
from sim.report.sources import Comparison, Run

SPENDING_NAMES = {
    "central_teams": "trusts' central teams", "local_authority": "the local authority",
    "school_to_school": "school-to-school support", "improvement_budget": "the improvement "
    "budget (consultants)", "contracts": "MAT contracts", "peer_review": "peer review",
    "data_burden": "data requests", "measuring_system": "the measuring system"}


@dataclass
class Indicator:
    """A measure of one mechanism in this place, against England's band."""

    mechanism: str
    value: float
    band: tuple[float, float]
    sentence: str

    @property
    def distance(self) -> float:
        """How far outside the band, in band widths (0 inside)."""
        low, high = self.band
        outside = max(low - self.value, self.value - high, 0.0)
        return outside / max(high - low, 1e-9)


def _targets() -> dict:
    text = resources.files("sim").joinpath("calibration_targets.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def run_indicators(run: Run) -> list[Indicator]:
    targets, series, s = _targets(), run.timeseries, run.summary
    workforce = targets["teacher_workforce_per_year"]
    leaving = float(series["teacher_leaving_rate"].mean())
    early = float(series["early_career_year1_leaving_rate"].mean())
    vacancy = float(series["vacancy_rate"].mean())
    ratio = float(series["giver_taker_ratio_median"].median())
    below = float(series["share_mats_below_threshold"].mean())
    improving = s.get("share_requires_improvement_improving")
    found = [
        Indicator("Teacher turnover", leaving, tuple(workforce["leaving_state_sector"]),
                  f"{100 * leaving:.1f}% of teachers leave a year (England 8-10%); leaving "
                  f"rises with workload, disadvantage and weak grades."),
        Indicator("Early-career retention", early,
                  tuple(workforce["early_career_leaving_after_first_year"]),
                  f"{100 * early:.0f}% of first-year teachers leave (England 11-15%)."),
        Indicator("Teacher vacancies", vacancy, tuple(workforce["vacancy_rate"]),
                  f"{100 * vacancy:.1f}% of posts are vacant (England 0.2-0.6%): applicants "
                  f"avoid weak, disadvantaged, high-workload schools."),
    ]
    if np.isfinite(ratio):
        found.append(Indicator(
            "Trusts' due diligence", ratio,
            tuple(targets["capacity_rules_of_thumb"]["giver_to_taker_ratio"]),
            f"The median MAT has {ratio:.1f} giver schools per school needing support, "
            f"against the 3:1 trusts look for; {100 * below:.0f}% of MATs are below their "
            f"threshold and refuse weak schools, so orphans wait "
            f"({int(s.get('orphan_terms', 0))} school-terms in all)."))
    if improving is not None:
        found.append(Indicator(
            "Improvement of weak schools", float(improving),
            tuple(targets["inspection_transitions"]
                  ["requires_improvement_to_good_or_better_at_next_graded"]),
            f"{100 * float(improving):.0f}% of schools that required improvement are good "
            f"or better at their next graded inspection (England 56-78%)."))
    return found


def capacity_sentence(run: Run) -> str | None:
    """Where the area's improvement capacity came from, by spending."""
    spending = {source: float(run.timeseries[f"spending_{source}_gbp"].sum())
                for source in SPENDING_NAMES if f"spending_{source}_gbp" in run.timeseries}
    total = sum(spending.values())
    if total <= 0:
        return None
    ranked = sorted(spending.items(), key=lambda item: -item[1])
    parts = [f"{SPENDING_NAMES[source]} {100 * value / total:.0f}%"
             for source, value in ranked[:3] if value > 0]
    return "Improvement capacity, by spending: " + ", ".join(parts) + "."


def run_drivers(run: Run) -> list[str]:
    indicators = sorted(run_indicators(run), key=lambda item: -item.distance)
    standing_out = [item for item in indicators if item.distance > 0][:2]
    lines = [f"{item.mechanism}: {item.sentence}" for item in standing_out]
    if not standing_out:
        lines.append("This place is within England's published bands on teacher turnover, "
                     "vacancies, trusts' capacity and weak schools' improvement: no mechanism "
                     "stands out from the system the model was calibrated on.")
    capacity = capacity_sentence(run)
    if capacity:
        lines.append(capacity)
    return lines


def comparison_drivers(comparison: Comparison) -> list[str]:
    group = str(comparison.manifest.get("group", "policy"))
    lines = []
    for option, rows in comparison.differences.groupby(group, sort=False):
        # The outcomes (not spending) whose 90% interval excludes zero, in the order of
        # DIFFERENCES: good or better first.
        effects = []
        for measure, (label, scale, unit) in DIFFERENCES.items():
            found = _measurable(rows[rows["measure"] == measure])
            if measure != "spending_total_gbp" and len(found):
                effects.append(f"{label.lower()} {_interval(found.iloc[0], scale, unit)[0]}")
        if not effects:
            continue
        name = option_name(str(option), group)
        channel = MECHANISMS.get(str(option)) if group == "policy" else None
        line = (f"{name}, through {channel}: {'; '.join(effects)}." if channel
                else f"{name}: {'; '.join(effects)}.")
        line += _depends(comparison, str(option), group)
        lines.append(line)
    if not lines:
        lines.append("No option has a measurable effect on the headline measures: every 90% "
                     "interval includes zero, so nothing here is driven by the options.")
    return lines


def _depends(comparison: Comparison, option: str, group: str) -> str:
    robustness = comparison.robustness
    if robustness is None or "parameter" not in robustness or group not in robustness:
        return ""
    rows = robustness[(robustness[group].astype(str) == option)
                      & (robustness["measure"] == "good_or_better_change")]
    if rows.empty or pd.isna(rows.iloc[0]["parameter"]):
        return ""
    row = rows.iloc[0]
    return (f" Across plausible parameter sets the gain is {row['verdict']}, and depends most "
            f"on {row['parameter']}.")


def caveats(source: Run | Comparison, run: Run | None) -> list[str]:
    lines = ["A model, not a forecast: it is calibrated to England's published statistics, "
             "and its validation on patterns it was not tuned to is partial (README's "
             "validation scorecard), so read the direction and rough size of a difference, "
             "not its decimals."]
    if isinstance(source, Comparison):
        seeds = source.runs["seed"].nunique() if "seed" in source.runs else 0
        sets = ("_key_uncertainty.parameter_set" in source.runs
                or source.robustness is not None)
        lines.append(f"Intervals come from {seeds} seeds run on common random numbers"
                     + (" and from plausible parameter sets (parameter uncertainty)." if sets
                        else "; they leave out parameter uncertainty (run with "
                             "+uncertainty=plausible to include it)."))
    else:
        lines.append(f"One run (seed {source.summary.get('seed')}): its numbers carry seed "
                     f"noise that only a comparison over several seeds measures.")
    if run is not None:
        population = run.config.get("population") or {}
        if isinstance(population, dict) and population.get("name") == "gias":
            lines.append("Schools, grades and trusts are read from a GIAS extract; missing "
                         "values were imputed (the run's log lists them).")
        else:
            lines.append("The place is synthetic: drawn from national statistics, not a real "
                         "area's schools (use a GIAS extract for a real place).")
    lines.append("Costs are the model's own accounting of improvement staff time and "
                 "contract fees (docs/ODD.md), not a budget.")
    return lines


def provenance(source: Run | Comparison, run: Run | None) -> list[tuple[str, str]]:
    rows = [("sim version", sim.__version__),
            ("report made", datetime.date.today().isoformat())]
    if isinstance(source, Comparison):
        manifest = source.manifest
        rows += [("comparison", str(source.folder)),
                 ("compared", f"{manifest.get('runs_compared')} runs, grouped by "
                              f"{manifest.get('group')}, against {manifest.get('baseline')}"),
                 ("written by", f"sim.compare {manifest.get('version', '')}".strip())]
        if "seed" in source.runs:
            seeds = sorted(int(seed) for seed in source.runs["seed"].dropna().unique())
            rows.append(("seeds", _ranges(seeds)))
    if run is not None:
        scenario = run.config.get("scenario") or {}
        population = run.config.get("population") or {}
        rows += [("run" if isinstance(source, Run) else "map from run", str(run.folder)),
                 *_place_rows(scenario, population),
                 ("config", str(run.folder / "config.yaml")),
                 ("seed", str(run.summary.get("seed"))),
                 ("years", str(run.summary.get("horizon_years")))]
    return rows


def _place_rows(scenario: dict, population: object) -> list[tuple[str, str]]:
    """Where the schools came from: a GIAS extract's areas (the scenario lends only its
    settings), or the synthetic scenario described."""
    if isinstance(population, dict) and population.get("name") == "gias":
        areas = ", ".join(str(area) for area in population.get("areas") or []) or "every area"
        return [("schools", f"GIAS extract {population.get('path')}: {areas}"),
                ("settings from scenario", str(scenario.get("name")))]
    name = population.get("name") if isinstance(population, dict) else population
    return [("scenario", f"{scenario.get('name')}: {scenario.get('description', '')}"),
            ("population", str(name))]


def _ranges(values: list[int]) -> str:
    """0-9, 12 from [0..9, 12]."""
    parts, start = [], None
    for index, value in enumerate(values):
        if start is None:
            start = value
        if index + 1 == len(values) or values[index + 1] != value + 1:
            parts.append(str(start) if start == value else f"{start}-{value}")
            start = None
    return ", ".join(parts)
