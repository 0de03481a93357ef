"""The yearly phase's "this year": the three terms ending with the summer term.

The structural phase runs after the summer term (term t with t % 3 == 2) and counts as
this year's the inspections from the year's first term, t - 2, to t
(`year_start = term - (TERMS_PER_YEAR - 1)` in `sim.phases.structure.run_year`). Two rules read
it: a head is replaced (with `head_replacement_after_inadequate`) after an inadequate grade
from this year, and an academy with two grades below good, the latest from this year, is
ordered to be rebrokered (with `rebrokering_probability`). With both chances 1, no other
head leaving and no inspection of the model's own, the events of the year end must name
exactly the schools inspected in the year's first and last term, and none inspected in the
last term of the year before. A window shifted by one term either way fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.state import NEVER, TERMS_PER_YEAR, Governance, Grade
from tests.conftest import make_model

NO_INSPECTION = 10**6


def set_up(year: int):
    """A model stepped to just before the year end of `year` (1 or 2), with schools graded
    in the year's first and last term and in the last term of the year before."""
    model = make_model(
        "scenario=opportunity_area", "seed=4", "model.structure.head_leaving_rate=0",
        "model.structure.head_replacement_after_inadequate=1",
        "model.structure.rebrokering_probability=1",
        "model.inspection.risk_inspection_probability_per_term=0")
    schools = model.schools
    schools.inspection_due_term[:] = NO_INSPECTION
    year_end = year * TERMS_PER_YEAR - 1
    while model.term < year_end:
        model.step()
    first, last, before = year_end - (TERMS_PER_YEAR - 1), year_end, year_end - TERMS_PER_YEAR
    free = ~schools.awaiting_sponsor & ~schools.under_contract
    maintained = np.flatnonzero(free & (schools.governance == Governance.MAINTAINED))
    academies = np.flatnonzero(free & (schools.governance == Governance.MULTI_ACADEMY_TRUST))
    heads = dict(zip(("first", "last", "before"), maintained[:3].tolist(), strict=True))
    rebrokered = dict(zip(("first", "last", "before"), academies[:3].tolist(), strict=True))
    for when, term in (("first", first), ("last", last), ("before", before)):
        school = heads[when]
        schools.grade[school], schools.previous_grade[school] = Grade.INADEQUATE, Grade.GOOD
        schools.last_inspection_term[school] = term
        school = rebrokered[when]
        schools.grade[school] = schools.previous_grade[school] = Grade.REQUIRES_IMPROVEMENT
        schools.last_inspection_term[school] = term
    assert (schools.awaiting_sponsor_since_term[list(rebrokered.values())] == NEVER).all()
    return model, heads, rebrokered


@pytest.mark.parametrize("year", [1, 2])
def test_the_year_end_counts_exactly_the_years_three_terms(year):
    model, heads, rebrokered = set_up(year)
    model.step()  # the summer term, then the yearly phase
    term = model.term - 1
    assert term % TERMS_PER_YEAR == TERMS_PER_YEAR - 1
    events = model.events.to_frame(model.schools.urn, model.trusts.trust_id,
                                   model.parameters.scenario.start_year)
    this_year = events[events["term"] == term]
    urn = model.schools.urn
    replaced = set(this_year.loc[this_year["kind"] == "head_replaced", "urn"])
    assert replaced == {urn[heads["first"]], urn[heads["last"]]}, (
        "heads replaced after an inadequate grade must be those graded in the year's first "
        "to last term")
    ordered = set(this_year.loc[this_year["kind"] == "rebrokering_ordered", "urn"])
    assert ordered == {urn[rebrokered["first"]], urn[rebrokered["last"]]}, (
        "academies ordered to be rebrokered must be those graded in the year's first to "
        "last term")
