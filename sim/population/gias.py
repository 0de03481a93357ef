"""Build a population from a Get Information about Schools (GIAS) extract.

GIAS publishes every establishment in England as one CSV, "all establishment data"
(`edubasealldataYYYYMMDD.csv`, about 50,000 rows, open and closed). Four modules load it:

- `gias_read`: the file's bytes to the columns below, as text (or a one-line refusal);
- `gias_check`: every row and value judged by one set of rules: kept, set aside with its
  reason, or the whole file refused;
- `gias_areas`: the rows of the chosen local authorities, districts or Opportunity Areas;
- `gias` (this module): the population. It keeps the usable schools of the chosen areas,
  imputes the values set aside, and draws what GIAS does not hold
(heads, self-assessment, behaviour, the latent effectiveness behind each grade) as the
synthetic builder does. docs/ODD.md section 5 has the mapping and every rule; each
imputation and each dropped row is counted, with its reason, logged, and written to
`summary.json` under `population`.

| Column | Use |
|---|---|
| `URN`, `EstablishmentName` | school identity |
| `EstablishmentStatus (name)` | open schools only |
| `EstablishmentTypeGroup (name)`, `TypeOfEstablishment (name)` | state-funded only; academy or maintained |
| `PhaseOfEducation (name)` | phase (with the type, for special schools and alternative provision) |
| `Easting`, `Northing` | location (British National Grid metres, in km) |
| `LA (name)`, `DistrictAdministrative (name)` | local authority; the areas to select |
| `Trusts (code)`, `Trusts (name)` | trust membership; a trust with one school is a single-academy trust |
| `NumberOfPupils`, `PercentageFSM` | pupils and disadvantage |
| `OfstedRating (name)`, `OfstedLastInsp` | latest grade and inspection date (`dd-mm-yyyy`) |

Every problem with the file or the areas raises `ConfigError` with one line that names it
and the fix; `python -m sim` prints it and exits with status 2, writing nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import ConfigError
from sim.mechanics.grading import grade_from_effectiveness
from sim.mechanics.trusts import empty_trusts, new_trust_values
from sim.parameters import parameter
from sim.population.gias_areas import (
    OPPORTUNITY_AREAS_FILE,
    resolve_areas,
    select_areas,
    unique_areas,
)
from sim.population.gias_check import GRADES, check_extract
from sim.population.gias_read import COLUMNS, DOWNLOAD, check_path, read_extract
from sim.population.gias_report import IMPUTED, Report, log_report, regions_of
from sim.population.synthetic import SyntheticPopulation
from sim.population.traits import (
    ACCURACY_SD,
    PREVIOUS_INSPECTION_SPREAD,
    beta_from_mean_sd,
    draw_behaviour_and_buy_in,
    draw_staff,
    new_schools,
)
from sim.population.trusts import form_partnership_clusters
from sim.state import (
    ENGLAND_FSM_MEAN,
    TERMS_PER_YEAR,
    Governance,
    Hubs,
    Phase,
    Population,
    SchoolArrays,
    TrustArrays,
    TrustKind,
)

# pandas and scipy are loaded by the functions that use them: `GiasPopulation` is part of
# the config, which `python -m sim --help` and a refused override read without them.
if TYPE_CHECKING:
    import pandas as pd

    from sim.scenario import ScenarioParameters
    from sim.schema import ModelParameters

__all__ = ["COLUMNS", "DOWNLOAD", "GRADES", "OPPORTUNITY_AREAS_FILE", "GiasPopulation",
           "build_gias_population", "check_extract_and_areas", "check_path", "read_extract", "resolve_areas"]


# -- parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class GiasPopulation(SyntheticPopulation):
    """Real schools from a GIAS extract; what GIAS does not hold is drawn as for a synthetic
    population, with the values inherited from `SyntheticPopulation` (the placement and
    trust-forming ones are unused)."""

    name: str = parameter("gias", "builder of the population (the option's own name)",
                          source="the option", name=True)
    path: str | None = parameter(
        None, "the GIAS extract, edubasealldataYYYYMMDD.csv (Windows-1252, UTF-8 or UTF-16), relative "
        "to where the command is run", source="the user's")
    areas: list[str] = parameter(
        [], "local authorities (LA (name)), districts (DistrictAdministrative (name)) or "
        "Opportunity Areas (configs/opportunity_areas.yaml), any case; [] takes every school",
        source="the user's")

    def check(self) -> None:
        if self.context_sd == self.deviation_sd == 0:
            raise ConfigError("population.context_sd and population.deviation_sd cannot both be "
                              "0 with population=gias: the effectiveness behind a real grade is "
                              "drawn from their spread")
        # The file itself is read by the builder; here only whether there is one, so that
        # a run stops before it starts.
        check_path(self.path)


# -- building --------------------------------------------------------------------------

def build_gias_population(
    scenario: ScenarioParameters,
    population: GiasPopulation,
    model: ModelParameters,
    rng: np.random.Generator,
) -> Population:
    """Build schools, trusts, hubs and peer clusters from a GIAS extract."""
    rows, kept, report = select_schools(str(population.path), tuple(population.areas))
    population_built = _build(kept, rows[rows["school"]], scenario, population, model, rng)
    report.schools = population_built.schools.n
    report.regions = regions_of(kept)
    log_report(report)
    population_built.report = report.as_dict()
    return population_built


def select_schools(path: str, areas: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame,
                                                              Report]:
    """Read and check the extract, choose the areas' usable schools: (every row, the rows
    kept, the loading report so far). ConfigError, in one line, for anything unusable."""
    rows = check_extract(read_extract(path), path).rows
    chosen = unique_areas(list(areas))
    report = Report(source=Path(path).name, rows_read=len(rows), areas=chosen)
    in_areas = select_areas(rows, chosen, path)
    report.rows_in_areas = int(in_areas.sum())
    drop = rows["drop"][in_areas]
    report.dropped = {str(why): int(count)
                      for why, count in drop[drop != ""].value_counts().sort_index().items()}
    if (drop == "").sum() == 0:  # only when no areas were named: each area was checked
        dropped = ", ".join(f"{why} {count}" for why, count in report.dropped.items())
        raise ConfigError(f"population.path: '{path}' has {len(rows)} establishments but no "
                          f"open state-funded school the model covers ({dropped})")
    kept = rows[in_areas & (rows["drop"] == "").to_numpy()].reset_index(drop=True)
    for what in IMPUTED:
        why = kept[f"why_{what}"]
        counts = why[why != ""].value_counts().sort_index()
        if len(counts):
            report.imputed[what] = {str(reason): int(count) for reason, count in counts.items()}
    return rows, kept, report


@functools.lru_cache(maxsize=8)
def _checked(path: str, size: int, modified: int, areas: tuple[str, ...]) -> None:
    select_schools(path, areas)


def check_extract_and_areas(path: str | None, areas: tuple[str, ...]) -> None:
    """Raise the ConfigError a run would meet in the extract or the areas, before it runs.

    A sweep checks every job's file this way before any job starts; a file is read once
    for all the jobs that share it (and its areas), unless it changes meanwhile.
    """
    checked = check_path(path)
    status = checked.stat()
    _checked(str(path), status.st_size, status.st_mtime_ns, tuple(areas))


def _fill_by_group(values: np.ndarray, groups: list[np.ndarray], fallback: np.ndarray,
                   statistic: str = "mean") -> np.ndarray:
    """Fill NaNs with the statistic of the first group (finest first) that has values, else
    with the fallback."""
    import pandas as pd

    filled = values.copy()
    for group in groups:
        if not np.isnan(filled).any():
            break
        table = pd.Series(values).groupby(group).agg(statistic)
        fill = pd.Series(group).map(table).to_numpy(dtype=float)
        filled = np.where(np.isnan(filled), fill, filled)
    return np.where(np.isnan(filled), fallback, filled)


def _by_phase(values: pd.Series, phase: pd.Series, statistic: str, phases: np.ndarray,
              default: np.ndarray) -> np.ndarray:
    """The statistic of the values of each of `phases` across the file, else the default."""
    import pandas as pd

    table = values.groupby(phase.to_numpy()).agg(statistic)
    found = pd.Series(phases).map(table).to_numpy(dtype=float)
    return np.where(np.isnan(found), default, found)


def _build(kept: pd.DataFrame, schools_in_file: pd.DataFrame, scenario: ScenarioParameters,
           population: GiasPopulation, model: ModelParameters,
           rng: np.random.Generator) -> Population:
    n = len(kept)
    area_names = sorted(set(kept["local_authority"]))
    area = np.searchsorted(area_names, kept["local_authority"].to_numpy()).astype(np.int32)
    phase = kept["model_phase"].to_numpy().astype(np.int8)
    everywhere = np.zeros(n, np.int64)

    # Location: an unusable grid reference takes its local authority's mean location, else
    # the chosen areas', else the file's.
    easting = _fill_by_group(kept["easting_m"].to_numpy(float), [area, everywhere],
                             np.full(n, schools_in_file["easting_m"].mean()))
    northing = _fill_by_group(kept["northing_m"].to_numpy(float), [area, everywhere],
                              np.full(n, schools_in_file["northing_m"].mean()))
    x_km, y_km = easting / 1000.0, northing / 1000.0

    # Pupils: the median of its phase in its local authority, else in the areas chosen,
    # else in the file, else the synthetic builder's mean for the phase.
    file_pupils = _by_phase(schools_in_file["pupils_number"], schools_in_file["model_phase"],
                            "median", phase, np.asarray(population.pupils_mean, float)[phase])
    pupils = _fill_by_group(kept["pupils_number"].to_numpy(float), [area * len(Phase) + phase, phase],
                            file_pupils, "median")
    pupils = np.maximum(np.round(pupils), 1).astype(np.int32)
    establishment = np.maximum(
        2, np.round(pupils / np.asarray(population.pupil_teacher_ratio)[phase])).astype(np.int32)

    # Disadvantage: the mean FSM share of its phase in its local authority, else in the
    # areas chosen, else in the file, else the scenario's mean.
    file_fsm = _by_phase(schools_in_file["fsm"], schools_in_file["model_phase"], "mean", phase,
                         np.full(n, scenario.fsm_mean))
    fsm = np.clip(_fill_by_group(kept["fsm"].to_numpy(float), [area * len(Phase) + phase, phase],
                                 file_fsm), 0.0, 1.0)

    # Heads, self-assessment and the latent effectiveness behind each grade.
    leadership = beta_from_mean_sd(population.leadership_mean, population.leadership_sd, n, rng)
    accuracy = beta_from_mean_sd(population.self_assessment_accuracy_mean, ACCURACY_SD, n, rng)
    grade_seen = kept["grade"].to_numpy().astype(int)
    context_potential, effectiveness, grade = _effectiveness(
        phase, fsm, leadership, grade_seen, scenario, population, model, rng)
    inspection = model.inspection
    previous_grade = grade_from_effectiveness(
        effectiveness + rng.normal(0, 1, n) * population.deviation_sd * PREVIOUS_INSPECTION_SPREAD
        + rng.normal(0, inspection.noise_sd, n), inspection.cut_points)
    last_inspection_term, inspection_due_term = _inspection_terms(
        kept["inspected"], schools_in_file["inspected"].max(), grade, model, rng)
    behaviour, buy_in = draw_behaviour_and_buy_in(effectiveness, population, rng)
    teachers, ect1, ect2 = draw_staff(establishment, population, rng)

    schools = new_schools(
        rng,
        urn=kept["urn_number"].to_numpy(np.int64),
        name=kept["name"].to_numpy(dtype=object),
        phase=phase,
        local_authority=area,
        x_km=x_km,
        y_km=y_km,
        pupils=pupils,
        fsm_share=fsm,
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
    # A trust's kind comes from its size across the whole file, not only the chosen areas.
    academies = schools_in_file[(schools_in_file["drop"] == "") & schools_in_file["academy"]]
    trust_sizes = academies["trust_code"][academies["trust_code"] != ""].value_counts()
    trusts, hubs = _trusts(kept, schools, trust_sizes, scenario, population, model, rng)
    clusters = form_partnership_clusters(schools, population, rng)
    centres_x = np.bincount(area, weights=x_km, minlength=len(area_names)) / np.bincount(
        area, minlength=len(area_names))
    centres_y = np.bincount(area, weights=y_km, minlength=len(area_names)) / np.bincount(
        area, minlength=len(area_names))
    return Population(schools=schools, trusts=trusts, hubs=hubs,
                      local_authority_names=area_names, local_authority_x_km=centres_x,
                      local_authority_y_km=centres_y, partnership_clusters=clusters)


def _effectiveness(phase: np.ndarray, fsm: np.ndarray, leadership: np.ndarray,
                   grade_seen: np.ndarray, scenario: ScenarioParameters,
                   population: GiasPopulation, model: ModelParameters,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Context potential, effectiveness and grade, consistent with each school's grade.

    The prior is the synthetic builder's: effectiveness = phase + place + disadvantage +
    head + context (sd `context_sd`) + deviation (sd `deviation_sd`). An inspection saw it
    with error (sd `inspection.noise_sd`) and gave the grade, so the score it saw lies
    between the grade's cut points. The score is drawn from its prior truncated to that
    band, effectiveness from its Gaussian posterior given the score, and the deviation
    from its posterior given effectiveness. A school with no grade draws from the prior
    and is graded as a synthetic school is.
    """
    from scipy.special import ndtr, ndtri

    n = len(phase)
    inspection = model.inspection
    mean = (np.asarray(population.effectiveness_by_phase)[phase] + scenario.effectiveness_offset
            - population.disadvantage_effect * (fsm - ENGLAND_FSM_MEAN)
            + model.improvement.leadership_weight * (leadership - population.leadership_mean))
    prior_variance = population.context_sd**2 + population.deviation_sd**2
    noise_variance = inspection.noise_sd**2
    cuts = np.concatenate([[-np.inf], inspection.cut_points, [np.inf]])
    graded = grade_seen > 0
    # Band of the seen score: grade 4 below the first cut point, grade 1 above the last.
    low, high = cuts[4 - np.where(graded, grade_seen, 4)], cuts[5 - np.where(graded, grade_seen, 4)]
    score_sd = np.sqrt(prior_variance + noise_variance)
    lower, upper = ndtr((low - mean) / score_sd), ndtr((high - mean) / score_sd)
    uniform = rng.random(n)
    score = mean + score_sd * ndtri(np.clip(lower + uniform * (upper - lower), 1e-12, 1 - 1e-12))
    shrink = prior_variance / (prior_variance + noise_variance)
    posterior_sd = np.sqrt(prior_variance * noise_variance / (prior_variance + noise_variance))
    from_grade = mean + shrink * (score - mean) + posterior_sd * rng.standard_normal(n)
    from_prior = mean + np.sqrt(prior_variance) * rng.standard_normal(n)
    effectiveness = np.where(graded, from_grade, from_prior)
    grade = np.where(graded, grade_seen, grade_from_effectiveness(
        effectiveness + rng.normal(0, inspection.noise_sd, n), inspection.cut_points))
    deviation_share = population.deviation_sd**2 / prior_variance
    deviation = deviation_share * (effectiveness - mean) + np.sqrt(
        population.context_sd**2 * deviation_share) * rng.standard_normal(n)
    context_potential = effectiveness - deviation - model.improvement.leadership_weight * (
        leadership - population.leadership_mean)
    return context_potential, effectiveness, grade.astype(np.int8)


