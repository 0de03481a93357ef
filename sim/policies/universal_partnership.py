"""Universal partnership: every school in a formal partnership with yearly peer review.

Seed 003 (Davis 2017, "A quick win"):

    "let's make sure all schools are engaged in a formal school-to-school partnership. This
    is a non-denominational proposal - a MAT, Teaching School Alliance or a formal cluster
    would all work [...] schools working in this way are more likely to improve their
    overall effectiveness by one or more grade when inspected than the national average.
    By adopting a systematic approach to collaboration, schools can become highly skilled
    at reviewing and validating one another's self-assessment"

How it acts in the model:
- **Clusters**: when the policy starts, every school that is neither in a MAT nor in a
  cluster (maintained schools and, if `include_single_academy_trusts`, single-academy
  trusts) joins a new cluster of `cluster_size` nearby schools (`partner` edges).
- **Peer review**: once a year every school in a cluster is reviewed; its self-assessment
  accuracy closes `review_accuracy_gain` of its gap to perfect. Better accuracy sharpens
  its perceived need (diagnosis) and speeds its own improvement.
- **Support**: givers offer `peer_support_share` of their spare capacity to their cluster's
  takers (the capacity phase), instead of the status quo's share.
- **Costs**: `review_days_per_school` senior-leader days at `staff_day_cost_gbp` per school a
  year, and `review_workload` extra workload for every cluster member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.clusters import form_clusters
from sim.parameters import JUDGEMENT, parameter
from sim.policies.base import Lever, PolicyEffects
from sim.state import TERMS_PER_YEAR, Governance

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


@dataclass(frozen=True)
class UniversalPartnershipParameters:
    """Clusters for every unpartnered school, with yearly peer reviews (seed 003)."""

    cluster_size: list[int] = parameter(
        [3, 7], "schools per new cluster (smallest, largest)",
        source="EEF 2023, Schools Partnership Programme", low=2, high=50, why="EEF 2023; judgement",
        length=2, ordered_pair=True)
    include_single_academy_trusts: bool = parameter(
        True, "single-academy trusts count as unpartnered (a trust of one)", source=JUDGEMENT)
    review_accuracy_gain: float = parameter(
        0.35, "share of the gap to perfect self-assessment a peer review closes",
        source="seed 003: reviews \"validating one another's self-assessment\"", low=0.0, high=1.0)
    peer_support_share: float = parameter(
        0.4,
        "share of a giver's spare capacity offered to its cluster under the policy "
        "(status quo 0.3)",
        source=JUDGEMENT, low=0.0, high=1.0)
    review_days_per_school: float = parameter(
        6,
        "senior-leader days a school spends on reviews a year (reviewing and being "
        "reviewed)",
        source="EEF 2023", low=0.0, high=50.0, why="EEF 2023: 6; judgement")
    staff_day_cost_gbp: float = parameter(
        450, "cost of a senior leader's day, pounds", source=JUDGEMENT, low=0.0, high=2000.0,
        why="£450; pounds; the high end is several times the default's source (judgement)")
    review_workload: float = parameter(
        0.02, "workload the reviews add to every cluster member", source=JUDGEMENT, low=0.0,
        high=1.0, why="0.02; added to a typical workload of 1; at most doubling it (judgement)")



class UniversalPartnership(Lever):
    def begin(self, model: SchoolSystemModel) -> None:
        schools, network = model.schools, model.network
        unpartnered = (network.cluster_of_school < 0) & (
            (schools.governance == Governance.MAINTAINED)
            | (self.parameters.include_single_academy_trusts
               & (schools.governance == Governance.SINGLE_ACADEMY_TRUST)))
        clusters = form_clusters(np.flatnonzero(unpartnered), schools,
                                 self.parameters.cluster_size, model.streams.policy)
        for cluster in clusters:
            network.add_cluster(cluster)
        model.rebuild_structure()

    def term_effects(self, model: SchoolSystemModel, effects: PolicyEffects) -> None:
        p = self.parameters
        in_cluster = model.network.cluster_of_school >= 0
        effects.extra_workload = effects.extra_workload + p.review_workload * in_cluster
        effects.peer_support_share = p.peer_support_share
        yearly_cost = in_cluster.sum() * p.review_days_per_school * p.staff_day_cost_gbp
        effects.spending["peer_review"] = float(yearly_cost / TERMS_PER_YEAR)

    def run_year(self, model: SchoolSystemModel, in_force: bool) -> None:
        if not in_force:
            return
        schools = model.schools
        reviewed = np.flatnonzero(model.network.cluster_of_school >= 0)
        accuracy = schools.self_assessment_accuracy
        accuracy[reviewed] += self.parameters.review_accuracy_gain * (1.0 - accuracy[reviewed])
        model.events.record("peer_review", model.term, school=reviewed,
                            trust=schools.trust[reviewed])
