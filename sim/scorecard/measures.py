"""Measures of one run, each a function of the run's result tables, for the scorecard.

Each measure takes a run's tables (`RunTables`) and returns a number, or None where it is
undefined in that run (no event of the kind it counts, or a table the run does not have:
`cohorts.parquet` is written only by newer versions). `MEASURES` maps the name that
`sim/validation_patterns.yaml` and `sim/calibration_targets.yaml` use (their `measure:`)
to the function; a new measure is one function and one entry there.

What the tables hold is documented in results/README.md. The conventions used here:
- An inspection's `detail` is "graded" or "ungraded"; runs made before inspections had a
  detail leave it empty, and an empty detail counts as graded.
- A grade is 1 outstanding, 2 good, 3 requires improvement, 4 inadequate; "good or
  better" is a grade of 1 or 2.
- A year has three terms, so a term is four months.
- Disadvantage fifths are those of `sim.metrics` (the disadvantage gap): in each year, the
  schools at or below the 20th percentile of FSM share, and those at or above the 80th.

It reads tables only, and imports nothing of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from sim.state import TERMS_PER_YEAR

MONTHS_PER_TERM = 12 // TERMS_PER_YEAR
GOOD, REQUIRES_IMPROVEMENT, INADEQUATE = 2, 3, 4
GOOD_OR_BETTER = (1, GOOD)
RETENTION_YEARS = (2, 3, 5, 10)
WAIT_QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
PLACED_WITHIN_TERMS = (3, 6)


@dataclass(frozen=True)
class RunTables:
    """One run's result tables, and what the scorecard needs to know about the run."""

    seed: int
    scale: float  # the share of the scenario's schools simulated: counts are divided by it
    timeseries: pd.DataFrame
    schools: pd.DataFrame
    events: pd.DataFrame
    cohorts: pd.DataFrame | None = None
    scenario: str = "national"
    policy: str = "status_quo"


Measure = Callable[[RunTables], float | None]


def _share(condition: np.ndarray) -> float | None:
    """The share of True in a boolean array; None for an empty one."""
    return float(np.mean(condition)) if len(condition) else None


def inspections(events: pd.DataFrame, *, graded_only: bool) -> pd.DataFrame:
    """The inspection events, or only the graded ones (an empty detail counts as graded)."""
    found = events[events["kind"] == "inspection"]
    if graded_only and "detail" in found:
        found = found[found["detail"].astype("string").fillna("graded") != "ungraded"]
    return found


