"""Mesa agents for schools and trusts: thin views onto rows of the state arrays.

`School` and `Trust` hold only their row number. Reading `school.effectiveness` reads
`model.schools.effectiveness[row]`, and assigning writes it back, so Mesa's AgentSet
(select, groupby, agg), DataCollector and visualisation work on the same numbers the
vectorised phases use, with no copy to keep in step. They are Mesa cell agents: in the
network space of `model.grid` (`sim.mesa_space`) each sits in its node's cell, where
Mesa's visualisation finds it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.framework import mesa
from sim.state import Grade, Phase, TrustKind

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def _row_view(array_name: str, owner: str, doc: str) -> property:
    """A property that reads and writes one row of a state array."""

    def get(agent: mesa.Agent) -> object:
        return getattr(getattr(agent.model, owner), array_name)[agent.row].item()

    def set_(agent: mesa.Agent, value: object) -> None:
        getattr(getattr(agent.model, owner), array_name)[agent.row] = value

    return property(get, set_, doc=doc)


class School(mesa.discrete_space.CellAgent):
    """A state-funded school; its numbers live in `model.schools`."""

    model: SchoolSystemModel

    def __init__(self, model: SchoolSystemModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    effectiveness = _row_view("effectiveness", "schools", "Latent quality (effectiveness units).")
    leadership = _row_view("leadership", "schools", "Capacity of the head and senior team (0-1).")
    behaviour = _row_view("behaviour", "schools", "Climate for learning (0-1).")
    self_assessment_accuracy = _row_view("self_assessment_accuracy", "schools",
                                         "How well the school knows its own needs (0-1).")
    workload = _row_view("workload", "schools", "Workload index (1 is typical).")
    buy_in = _row_view("buy_in", "schools", "Buy-in to its trust's shared practice (0-1).")
    teachers = _row_view("teachers", "schools", "Teachers in post.")
    fsm_share = _row_view("fsm_share", "schools", "Share of pupils eligible for free school meals.")
    urn = _row_view("urn", "schools", "Unique reference number.")

    @property
    def name(self) -> str:
        return str(self.model.schools.name[self.row])

    @property
    def phase(self) -> Phase:
        return Phase(int(self.model.schools.phase[self.row]))

    @property
    def grade(self) -> Grade:
        return Grade(int(self.model.schools.grade[self.row]))

    @property
    def trust(self) -> Trust | None:
        row = int(self.model.schools.trust[self.row])
        return self.model.trust_agents[row] if row >= 0 else None


class Trust(mesa.discrete_space.CellAgent):
    """A single-academy or multi-academy trust; its numbers live in `model.trusts`."""

    model: SchoolSystemModel

    def __init__(self, model: SchoolSystemModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    prescriptiveness = _row_view("prescriptiveness", "trusts",
                                 "How standardised its curriculum and pedagogy are (0-1).")
    giver_taker_threshold = _row_view("giver_taker_threshold", "trusts",
                                      "Due diligence: minimum giver:taker ratio.")
    hub_radius_km = _row_view("hub_radius_km", "trusts", "Due diligence: furthest distance from a hub.")
    central_team_fte = _row_view("central_team_fte", "trusts", "Central improvement team (FTE).")
    trust_id = _row_view("trust_id", "trusts", "Stable identifier.")

    @property
    def kind(self) -> TrustKind:
        return TrustKind(int(self.model.trusts.kind[self.row]))

    @property
    def members(self) -> mesa.agent.AgentSet:
        rows = self.model.network.members_of(self.row)
        return mesa.agent.AgentSet([self.model.school_agents[r] for r in rows],
                                   random=self.model.random)
