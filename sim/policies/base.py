"""What every policy is made of: its parameters (when it is in force, which levers are
present), the per-term effects it may have on the mechanisms, and the lever base class.
Each lever's module (`universal_partnership`, `mat_contracting`, `local_governance`)
builds on these; `sim.policies` puts them together into the policy in force."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.errors import ConfigError
from sim.parameters import REQUIRED, parameter

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
