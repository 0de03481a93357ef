"""Build a synthetic population of schools and trusts from config and a seed.

docs/ODD.md section 5: schools are placed around towns inside local authorities, with the
phase mix, pupil numbers and disadvantage of England (or of the scenario's place); free
school meals (FSM) correlate with weaker effectiveness; grades come from latent
effectiveness through the same noisy inspection the model uses later, so starting grade
shares match the targets when the cut points do; multi-academy trusts (MATs) get a skewed
size distribution and hold geographically clustered schools around hubs (seed 000: trusts
grow by geographical hubs).

`build_synthetic_population` is a pure function: the same config and generator state give
the same population, whatever policy is run afterwards (common random numbers).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ConfigError
from sim.mechanics.grading import grade_from_effectiveness
from sim.mechanics.rates import OWN_IMPROVEMENT_RATE_RANGE
from sim.parameters import JUDGEMENT, parameter
from sim.population.traits import (
    ACCURACY_SD,
    PREVIOUS_INSPECTION_SPREAD,
    beta_from_mean_sd,
    draw_behaviour_and_buy_in,
    draw_staff,
    new_schools,
)
from sim.population.trusts import form_partnership_clusters, form_trusts
from sim.scenario import scaled_count, scaled_region_km, schools_built
from sim.state import (
    ENGLAND_FSM_MEAN,
    TERMS_PER_YEAR,
    TYPICAL_BEHAVIOUR,
    TYPICAL_LEADERSHIP,
    TYPICAL_SELF_ASSESSMENT_ACCURACY,
    Phase,
    Population,
    SchoolArrays,
)

log = logging.getLogger("sim")

if TYPE_CHECKING:
    from sim.scenario import ScenarioParameters
    from sim.schema import ModelParameters

BY_PHASE = "by phase: primary, secondary, special, alternative provision"
# A synthetic place has at least one MAT per this many schools, if it has MATs at all.
# England has 17 schools per MAT and the Opportunity Area 20 (judgement: ten times that).
SCHOOLS_PER_MAT = 200

# The shape of a place (judgement): every local authority has at least this many schools
# where the place allows; towns spread round an authority's centre with an sd of the side
# of its share of the region over this; towns' sizes are lognormal with this log sd.
MIN_SCHOOLS_PER_AREA = 5
# The smallest school has this many pupils (England's smallest state schools have a dozen
# or so; judgement).
MIN_PUPILS = 10
MIN_TEACHERS = 2  # and at least this many teachers (judgement)
# Synthetic schools get made-up URNs from here on (real URNs are six digits too, so the
# made-up ones look like what a user meets in GIAS data).
FIRST_SYNTHETIC_URN = 100000
PATCH_SIDES_PER_TOWN_SD = 2.5
TOWN_SIZE_LOG_SD = 0.7
# An authority's mean share of pupils on free school meals stays within this range
# (judgement round England's authorities, which run from about 5% to about 50%).
AREA_FSM_RANGE = (0.03, 0.6)
# A school's starting distance from its potential is its own stationary spread, kept
# within these multiples of `deviation_sd` (judgement: no school pinned to its potential,
# none absurdly far).
SPREAD_RANGE = (0.5, 2.5)


@dataclass(frozen=True)
class SyntheticPopulation:
    """How a synthetic place is drawn: towns, pupils, disadvantage, effectiveness, trusts.

    Counts and area-level targets come from the scenario; these say how they are drawn
    (docs/ODD.md section 5).
    """

    name: str = parameter("synthetic", "builder of the population (the option's own name)",
                          source="the option", name=True)
    towns_per_local_authority: list[int] = parameter(
        [1, 4], "a local authority has between these many towns", source=JUDGEMENT, low=1, high=50,
        why="judgement", length=2, ordered_pair=True)
    town_spread_km: float = parameter(
        4.0, "sd of a school's distance from its town centre (km)", source=JUDGEMENT, low=0.1,
        high=100.0, why="default 4 km; judgement")
    local_authority_size_sd: float = parameter(
        0.6, "log-sd of local authorities' numbers of schools", source=JUDGEMENT, low=0.0, high=3.0,
        why="default 0.6 (Rutland to Kent); judgement")
    pupils_mean: list[float] = parameter(
        [285, 960, 115, 45], f"mean pupils {BY_PHASE}",
        source="DfE Schools, pupils and their characteristics 2019", low=10.0, high=5000.0,
        why="DfE 2019: 45-960; 10 is the least", length=4)
    pupils_log_sd: list[float] = parameter(
        [0.45, 0.35, 0.4, 0.5], f"log-sd of pupils {BY_PHASE}", source=JUDGEMENT, low=0.0, high=2.0,
        why="default 0.35-0.5; judgement", length=4)
    pupil_teacher_ratio: list[float] = parameter(
        [20.6, 16.5, 6.5, 5.5], f"pupils per teacher {BY_PHASE}",
        source="DfE School Workforce Census 2019", low=1.0, high=60.0,
        why="DfE SWC 2019: 5.5-20.6; judgement", length=4)
    fsm_concentration: float = parameter(
        12.0, "Beta concentration of school FSM shares around their area's mean", source=JUDGEMENT,
        low=0.5, high=1000.0, why="Beta: U-shaped to every school at the mean")
    context_sd: float = parameter(
        0.2, "sd of schools' context potential (effectiveness units)", source=JUDGEMENT, low=0.0,
        high=3.0, why="0.2 calibrated (with the shocks, how lasting a weak grade is: 56-78% of "
                      "requires-improvement schools are good at their next graded inspection); 3 sd of "
                      "England's schools")
    deviation_sd: float = parameter(
        0.65, "sd of effectiveness around potential at the start", source=JUDGEMENT, low=0.0,
        high=3.0, why="0.65, near the stationary spread the termly shocks give; judgement, as "
                      "context_sd")
    effectiveness_by_phase: list[float] = parameter(
        [-0.25, -0.64, -0.07, -0.37], f"mean effectiveness relative to England, {BY_PHASE}",
        source="calibrated to Ofsted's good-or-better shares by phase 2018-19", low=-3.0, high=3.0,
        why="3 sd either way", length=4)
    disadvantage_effect: float = parameter(
        2.2, "effectiveness lost per unit of FSM share above England's mean", source=JUDGEMENT,
        low=0.0, high=10.0, why="2.2 calibrated; judgement")
    leadership_mean: float = parameter(
        TYPICAL_LEADERSHIP, "mean capacity of heads (0-1)", source=JUDGEMENT, low=0.05, high=0.95,
        why="natural: a Beta mean inside 0-1")
    leadership_sd: float = parameter(
        0.15, "sd of heads' capacity", source=JUDGEMENT, low=0.01, high=0.3,
        why="0.15; judgement; capped by the model")
    self_assessment_accuracy_mean: float = parameter(
        TYPICAL_SELF_ASSESSMENT_ACCURACY,
        "mean accuracy with which schools know their own needs (0-1)", source=JUDGEMENT,
        low=0.05, high=0.95, why="natural: a Beta mean inside 0-1")
    behaviour_mean: float = parameter(
        TYPICAL_BEHAVIOUR, "mean climate for learning (0-1)", source=JUDGEMENT, low=0.05, high=0.95,
        why="natural: behaviour is clipped to 0.05-1")
    resistant_academy_share: float = parameter(
        0.1, "academies resisting their trust's shared practice", source="seed 004 finding 5",
        low=0.0, high=1.0)
    early_career_year1_share: float = parameter(
        0.06, "share of teachers in their first year", source=JUDGEMENT, low=0.0, high=0.5,
        why="DfE SWC about 6%; judgement")
    early_career_year2_share: float = parameter(
        0.055, "share of teachers in their second year", source=JUDGEMENT, low=0.0, high=0.5,
        why="DfE SWC about 5.5%; judgement")
    starting_vacancy_rate: float = parameter(
        0.0033, "share of posts vacant at the start",
        source="DfE School Workforce Census 2019: 0.2-0.6%", low=0.0, high=0.5,
        why="DfE SWC 0.2-0.6%; judgement")
    cluster_share_of_maintained: float = parameter(
        0.25,
        "maintained schools already in a peer cluster (Teaching School Alliance or "
        "formal cluster)",
        source=JUDGEMENT, low=0.0, high=1.0)
    cluster_size: list[int] = parameter(
        [3, 7], "schools per peer cluster (smallest, largest)", source="seed 003; EEF 2023", low=2,
        high=50, why="EEF 2023: 3-7; judgement", length=2, ordered_pair=True)
    mat_size_log_sd: float = parameter(
        1.1, "log-sd of the weights that spread schools over MATs (skewed sizes)", source=JUDGEMENT,
        low=0.0, high=3.0, why="default 1.1; judgement")
    schools_per_hub: int = parameter(
        12, "a MAT gets one geographic hub per this many schools", source=JUDGEMENT, low=1,
        high=1000, why="seed 000: 12; judgement")
    academy_weight_by_grade: list[float] = parameter(
        [1.0, 1.0, 1.5, 4.0],
        "relative chance of being an academy at the start, by grade 1-4 "
        "(sponsored academies were the weak schools)",
        source=JUDGEMENT, low=0.01, high=100.0, why="1-4; relative, positive; judgement", length=4)
    sat_secondary_weight: float = parameter(
        3.0, "secondaries are this many times likelier to be single-academy trusts",
        source=JUDGEMENT, low=0.01, high=100.0, why="3.0; a relative chance, positive; judgement")



def check_place(scenario: ScenarioParameters) -> None:
    """A synthetic place's trusts must be able to hold its schools (one line if not)."""
    n_mats, n_schools = scenario.n_multi_academy_trusts, scenario.n_schools
    if 0 < n_mats < n_schools / SCHOOLS_PER_MAT:
        raise ConfigError(
            f"scenario.n_multi_academy_trusts={n_mats} is too few for scenario.n_schools="
            f"{n_schools}: use 0 or at least {math.ceil(n_schools / SCHOOLS_PER_MAT)} (at most "
            f"{SCHOOLS_PER_MAT} schools per MAT; a MAT's schools support each other pairwise, so "
            f"MATs of thousands of schools exhaust memory)")


