"""The place a run simulates: its size, make-up, disadvantage, teacher supply and money.

A scenario is data about a place, so its values live in the options of the `scenario`
config group (`configs/scenario/national.yaml`, `opportunity_area.yaml`), each with its
source; this module declares what each value means and what it may be. The population
builders read most of it; the workforce, capacity and improvement-budget phases read the
teacher supply, local-authority capacity and budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.errors import ConfigError
from sim.parameters import REQUIRED, parameter

BY_PHASE = "by phase: primary, secondary, special, alternative provision"
PLACE = "the place's own (its option in configs/scenario/)"


@dataclass(frozen=True)
class ScenarioParameters:
    """The place: schools, trusts, disadvantage, teacher supply, money and horizon."""

    name: str = parameter(REQUIRED, "name of the scenario, used in output folders", source=PLACE,
                          name=True)
    description: str = parameter(REQUIRED, "shown in figure titles and docs", source=PLACE)
    horizon_years: int = parameter(
        REQUIRED, "years simulated when horizon_years is not set", source=PLACE, low=1, high=100,
        why="judgement: as horizon_years")
    start_year: int = parameter(
        2018, "academic year the run starts in (labels only)", source=PLACE, low=1900, high=2200,
        why="labels only; judgement")
    scale: float = parameter(
        1.0,
        "multiplies every count of schools, trusts and authorities, and the region's area "
        "with them (the place's density at any scale); < 1 for quick runs",
        source="the user's", low=0.001, high=50.0,
        why="judgement: 22 schools of England to fifty Englands (a million schools, issue 14)")
    n_schools: int = parameter(
        REQUIRED, "state-funded schools", source=PLACE, low=10, high=50_000,
        why="England 21,750 (DfE 2019), about 2x; 10 is the least built")
    n_local_authorities: int = parameter(
        REQUIRED, "local authorities (or districts)", source=PLACE, low=1, high=1000,
        why="England 152 (~300 districts); judgement")
    region_km: list[float] = parameter(
        REQUIRED, "width and height of the place (km)", source=PLACE, low=1.0, high=5000.0,
        why="England 450 x 550 km; a town to ~10x", length=2)
    phase_shares: list[float] = parameter(
        REQUIRED, f"share of schools {BY_PHASE}", source=PLACE, low=0.0, high=1.0,
        why="natural (and they add up to 1)", length=4)
    academy_share: list[float] = parameter(
        REQUIRED,
        f"share of each phase that are academies "
                                           f"at the start, {BY_PHASE}",
        source=PLACE, low=0.0, high=1.0, length=4)
    n_multi_academy_trusts: int = parameter(
        REQUIRED, "multi-academy trusts with schools in the place", source=PLACE, low=0,
        high=10_000, why="England 1,200-1,330 (DfE); at least one per 200 schools (ODD section 10)")
    n_single_academy_trusts: int = parameter(
        REQUIRED, "single-academy trusts", source=PLACE, low=0, high=10_000,
        why="England 1,000-1,260 (DfE)")
    effectiveness_offset: float = parameter(
        0.0,
        "baseline effectiveness relative to England, "
                                            "before disadvantage (effectiveness units)",
        source=PLACE, low=-3.0, high=3.0, why="3 sd of England's schools either way")
    fsm_mean: float = parameter(
        REQUIRED, "mean share of pupils eligible for free school meals", source=PLACE, low=0.03,
        high=0.6, why="DfE 2019: 0.17; authorities' means are clipped to 0.03-0.6")
    fsm_spread_between_areas: float = parameter(
        0.0, "sd of local authorities' mean FSM share", source=PLACE, low=0.0, high=0.3,
        why="England's default 0.06; judgement")
    trust_strength: float = parameter(
        0.0,
        "quality of heads the place's trusts appoint, "
                                      "relative to England",
        source=PLACE, low=-0.5, high=0.5, why="natural: head capacity is 0-1 round 0.6")
    teacher_supply: float = parameter(
        REQUIRED,
        "applicants per open post each term (1.0 fills every "
                                      "post if spread evenly)",
        source=PLACE, low=0.1, high=3.0,
        why="England 0.94 (0.3% vacant); judgement, Morris 0.8-1.1")
    local_authority_capacity: float = parameter(
        1.0,
        "local-authority improvement capacity "
                                                "relative to England",
        source=PLACE, low=0.0, high=10.0, why="relative to England; judgement")
    improvement_budget_gbp_per_year: float = parameter(
        0.0, "extra improvement funding spent on support in the place, pounds a year", source=PLACE,
        low=0.0, high=1e9, why="OA £2m a year (DfE 2017), x500; judgement")

    def check(self) -> None:
        if abs(sum(self.phase_shares) - 1.0) > 1e-6:
            raise ConfigError("scenario.phase_shares must add up to 1 (primary, secondary, "
                              "special, alternative provision)")


def scaled_count(count: int, scale: float, minimum: int = 1) -> int:
    """A count of the place (schools, trusts, authorities) at the scenario's scale."""
    return max(minimum, round(count * scale))


# A synthetic place has at least this many schools, whatever its scale.
MIN_SCHOOLS = 10


def schools_built(scenario: ScenarioParameters) -> int:
    """The number of schools a synthetic place has at the scenario's scale."""
    return scaled_count(scenario.n_schools, scenario.scale, minimum=MIN_SCHOOLS)


def scaled_region_km(scenario: ScenarioParameters) -> tuple[float, float]:
    """Width and height of a synthetic place at the scenario's scale (km).

    The region's area grows, or shrinks, in step with the schools built, so that schools
    are as dense as in the place itself at any scale: England x50 is fifty Englands side
    by side, not one England fifty times as crowded, and a quarter of England is a
    quarter of its area at its density. Everything set by distance (trusts' hub radius,
    the commissioner's search radius, support's decay, towns' spread) then reaches as many
    schools as in the place, and local authorities, whose number grows with the scale
    too, keep their size. Both sides grow by the square root, keeping the region's shape.
    At scale 1 the ratio is exactly 1, so the place is its own to the bit.
    """
    side = math.sqrt(schools_built(scenario) / scenario.n_schools)
    width_km, height_km = scenario.region_km
    return width_km * side, height_km * side
