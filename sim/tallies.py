"""What a term and a run add up, beyond the school and trust arrays: the term's support and
its cost (`TermSupport`), and the run's counts (`RunTallies`), each declared by the model
(`SchoolSystemModel.__init__`) and written by the phase its fields name."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled

if TYPE_CHECKING:
    from sim.state import SchoolArrays

# Where the money goes, in pounds per term (the record's spending_<source>_gbp columns).
SPENDING_SOURCES = ("central_teams", "local_authority", "school_to_school",
                    "improvement_budget", "contracts", "peer_review", "data_burden",
                    "measuring_system")


@dataclass
class SupportBySource:
    """Support (FTE) each school received this term, one array per source."""

    trust_givers: np.ndarray
    central_team: np.ndarray
    local_authority: np.ndarray
    peers: np.ndarray
    contract: np.ndarray
    budget: np.ndarray

    @classmethod
    def none(cls, n_schools: int) -> SupportBySource:
        return cls(*(np.zeros(n_schools) for _ in fields(cls)))

    @property
    def total(self) -> np.ndarray:
        return (self.trust_givers + self.central_team + self.local_authority + self.peers
                + self.contract + self.budget)


@dataclass
class TermSupport:
    """This term's improvement support and what it cost: written by the capacity phase
    (`sim.phases.capacity`), read by improvement and by the record."""

    by_source: SupportBySource
    spending_gbp: dict[str, float]  # pounds spent this term, by `SPENDING_SOURCES`

    @classmethod
    def none(cls, n_schools: int) -> TermSupport:
        return cls(SupportBySource.none(n_schools), dict.fromkeys(SPENDING_SOURCES, 0.0))


@dataclass
class RunTallies:
    """Counts the run keeps beyond the arrays, each written by one phase (named here) and
    read by the record (`sim.metrics`) and the summary."""

    # Inspection: net grades gained, and net moves across the good line, since term 0.
    grades_gained: int = 0
    schools_moved_to_good: int = 0
    # Workforce, this term: teachers who chose to move but found no post; they are counted
    # as leavers, not movers.
    unplaced_movers: int = 0
    # The broker, this year: academies that moved from one trust to another.
    trust_moves_this_year: int = 0
    # The model's step, at each year's end: the year's trust moves and the academies then.
    trust_moves_by_year: list[int] = field(default_factory=list)
    academies_by_year: list[int] = field(default_factory=list)
    # The model's step: pounds spent since term 0, and each school's support (FTE) and
    # teacher flows so far this year (the yearly panel's support_received_fte and flows).
    spending_to_date_gbp: float = 0.0
    support_this_year: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flows_this_year: dict[str, np.ndarray] = field(default_factory=dict)

    def start_year(self, n_schools: int) -> None:
        """Zero the yearly sums (at the start of the run and after each year's panel)."""
        self.support_this_year = np.zeros(n_schools)
        self.trust_moves_this_year = 0
        self.flows_this_year = {flow: np.zeros(n_schools, np.int64) for flow in SCHOOL_FLOWS}

    def add_term(self, schools: SchoolArrays) -> None:
        """Add the term's support and teacher flows of each school to the year's sums: one
        compiled loop for a big place (`sim.compiled`), numpy's in-place sums for a small
        one; the same numbers."""
        flows = [self.flows_this_year[flow] for flow in SCHOOL_FLOWS]
        this_term = [getattr(schools, field_name) for field_name in SCHOOL_FLOWS.values()]
        if compiled.worth_compiling(schools.n):
            _add_term_compiled(self.support_this_year, schools.support_received, *flows,
                               *this_term)
            return
        self.support_this_year += schools.support_received
        for so_far, flow in zip(flows, this_term, strict=True):
            so_far += flow


# Each school's teacher flows, summed over a year for the panel: the SchoolArrays field
# each is read from, by its name in schools.parquet.
SCHOOL_FLOWS = {"leavers": "leavers", "movers_out": "movers", "movers_in": "movers_in",
                "new_entrants": "new_entrants"}



@compiled.kernel
def _add_term_compiled(support_this_year, support_received, leavers_so_far, movers_out_so_far,
                       movers_in_so_far, new_entrants_so_far, leavers, movers_out, movers_in,
                       new_entrants):  # pragma: no cover
    for i in range(len(support_this_year)):
        support_this_year[i] += support_received[i]
        leavers_so_far[i] += leavers[i]
        movers_out_so_far[i] += movers_out[i]
        movers_in_so_far[i] += movers_in[i]
        new_entrants_so_far[i] += new_entrants[i]