def build_synthetic_population(
    scenario: ScenarioParameters,
    population: SyntheticPopulation,
    model: ModelParameters,
    rng: np.random.Generator,
) -> Population:
    """Build schools, trusts, hubs and peer clusters for a scenario."""
    n_schools = schools_built(scenario)
    # Every local authority has a school: no more authorities than schools.
    asked = scaled_count(scenario.n_local_authorities, scenario.scale)
    n_areas = min(asked, n_schools)
    if n_areas < asked:
        log.warning("the scenario asks for %d local authorities but has %d schools: %d "
                    "authorities are built, one school each at least", asked, n_schools,
                    n_areas)
    places = _place_schools(n_schools, n_areas, scenario, population, rng)
    schools = _draw_schools(places, scenario, population, model, rng)
    trusts, hubs = form_trusts(schools, scenario, population, model, rng)
    clusters = form_partnership_clusters(schools, population, rng)
    return Population(
        schools=schools,
        trusts=trusts,
        hubs=hubs,
        local_authority_names=places.area_names,
        local_authority_x_km=places.area_x_km,
        local_authority_y_km=places.area_y_km,
        partnership_clusters=clusters,
    )


def reflect_into(values: np.ndarray, length_km: float) -> np.ndarray:
    """`values` folded into [0, length_km] as a mirror at each edge folds them: a point
    2 km beyond an edge lands 2 km inside it (and one beyond twice the length folds
    again), so a spread round a point near the edge stays a spread."""
    if length_km <= 0:
        return np.zeros_like(values)
    folded = np.mod(values, 2 * length_km)
    return np.where(folded > length_km, 2 * length_km - folded, folded)


