"""Policies: the rules in force, and the hooks through which they act on the model.

A policy never adds a bonus to a score: it changes an input of a mechanism. Every hook a
policy can set is a field of `PolicyEffects`, read by the phase it affects:

| field | read by | default (status quo) |
|---|---|---|
| extra_workload | workforce: added to every school's workload index | 0 |
| teacher_supply_factor | workforce: multiplies the scenario's teacher supply | 1 |
| diagnosis_error_factor | diagnosis: multiplies the error in perceived need | 1 |
| local_authority_capacity_factor | capacity: multiplies local-authority capacity | 1 |
| extra_support_fte | capacity: targeted support per taker (FTE a term) | 0 |
| extra_support_prescriptiveness | improvement: how prescriptive that support is | 0.5 |

Each policy has a start and end year; outside them its effects are the status quo's.
Policies beyond the status quo (universal partnerships, MAT contracting, local governance)
register here as further `Policy` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

TERMS_PER_YEAR = 3


@dataclass
class PolicyEffects:
    """Inputs of the mechanisms that a policy may change (status-quo values by default)."""

    extra_workload: float = 0.0
    teacher_supply_factor: float = 1.0
    diagnosis_error_factor: float = 1.0
    local_authority_capacity_factor: float = 1.0
    extra_support_fte: float = 0.0
    extra_support_prescriptiveness: float = 0.5


class Policy:
    """Today's rules. Subclasses override `effects` and `run_year` for their levers."""

    def __init__(self, parameters: SimpleNamespace) -> None:
        self.parameters = parameters

    def in_force(self, term: int) -> bool:
        year = term // TERMS_PER_YEAR
        end = self.parameters.end_year
        return year >= self.parameters.start_year and (end is None or year <= end)

    def effects(self, model: SchoolSystemModel) -> PolicyEffects:
        return PolicyEffects()

    def run_year(self, model: SchoolSystemModel) -> None:
        """Structural levers applied in the yearly phase (none under the status quo)."""


POLICIES: dict[str, type[Policy]] = {"status_quo": Policy}


def make_policy(parameters: SimpleNamespace) -> Policy:
    return POLICIES[parameters.name](parameters)
