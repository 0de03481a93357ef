"""The scorecard: each run scored, the scores pooled over seeds, and the tables as text.

`score_run` reduces one run's tables to what the scorecard needs (a few numbers, the
transition counts and the orphan waits), so that a run made in a worker process sends back
kilobytes, not its tables. `scorecard` pools the scores of several runs into one tidy
table, a row per target or pattern:

| column | meaning |
|---|---|
| table | "calibration" (what the model was fitted to) or "validation" (what it was not) |
| name | the target or pattern |
| low, high | its band (empty while a validation pattern has none) |
| seed_mean | the mean over seeds of each run's value (runs where it is undefined left out) |
| seed_min, seed_max | the range of the runs' values |
| in_band | whether the seed mean lies in the band; empty with no band or no value |
| source | where the figure was published |

A static target's value in a run is its mean over the run's years
(`sim.scorecard.targets.run_values`); a dynamic target's or pattern's is its measure
(`sim.scorecard.measures`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scorecard.measures import (
    MEASURES,
    PLACED_WITHIN_TERMS,
    WAIT_QUANTILES,
    RunTables,
    orphan_waits,
    transition_counts,
)
from sim.scorecard.patterns import Pattern
from sim.scorecard.targets import (
    load_targets,
    moving_share_from_tables,
    number,
    run_values,
    yearly_measures,
)

COLUMNS = ["table", "name", "low", "high", "seed_mean", "seed_min", "seed_max", "in_band",
           "source"]
GRADE_NAMES = {1: "outstanding", 2: "good", 3: "requires improvement", 4: "inadequate"}


@dataclass(frozen=True)
class RunScore:
    """What the scorecard keeps of one run."""

    seed: int
    targets: dict[str, float | None]  # static calibration targets, by name
    measures: dict[str, float | None]  # every measure of MEASURES, by name
    transitions: pd.DataFrame  # old_grade, new_grade, inspections
    placed_waits: np.ndarray  # terms from order to placement, sponsored schools placed
    waiting_at_end: np.ndarray  # terms waited so far by schools still waiting at the end


def score_run(tables: RunTables) -> RunScore:
    moving = moving_share_from_tables(tables.events, tables.schools)
    yearly = yearly_measures(tables.timeseries, moving, tables.seed)
    placed, waiting = orphan_waits(tables)
    return RunScore(tables.seed, run_values(yearly, tables.scale),
                    {name: _number_or_none(measure(tables)) for name, measure in MEASURES.items()},
                    transition_counts(tables), placed, waiting)


def _number_or_none(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _row(table: str, name: str, low: float | None, high: float | None,
         values: list[float | None], source: str | None) -> dict[str, object]:
    defined = np.array([value for value in values if value is not None], dtype=float)
    mean = float(defined.mean()) if len(defined) else None
    in_band = None if mean is None or low is None or high is None else bool(low <= mean <= high)
    return {"table": table, "name": name, "low": low, "high": high, "seed_mean": mean,
            "seed_min": float(defined.min()) if len(defined) else None,
            "seed_max": float(defined.max()) if len(defined) else None,
            "in_band": in_band, "source": source}


def scorecard(scores: list[RunScore], calibration: list[Pattern],
              validation: list[Pattern]) -> pd.DataFrame:
    """One row per calibration target (static, then `calibration`) and validation pattern."""
    rows = [_row("calibration", target.name, target.low, target.high,
                 [score.targets[target.name] for score in scores], target.source)
            for target in load_targets()]
    for table, patterns in (("calibration", calibration), ("validation", validation)):
        for pattern in patterns:
            values = [score.measures[pattern.measure] for score in scores]
            if pattern.optional and all(value is None for value in values):
                continue
            rows.append(_row(table, pattern.name, pattern.low, pattern.high, values,
                             pattern.source))
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["in_band"] = table["in_band"].astype("boolean")
    return table


def transition_matrix(scores: list[RunScore]) -> pd.DataFrame:
    """Previous grade (rows) by grade at the next graded inspection (columns), pooled over
    runs, as shares of each row, with the row's number of inspections."""
    counts = pd.concat([score.transitions for score in scores], ignore_index=True)
    grades = list(GRADE_NAMES)
    matrix = (counts.groupby(["old_grade", "new_grade"])["inspections"].sum()
              .unstack("new_grade").reindex(index=grades, columns=grades).fillna(0))
    totals = matrix.sum(axis=1)
    shares = matrix.div(totals.where(totals > 0), axis=0)
    shares.index.name, shares.columns.name = "previous_grade", "next_graded"
    shares["inspections"] = totals.astype(int)
    return shares


