"""MAT contracting: proven MATs support weak schools under fixed-term contracts.

Seed 003 (Davis 2017, "A revolutionary role for MATs"):

    "it is unrealistic for the limited numbers of proven MATs to take on high volumes of
    weak schools due to fears that this will compromise their educational or financial
    performance. [...] Allowing MATs to use their proven school improvement interventions
    to turn around weaker schools through a contracting relationship for a fixed period
    [...] If the schools' results were not formally counted as part of the MAT's
    performance [...] reputational and financial risks would be minimised. MATs could be
    contracted to deliver agreed improvement outcomes and held to account as a supplier by
    the RSC or another local body. Where this contract relationship was successful and
    performance improves, the transition to formal membership of the MAT can be made from a
    position of strength."

How it acts in the model, once a year after the model's own structural phase:
1. **Judging**: contracts that reach their end are judged. The commissioner assesses the
   school (its effectiveness through the inspectors' noise); the contract succeeds if the
   assessed grade is at least `target_grades` better than the grade the school had when
   the contract started. Success raises the MAT's `supplier_record` and, with
   `conversion_on_success`, the school joins the MAT; failure lowers the record by
   `supplier_record_penalty`. A school that does not join goes back to waiting for a
   sponsor if it is still below good and was under an academy order.
2. **Contracting**, while the policy is in force: orphans (longest wait first), then other
   maintained schools graded in `eligible_grades`, are offered to proven MATs: active MATs
   whose members average `proven_reputation` or better and whose `supplier_record` is at
   least `minimum_supplier_record`. Because the school's results will not count toward
   the MAT's reputation, due diligence is looser than for sponsorship: a contract may reach
   `contract_distance_factor` hub radii, needs a giver:taker ratio (counting the school and
   the MAT's other contracts as takers) of only `contract_giver_taker_threshold`, ignores
   the growth cap and risk appetite, but a MAT holds at most `contracts_per_trust`.
   Refusals are logged as brokering refusals with `detail` "contract".
3. **During the contract** the MAT puts `contract_support_fte` a term into the school,
   discounted by distance from its nearest hub, with its own prescriptiveness (the
   capacity phase); the school counts as a taker when the MAT's givers are drained; the
   commissioner pays `contract_fee_gbp_per_year`. The school is not an orphan while
   contracted, and a `contract` edge links it to the MAT in the partnership graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.brokering import Broker
from sim.mechanics.grading import grade_from_effectiveness
from sim.parameters import JUDGEMENT, parameter
from sim.policies.base import Lever
from sim.state import NEVER, TERMS_PER_YEAR, Governance, Grade, TrustKind

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

@dataclass(frozen=True)
class MatContractingParameters:
    """Fixed-term contracts of proven MATs with weak schools, judged against a target."""

    contract_length_years: int = parameter(
        2, "length of a contract (years)", source=JUDGEMENT, low=1, high=10,
        why="2 (sweeps 1-3); judgement")
    target_grades: int = parameter(
        1, "grades the school must rise by the end (judged on its latest grade)", source=JUDGEMENT,
        low=0, high=3, why="natural: four grades")
    eligible_grades: list[int] = parameter(
        [3, 4],
        "grades of schools that can be contracted: orphans always, other maintained "
        "schools at these grades",
        source=JUDGEMENT, low=1, high=4, why="natural: grades 1-4")
    proven_reputation: float = parameter(
        2.2, "a proven MAT's schools average this grade or better", source=JUDGEMENT, low=1.0,
        high=4.0, why="natural: a mean grade")
    minimum_supplier_record: float = parameter(
        0.5, "MATs whose record as a supplier fell below this get no more contracts",
        source=JUDGEMENT, low=0.0, high=1.0)
    contract_giver_taker_threshold: float = parameter(
        2.0,
        "looser due diligence: minimum ratio counting the contracted school "
        "(sponsorship uses the trust's own, 3:1)",
        source=JUDGEMENT, low=0.0, high=100.0, why="2.0; as the trusts' own")
    contract_distance_factor: float = parameter(
        1.5, "looser due diligence: a contract may reach this many hub radii", source=JUDGEMENT,
        low=0.0, high=10.0, why="1.5 hub radii; judgement")
    contracts_per_trust: int = parameter(
        2, "contracts a MAT may hold at once", source=JUDGEMENT, low=0, high=100,
        why="2; judgement")
    contract_support_fte: float = parameter(
        0.5, "improvement capacity the MAT puts into a contracted school each term (FTE)",
        source=JUDGEMENT, low=0.0, high=5.0, why="0.5; judgement")
    contract_fee_gbp_per_year: float = parameter(
        90_000, "what the commissioner pays for a contract, pounds a year", source=JUDGEMENT,
        low=0.0, high=1e6,
        why="£90,000; pounds; the high end is several times the default's source (judgement)")
    conversion_on_success: float = parameter(
        0.7, "chance a school whose contract succeeded joins the MAT", source=JUDGEMENT, low=0.0,
        high=1.0)
    supplier_record_penalty: float = parameter(
        0.25, "loss of supplier record after a failed contract", source=JUDGEMENT, low=0.0,
        high=1.0, why="natural: the record is 0-1")
    supplier_record_gain: float = parameter(
        0.1, "gain after a successful one (the record is capped at 1)", source=JUDGEMENT, low=0.0,
        high=1.0, why="natural: the record is 0-1")



CONTRACT_RULES = ("not_proven", "supplier_record", "contract_distance", "contract_limit",
                  "giver_taker_ratio")


class MatContracting(Lever):
    def run_year(self, model: SchoolSystemModel, in_force: bool) -> None:
        broker = Broker(model)
        self._judge_ending_contracts(model, broker)
        if in_force:
            self._start_contracts(model, broker)

    # -- judging ---------------------------------------------------------------------------

    def _judge_ending_contracts(self, model: SchoolSystemModel, broker: Broker) -> None:
        p = self.parameters
        schools, trusts = model.schools, model.trusts
        ending = np.flatnonzero(schools.under_contract & (schools.contract_end_term <= model.term))
        if len(ending) == 0:
            return
        inspection = model.parameters.model.inspection
        rng = model.streams.policy
        assessed = grade_from_effectiveness(
            schools.effectiveness[ending] + rng.normal(0, inspection.noise_sd, len(ending)),
            inspection.cut_points)
        success = assessed <= schools.contract_start_grade[ending] - p.target_grades
        joins = rng.random(len(ending)) < p.conversion_on_success
        contractor = schools.contract_trust[ending].copy()
        model.events.record("contract_end", model.term, school=ending, trust=contractor,
                            old_grade=schools.contract_start_grade[ending], new_grade=assessed,
                            detail=np.where(success, "success", "failure").astype(object))
        for school, trust, succeeded, joining, grade in zip(
                ending, contractor, success, joins, assessed, strict=True):
            self._end_contract(model, int(school), int(trust))
            record = trusts.supplier_record
            if succeeded:
                record[trust] = min(1.0, record[trust] + p.supplier_record_gain)
                if joining and trusts.active[trust] and \
                        schools.governance[school] == Governance.MAINTAINED:
                    broker.join(int(school), int(trust), "contract_conversion")
                    continue
            else:
                record[trust] = max(0.0, record[trust] - p.supplier_record_penalty)
            if grade <= Grade.GOOD and schools.awaiting_sponsor[school]:
                schools.awaiting_sponsor_since_term[school] = NEVER  # the order is lifted
                schools.academy_order_term[school] = NEVER

    @staticmethod
    def _end_contract(model: SchoolSystemModel, school: int, trust: int) -> None:
        schools = model.schools
        model.network.end_contract(school, trust)
        schools.contract_trust[school] = -1
        schools.contract_end_term[school] = NEVER
        schools.contract_support_fte[school] = 0.0

    # -- contracting -----------------------------------------------------------------------

    def _start_contracts(self, model: SchoolSystemModel, broker: Broker) -> None:
        p = self.parameters
        schools, trusts = model.schools, model.trusts
        maintained = (schools.governance == Governance.MAINTAINED) & ~schools.under_contract
        orphans = np.flatnonzero(maintained & schools.awaiting_sponsor)
        orphans = orphans[np.lexsort((schools.urn[orphans],
                                      schools.awaiting_sponsor_since_term[orphans]))]
        weak = np.flatnonzero(maintained & ~schools.under_academy_order
                              & np.isin(schools.grade, p.eligible_grades))
        weak = weak[np.lexsort((schools.urn[weak], -schools.grade[weak]))]
        held = np.bincount(schools.contract_trust[schools.under_contract], minlength=trusts.n)
        structure = model.parameters.model.structure
        decay_km = model.parameters.model.capacity.distance_decay_km
        asking = np.concatenate([orphans, weak]).astype(np.int64)
        pairs = broker.candidates(
            asking, max(structure.search_radius_km,
                        p.contract_distance_factor * float(trusts.hub_radius_km.max(initial=0))))
        for position, school in enumerate(asking.tolist()):
            candidates = pairs.trust[pairs.of(position)]
            distance = pairs.distance_km[pairs.of(position)]
            if len(candidates) == 0:
                continue
            takers_after = broker.takers[candidates] + held[candidates] + 1
            checks = [
                trusts.reputation[candidates] > p.proven_reputation,
                trusts.supplier_record[candidates] < p.minimum_supplier_record,
                distance > p.contract_distance_factor * trusts.hub_radius_km[candidates],
                held[candidates] >= p.contracts_per_trust,
                broker.givers[candidates] / takers_after < p.contract_giver_taker_threshold,
            ]
            refusal = np.full(len(candidates), "", dtype=object)
            for rule, failed in zip(CONTRACT_RULES, checks, strict=True):
                refusal[(refusal == "") & failed] = rule
            shown = np.flatnonzero(refusal != "")[: structure.candidates_logged]
            if len(shown):
                model.events.record(
                    "brokering_refusal", model.term, school=np.full(len(shown), school),
                    trust=candidates[shown], rule=refusal[shown],
                    detail="contract")
            accepted = np.flatnonzero(refusal == "")
            if len(accepted) == 0:
                continue
            best = accepted[np.lexsort((distance[accepted],
                                        trusts.reputation[candidates[accepted]]))[0]]
            trust = int(candidates[best])
            held[trust] += 1
            self._begin_contract(model, school, trust, float(distance[best]), decay_km)

    def _begin_contract(self, model: SchoolSystemModel, school: int, trust: int,
                        distance_km: float, decay_km: float) -> None:
        p = self.parameters
        schools = model.schools
        assert model.trusts.kind[trust] == TrustKind.MULTI_ACADEMY_TRUST
        schools.contract_trust[school] = trust
        schools.contract_start_term[school] = model.term
        schools.contract_end_term[school] = model.term + p.contract_length_years * TERMS_PER_YEAR
        schools.contract_start_grade[school] = schools.grade[school]
        schools.contract_support_fte[school] = p.contract_support_fte * np.exp(-distance_km / decay_km)
        model.network.set_contract(school, trust)
        waited = model.term - schools.awaiting_sponsor_since_term[school] \
            if schools.awaiting_sponsor[school] else 0
        model.events.record("contract_start", model.term, school=np.array([school]),
                            trust=np.array([trust]), old_grade=np.array([schools.grade[school]]),
                            wait_terms=np.array([waited]))

