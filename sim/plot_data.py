"""What each panel of a run's `summary.png` shows, as tidy frames computed from its files.

`sim.plots` draws these frames; they are separate so that the numbers a policy analyst
reads off the figure can be tested without looking at pixels. Every function here takes
what a run wrote (`timeseries.parquet`, `schools.parquet`, `events.parquet`,
`cohorts.parquet`, `summary.json`, `config.yaml`, read by `read_run`) and never the model.

Percentages are in percent (0-100) and differences of them in percentage points. Time is
in school years: the one starting in September 2018 (2018/19) runs from 2018.0 to 2019.0.
A term's values sit at its end (`term_end`); a year's, whether a flow over it or a state
at its end, at its middle (`year + 0.5`), under the year's name on the figure's axis.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.labels import policy_name, scenario_name

if TYPE_CHECKING:  # pandas loads when a figure is drawn, not with the runner (issue 14)
    import pandas as pd

TERMS_PER_YEAR = 3
# The normal quantile of a two-sided 95% interval.
Z_95 = 1.959963984540054
# Orphan schools' waits, in terms, grouped for a reader: (label, fewest terms, most terms).
WAIT_BANDS = (("up to a year", 0, 3), ("1 to 2 years", 4, 6), ("over 2 years", 7, math.inf))


@dataclass(frozen=True)
class RunFiles:
    """What a run folder holds, read once for every panel. A file the run did not write
    (`output.school_panel=false` leaves out the panel) is None."""

    timeseries: pd.DataFrame
    summary: dict[str, Any]
    config: dict[str, Any]
    schools: pd.DataFrame | None = None
    # events.parquet's term, kind, urn and wait_terms (the orphans and contract starts count)
    orphan_events: pd.DataFrame | None = None
    cohorts: pd.DataFrame | None = None


def read_run(directory: Path) -> RunFiles:
    """Read the files of a run folder that the figure needs, only the columns it uses."""
    import pandas as pd
    import yaml

    directory = Path(directory)

    def optional(name: str, **options: Any) -> pd.DataFrame | None:
        path = directory / name
        return pd.read_parquet(path, **options) if path.exists() else None

    config_path = directory / "config.yaml"
    # libyaml's loader when present: ten times faster than the pure-Python one.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    config = yaml.load(config_path.read_text(), Loader=loader) if config_path.exists() else {}
    return RunFiles(
        timeseries=pd.read_parquet(directory / "timeseries.parquet"),
        summary=json.loads((directory / "summary.json").read_text()),
        config=config or {},
        schools=optional("schools.parquet", columns=["year", "urn", "fsm_share", "grade"]),
        # All rows, kept in orphans_by_wait: a filter here would load pyarrow's dataset
        # module, which costs more than reading the rows.
        orphan_events=optional("events.parquet", columns=["term", "kind", "urn", "wait_terms"]),
        cohorts=optional("cohorts.parquet"))


def term_end(timeseries: pd.DataFrame) -> pd.Series:
    """The end of each term on the time axis: the autumn term of 2018/19 ends at 2018.33."""
    return timeseries["year"] + (timeseries["term_of_year"] + 1) / TERMS_PER_YEAR


def wilson_interval(successes: np.ndarray | float, trials: np.ndarray | float,
                    z: float = Z_95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval for a binomial proportion, as shares (0-1); nan where there
    were no trials. It stays inside 0-1 and is honest for small counts, where the normal
    approximation's interval would reach below zero."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        proportion = successes / trials
        denominator = 1 + z**2 / trials
        centre = (proportion + z**2 / (2 * trials)) / denominator
        half = z * np.sqrt(proportion * (1 - proportion) / trials
                           + z**2 / (4 * trials**2)) / denominator
    # It holds the proportion; at 0 or 1 rounding may leave a bound a hair the wrong side.
    return np.minimum(centre - half, proportion), np.maximum(centre + half, proportion)


def good_or_better(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Share of schools whose latest Ofsted grade is good or outstanding, each term (%)."""
    import pandas as pd

    return pd.DataFrame({"time": term_end(timeseries),
                         "percent": timeseries["share_good_or_better"] * 100})