def _place_schools(
    n_schools: int, n_areas: int, scenario: ScenarioParameters, population: SyntheticPopulation,
    rng: np.random.Generator,
) -> SimpleNamespace:
    """Local authorities, their towns, and a location for every school.

    The region grows with the scale as the number of authorities does, so an authority's
    patch, its towns and its schools' spacing are the place's own at any scale.
    """
    width_km, height_km = scaled_region_km(scenario)
    area_x = rng.uniform(0, width_km, n_areas) if n_areas > 1 else np.array([width_km / 2])
    area_y = rng.uniform(0, height_km, n_areas) if n_areas > 1 else np.array([height_km / 2])
    # Local authorities differ a lot in size (Rutland to Kent): log-normal shares, at least 5.
    weights = rng.lognormal(0.0, population.local_authority_size_sd, n_areas)
    minimum = min(MIN_SCHOOLS_PER_AREA, n_schools // n_areas)
    area_sizes = minimum + rng.multinomial(n_schools - minimum * n_areas, weights / weights.sum())
    area_of_school = np.repeat(np.arange(n_areas, dtype=np.int32), area_sizes)

    # Towns sit within an area's own patch; schools cluster round their town.
    low, high = population.towns_per_local_authority
    towns_per_area = rng.integers(low, high + 1, n_areas)
    patch_km = np.sqrt(width_km * height_km / n_areas) / PATCH_SIDES_PER_TOWN_SD
    town_area = np.repeat(np.arange(n_areas), towns_per_area)
    # A town or school drawn beyond the region's edge is reflected back into it, not
    # clipped onto the edge, where clipped ones would pile up (half of an Opportunity
    # Area's schools, for some seeds, on one line) nearer one another than any real place.
    town_x = reflect_into(area_x[town_area] + rng.normal(0, patch_km, len(town_area)),
                          width_km)
    town_y = reflect_into(area_y[town_area] + rng.normal(0, patch_km, len(town_area)),
                          height_km)
    town_weight = rng.lognormal(0, TOWN_SIZE_LOG_SD, len(town_area))
    # Each school picks one of its area's towns with probability proportional to town size.
    first_town = np.concatenate([[0], np.cumsum(towns_per_area)[:-1]])
    cumulative = np.cumsum(town_weight)
    start = np.where(first_town > 0, cumulative[first_town - 1], 0.0)
    end = cumulative[first_town + towns_per_area - 1]
    pick = start[area_of_school] + rng.random(n_schools) * (end - start)[area_of_school]
    town_of_school = np.minimum(np.searchsorted(cumulative, pick, side="right"),
                                first_town[area_of_school] + towns_per_area[area_of_school] - 1)
    spread = population.town_spread_km
    x_km = reflect_into(town_x[town_of_school] + rng.normal(0, spread, n_schools), width_km)
    y_km = reflect_into(town_y[town_of_school] + rng.normal(0, spread, n_schools), height_km)
    names = (
        [f"{scenario.name.replace('_', ' ').title()}"] if n_areas == 1
        else [f"Local Authority {i + 1:03d}" for i in range(n_areas)]
    )
    return SimpleNamespace(
        n=n_schools, area=area_of_school, town=town_of_school.astype(np.int32),
        x_km=x_km, y_km=y_km, area_names=names, area_x_km=area_x, area_y_km=area_y,
    )


def _draw_schools(
    places: SimpleNamespace, scenario: ScenarioParameters, population: SyntheticPopulation,
    model: ModelParameters, rng: np.random.Generator,
) -> SchoolArrays:
    n = places.n
    phase_counts = rng.multinomial(n, np.asarray(scenario.phase_shares) / sum(scenario.phase_shares))
    phase = rng.permutation(np.repeat(np.arange(len(Phase), dtype=np.int8), phase_counts))

    pupils_mean = np.asarray(population.pupils_mean, dtype=float)[phase]
    log_sd = np.asarray(population.pupils_log_sd)[phase]
    pupils = np.maximum(MIN_PUPILS, rng.lognormal(np.log(pupils_mean) - log_sd**2 / 2,
                                                  log_sd)).astype(np.int32)
    ratio = np.asarray(population.pupil_teacher_ratio)[phase]
    establishment = np.maximum(MIN_TEACHERS, np.round(pupils / ratio))
    establishment = establishment.astype(np.int32)

    # Disadvantage: areas differ, and schools differ within areas (Beta around the area mean).
    n_areas = len(places.area_names)
    area_fsm = np.clip(rng.normal(scenario.fsm_mean, scenario.fsm_spread_between_areas, n_areas),
                       *AREA_FSM_RANGE)
    mean = area_fsm[places.area]
    concentration = population.fsm_concentration
    fsm_share = rng.beta(mean * concentration, (1 - mean) * concentration)

    # Effectiveness: context (phase, area baseline, disadvantage, the rest) + the head.
    leadership = beta_from_mean_sd(population.leadership_mean, population.leadership_sd, n, rng)
    context_potential = (
        np.asarray(population.effectiveness_by_phase)[phase]
        + scenario.effectiveness_offset
        - population.disadvantage_effect * (fsm_share - ENGLAND_FSM_MEAN)
        + rng.normal(0, population.context_sd, n)
    )
    potential = context_potential + model.improvement.leadership_weight * (
        leadership - population.leadership_mean)
    accuracy = beta_from_mean_sd(population.self_assessment_accuracy_mean, ACCURACY_SD, n, rng)
    # Each school starts at its own stationary spread around its potential: a school that
    # improves slowly on its own (weak head, poor self-knowledge) wanders further. For a
    # mean-reverting path the spread scales as 1 / sqrt(rate x (2 - rate)).
    typical_rate = model.improvement.own_improvement_rate
    own_rate = np.clip(typical_rate * (leadership / population.leadership_mean)
                       * (accuracy / population.self_assessment_accuracy_mean),
                       *OWN_IMPROVEMENT_RATE_RANGE)
    spread = population.deviation_sd * np.sqrt(
        typical_rate * (2 - typical_rate) / (own_rate * (2 - own_rate)))
    low, high = SPREAD_RANGE
    effectiveness = potential + rng.normal(0, 1, n) * np.clip(spread, low * population.deviation_sd,
                                                              high * population.deviation_sd)

    # Starting grades come from effectiveness as it was at the school's last inspection,
    # up to four years ago: walk each school back along its own mean-reverting path
    # (correlation (1 - rate)^terms with its past self), then inspect with noise. Grades
    # drawn from today's effectiveness would be fresher than real grades ever are.
    inspection = model.inspection
    rate = model.improvement.own_improvement_rate
    interval_terms = np.full(n, np.asarray(inspection.interval_years_by_grade)[1] * TERMS_PER_YEAR)
    # Where each school is in its inspection cycle: uniform, as in a cycle that has run for
    # years (the stationary distribution of a renewal process), so that inspections are
    # spread evenly over the terms from the start.
    cycle_position = rng.random(n)
    terms_since = np.floor(cycle_position * interval_terms).astype(np.int32) + 1
    walked = np.sqrt(2 * population.deviation_sd**2 * (1 - (1 - rate) ** terms_since))
    then = effectiveness + rng.normal(0, 1, n) * walked
    grade = grade_from_effectiveness(then + rng.normal(0, inspection.noise_sd, n),
                                     inspection.cut_points)
    before = then + rng.normal(0, 1, n) * population.deviation_sd * PREVIOUS_INSPECTION_SPREAD
    previous_grade = grade_from_effectiveness(before + rng.normal(0, inspection.noise_sd, n),
                                              inspection.cut_points)
    # Each school's own cycle is drawn as inspection draws the next one (its grade's
    # interval, up to `interval_jitter_years` early), and the school sits at the same
    # position in it: schools graded below good are seen again sooner.
    own_interval = np.maximum(1, np.round(
        (np.asarray(inspection.interval_years_by_grade)[grade - 1]
         - inspection.interval_jitter_years * rng.random(n)) * TERMS_PER_YEAR)).astype(np.int32)
    terms_since = np.floor(cycle_position * own_interval).astype(np.int32) + 1
    last_inspection_term = -terms_since
    inspection_due_term = (last_inspection_term + own_interval).astype(np.int32)

    behaviour, buy_in = draw_behaviour_and_buy_in(effectiveness, population, rng)
    teachers, ect1, ect2 = draw_staff(establishment, population, rng)

    phase_names = ["Primary", "Secondary", "Special", "Alternative Provision"]
    names = np.array([f"Town {t + 1} {phase_names[p]} School {i + 1}"
                      for i, (t, p) in enumerate(zip(places.town, phase, strict=True))],
                     dtype=object)
    return new_schools(
        rng,
        urn=FIRST_SYNTHETIC_URN + np.arange(n, dtype=np.int64),
        name=names,
        phase=phase,
        local_authority=places.area,
        x_km=places.x_km,
        y_km=places.y_km,
        pupils=pupils,
        fsm_share=fsm_share,
        context_potential=context_potential,
        effectiveness=effectiveness,
        leadership=leadership,
        behaviour=behaviour,
        self_assessment_accuracy=accuracy,
        buy_in=buy_in,
        establishment=establishment,
        teachers=teachers,
        early_career_year1=ect1,
        early_career_year2=ect2,
        grade=grade,
        previous_grade=previous_grade,
        last_inspection_term=last_inspection_term,
        inspection_due_term=inspection_due_term,
    )
