"""The yearly phase's parameters: heads, academy orders, brokering, conversions, mergers
(docs/ODD.md section 7.6). The trusts' own rules are in `sim.mechanics.trusts`."""

from __future__ import annotations

from dataclasses import dataclass

from sim.errors import ConfigError
from sim.parameters import JUDGEMENT, fitted, parameter


@dataclass(frozen=True)
class StructureParameters:
    """The yearly phase: heads, academy orders, brokering, conversions, mergers (ODD 7.6)."""

    head_leaving_rate: float = parameter(
        0.1, "heads leaving per year", source="NFER/DfE: about 90% of heads stay a year", low=0.0,
        high=1.0, why="natural (NFER/DfE: about 10%)")
    head_replacement_after_inadequate: float = parameter(
        0.6, "chance the head is replaced after an inadequate grade", source=JUDGEMENT, low=0.0,
        high=1.0)
    new_head_sd: float = parameter(
        0.15, "sd of a new head's capacity around the pool's mean", source=JUDGEMENT, low=0.0,
        high=1.0, why="natural: capacity is 0-1")
    academy_order_probability: float = parameter(
        1.0, "chance an inadequate maintained school gets an academy order within a year",
        source="Education and Adoption Act 2016: orders are mandatory", low=0.0, high=1.0)
    sponsored_opening_lag_terms: int = parameter(
        2, "terms from a sponsor's placement to the school opening as its academy",
        source="judgement from DfE guidance: the legal steps after a sponsor is agreed (funding "
               "agreement, staff transfer consultation, land) take several months",
        low=0, high=12, why="2 terms (4-8 months); 0 opens at once; 12 is four years")
    rebrokering_probability: float = parameter(
        0.2, "chance a two-below-good academy is rebrokered in a year",
        source="calibrated to DfE academy transfers", low=0.0, high=1.0)
    conversion_rate_by_phase: list[float] = parameter(
        [0.003, 0.0005, 0.01, 0.01],
        "good or better maintained schools converting per year, "
        "by phase",
        source="calibrated to academy shares 2018-2028 (NAO 2018, DfE)", low=0.0, high=1.0,
        length=4)
    converter_joins_mat_share: float = parameter(
        0.7, "converters that join a nearby MAT ...",
        source=fitted("0.51-0.85", "trust counts (DfE)"),
        low=0.0, high=1.0, why="natural (with the next, at most 1)")
    converter_forms_mat_share: float = parameter(
        0.15, "... or found a new MAT; the rest become single-academy trusts",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    new_mat_founding_schools: list[int] = parameter(
        [2, 4], "schools founding a new MAT (smallest, largest)", source=JUDGEMENT, low=1, high=50,
        why="judgement", length=2, ordered_pair=True)
    single_academy_trust_joins_mat_rate: float = parameter(
        0.02, "single-academy trusts joining a MAT per year",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    voluntary_transfer_rate: float = parameter(
        0.017, "MAT academies moving to another MAT by choice per year",
        source=fitted("0.0094-0.024", "DfE academy transfers"), low=0.0, high=1.0)
    small_mat_merger_rate: float = parameter(
        0.015, "small MATs merging into a nearby larger MAT per year",
        source="calibrated to trust counts (DfE)", low=0.0, high=1.0)
    small_mat_max_schools: int = parameter(
        4, "MATs this small may merge", source=JUDGEMENT, low=1, high=1000, why="4; judgement")
    search_radius_km: float = parameter(
        40.0, "the commissioner asks trusts with a hub this close (km)", source=JUDGEMENT, low=0.0,
        high=1000.0, why="40 km; England is 550 km across")
    candidates_per_school: int = parameter(
        30, "the commissioner asks the trusts of this many of a school's nearest hubs "
        "within search_radius_km (more only where hubs tie at the cut: all are asked)",
        source=JUDGEMENT, low=1, high=1000,
        why="30; judgement: a shortlist, about the MATs with a hub within 25 km of a "
            "school in synthetic England (19 on average, 32 at the 90th percentile); "
            "1000 asks in effect every MAT in reach")
    candidates_logged: int = parameter(
        5, "refusals logged per brokering attempt (nearest trusts)", source=JUDGEMENT, low=0,
        high=100, why="5; judgement")
    new_hub_min_schools: int = parameter(
        8, "a MAT this large opens a new hub where it takes a school far from its hubs",
        source=JUDGEMENT, low=1, high=1000, why="8; judgement")

    def check(self) -> None:
        if self.converter_joins_mat_share + self.converter_forms_mat_share > 1:
            raise ConfigError(
                "model.structure.converter_joins_mat_share + converter_forms_mat_share must "
                "be at most 1 (the rest of converters become single-academy trusts)")