def transitions_tidy(matrix: pd.DataFrame) -> pd.DataFrame:
    """The matrix as a tidy table: previous_grade, next_grade, share, row_inspections."""
    shares = matrix.drop(columns="inspections")
    tidy = shares.stack(future_stack=True).rename("share").reset_index()
    tidy.columns = ["previous_grade", "next_grade", "share"]
    tidy["row_inspections"] = tidy["previous_grade"].map(matrix["inspections"])
    return tidy


def orphan_wait_distribution(scores: list[RunScore]) -> pd.DataFrame:
    """Terms from academy order to placement in a trust of sponsored schools, pooled over
    runs: quantiles over the schools placed, and the share placed within 3 and within 6
    terms among the schools whose outcome by then is known (those placed, and those still
    waiting at the end that had waited longer)."""
    placed = np.concatenate([score.placed_waits for score in scores])
    waiting = np.concatenate([score.waiting_at_end for score in scores])
    placed, waiting = placed[~np.isnan(placed)], waiting[~np.isnan(waiting)]
    rows = [("schools placed", float(len(placed))),
            ("schools still waiting at the end", float(len(waiting)))]
    for quantile in WAIT_QUANTILES:
        value = float(np.quantile(placed, quantile)) if len(placed) else None
        rows.append((f"wait of those placed, {quantile:.0%} quantile (terms)", value))
    for terms in PLACED_WITHIN_TERMS:
        known = len(placed) + int((waiting > terms).sum())
        share = float((placed <= terms).sum() / known) if known else None
        rows.append((f"share placed within {terms} terms", share))
    return pd.DataFrame(rows, columns=["statistic", "value"])


def shown(value: float | None) -> str:
    return "n/a" if value is None or pd.isna(value) else number(value)


def format_scorecard(table: pd.DataFrame) -> str:
    """The scorecard as a Markdown table."""
    lines = ["| name | band | seed mean | range over seeds | in band | source |",
             "|---|---|---|---|---|---|"]
    for row in table.itertuples():
        band = (f"{shown(row.low)}-{shown(row.high)}" if not pd.isna(row.low)
                else "no band yet")
        spread = ("n/a" if pd.isna(row.seed_mean)
                  else f"{shown(row.seed_min)}-{shown(row.seed_max)}")
        verdict = ("" if pd.isna(row.low) else "n/a" if pd.isna(row.in_band)
                   else "in" if row.in_band else "OUT")
        source = row.source if isinstance(row.source, str) else "to be set"
        lines.append(f"| {row.name} | {band} | {shown(row.seed_mean)} | {spread} | {verdict} "
                     f"| {source} |")
    return "\n".join(lines)


def format_transitions(matrix: pd.DataFrame) -> str:
    grades = list(GRADE_NAMES)
    lines = ["| previous grade | " + " | ".join(GRADE_NAMES[g] for g in grades)
             + " | inspections |", "|---" * (len(grades) + 2) + "|"]
    for grade in grades:
        cells = " | ".join(shown(matrix.loc[grade, column]) for column in grades)
        lines.append(f"| {GRADE_NAMES[grade]} | {cells} | {int(matrix.loc[grade, 'inspections'])} |")
    return "\n".join(lines)


def format_waits(distribution: pd.DataFrame) -> str:
    lines = ["| statistic | value |", "|---|---|"]
    for row in distribution.itertuples():
        count = str(row.statistic).startswith("schools ")
        lines.append(f"| {row.statistic} | {f'{row.value:,.0f}' if count else shown(row.value)} |")
    return "\n".join(lines)
