"""England's dynamics (issue 13): a status quo at rest, real places that keep their level,
Ofsted's graded and ungraded inspections, the commissioner's termly work, and trusts
that keep the giver:taker rule they are built on. Each test failed on the model before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import configure
from sim.model import SchoolSystemModel
from sim.phases import capacity, diagnosis, inspection
from sim.state import NEVER, Governance, Grade, count_by_trust, trust_index
from tests.conftest import GIAS_FIXTURE, make_model

# The structure frozen: no academy orders, conversions, transfers, mergers or cuts.
FROZEN = ("model.structure.academy_order_probability=0",
          "model.structure.conversion_rate_by_phase=[0,0,0,0]",
          "model.structure.rebrokering_probability=0",
          "model.structure.single_academy_trust_joins_mat_rate=0",
          "model.structure.voluntary_transfer_rate=0", "model.structure.small_mat_merger_rate=0",
          "model.capacity.local_authority_capacity_change_per_year=0")


def year_ends(model: SchoolSystemModel) -> pd.DataFrame:
    series = model.results().timeseries
    return pd.concat([series.iloc[[0]], series[series["term_of_year"] == 2]])


def test_status_quo_without_structural_change_holds_its_start():
    """Grade shares, good or better and the disadvantage gap stay where they start (seed
    mean over ten years), once the structure's own trends are switched off."""
    changes = []
    for seed in range(3):
        model = make_model("scenario=national", "scenario.scale=0.2", f"seed={seed}",
                           "output.school_panel=false", *FROZEN)
        model.run()
        ends = year_ends(model)
        columns = ["share_outstanding", "share_good", "share_requires_improvement",
                   "share_inadequate", "share_good_or_better", "disadvantage_gap"]
        # The last three years against the first three: less noise than two snapshots.
        changes.append(ends[columns].iloc[-3:].mean() - ends[columns].iloc[:3].mean())
    mean_change = pd.concat(changes, axis=1).mean(axis=1)
    assert mean_change.drop("disadvantage_gap").abs().max() < 0.01, mean_change
    assert abs(mean_change["disadvantage_gap"]) < 0.03, mean_change


def test_real_places_keep_their_level():
    """A place read from GIAS starts where its observed grades put it and stays there
    (seed mean): before, Blackpool climbed from 53% to 76% good or better in five years."""
    changes = []
    for seed in range(6):
        model = SchoolSystemModel(configure([
            "population=gias", f"population.path={GIAS_FIXTURE}", "population.areas=[Blackpool]",
            "horizon_years=5", f"seed={seed}", "output.school_panel=false"]))
        model.run()
        share = model.results().timeseries["share_good_or_better"]
        changes.append(share.iloc[-6:].mean() - share.iloc[0])
    assert abs(np.mean(changes)) < 0.1, changes


def test_good_schools_get_ungraded_inspections_and_weak_ones_graded():
    model = make_model("scenario=opportunity_area", "seed=3", "horizon_years=3")
    model.run()
    events = model.results().events
    found = events[events["kind"] == "inspection"]
    ungraded, graded = found[found["detail"] == "ungraded"], found[found["detail"] == "graded"]
    assert len(ungraded) > 0 and len(graded) > 0
    # Only good or outstanding schools get ungraded inspections, which keep the grade.
    assert ungraded["old_grade"].le(Grade.GOOD).all()
    assert (ungraded["old_grade"] == ungraded["new_grade"]).all()
    assert set(ungraded["outcome"]) <= {"confirmed", "graded_inspection_next", "converted_to_graded"}
    # A school judged below good is graded at its next inspection.
    for urn, history in found.sort_values("term").groupby("urn"):
        weak = history["new_grade"].fillna(0).to_numpy() >= Grade.REQUIRES_IMPROVEMENT
        follows = history["detail"].to_numpy()[1:][weak[:-1]]
        assert (follows == "graded").all(), urn


def test_an_ungraded_inspection_that_finds_decline_schedules_or_converts():
    model = make_model("scenario=opportunity_area", "seed=1")
    schools = model.schools
    good = np.flatnonzero(schools.grade == Grade.GOOD)[:3]
    cut_points = model.parameters.model.inspection.cut_points
    schools.next_inspection_graded[good] = False
    schools.inspection_due_term[:] = 10**6
    schools.inspection_due_term[good] = model.term
    # Far below requires improvement (converts at once), just inside it, well inside good.
    schools.effectiveness[good] = [cut_points[0] - 5.0, cut_points[1] - 0.2,
                                   (cut_points[1] + cut_points[2]) / 2]
    model.parameters.model.inspection.__dict__["noise_sd"] = 0.0  # exact inspectors
    inspection.run_term(model)
    assert schools.grade[good[0]] == Grade.INADEQUATE  # converted to a graded inspection
    assert schools.grade[good[1]] == Grade.GOOD  # still good until the graded inspection...
    assert schools.next_inspection_graded[good[1]]  # ...which is scheduled
    low, high = model.parameters.model.inspection.graded_follow_up_years
    assert low * 3 - 1 <= schools.inspection_due_term[good[1]] - model.term <= high * 3 + 1
    assert not schools.next_inspection_graded[good[2]]  # confirmed: ungraded again


