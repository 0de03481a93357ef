"""Measures against hand computations on arrays set by hand, and summary.json against its
documentation and against the run's own tables.

- The disadvantage gap is the least disadvantaged fifth's mean effectiveness minus the
  most disadvantaged fifth's (results/README.md): positive when the most disadvantaged
  schools are worse. Swapping the fifths changes its sign.
- Good or better is outstanding plus good.
- The targeting correlation is Pearson's (numpy's corrcoef), and empty (nan) when support
  or need is the same for every school.
- summary.json holds exactly the keys results/README.md lists (its "summary.json"
  section, parsed here), and they are `sim.model.SUMMARY_SCALARS` plus the run's identity.
- cohorts.parquet is in the README's table of files, and its columns are those of the
  README's column table, in order.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from sim import metrics
from sim.model import SUMMARY_SCALARS
from sim.run import simulate
from sim.state import Grade, Phase
from tests.conftest import REPOSITORY, make_config, make_model

README = REPOSITORY / "results" / "README.md"


@pytest.fixture(scope="module")
def model():
    return make_model("scenario=opportunity_area", "seed=6")


@pytest.fixture(scope="module")
def run():
    return simulate(make_config("scenario=opportunity_area", "seed=6", "horizon_years=3",
                                "policy=mat_contracting"))


def fifths_by_hand(fsm_share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    low, high = np.quantile(fsm_share, [0.2, 0.8])
    return fsm_share <= low, fsm_share >= high


def test_the_disadvantage_gap_is_positive_when_the_most_disadvantaged_are_worse(model):
    schools = model.schools
    saved = schools.effectiveness.copy()
    try:
        schools.effectiveness[:] = 1.0 - 4.0 * schools.fsm_share  # more FSM, less effective
        least, most = fifths_by_hand(schools.fsm_share)
        by_hand = schools.effectiveness[least].mean() - schools.effectiveness[most].mean()
        assert by_hand > 0.3
        measured = metrics.term_measures(model)["disadvantage_gap"]
        assert measured == pytest.approx(by_hand)
        schools.effectiveness[:] = -schools.effectiveness  # now the least disadvantaged are worse
        assert metrics.term_measures(model)["disadvantage_gap"] == pytest.approx(-by_hand)
    finally:
        schools.effectiveness[:] = saved


def test_the_good_or_better_gap_is_the_fifths_difference_in_good_or_better_share(model):
    schools = model.schools
    saved = schools.grade.copy()
    try:
        least, most = fifths_by_hand(schools.fsm_share)
        # The most disadvantaged fifth all inadequate, every other school good.
        schools.grade[:] = Grade.GOOD
        schools.grade[most] = Grade.INADEQUATE
        assert metrics.term_measures(model)["good_or_better_gap"] == pytest.approx(1.0)
        # Half of the least disadvantaged fifth requires improvement as well.
        rows = np.flatnonzero(least)[::2]
        schools.grade[rows] = Grade.REQUIRES_IMPROVEMENT
        by_hand = 1.0 - len(rows) / least.sum()
        assert metrics.term_measures(model)["good_or_better_gap"] == pytest.approx(by_hand)
    finally:
        schools.grade[:] = saved


def test_the_fifths_are_the_lowest_and_highest_fsm_shares(model):
    groups = metrics.StaticGroups.of(model.schools)
    least, most = fifths_by_hand(model.schools.fsm_share)
    assert np.array_equal(groups.least_disadvantaged, np.flatnonzero(least))
    assert np.array_equal(groups.most_disadvantaged, np.flatnonzero(most))
    assert model.schools.fsm_share[groups.least_disadvantaged].max() \
        < model.schools.fsm_share[groups.most_disadvantaged].min()
    assert np.array_equal(groups.fifths, least * 1 + most * 2)


def test_the_records_gap_from_its_counts_is_the_gap_from_the_grades(model):
    """The record counts the fifths' good or better schools in its pass
    (`sim.record_counts`): the same number, to the bit, as the means of the masks."""
    assert metrics.term_measures(model)["good_or_better_gap"] == metrics.good_or_better_gap(
        model.schools.grade, model.groups)


def test_a_run_starts_with_a_positive_gap(run):
    """In the synthetic places the most disadvantaged schools are the weaker."""
    assert run.summary["disadvantage_gap_start"] > 0


def test_start_values_are_the_place_before_any_term_the_same_under_every_policy():
    """The record's first row comes after a term, when a policy has acted; `_start` is
    the place before it, so a policy's change is its final value less the same start."""
    before = make_model("scenario=opportunity_area", "seed=6", "horizon_years=3",
                        "policy=mat_contracting")
    schools, groups = before.schools, before.groups
    runs = [simulate(make_config("scenario=opportunity_area", "seed=6", "horizon_years=3",
                                 f"policy={policy}"))
            for policy in ("status_quo", "universal_partnership")]
    for result in runs:
        summary = result.summary
        assert summary["good_or_better_start"] == np.mean(schools.grade <= Grade.GOOD)
        assert summary["disadvantage_gap_start"] == metrics.disadvantage_gap(
            schools.effectiveness, groups)
        assert summary["good_or_better_gap_start"] == metrics.good_or_better_gap(
            schools.grade, groups)
        assert summary["good_or_better_change"] == pytest.approx(
            summary["good_or_better_final"] - summary["good_or_better_start"])