def disadvantage_gap(schools: pd.DataFrame) -> pd.DataFrame:
    """The good-or-better share of the least and the most disadvantaged fifths of schools
    (ranked by FSM share, ties in file order) at the end of each year, and the gap between
    them in percentage points: least minus most, so positive when disadvantaged schools are
    behind. `gap_low`/`gap_high` are a 95% interval for the gap (Newcombe's hybrid score
    interval from each fifth's Wilson interval): with 40 schools a fifth, a gap moves by
    2.5 points when one school's grade does, and the interval shows how far chance alone
    reaches."""
    import pandas as pd

    rank = schools.groupby("year")["fsm_share"].rank(method="first")
    size = schools.groupby("year")["fsm_share"].transform("size")
    fifth = np.ceil(rank / size * 5).astype(int)  # 1 least disadvantaged .. 5 most
    ranked = pd.DataFrame({"year": schools["year"], "fifth": fifth,
                           "good": schools["grade"] <= 2})  # grade 1 outstanding, 2 good
    # A place of fewer than five schools has no least disadvantaged fifth (a school's fifth
    # is its rank's): such a fifth counts no schools, and its share is nan.
    counts = (ranked[ranked["fifth"].isin([1, 5])].groupby(["year", "fifth"])["good"]
              .agg(["sum", "size"]).unstack("fifth", fill_value=0)
              .reindex(columns=pd.MultiIndex.from_product([["sum", "size"], [1, 5]]),
                       fill_value=0))
    frame = pd.DataFrame({"year": counts.index.to_numpy(),
                          "least_good": counts[("sum", 1)].to_numpy(),
                          "least_schools": counts[("size", 1)].to_numpy(),
                          "most_good": counts[("sum", 5)].to_numpy(),
                          "most_schools": counts[("size", 5)].to_numpy()})
    with np.errstate(invalid="ignore", divide="ignore"):
        least_share = frame["least_good"] / frame["least_schools"]
        most_share = frame["most_good"] / frame["most_schools"]
    least_low, least_high = wilson_interval(frame["least_good"], frame["least_schools"])
    most_low, most_high = wilson_interval(frame["most_good"], frame["most_schools"])
    gap = least_share - most_share
    frame["time"] = frame["year"] + 0.5  # under the year's name (taken at its end)
    frame["least_percent"] = least_share * 100
    frame["most_percent"] = most_share * 100
    frame["gap_points"] = gap * 100
    frame["gap_low"] = (gap - np.sqrt((least_share - least_low) ** 2
                                      + (most_high - most_share) ** 2)) * 100
    frame["gap_high"] = (gap + np.sqrt((least_high - least_share) ** 2
                                       + (most_share - most_low) ** 2)) * 100
    return frame


def _full_years(timeseries: pd.DataFrame) -> pd.DataFrame:
    """The terms of the school years the run recorded all three terms of."""
    terms = timeseries.groupby("year")["term"].transform("size")
    return timeseries[terms == TERMS_PER_YEAR]


