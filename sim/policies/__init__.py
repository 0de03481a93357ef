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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.parameters import REQUIRED, ConfigError, parameter
from sim.state import TERMS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel



@dataclass(frozen=True)
class PolicyParameters:
    """The rules in force: a name, when they apply, and which levers are present.

    A lever is present when its block is not null; each policy option in configs/policy/
    names the levers it has (`combined` has all three).
    """

    name: str = parameter(REQUIRED, "name of the policy, used in output folders",
                          source="the option", name=True)
    start_year: int = parameter(
        0,
        "first simulated year (0-based) in which the policy is in "
                                "force",
        source="the option", low=0, high=100, why="as horizon_years")
    end_year: int | None = parameter(
        None,
        "last year in force; null means to the end of the "
                                     "run",
        source="the option", low=0, high=100, why="as horizon_years")
    universal_partnership: Any = None  # UniversalPartnershipParameters, or null: lever off
    mat_contracting: Any = None  # MatContractingParameters, or null: lever off
    local_governance: Any = None  # LocalGovernanceParameters, or null: lever off

    def check(self) -> None:
        if self.end_year is not None and self.end_year < self.start_year:
            raise ConfigError("policy.end_year must be null or no earlier than "
                              "policy.start_year")



@dataclass
class PolicyEffects:
    """Inputs of the mechanisms that a policy may change (status-quo values by default)."""

    extra_workload: float | np.ndarray = 0.0
    area_view_error_sd: float | None = None
    peer_support_share: float | None = None
    spending: dict[str, float] = field(default_factory=dict)


class Lever:
    """One policy lever. Subclasses override what they change."""

    def __init__(self, parameters: Any) -> None:
        self.parameters = parameters

    def begin(self, model: SchoolSystemModel) -> None:
        """Called once, in the first term the policy is in force."""

    def term_effects(self, model: SchoolSystemModel, effects: PolicyEffects) -> None:
        """Change this term's inputs of the mechanisms."""

    def run_year(self, model: SchoolSystemModel, in_force: bool) -> None:
        """Yearly structural action, after the model's own yearly phase."""


class Policy:
    """The rules in force: the status quo plus whichever levers the config names."""

    def __init__(self, parameters: PolicyParameters) -> None:
        from sim.policies.local_governance import LocalGovernance
        from sim.policies.mat_contracting import MatContracting
        from sim.policies.universal_partnership import UniversalPartnership

        self.parameters = parameters
        available = {"universal_partnership": UniversalPartnership,
                     "mat_contracting": MatContracting, "local_governance": LocalGovernance}
        self.levers: list[Lever] = [lever(getattr(parameters, name))
                                    for name, lever in available.items()
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
