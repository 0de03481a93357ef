"""Local governance: common objectives and a local measuring system.

Seed 003 (Davis 2017, "Getting governance right"):

    "Local systems need to set some common objectives to allow schools and partnerships to
    feel as if they are committed to a common agenda. There needs to be a measuring system
    which encourages the behaviours and culture they require to succeed - for example,
    judging the quality and impact of collaboration - and which checks progress against
    the agreed local objectives. This system must create rich data to help target support
    from within and outside the local system"

Seed 004 (Greany 2018, findings 1 and 7): trusts' "widespread data reporting could conflict
with government workload pledge"; "'very few' trusts have [a] strategy to reduce workload".

How it acts in the model:
- **Targeting**: the area sees each school's need through the measuring system, with error
  `measurement_error_sd`, instead of through schools' own reports (whose error grows as
  their self-assessment accuracy falls). The local authority's support and the improvement
  budget are shared out by the area's view, so they reach the schools that need them.
- **Collaboration**: judging collaboration raises every school's buy-in to shared practice
  by `buy_in_gain_per_year` of its gap each year; buy-in scales the effect of support from
  its trust and its cluster.
- **Data burden**: the measuring system's requests add `data_burden_workload` to every
  school's workload (which feeds teacher leaving and moving) and cost teachers' time; a
  `workload_strategy` removes `workload_strategy_reduction` of both.
- **Costs**: the measuring system itself, `measuring_system_cost_gbp_per_year`, and the data
  burden in teachers' time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.parameters import JUDGEMENT, parameter
from sim.policies.base import Lever, PolicyEffects
from sim.state import TERMS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


@dataclass(frozen=True)
class LocalGovernanceParameters:
    """A local measuring system: sharper targeting and buy-in, at a cost in data burden."""

    measurement_error_sd: float = parameter(
        0.1,
        "sd of the measuring system's error about a school's need (the area otherwise "
        "sees schools' own reports)",
        source=JUDGEMENT, low=0.0, high=3.0,
        why="0.1; effectiveness units (about one sd of England's schools); the high end is that many sds "
            "(judgement)")
    buy_in_gain_per_year: float = parameter(
        0.15, "share of the gap to full buy-in closed each year by judging collaboration",
        source=JUDGEMENT, low=0.0, high=1.0)
    data_burden_workload: float = parameter(
        0.08, "workload the measuring system's data requests add to every school", source=JUDGEMENT,
        low=0.0, high=1.0,
        why="0.08; added to a typical workload of 1; at most doubling it (judgement)")
    data_burden_cost_gbp_per_teacher_per_year: float = parameter(
        400, "teachers' time spent on those requests, pounds per teacher a year", source=JUDGEMENT,
        low=0.0, high=10_000.0,
        why="£400; pounds; the high end is several times the default's source (judgement)")
    workload_strategy: bool = parameter(
        False, "a strategy that streamlines data requests",
        source="seed 004 finding 7: \"very few\" trusts had one")
    workload_strategy_reduction: float = parameter(
        0.75, "share of the data burden a workload strategy removes", source=JUDGEMENT, low=0.0,
        high=1.0)
    measuring_system_cost_gbp_per_year: float = parameter(
        250_000,
        "running the measuring system and the local board (staff and data), pounds "
        "a year",
        source=JUDGEMENT, low=0.0, high=1e7,
        why="£250,000; pounds; the high end is several times the default's source (judgement)")



class LocalGovernance(Lever):
    def burden_factor(self) -> float:
        p = self.parameters
        return 1.0 - p.workload_strategy_reduction if p.workload_strategy else 1.0

    def term_effects(self, model: SchoolSystemModel, effects: PolicyEffects) -> None:
        p = self.parameters
        burden = self.burden_factor()
        effects.area_view_error_sd = p.measurement_error_sd
        effects.extra_workload = effects.extra_workload + p.data_burden_workload * burden
        teachers = float(model.schools.teachers.sum())
        effects.spending["data_burden"] = (
            p.data_burden_cost_gbp_per_teacher_per_year * burden * teachers / TERMS_PER_YEAR)
        effects.spending["measuring_system"] = p.measuring_system_cost_gbp_per_year / TERMS_PER_YEAR

    def run_year(self, model: SchoolSystemModel, in_force: bool) -> None:
        if in_force:
            buy_in = model.schools.buy_in
            buy_in += self.parameters.buy_in_gain_per_year * (1.0 - buy_in)