def _grades(found: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (found["old_grade"].to_numpy(dtype=float, na_value=np.nan),
            found["new_grade"].to_numpy(dtype=float, na_value=np.nan))


def share_at_next_graded(tables: RunTables, *, previous: int,
                         next_grades: tuple[int, ...]) -> float | None:
    """Of graded inspections of schools whose previous grade was `previous`, the share
    whose new grade is one of `next_grades`."""
    old, new = _grades(inspections(tables.events, graded_only=True))
    return _share(np.isin(new[old == previous], next_grades))


def counted_inspections(events: pd.DataFrame) -> pd.DataFrame:
    """Inspections as Ofsted counts them: an ungraded inspection that converted at once to
    a graded one is one (graded) inspection, the graded event."""
    found = inspections(events, graded_only=False)
    if "outcome" in found:
        found = found[found["outcome"].astype("string").fillna("") != "converted_to_graded"]
    return found


def good_or_better_stays_good_or_better(tables: RunTables) -> float | None:
    """Of inspections (graded or ungraded: an ungraded one that finds the school still good
    confirms its grade) of schools previously good or better, the share still good or
    better."""
    old, new = _grades(counted_inspections(tables.events))
    return _share(np.isin(new[np.isin(old, GOOD_OR_BETTER)], GOOD_OR_BETTER))


def order_to_opening_terms(tables: RunTables) -> pd.DataFrame | None:
    """For each school with an academy order: the term of its first order and the terms
    from it to its next conversion (NaN while it has not opened). None when the run
    records no conversion at all (runs made before conversions were recorded)."""
    events = tables.events
    conversions = events.loc[events["kind"] == "conversion", ["urn", "term"]]
    if conversions.empty:
        return None
    orders = (events.loc[events["kind"] == "academy_order"].groupby("urn", as_index=False)["term"]
              .min().rename(columns={"term": "order_term"}))
    paired = orders.merge(conversions, on="urn", how="left")
    paired = paired[paired["term"] >= paired["order_term"]]
    opening = paired.groupby("urn")["term"].min()
    orders["terms_to_opening"] = (orders["urn"].map(opening) - orders["order_term"]).astype(float)
    return orders


def months_from_academy_order_to_opening_median(tables: RunTables) -> float | None:
    """The median, over schools that opened as academies, of the months from their first
    academy order to their opening (schools not open by the end are left out)."""
    orders = order_to_opening_terms(tables)
    if orders is None or orders["terms_to_opening"].isna().all():
        return None
    return float(orders["terms_to_opening"].median() * MONTHS_PER_TERM)


def months_from_academy_order_to_opening_mean(tables: RunTables) -> float | None:
    """The mean, over schools that opened as academies during the run, of the months from
    their first academy order to their opening (as the DfE's figure, right-censored)."""
    orders = order_to_opening_terms(tables)
    if orders is None or orders["terms_to_opening"].isna().all():
        return None
    return float(orders["terms_to_opening"].mean() * MONTHS_PER_TERM)


def share_opened_within_12_months_of_order(tables: RunTables) -> float | None:
    """Of schools given an academy order at least 12 months before the run's last term,
    the share open as an academy within 12 months of it."""
    orders = order_to_opening_terms(tables)
    if orders is None:
        return None
    window = 12 // MONTHS_PER_TERM
    followed = orders[orders["order_term"] + window <= tables.timeseries["term"].max()]
    return _share((followed["terms_to_opening"] <= window).to_numpy())


def cohort_retention(tables: RunTables, *, years: int) -> float | None:
    """Of teachers who entered in any cohort observed `years` years after entry, the share
    still teaching then (cohorts pooled, so weighted by their entrants)."""
    cohorts = tables.cohorts
    if cohorts is None:
        return None
    observed = cohorts[cohorts["years_since_entry"] == years]
    entrants = float(observed["entrants"].sum())
    return float(observed["still_teaching"].sum()) / entrants if entrants > 0 else None


def turnover_by_disadvantage(tables: RunTables, *, phase: str | None = None,
                             ) -> tuple[float, float] | None:
    """Teacher turnover ((leavers + movers out) / teachers, pooled over school-years) of the
    most and of the least disadvantaged fifth of schools (of one `phase`, if given) by FSM
    share; None when the panel has no teacher flows or a fifth has no teachers."""
    panel = tables.schools
    if not {"year", "fsm_share", "teachers", "leavers", "movers_out"} <= set(panel.columns):
        return None
    if phase is not None:
        panel = panel[panel["phase"].astype("string") == phase]
        if panel.empty:
            return None
    by_year = panel.groupby("year")["fsm_share"]
    most = panel["fsm_share"] >= by_year.transform(lambda fsm: np.quantile(fsm, 0.8))
    least = panel["fsm_share"] <= by_year.transform(lambda fsm: np.quantile(fsm, 0.2))
    leaving = (panel["leavers"] + panel["movers_out"]).astype(float)
    teachers = panel["teachers"].astype(float)
    if teachers[most].sum() <= 0 or teachers[least].sum() <= 0:
        return None
    return (leaving[most].sum() / teachers[most].sum(),
            leaving[least].sum() / teachers[least].sum())


def turnover_ratio_most_to_least_disadvantaged(tables: RunTables) -> float | None:
    rates = turnover_by_disadvantage(tables)
    if rates is None or rates[1] <= 0:
        return None
    return rates[0] / rates[1]


def turnover_gap_pp_most_to_least_disadvantaged(tables: RunTables, *,
                                                phase: str | None = None) -> float | None:
    """The most disadvantaged fifth's turnover minus the least's, in percentage points a year."""
    rates = turnover_by_disadvantage(tables, phase=phase)
    return None if rates is None else 100 * (rates[0] - rates[1])


def _per_school_per_year(tables: RunTables, by_year: pd.Series) -> float | None:
    """The mean over the run's years of a yearly count (`by_year`, indexed by year from 0)
    over that year's schools; None for a run with no terms."""
    timeseries = tables.timeseries
    schools = timeseries.groupby(timeseries["term"] // TERMS_PER_YEAR)["n_schools"].mean()
    if schools.empty:
        return None
    return float((by_year.reindex(schools.index, fill_value=0) / schools).mean())


def share_of_schools_inspected_per_year(tables: RunTables) -> float | None:
    """The mean over the run's years of the share of schools inspected (graded or not) at
    least once in the year."""
    found = inspections(tables.events, graded_only=False)
    return _per_school_per_year(tables, found.groupby(found["term"] // TERMS_PER_YEAR)["urn"].nunique())


def inspections_per_school_per_year(tables: RunTables) -> float | None:
    """Inspections as Ofsted counts them, per school per year, over the run's years."""
    found = counted_inspections(tables.events)
    return _per_school_per_year(tables, found.groupby(found["term"] // TERMS_PER_YEAR).size())


def share_ungraded_of_inspections(tables: RunTables) -> float | None:
    """Of inspections as Ofsted counts them (a converted one is graded), the share
    ungraded."""
    found = counted_inspections(tables.events)
    if "detail" not in found:
        return _share(np.zeros(len(found), dtype=bool))
    return _share((found["detail"].astype("string") == "ungraded").fillna(False).to_numpy())


def share_mats_below_threshold_max_over_years(tables: RunTables) -> float | None:
    """The highest yearly mean of the share of MATs below their own due-diligence
    threshold; None for runs made before the timeseries held it."""
    timeseries = tables.timeseries
    if "share_mats_below_threshold" not in timeseries:
        return None
    yearly = timeseries.groupby(timeseries["term"] // TERMS_PER_YEAR)["share_mats_below_threshold"]
    return float(yearly.mean().max()) if len(timeseries) else None


MEASURES: dict[str, Measure] = {
    "ri_to_good_or_better_at_next_graded":
        partial(share_at_next_graded, previous=REQUIRES_IMPROVEMENT, next_grades=GOOD_OR_BETTER),
    "good_or_better_stays_good_or_better": good_or_better_stays_good_or_better,
    "inadequate_to_good_or_better_at_next_graded":
        partial(share_at_next_graded, previous=INADEQUATE, next_grades=GOOD_OR_BETTER),
    "requires_improvement_to_inadequate_at_next_graded":
        partial(share_at_next_graded, previous=REQUIRES_IMPROVEMENT, next_grades=(INADEQUATE,)),
    "months_from_academy_order_to_opening_median": months_from_academy_order_to_opening_median,
    "months_from_academy_order_to_opening_mean": months_from_academy_order_to_opening_mean,
    "share_opened_within_12_months_of_order": share_opened_within_12_months_of_order,
    **{f"cohort_retention_after_{years}_years": partial(cohort_retention, years=years)
       for years in RETENTION_YEARS},
    "turnover_ratio_most_to_least_disadvantaged": turnover_ratio_most_to_least_disadvantaged,
    "turnover_gap_pp_most_to_least_disadvantaged": turnover_gap_pp_most_to_least_disadvantaged,
    "turnover_gap_pp_most_to_least_disadvantaged_secondary":
        partial(turnover_gap_pp_most_to_least_disadvantaged, phase="secondary"),
    "share_of_schools_inspected_per_year": share_of_schools_inspected_per_year,
    "inspections_per_school_per_year": inspections_per_school_per_year,
    "share_ungraded_of_inspections": share_ungraded_of_inspections,
    "share_mats_below_threshold_max_over_years": share_mats_below_threshold_max_over_years,
}


def transition_counts(tables: RunTables) -> pd.DataFrame:
    """Graded inspections counted by previous grade and grade at that (next graded)
    inspection: columns old_grade, new_grade, inspections."""
    graded = inspections(tables.events, graded_only=True).dropna(subset=["old_grade", "new_grade"])
    counts = graded.groupby([graded["old_grade"].astype(int), graded["new_grade"].astype(int)])
    return counts.size().rename("inspections").reset_index()


def orphan_waits(tables: RunTables) -> tuple[np.ndarray, np.ndarray]:
    """Terms from academy order to placement with a sponsor of the schools placed during
    the run (`placement` events), and the terms waited so far by those still waiting at
    the run's end (orphan events of its last brokering round)."""
    events = tables.events
    placed = events[events["kind"] == "placement"]
    last_term = tables.timeseries["term"].max()
    waiting = events[(events["kind"] == "orphan") & (events["term"] == last_term)]
    return (placed["wait_terms"].to_numpy(dtype=float, na_value=np.nan),
            waiting["wait_terms"].to_numpy(dtype=float, na_value=np.nan))