def test_good_or_better_is_outstanding_plus_good(model):
    schools = model.schools
    saved = schools.grade.copy()
    try:
        counts = {Grade.OUTSTANDING: 23, Grade.GOOD: 101, Grade.REQUIRES_IMPROVEMENT: 47}
        grades = np.full(schools.n, int(Grade.INADEQUATE), schools.grade.dtype)
        start = 0
        for grade, count in counts.items():
            grades[start:start + count] = grade
            start += count
        schools.grade[:] = np.random.default_rng(0).permutation(grades)
        measures = metrics.term_measures(model)
        n = schools.n
        assert measures["share_outstanding"] == pytest.approx(23 / n)
        assert measures["share_good"] == pytest.approx(101 / n)
        assert measures["share_requires_improvement"] == pytest.approx(47 / n)
        assert measures["share_inadequate"] == pytest.approx((n - 171) / n)
        assert measures["share_good_or_better"] == pytest.approx((23 + 101) / n)
        primary = schools.phase == Phase.PRIMARY
        assert measures["share_good_or_better_primary"] == pytest.approx(
            np.mean(schools.grade[primary] <= 2))
    finally:
        schools.grade[:] = saved


def documented_summary_keys() -> set[str]:
    """The keys results/README.md promises in summary.json, read from its text."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### summary.json", 1)[1].split("\n#", 1)[0].strip()
    listing = section.split("\n\n", 1)[0]
    assert listing.startswith("Scenario, policy, seed, horizon and number of schools;")
    keys = {"scenario", "policy", "seed", "horizon_years", "n_schools"}
    timeseries = text.split("### timeseries.parquet", 1)[1].split("\n#", 1)[0]
    sources = [name for name in re.findall(r"`spending_(\w+?)_gbp`", timeseries)
               if name not in ("total", "to_date")]
    assert len(sources) >= 5, sources
    previous = ""
    for token in re.findall(r"`([^`]+)`", listing):
        if token.startswith("_"):  # `good_or_better_start`, `_final`: the same stem
            token = previous.rsplit("_", 1)[0] + token
        if "<source>" in token:
            keys |= {token.replace("<source>", source) for source in sources}
            continue
        keys.add(token)
        previous = token
    return keys


def test_the_correlation_is_pearsons_and_empty_when_a_side_does_not_vary():
    rng = np.random.default_rng(0)
    need = rng.gamma(2.0, 0.3, 21_750)
    support = np.where(rng.random(21_750) < 0.3, 0.2 * need + rng.random(21_750), 0.0)
    assert metrics.correlation(support, need) == pytest.approx(
        np.corrcoef(support, need)[0, 1], rel=1e-12)
    assert np.isnan(metrics.correlation(np.zeros(10), np.arange(10.0)))
    assert np.isnan(metrics.correlation(np.arange(10.0), np.ones(10)))


def test_the_correlation_is_the_same_compiled_or_not(monkeypatch):
    """`metrics.correlation`'s compiled pass and its numpy twin, bit for bit: on varying
    sides, a constant side, and a side holding a nan (which varies, as numpy's min and
    max say)."""
    rng = np.random.default_rng(1)
    need = rng.gamma(2.0, 0.3, 3_000)
    support = np.where(rng.random(3_000) < 0.3, 0.2 * need + rng.random(3_000), 0.0)
    with_nan = support.copy()
    with_nan[17] = np.nan
    cases = [(support, need), (np.full(3_000, 0.5), need), (support, np.zeros(3_000)),
             (with_nan, need), (with_nan, np.ones(3_000)), (np.r_[-0.0, np.zeros(2_999)], need)]
    for a, b in cases:
        found = []
        for size in (0, sys.maxsize):
            monkeypatch.setattr("sim.compiled.MIN_SCHOOLS", size)
            found.append(metrics.correlation(a, b))
        compiled_way, numpy_way = found
        assert np.array_equal(np.float64(compiled_way).view(np.int64),
                              np.float64(numpy_way).view(np.int64)) or \
            (np.isnan(compiled_way) and np.isnan(numpy_way))


def test_summary_json_keys_are_the_documented_ones(run):
    documented = documented_summary_keys()
    assert "good_or_better_final" in documented and "disadvantage_gap_final" in documented
    assert set(run.summary) == documented
    assert set(SUMMARY_SCALARS) == documented - {"scenario", "policy", "seed"}
    # The values documented as possibly null are among them.
    text = README.read_text(encoding="utf-8").split("### summary.json", 1)[1].strip()
    nullable = text.split("\n\n", 2)[1]
    assert nullable.startswith("A value that is undefined is null")
    assert set(re.findall(r"`([a-z_]+)`", nullable)) <= documented


def test_cohorts_parquet_is_listed_and_its_columns_are_the_documented_ones(run):
    text = README.read_text(encoding="utf-8")
    assert "| `cohorts.parquet` |" in text.split("## Files of a run", 1)[1].split("###", 1)[0]
    section = text.split("### cohorts.parquet", 1)[1].split("\n#", 1)[0]
    assert re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE) == list(run.cohorts.columns)
    assert len(run.cohorts) == 3 + 2 + 1


def test_the_summary_agrees_with_the_runs_tables(run):
    summary, series, events = run.summary, run.timeseries, run.events
    assert summary["good_or_better_start"] == series["share_good_or_better"].iloc[0]
    assert summary["good_or_better_final"] == series["share_good_or_better"].iloc[-1]
    assert summary["good_or_better_change"] == pytest.approx(
        summary["good_or_better_final"] - summary["good_or_better_start"])
    assert summary["orphan_terms"] == series["n_orphans"].sum()
    assert summary["orphans_final"] == series["n_orphans"].iloc[-1]
    assert summary["spending_total_gbp"] == pytest.approx(series["spending_total_gbp"].sum())
    # Grades change only at graded inspections; ungraded ones confirm or schedule.
    inspections = events[(events["kind"] == "inspection") & (events["detail"] == "graded")]
    ungraded = events[(events["kind"] == "inspection") & (events["detail"] == "ungraded")]
    assert (ungraded["old_grade"] == ungraded["new_grade"]).all()
    improved = inspections["new_grade"] < inspections["old_grade"]
    assert summary["share_inspections_improving"] == pytest.approx(improved.mean())
    assert summary["grades_gained"] == (inspections["old_grade"] - inspections["new_grade"]).sum()
    assert summary["grades_gained"] == series["grades_gained_to_date"].iloc[-1]
    ends = events[events["kind"] == "contract_end"]
    assert summary["contracts_started"] == (events["kind"] == "contract_start").sum() > 0
    assert summary["contracts_succeeded"] == (ends["detail"] == "success").sum()
    assert summary["contracts_failed"] == (ends["detail"] == "failure").sum()
    # An average cost per school moved to good, only where some school was; no cost per
    # grade (net grades can be zero or negative by chance).
    assert "cost_per_grade_gained_gbp" not in summary
    moved = summary["schools_moved_to_good"]
    assert summary["average_cost_per_school_moved_to_good_gbp"] == (pytest.approx(
        summary["spending_total_gbp"] / moved) if moved > 0 else None)


def test_the_median_is_numpys_to_the_bit():
    """`metrics.median` (a sort) gives np.median's value, to the last bit, for odd and even
    counts of ratios of small counts (many ties) and of spread values."""
    rng = np.random.default_rng(4)
    for size in range(1, 40):
        ratios = rng.integers(0, 12, size) / np.maximum(rng.integers(0, 5, size), 1)
        spread = rng.random(size) * 1e3
        for values in (ratios, spread):
            assert np.float64(metrics.median(values)).tobytes() == \
                np.float64(np.median(values)).tobytes()
