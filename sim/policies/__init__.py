"""Policies: the rules in force, made of levers that act through the model's mechanisms.

A policy never adds a bonus to a score. Each lever changes an input of a mechanism, or the
structure of the system, and pays for it:

- `universal_partnership` (seed 003, "a quick win"): clusters for every unpartnered
  school; yearly peer reviews raise self-assessment accuracy; more peer support; costs
  staff time and adds workload.
- `mat_contracting` (seed 003, "a revolutionary role for MATs"): fixed-term contracts of
  proven MATs with weak schools, judged against a target; `contract` edges.
- `local_governance` (seed 003, "getting governance right"; seed 004 findings 1 and 7): a
  measuring system that sharpens the area's view of need (targeting) and judges
  collaboration (buy-in), and adds data burden unless a workload strategy streamlines it.

The config group `policy` selects which levers are present: a lever is on when its block
(`policy.universal_partnership`, `policy.mat_contracting`, `policy.local_governance`) is in
the config, so `combined` is simply all three. Between `start_year` and `end_year` the
levers act; outside them their per-term effects stop, no new contracts start, and existing
contracts run to their end and are judged.

Per-term effects reach the phases through `PolicyEffects`:

| field | read by | status quo |
|---|---|---|
| extra_workload (per school) | workforce: added to workload | 0 |
| area_view_error_sd | diagnosis: error of the area's view of need (none: schools' reports) | none |
| peer_support_share | capacity: share of givers' capacity offered to cluster partners | the model's |
| spending | record: pounds spent this term by the policy, by source | none |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.policies.base import Lever, PolicyEffects, PolicyParameters
from sim.policies.local_governance import LocalGovernance
from sim.policies.mat_contracting import MatContracting
from sim.policies.universal_partnership import UniversalPartnership
from sim.state import TERMS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

__all__ = ["LEVERS", "Lever", "Policy", "PolicyEffects", "PolicyParameters", "make_policy"]

# The levers a policy may have, by the name of their block in the config.
LEVERS: dict[str, type[Lever]] = {"universal_partnership": UniversalPartnership,
                                  "mat_contracting": MatContracting,
                                  "local_governance": LocalGovernance}


class Policy:
    """The rules in force: the status quo plus whichever levers the config names."""

    def __init__(self, parameters: PolicyParameters) -> None:
        self.parameters = parameters
        self.levers: list[Lever] = [lever(getattr(parameters, name))
                                    for name, lever in LEVERS.items()
                                    if getattr(parameters, name) is not None]
        self._begun = False

    def in_force(self, term: int) -> bool:
        year = term // TERMS_PER_YEAR
        end = self.parameters.end_year
        return year >= self.parameters.start_year and (end is None or year <= end)

    def effects(self, model: SchoolSystemModel) -> PolicyEffects:
        """This term's effects (the policy is in force)."""
        if not self._begun:
            for lever in self.levers:
                lever.begin(model)
            self._begun = True
        effects = PolicyEffects()
        for lever in self.levers:
            lever.term_effects(model, effects)
        return effects

    def run_year(self, model: SchoolSystemModel, in_force: bool) -> None:
        for lever in self.levers:
            lever.run_year(model, in_force)


def make_policy(parameters: PolicyParameters) -> Policy:
    return Policy(parameters)
