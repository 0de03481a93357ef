"""Phase 7, record: model-level measures every term and a yearly panel of every school.

The measures are those docs/ODD.md section 6 lists. Rates of teacher flows are annualised
(a term's flow times three) so they read like the published yearly statistics. Every
measure is a named function of the model's arrays; none loops over schools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import compiled, record_counts
from sim.errors import NonFiniteOutputError
from sim.phases.careers import Cohorts
from sim.state import (
    GOVERNANCE_NAMES,
    TERMS_PER_YEAR,
    Grade,
    Phase,
    SchoolArrays,
    per_school,
    trust_index,
)

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



# Columns that may be empty (NaN in the frame, null in the Parquet file), with what empty
# means; results/README.md lists them. Every other number must be finite.
MAY_BE_EMPTY: dict[str, dict[str, str]] = {
    "timeseries": {
        "share_good_or_better_primary": "the place has no primary school",
        "share_good_or_better_secondary": "the place has no secondary school",
        "academy_share_primary": "the place has no primary school",
        "academy_share_secondary": "the place has no secondary school",
        "giver_taker_ratio_median": "no MAT has a taker this term",
        "targeting_correlation": "support received, or true need, is the same for every school",
    },
    "schools": {"trust_id": "the school is maintained (in no trust)"},
    "events": {
        "trust_id": "no trust is involved in the event",
        "old_trust_id": "not a join, or the school had no trust",
        "old_grade": "not an inspection, academy order, rebrokering order or contract",
        "new_grade": "not an inspection, withdrawal or contract end",
        "wait_terms": "not a join, orphan, rebrokering wait or contract start",
    },
    "cohorts": {"share_still_teaching": "the cohort had no entrants"},
}


def check_finite(frame: pd.DataFrame, name: str, when: str) -> None:
    """Raise NonFiniteOutputError naming the first column of `frame` holding NaN or inf
    where it may not (inf is never allowed; NaN only in the columns of `MAY_BE_EMPTY`),
    and the first `when` (term or year) it happens in."""
    may_be_empty = MAY_BE_EMPTY[name]
    for column in frame.columns:
        series = frame[column]
        if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(values) if column in may_be_empty else ~np.isfinite(values)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise NonFiniteOutputError(
                f"{name} column {column!r} holds {values[first]} (first at {when} "
                f"{frame[when].iloc[first]}) where a number is promised; nothing was written")


def share(mask: np.ndarray, rows: np.ndarray | None = None) -> float:
    """Share of schools (of `rows`, if given) where `mask` holds."""
    if rows is not None:
        mask = mask[rows]
    return np.count_nonzero(mask) / len(mask) if len(mask) else float("nan")


def median(values: np.ndarray) -> float:
    """The median of finite `values` (nan of none), as `np.median` gives it: the middle
    value in order, or the mean of the middle two, (a + b) / 2, as its mean of two works it
    out. By a sort: np.median's general path (partition, then a mean over an axis) costs
    several times a sort of a record's thousand ratios."""
    ordered = np.sort(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return float((ordered[middle - 1] + ordered[middle]) / 2) if middle else float("nan")


def fraction(count: int, total: int) -> float:
    """`count` out of `total` (nan out of none), as `share` gives it."""
    return count / total if total else float("nan")


def disadvantage_gap(effectiveness: np.ndarray, fifths: StaticGroups) -> float:
    """Mean effectiveness of the least disadvantaged fifth minus the most disadvantaged fifth."""
    return float(effectiveness[fifths.least_disadvantaged].mean()
                 - effectiveness[fifths.most_disadvantaged].mean())


def good_or_better_gap(grade: np.ndarray, fifths: StaticGroups) -> float:
    """Share good or better of the least disadvantaged fifth minus that of the most
    disadvantaged fifth: the disadvantage gap as an analyst reads it (a fraction; the
    figures and the report show it in percentage points)."""
    return float((grade[fifths.least_disadvantaged] <= Grade.GOOD).mean()
                 - (grade[fifths.most_disadvantaged] <= Grade.GOOD).mean())


@dataclass(frozen=True)
class StaticGroups:
    """Schools grouped by what does not change in a run, found once (`SchoolSystemModel.groups`)."""

    primary: np.ndarray  # rows
    secondary: np.ndarray
    least_disadvantaged: np.ndarray  # FSM share at or below its 20th percentile
    most_disadvantaged: np.ndarray  # at or above its 80th percentile
    # Per school, which of those fifths it is in, as bits (`record_counts.LEAST`, `.MOST`;
    # a place whose shares are all equal has schools in both): for a compiled count.
    fifths: np.ndarray

    @classmethod
    def of(cls, schools: SchoolArrays) -> StaticGroups:
        low, high = np.quantile(schools.fsm_share, [0.2, 0.8])
        least, most = schools.fsm_share <= low, schools.fsm_share >= high
        return cls(primary=np.flatnonzero(schools.phase == Phase.PRIMARY),
                   secondary=np.flatnonzero(schools.phase == Phase.SECONDARY),
                   least_disadvantaged=np.flatnonzero(least),
                   most_disadvantaged=np.flatnonzero(most),
                   fifths=(least * record_counts.LEAST + most * record_counts.MOST)
                   .astype(np.int8))


def term_measures(model: SchoolSystemModel) -> dict[str, float | int]:
    schools, groups = model.schools, model.groups
    counted = record_counts.school_counts(model)
    n_primary, n_secondary = len(groups.primary), len(groups.secondary)
    teachers = max(counted.teachers, 1)
    at_risk = max(counted.teachers_at_risk, 1)
    posts = max(counted.posts, 1)
    ect1 = max(counted.early_career_year1_at_risk, 1)
    leavers = counted.leavers + model.tallies.unplaced_movers
    movers = counted.movers - model.tallies.unplaced_movers
    by_trust = record_counts.trust_counts(model)
    mats_with_takers = len(by_trust.ratios_with_takers)
    spending = model.support.spending_gbp
    goal = model.parameters.model.diagnosis.goal_effectiveness
    need = np.maximum(0.0, goal - schools.effectiveness)
    by_grade = counted.by_grade
    measures: dict[str, float | int] = {
        "term": model.term,
        "year": model.parameters.scenario.start_year + model.term // TERMS_PER_YEAR,
        "term_of_year": model.term % TERMS_PER_YEAR,
        "n_schools": schools.n,
        "share_outstanding": fraction(by_grade[0], schools.n),
        "share_good": fraction(by_grade[1], schools.n),
        "share_requires_improvement": fraction(by_grade[2], schools.n),
        "share_inadequate": fraction(by_grade[3], schools.n),
        "share_good_or_better": fraction(by_grade[0] + by_grade[1], schools.n),
        "share_good_or_better_primary": fraction(counted.good_or_better_primary, n_primary),
        "share_good_or_better_secondary": fraction(counted.good_or_better_secondary,
                                                   n_secondary),
        "effectiveness_mean": float(schools.effectiveness.mean()),
        "effectiveness_sd": float(schools.effectiveness.std()),
        "disadvantage_gap": disadvantage_gap(schools.effectiveness, groups),
        # (`good_or_better_gap` from the counts: a mean of a mask is its count over its size)
        "good_or_better_gap":
            fraction(counted.good_or_better_least_disadvantaged, len(groups.least_disadvantaged))
            - fraction(counted.good_or_better_most_disadvantaged,
                       len(groups.most_disadvantaged)),
        "teachers": teachers,
        "teacher_leaving_rate": leavers / at_risk * TERMS_PER_YEAR,
        # The counts behind the rate, so that a reader can pool terms and give intervals.
        "teacher_leavers": int(leavers),
        "teachers_at_risk": int(counted.teachers_at_risk),
        "teacher_moving_rate": movers / at_risk * TERMS_PER_YEAR,
        "early_career_year1_leaving_rate":
            float(counted.early_career_year1_leavers) / ect1 * TERMS_PER_YEAR,
        "vacancy_rate": float(counted.posts - counted.teachers) / posts,
        "early_career_share": float(counted.early_career_teachers) / teachers,
        "workload_mean": float(schools.workload.mean()),
        "self_assessment_accuracy_mean": float(schools.self_assessment_accuracy.mean()),
        "buy_in_mean": float(schools.buy_in.mean()),
        "n_givers": counted.givers,
        "n_takers": counted.takers,
        "giver_taker_ratio_median":
            median(by_trust.ratios_with_takers) if mats_with_takers else float("nan"),
        "share_trusts_below_threshold":
            fraction(by_trust.below_threshold_with_takers, mats_with_takers)
            if mats_with_takers else 0.0,
        "share_mats_below_threshold":
            fraction(by_trust.below_threshold, by_trust.multi_academy_trusts)
            if by_trust.multi_academy_trusts else 0.0,
        "support_per_taker_fte":
            float(schools.support_received[schools.is_taker].mean()) if counted.takers else 0.0,
        "targeting_correlation": correlation(schools.support_received, need),
        "n_orphans": counted.orphans,
        # (numpy's mean of the waits: their sum, exact, over their number)
        "orphan_wait_mean_terms":
            counted.orphan_wait_terms / counted.orphans if counted.orphans else 0.0,
        "n_awaiting_rebrokering": counted.awaiting_rebrokering,
        "active_contracts": counted.under_contract,
        "academy_share_primary": fraction(counted.academies_primary, n_primary),
        "academy_share_secondary": fraction(counted.academies_secondary, n_secondary),
        "n_multi_academy_trusts": by_trust.multi_academy_trusts,
        "n_single_academy_trusts": by_trust.single_academy_trusts,
    }
    for source, pounds in spending.items():
        measures[f"spending_{source}_gbp"] = pounds
    measures["spending_total_gbp"] = sum(spending.values())
    tallies = model.tallies
    measures["spending_to_date_gbp"] = tallies.spending_to_date_gbp
    measures["grades_gained_to_date"] = tallies.grades_gained
    measures["schools_moved_to_good_to_date"] = tallies.schools_moved_to_good
    # No running cost per grade: all spending over grades gained is an average cost, not
    # what spending buys (issue 16); a reader divides the two columns above if it wants
    # one, and sim.compare gives the incremental ratio against the status quo.
    return measures


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation, or nan when either side does not vary.

    Sums of products, not dot products (`a @ b`): those go to BLAS, whose threads, where
    numpy was loaded before `sim` could limit them (a notebook), made a national run five
    times slower; and its sum's rounding depends on how many threads it has. numpy's own
    sums use no threads and give the same value wherever the run is."""
    if compiled.worth_compiling(len(a)):
        # The products in one compiled pass, numpy's means and sums around it.
        both_vary, products, squares_a, squares_b = _centred_products(a, b, a.mean(),
                                                                     b.mean())
        if not both_vary:
            return float("nan")
        return float(products.sum() / np.sqrt(squares_a.sum() * squares_b.sum()))
    if a.min() == a.max() or b.min() == b.max():
        return float("nan")
    a, b = a - a.mean(), b - b.mean()
    return float(np.multiply(a, b).sum() / np.sqrt(np.square(a).sum() * np.square(b).sum()))


@compiled.kernel
def _centred_products(a, b, mean_a, mean_b):  # pragma: no cover
    """Whether both `a` and `b` vary (as `min() != max()` says: an array with a nan
    varies, as numpy's nan-propagating min and max make it), and the products of their
    deviations
    from their means: (a - mean_a) * (b - mean_b), and each deviation squared."""
    n = len(a)
    products, squares_a, squares_b = np.empty(n), np.empty(n), np.empty(n)
    low_a = high_a = a[0]
    low_b = high_b = b[0]
    nan_a = nan_b = False
    for i in range(n):
        value_a, value_b = a[i], b[i]
        nan_a |= value_a != value_a
        nan_b |= value_b != value_b
        low_a, high_a = min(low_a, value_a), max(high_a, value_a)
        low_b, high_b = min(low_b, value_b), max(high_b, value_b)
        deviation_a, deviation_b = value_a - mean_a, value_b - mean_b
        products[i] = deviation_a * deviation_b
        squares_a[i] = deviation_a * deviation_a
        squares_b[i] = deviation_b * deviation_b
    both_vary = (nan_a or low_a != high_a) and (nan_b or low_b != high_b)
    return both_vary, products, squares_a, squares_b


def school_panel(model: SchoolSystemModel) -> dict[str, np.ndarray]:
    """One row per school, a snapshot taken at the end of each year.

    Every column that changes is copied: phases change the school arrays in place
    (governance when a school joins a trust, grades at inspection), and a view would make
    every year of the panel show the run's last. Columns made here are new arrays already.
    What a school is and where it stands never changes in a run (its URN, phase, local
    authority, place on the map and share of pupils on free school meals): every year
    shares the model's own array rather than a copy. A copy would be a quarter of the
    panel's memory, some 0.8 MB a year for England, and a run's new memory costs its page
    faults (about 2 microseconds a page here) in the term after it is taken. For the same
    reason the year's counts (the flows of teachers, the inspection category, the trust)
    are kept in 32 or 8 bits, all they need, and `panel_frame` widens them to the 64-bit
    integers the table has always had (`_KEPT_NARROW`).
    """
    schools, trusts, tallies = model.schools, model.trusts, model.tallies

    def kept(values: np.ndarray) -> np.ndarray:
        return np.array(values, copy=True)

    # -1 for a maintained school (there may be no trust at all).
    trust_id = per_school(trusts.trust_id, trust_index(schools.trust), outside=-1)
    inspected = schools.last_inspection_term > model.term - TERMS_PER_YEAR
    return {
        "year": np.full(schools.n, model.parameters.scenario.start_year
                        + model.term // TERMS_PER_YEAR, dtype=np.int32),
        "urn": schools.urn,
        "phase": schools.phase,
        "local_authority": schools.local_authority,
        # Where the school is (km east and north in the place's frame): schools do not
        # move, but a tidy panel row says where its school is (the report's map reads it).
        "x_km": schools.x_km,
        "y_km": schools.y_km,
        "fsm_share": schools.fsm_share,
        "governance": kept(schools.governance),
        "trust_id": trust_id.astype(np.int32),
        "effectiveness": kept(schools.effectiveness),
        "grade": kept(schools.grade),
        "leadership": kept(schools.leadership),
        "behaviour": kept(schools.behaviour),
        "self_assessment_accuracy": kept(schools.self_assessment_accuracy),
        "workload": kept(schools.workload),
        "teachers": kept(schools.teachers),
        "vacancies": schools.vacancies,
        "early_career_teachers": schools.early_career_year1 + schools.early_career_year2,
        "support_received_fte": kept(tallies.support_this_year),
        **{flow: so_far.astype(np.int32) for flow, so_far in tallies.flows_this_year.items()},
        "inspected": inspected,
        # The year's latest inspection: 0 none, 1 graded, 2 ungraded (categories below);
        # in 8 bits throughout, an eighth of the bytes of np.where's integers.
        "inspection": (2 - schools.last_inspection_graded.view(np.int8)) * inspected,
        "awaiting_sponsor": schools.awaiting_sponsor,
        "under_academy_order": schools.under_academy_order,
    }


# Panel columns `school_panel` keeps narrower than the table's 64-bit integers, besides
# the flows of teachers (the keys of `model.tallies.flows_this_year`).
_KEPT_NARROW = ("trust_id", "inspection")


def panel_frame(snapshots: list[dict[str, np.ndarray]], model: SchoolSystemModel) -> pd.DataFrame:
    columns = {name: np.concatenate([s[name] for s in snapshots]) for name in snapshots[0]}
    for name in (*_KEPT_NARROW, *model.tallies.flows_this_year):
        columns[name] = columns[name].astype(np.int64)
    frame = pd.DataFrame(columns)
    frame["phase"] = pd.Categorical.from_codes(
        frame["phase"], categories=[p.name.lower() for p in Phase])
    frame["inspection"] = pd.Categorical.from_codes(
        frame["inspection"] - 1, categories=["graded", "ungraded"])  # none is null
    frame["governance"] = pd.Categorical.from_codes(
        frame["governance"], categories=list(GOVERNANCE_NAMES.values()))
    frame["local_authority"] = pd.Categorical.from_codes(
        frame["local_authority"], categories=model.local_authority_names)
    no_trust = frame["trust_id"] < 0
    frame["trust_id"] = frame["trust_id"].astype("Int64")
    frame.loc[no_trust, "trust_id"] = pd.NA
    return frame


def cohort_frame(cohorts: Cohorts) -> pd.DataFrame:
    """Each cohort of early-career entrants at the end of each run year from its entry on,
    for as long as it is followed (`Cohorts.followed_years`): one row per cohort and year,
    both counted from 1 (the first run year)."""
    cohort, year, entrants, still = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [], []
    for index, still_teaching in enumerate(cohorts.still_teaching_by_year):
        cohort.append(np.arange(index + 1))
        year.append(np.full(index + 1, index))
        entrants.append(cohorts.entrants[: index + 1])
        still.append(still_teaching[: index + 1])
    cohort_index, year_index = np.concatenate(cohort), np.concatenate(year)
    entered = np.concatenate([np.zeros(0, np.int64), *entrants]).astype(np.int64)
    teaching = np.concatenate([np.zeros(0, np.int64), *still]).astype(np.int64)
    followed = cohorts.followed(cohort_index, year_index)
    cohort_index, year_index = cohort_index[followed], year_index[followed]
    entered, teaching = entered[followed], teaching[followed]
    return pd.DataFrame({
        "cohort": (cohort_index + 1).astype(np.int32),
        "year": (year_index + 1).astype(np.int32),
        "years_since_entry": (year_index - cohort_index).astype(np.int32),
        "entrants": entered,
        "still_teaching": teaching,
        "share_still_teaching": np.divide(teaching, entered, out=np.full(len(teaching), np.nan),
                                          where=entered > 0),
    })