def test_academy_orders_follow_an_inadequate_judgement_within_the_term():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=2", "horizon_years=3",
                       "output.school_panel=false")
    model.run()
    events = model.results().events
    orders = events[events["kind"] == "academy_order"]
    judged = events[(events["kind"] == "inspection") & (events["new_grade"] == Grade.INADEQUATE)]
    assert len(orders) > 0
    first_judgement = judged.groupby("urn")["term"].min()
    # Every order is dated at an inadequate judgement of that school in the same term.
    same_term = orders.merge(judged[["urn", "term"]], on=["urn", "term"], how="left",
                             indicator=True)["_merge"] == "both"
    assert same_term.all()
    assert set(orders["urn"]) <= set(first_judgement.index)


def test_the_commissioner_brokers_every_term_and_schools_open_after_the_lag():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=2", "horizon_years=4",
                       "output.school_panel=false")
    model.run()
    events = model.results().events
    placements = events[events["kind"] == "placement"]
    assert set(placements["term"] % 3) == {0, 1, 2}  # not once a year
    lag = model.parameters.model.structure.sponsored_opening_lag_terms
    opened = events[(events["kind"] == "conversion") & (events["detail"] == "sponsored")]
    # Each opening against the school's latest placement before it (a school whose
    # sponsor closed before it opened is placed again).
    paired = pd.merge_asof(
        opened[["urn", "term"]].rename(columns={"term": "term_opened"}).sort_values("term_opened"),
        placements.sort_values("term"), left_on="term_opened", right_on="term", by="urn")
    assert len(paired) > 0 and paired["term"].notna().all()
    assert (paired["term_opened"] - paired["term"] == lag).all()
    # Time from order to opening can be read from the events: order + wait + lag.
    assert (paired["term_opened"] - (paired["term"] - paired["wait_terms"]) >= lag).all()


def test_trusts_count_takers_as_their_due_diligence_does():
    model = make_model("scenario=opportunity_area", "seed=4")
    model.step()
    diagnosis.run_term(model)  # givers as capacity reads them, on today's grades
    capacity.run_term(model)
    schools, trusts = model.schools, model.trusts
    givers, takers, _ = capacity.giver_taker_ratios(model)
    index = trust_index(schools.trust)
    below_good = count_by_trust(schools.grade >= Grade.REQUIRES_IMPROVEMENT, index, trusts.n)
    assert np.array_equal(takers, below_good)
    assert np.array_equal(givers, count_by_trust(schools.is_giver, index, trusts.n))
    # Givers are good or better and do not seek support themselves.
    assert not (schools.is_giver & (schools.is_taker | (schools.grade > Grade.GOOD))).any()


@pytest.mark.parametrize("seed", [0, 1])
def test_most_mats_are_at_or_above_their_threshold_every_year(seed):
    model = make_model("scenario=national", "scenario.scale=0.2", f"seed={seed}",
                       "output.school_panel=false")
    model.run()
    ends = year_ends(model)
    assert (ends["share_mats_below_threshold"] < 0.5).all(), ends["share_mats_below_threshold"]


def test_placed_schools_count_for_their_sponsor_and_stay_maintained_until_they_open():
    model = make_model("scenario=national", "scenario.scale=0.1", "seed=5")
    schools = model.schools
    for _ in range(6):
        model.step()
        placed = schools.placed_with_sponsor
        assert (schools.governance[placed] == Governance.MAINTAINED).all()
        assert (schools.awaiting_sponsor_since_term[placed] == NEVER).all()
        assert (schools.opening_term[placed] > model.term - 1).all()


def test_requires_improvement_is_not_a_trap():
    """Schools graded requires improvement mostly reach good at their next graded
    inspection (Ofsted 2018/19-2022/23: 56-78%; a calibration target, checked at full
    size by `python -m sim.validate`); a reduced England with two seeds is held to a
    slightly wider band for its noise. Before, 38% did."""
    shares = []
    for seed in (0, 1):
        model = make_model("scenario=national", "scenario.scale=0.2", f"seed={seed}",
                           "output.school_panel=false")
        model.run()
        events = model.results().events
        graded = events[(events["kind"] == "inspection") & (events["detail"] == "graded")
                        & (events["old_grade"] == Grade.REQUIRES_IMPROVEMENT)]
        shares.append((graded["new_grade"] <= Grade.GOOD).mean())
    assert 0.53 <= np.mean(shares) <= 0.78, shares