def _inspection_terms(when: pd.Series, latest: pd.Timestamp, grade: np.ndarray,
                      model: ModelParameters, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Term of the latest inspection (before term 0) and of the next.

    Terms since an inspection are counted back from the extract's own date, taken as the
    latest usable inspection date in the file (`latest`), so any extract works with any
    `scenario.start_year` (a label). An unusable date (NaT) is drawn, as the synthetic
    builder draws it, within the grade's interval. A school already overdue is due within
    the first year.
    """
    n = len(grade)
    known = when.notna().to_numpy()
    interval_terms = np.asarray(model.inspection.interval_years_by_grade)[grade - 1] * TERMS_PER_YEAR
    drawn = np.maximum(1, np.floor(rng.random(n) * interval_terms)).astype(np.int32)
    terms_since = drawn
    if known.any():
        # Terms as thirds of a year: the difference in days over 365.25 / 3.
        days = (latest - when).dt.days.to_numpy(dtype=float)
        counted = np.floor(np.nan_to_num(days) / (365.25 / TERMS_PER_YEAR)).astype(np.int32) + 1
        terms_since = np.where(known, counted, drawn)
    last = -terms_since.astype(np.int32)
    due = last + np.round(interval_terms).astype(np.int32)
    overdue = due < 1
    due = np.where(overdue, 1 + np.floor(rng.random(n) * TERMS_PER_YEAR), due).astype(np.int32)
    return last, due


def _trusts(kept: pd.DataFrame, schools: SchoolArrays, trust_sizes: pd.Series,
            scenario: ScenarioParameters, population: GiasPopulation, model: ModelParameters,
            rng: np.random.Generator) -> tuple[TrustArrays, Hubs]:
    """Trusts of the academies: MATs by `Trusts (code)`, hubs at their members."""
    trusts = empty_trusts()
    hubs = Hubs(trust=np.zeros(0, np.int32), x_km=np.zeros(0), y_km=np.zeros(0))
    academy = kept["academy"].to_numpy()
    code = kept["trust_code"].to_numpy(dtype=object)
    # An academy with no trust code is taken to be its own single-academy trust.
    code = np.where(academy & (code == ""), "URN " + kept["urn_number"].astype(str).to_numpy(
        dtype=object), code)
    names = kept["trust_name"].to_numpy(dtype=object)
    # Academies grouped by trust code (codes in sorted order, members in row order).
    rows = np.flatnonzero(academy)
    rows = rows[np.argsort(code[rows].astype(str), kind="stable")]
    codes = code[rows].astype(str)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(rows) else []
    ends = np.r_[starts[1:], len(rows)] if len(rows) else []
    for start, end in zip(starts, ends, strict=True):
        trust_code, members = codes[start], rows[start:end]
        is_mat = int(trust_sizes.get(trust_code, 1)) >= 2
        kind = TrustKind.MULTI_ACADEMY_TRUST if is_mat else TrustKind.SINGLE_ACADEMY_TRUST
        values = new_trust_values(kind, len(members), model, rng, 0, scenario.trust_strength,
                                  trust_id=trusts.n + 1)
        if names[members[0]]:
            values["name"] = names[members[0]]
        row = trusts.append(**values)
        schools.trust[members] = row
        schools.governance[members] = (Governance.MULTI_ACADEMY_TRUST if is_mat
                                       else Governance.SINGLE_ACADEMY_TRUST)
        for hub_school in _hub_schools(members, schools, population.schools_per_hub if is_mat
                                       else len(members)):
            hubs.add(row, schools.x_km[hub_school], schools.y_km[hub_school])
    return trusts, hubs


def _hub_schools(members: np.ndarray, schools: SchoolArrays, schools_per_hub: int) -> list[int]:
    """One hub per `schools_per_hub` members: first the member nearest the members' centre,
    then each time the member furthest from the hubs so far."""
    x, y = schools.x_km[members], schools.y_km[members]
    wanted = max(1, int(np.ceil(len(members) / schools_per_hub)))
    chosen = [int(np.argmin(np.hypot(x - x.mean(), y - y.mean())))]
    nearest = np.hypot(x - x[chosen[0]], y - y[chosen[0]])
    while len(chosen) < wanted:
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, np.hypot(x - x[chosen[-1]], y - y[chosen[-1]]))
    return [int(members[index]) for index in chosen]