def teacher_leaving(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Teachers leaving the place's state schools over each school year, as a share of its
    teachers (%), with a 95% Wilson interval.

    The record gives each term's leavers and the teachers at risk of leaving (runs of
    earlier versions only the rate, from which the leavers are taken as rate / 3 x
    teachers in post). The year's leavers are their sum, its teachers the mean over its
    terms, so the year's rate is the teacher-weighted mean of its terms' rates, and its
    interval is that of a binomial count of leavers out of the year's teachers.
    Smoothing over the year removes the term-to-term noise of a small place; the
    interval says how much of the year-to-year change is chance."""
    import pandas as pd

    terms = _full_years(timeseries)
    if "teacher_leavers" in terms:  # the counts themselves (runs since they were recorded)
        leavers, teachers = terms["teacher_leavers"], terms["teachers_at_risk"]
    else:
        leavers = terms["teacher_leaving_rate"] / TERMS_PER_YEAR * terms["teachers"]
        teachers = terms["teachers"]
    by_year = pd.DataFrame({"leavers": leavers, "teachers": teachers,
                            "year": terms["year"]}).groupby("year").agg(
        leavers=("leavers", "sum"), teachers=("teachers", "mean")).reset_index()
    low, high = wilson_interval(by_year["leavers"], by_year["teachers"])
    by_year["time"] = by_year["year"] + 0.5
    by_year["percent"] = by_year["leavers"] / by_year["teachers"] * 100
    by_year["low"], by_year["high"] = low * 100, high * 100
    return by_year


def early_career_retention(cohorts: pd.DataFrame, start_year: int) -> pd.DataFrame:
    """Of each school year's new early-career teachers, the share still teaching in the
    place's state schools at the end of that year (`years_since_entry` 0: they came during
    it) and at the end of the next (1), with 95% Wilson intervals from the counts of
    `cohorts.parquet`. One row per (year counted, years since entry)."""
    import pandas as pd

    kept = cohorts[cohorts["years_since_entry"].isin([0, 1]) & (cohorts["entrants"] > 0)]
    low, high = wilson_interval(kept["still_teaching"], kept["entrants"])
    return pd.DataFrame({
        "year": kept["year"].to_numpy() - 1 + start_year,  # cohorts count run years from 1
        "years_since_entry": kept["years_since_entry"].to_numpy(),
        "entrants": kept["entrants"].to_numpy(),
        "still_teaching": kept["still_teaching"].to_numpy(),
        "time": kept["year"].to_numpy() - 0.5 + start_year,
        "percent": kept["still_teaching"].to_numpy() / kept["entrants"].to_numpy() * 100,
        "low": low * 100, "high": high * 100})


def orphans_by_wait(timeseries: pd.DataFrame, orphan_events: pd.DataFrame | None
                    ) -> pd.DataFrame:
    """Orphan schools (maintained schools under an academy order that no trust has taken)
    at the end of each term, counted by how long they had waited (`WAIT_BANDS`), with
    their median wait in terms (nan with none waiting). From events.parquet: an orphan row
    per orphan and term with its wait so far, less the orphans a MAT was contracted to
    support later in the same term (a contract_start row; under MAT contracting), which
    are no longer orphans at its end, as `n_orphans` counts them. Without events, all in
    no band."""
    import pandas as pd

    frame = pd.DataFrame({"term": timeseries["term"].to_numpy(),
                          "time": term_end(timeseries).to_numpy(),
                          "waiting": timeseries["n_orphans"].to_numpy()})
    if orphan_events is None:
        orphan_events = pd.DataFrame({"term": [], "kind": [], "urn": [], "wait_terms": []})
    kind = orphan_events["kind"]  # categorical: compared without copying to text
    contracted = pd.MultiIndex.from_frame(orphan_events.loc[kind == "contract_start",
                                                            ["term", "urn"]])
    orphans = orphan_events[kind == "orphan"]
    events = orphans[~pd.MultiIndex.from_frame(orphans[["term", "urn"]]).isin(contracted)]
    wait = events["wait_terms"].astype(float)
    for label, fewest, most in WAIT_BANDS:
        in_band = events["term"][(wait >= fewest) & (wait <= most)]
        frame[label] = frame["term"].map(in_band.value_counts()).fillna(0).astype(int)
    median = wait.groupby(events["term"]).median()
    frame["median_wait_terms"] = frame["term"].map(median)
    return frame


def stretched_trusts(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Share of multi-academy trusts whose giver:taker ratio (member schools able to give
    support per member needing it) is below their due-diligence threshold, each term (%).
    Such a trust refuses every weak school, since one more taker only lowers its ratio:
    this says why orphans wait. It is a lower bound on the trusts that refuse: one just at
    its threshold refuses too, as a weak school would take it below. nan in a term with
    no MATs."""
    import pandas as pd

    has_mats = timeseries["n_multi_academy_trusts"] > 0
    return pd.DataFrame({"time": term_end(timeseries),
                         "percent": (timeseries["share_mats_below_threshold"] * 100)
                         .where(has_mats)})


def spending(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Spending on improvement in each school year (pounds), and at its end the average
    cost per school moved to good: all spending so far over the net number of schools
    moved from below good to good or better at inspections so far (nan while that is not
    above 0). An average, not an incremental cost: one run has no counterfactual, and much
    of the spending (trusts' central teams, the local authority) would happen anyway;
    `python -m sim.compare` gives the incremental cost of a policy over the status quo."""
    terms = _full_years(timeseries)
    by_year = terms.groupby("year").agg(
        spending_gbp=("spending_total_gbp", "sum"),
        spending_to_date_gbp=("spending_to_date_gbp", "last"),
        schools_moved_to_good_to_date=("schools_moved_to_good_to_date", "last")).reset_index()
    moved = by_year["schools_moved_to_good_to_date"]
    by_year["average_cost_per_school_moved_gbp"] = (
        by_year["spending_to_date_gbp"] / moved.where(moved > 0))
    by_year["time"] = by_year["year"] + 0.5
    return by_year


def place_name(summary: dict[str, Any], config: dict[str, Any]) -> str:
    """The place a run is of, for a title (the figure's and `sim.report`'s), from its
    summary.json and config.yaml: the areas of a GIAS extract (or the extract itself,
    when every school in it was taken), else the scenario's name, with its scale when it
    is not 1."""
    population = summary.get("population") or {}
    if population.get("builder") == "gias":
        areas = list(population.get("areas") or [])
        source = population.get("source", "a GIAS extract")
        if not areas:
            return f"every school of {source}"
        named = ", ".join(areas[:3]) + (f" and {len(areas) - 3} more" if len(areas) > 3 else "")
        return f"{named} (GIAS extract {source})"
    name = scenario_name(summary["scenario"])
    scale = (config.get("scenario") or {}).get("scale", 1.0)
    return name if scale == 1 else f"{name} at scale {scale:g}"


def figure_title(files: RunFiles) -> str:
    """The figure's title: the place, the policy's name, the seed, schools and years."""
    summary = files.summary
    return (f"{place_name(summary, files.config)} under {policy_name(summary['policy'])}, seed "
            f"{summary['seed']}: {summary['n_schools']:,} schools, "
            f"{summary['horizon_years']} years")
