"""The improvement budget: money a place spends on extra improvement capacity.

The Opportunity Areas received "significant additional school improvement funding" (seed
003). Trusts spent such money on commercial consultants and Ofsted-trained reviewers: "59
per cent of all trusts' core teams said they used 'commercial consultants and companies'
at least once a term" (seed 004, finding 6).

Each term the budget (`scenario.improvement_budget_gbp_per_year`) buys
`budget / budget_fte_cost_gbp_per_year` FTE of such support, shared among the schools the
area sees as needing it, in proportion to the area's view of their need
(`SchoolArrays.area_view_of_need`). So the budget reaches the right schools only as well
as the area sees need: through schools' own reports under the status quo, or through a
local measuring system (seed 003; `sim.policies.local_governance`). Bought-in support has
prescriptiveness `budget_prescriptiveness`, and the school's buy-in does not discount it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.state import TERMS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



def capacity_fte(model: SchoolSystemModel) -> float:
    budget = model.parameters.scenario.improvement_budget_gbp_per_year
    return budget / model.parameters.model.capacity.budget_fte_cost_gbp_per_year


def allocate(model: SchoolSystemModel) -> np.ndarray:
    """Support (FTE) each school gets from the budget this term."""
    fte = capacity_fte(model)
    if fte <= 0:  # no budget (England's scenario): no need to add up the need
        return np.zeros(model.schools.n)
    need = model.schools.area_view_of_need
    total = need.sum()
    if total <= 0:
        return np.zeros(model.schools.n)
    return fte * need / total


def spending_per_term(model: SchoolSystemModel) -> float:
    return float(model.parameters.scenario.improvement_budget_gbp_per_year / TERMS_PER_YEAR)
