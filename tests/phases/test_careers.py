"""Teachers' career stages and the run's cohorts (`sim.phases.careers`, the workforce phase).

- Every early-career entrant of the run is in a cohort: still teaching, or counted once as
  a leaver; the register agrees with the schools' stage counts every term. A cohort is
  followed for `cohort_years_followed` years, then let go of.
- cohorts.parquet's shares lie in [0, 1] and never rise with the years since entry.
- Each stage leaves at its own rate: near retirement at 0.95 a year, most of those
  teachers go in a term.
- The stage structure a run starts with is the stationary one: one term's expected flows
  leave it as it is, and a status-quo run keeps each experienced stage's share within 10%
  (nationally at a twentieth of England, five years: within 6%).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.mechanics.rates import per_term
from sim.phases import careers, stage_draws, workforce
from sim.state import CareerStage
from tests.conftest import make_model


def assert_register_matches_the_schools(model) -> None:
    register, counts = model.cohorts, careers.stage_counts(model.schools)
    assert (register.by_cell.ravel()
            == np.bincount(register.cell, minlength=register.by_cell.size)).all()
    assert (register.by_cell <= counts).all() and (counts >= 0).all()
    assert (counts.sum(axis=0) == model.schools.teachers).all()


def test_every_entrant_is_still_teaching_or_counted_once_as_a_leaver():
    model = make_model("scenario=opportunity_area", "seed=4", "horizon_years=4")
    register = model.cohorts
    for _ in range(model.horizon_terms):
        model.step()
        assert_register_matches_the_schools(model)
        still = np.bincount(register.cohort, minlength=register.n_cohorts)
        assert (register.entrants == still + register.leavers).all()
    assert register.n_cohorts == 4 and (register.entrants > 100).all()
    assert (register.leavers > 0).all()
    # In four years, registered teachers got past induction.
    assert set(np.unique(register.stage)) >= {CareerStage.EARLY_CAREER_YEAR1,
                                              CareerStage.POST_INDUCTION}

    frame = model.results().cohorts
    assert list(frame.columns) == ["cohort", "year", "years_since_entry", "entrants",
                                   "still_teaching", "share_still_teaching"]
    assert len(frame) == 4 + 3 + 2 + 1
    assert (frame["years_since_entry"] == frame["year"] - frame["cohort"]).all()
    last = frame[frame["year"] == 4].set_index("cohort")
    assert (last["still_teaching"].to_numpy() == np.bincount(register.cohort)).all()
    assert (last["entrants"].to_numpy() == register.entrants).all()
    shares = frame["share_still_teaching"]
    assert ((shares >= 0) & (shares <= 1)).all()
    for _, cohort in frame.sort_values("year").groupby("cohort"):
        assert (cohort["entrants"] == cohort["entrants"].iloc[0]).all()
        assert (np.diff(cohort["still_teaching"].to_numpy()) <= 0).all()


def test_a_cohort_is_followed_for_its_years_then_let_go_of():
    followed = 2
    short = make_model("scenario=opportunity_area", "seed=4", "horizon_years=5",
                       f"model.workforce.cohort_years_followed={followed}")
    long = make_model("scenario=opportunity_area", "seed=4", "horizon_years=5")
    register = short.cohorts
    for term in range(short.horizon_terms):
        short.step()
        long.step()
        assert_register_matches_the_schools(short)
        year = term // 3
        if term % 3 == 2:  # a year's end: only cohorts with years left to follow remain
            assert (register.cohort > year - followed).all()
    frame, whole = short.results().cohorts, long.results().cohorts
    assert frame["years_since_entry"].max() == followed
    # every cohort counted at each year since entry up to the span, then no more
    assert (frame.groupby("cohort")["years_since_entry"].max()
            == np.minimum(followed, 5 - frame.groupby("cohort")["cohort"].first())).all()
    # until the first cohort is let go of (the end of year 3), the run is the same run
    early = ["cohort", "year"]
    assert frame[frame["year"] <= followed + 1].set_index(early).equals(
        whole[whole["year"] <= followed + 1].set_index(early))
    # the schools keep the teachers the register let go of
    assert short.schools.teachers.sum() > 0 and len(register.cell) < len(long.cohorts.cell)


def test_registered_movers_are_placed_with_their_cohort_or_leave(monkeypatch):
    """Registered teachers move school (the register follows them: it still matches every
    school's stage counts), and those who find no post are the only movers who leave."""
    model = make_model("scenario=opportunity_area", "seed=2", "horizon_years=5")
    for _ in range(2 * 3):
        model.step()
    placed, unplaced = [], []
    place_movers = stage_draws.place_movers

    def recording(*arguments):
        result = place_movers(*arguments)
        placed.append(int((result[2] >= 0).sum()))
        unplaced.append(int((result[2] < 0).sum()))
        return result

    monkeypatch.setattr(workforce, "place_movers", recording)
    register = model.cohorts
    for _ in range(3):
        size, left, entered = len(register.cell), register.leavers.sum(), register.entrants.sum()
        model.step()
        assert_register_matches_the_schools(model)
        assert len(register.cell) == size - (register.leavers.sum() - left) + (
            register.entrants.sum() - entered)
        assert register.leavers.sum() - left >= unplaced[-1]
    assert sum(placed) > 0


def test_near_retirement_teachers_leave_at_their_own_rate():
    """Half of every school's mid-career teachers put near retirement: in one term, most go
    at 0.95 a year; few at the default."""
    remaining = {}
    for rate in (0.18, 0.95):
        model = make_model("scenario=opportunity_area", "seed=3", "horizon_years=1",
                           f"model.workforce.leaving_rate_near_retirement={rate}")
        schools = model.schools
        schools.near_retirement += schools.mid_career // 2
        before = schools.near_retirement.sum()
        inflow = schools.mid_career.sum() / (3 * model.parameters.model.workforce.mid_career_years)
        workforce.run_term(model)
        remaining[rate] = (schools.near_retirement.sum() - inflow) / before
    assert remaining[0.18] > 0.85
    assert remaining[0.95] < 0.45


def test_the_starting_stage_shares_are_at_rest():
    """One term of the stage flows' expected values maps the stationary stock onto itself
    (up to the entrants, which set its scale)."""
    model = make_model("scenario=opportunity_area", "seed=1", "horizon_years=1")
    p = model.parameters.model.workforce
    shares = careers.stationary_shares(p, 1.1)
    leaving = per_term(careers.yearly_leaving_rates(p) * 1.1)
    progression = careers.progression_per_term(p)
    moved_up = progression * shares
    after = (1 - leaving) * ((1 - progression) * shares + np.concatenate([[0.0], moved_up[:-1]]))
    entrants = careers.entrant_stages(p)
    # shares - after = entrants / K for the one K that makes the stock's scale.
    scale = (shares - after)[entrants > 0] / entrants[entrants > 0]
    assert scale == pytest.approx(np.full(len(scale), scale[0]))
    assert (shares - after)[entrants == 0] == pytest.approx(np.zeros((entrants == 0).sum()),
                                                            abs=1e-12)


def test_a_status_quo_run_keeps_its_stage_structure():
    model = make_model("scenario=national", "scenario.scale=0.05", "seed=0", "horizon_years=5")

    def stage_shares() -> np.ndarray:
        counts = careers.stage_counts(model.schools).sum(axis=1)
        return counts / counts.sum()

    start = stage_shares()
    assert start[CareerStage.NEAR_RETIREMENT] > 0.05 and start[CareerStage.POST_INDUCTION] > 0.05
    model.run()
    end = stage_shares()
    # The experienced stages start at rest; the early-career years, which hold a few
    # hundred teachers here, move by chance.
    experienced = slice(CareerStage.POST_INDUCTION, None)
    assert end[experienced] == pytest.approx(start[experienced], rel=0.1)
    assert end == pytest.approx(start, abs=0.01)
