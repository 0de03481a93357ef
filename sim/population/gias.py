"""Build a population from a Get Information about Schools (GIAS) extract.

GIAS publishes every establishment in England as one CSV, "all establishment data"
(`edubasealldataYYYYMMDD.csv`, about 50,000 rows, open and closed). This builder reads the
columns below, keeps the open state-funded schools of the chosen areas, and draws what GIAS
does not hold (heads, self-assessment, behaviour, the latent effectiveness behind each
grade) as the synthetic builder does. docs/ODD.md section 5 has the mapping and every
imputation rule; each imputation and each dropped row is counted, logged, and written to
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

import difflib
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtr, ndtri

from sim import CONFIG_DIR
from sim.parameters import ConfigError, parameter
from sim.population.synthetic import (
    SyntheticPopulation,
    beta_from_mean_sd,
    draw_behaviour_and_buy_in,
    draw_staff,
    empty_trusts,
    form_partnership_clusters,
    grade_from_effectiveness,
    new_schools,
    new_trust_values,
)
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

log = logging.getLogger("sim")

DOWNLOAD = "https://get-information-schools.service.gov.uk/Downloads"
OPPORTUNITY_AREAS_FILE = CONFIG_DIR / "opportunity_areas.yaml"

COLUMNS = {
    "urn": "URN",
    "name": "EstablishmentName",
    "status": "EstablishmentStatus (name)",
    "type_group": "EstablishmentTypeGroup (name)",
    "type": "TypeOfEstablishment (name)",
    "phase": "PhaseOfEducation (name)",
    "easting": "Easting",
    "northing": "Northing",
    "local_authority": "LA (name)",
    "district": "DistrictAdministrative (name)",
    "trust_code": "Trusts (code)",
    "trust_name": "Trusts (name)",
    "pupils": "NumberOfPupils",
    "fsm_percent": "PercentageFSM",
    "ofsted_rating": "OfstedRating (name)",
    "ofsted_date": "OfstedLastInsp",
}

OPEN = {"open", "open, but proposed to close"}
# Establishment type groups of state-funded schools; within them, types that are not.
STATE_FUNDED_GROUPS = {"academies", "free schools", "local authority maintained schools",
                       "special schools"}
NOT_STATE_FUNDED_TYPES = {"non-maintained special school"}
ACADEMY_GROUPS = {"academies", "free schools"}
PHASES = {"primary": Phase.PRIMARY, "middle deemed primary": Phase.PRIMARY,
          "secondary": Phase.SECONDARY, "middle deemed secondary": Phase.SECONDARY,
          "all-through": Phase.SECONDARY, "16 plus": Phase.SECONDARY}
GRADES = {"outstanding": 1, "good": 2, "requires improvement": 3, "inadequate": 4,
          "serious weaknesses": 4, "special measures": 4}


@dataclass
class Report:
    """What the loader kept, dropped and imputed; logged and written to summary.json."""

    source: str
    rows_read: int
    areas: list[str]
    rows_in_areas: int = 0
    schools: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"builder": "gias", "source": self.source, "rows_read": self.rows_read,
                "areas": self.areas, "rows_in_areas": self.rows_in_areas,
                "schools": self.schools, "dropped": self.dropped, "imputed": self.imputed}


# -- reading ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GiasPopulation(SyntheticPopulation):
    """Real schools from a GIAS extract; what GIAS does not hold is drawn as for a synthetic
    population, with the values inherited from `SyntheticPopulation` (the placement and
    trust-forming ones are unused)."""

    name: str = parameter("gias", "builder of the population (the option's own name)",
                          source="the option", name=True)
    path: str | None = parameter(
        None, "the GIAS extract, edubasealldataYYYYMMDD.csv (Windows-1252 or UTF-8), relative "
        "to where the command is run", source="the user's")
    areas: list[str] = parameter(
        [], "local authorities (LA (name)), districts (DistrictAdministrative (name)) or "
        "Opportunity Areas (configs/opportunity_areas.yaml), any case; [] takes every school",
        source="the user's")

    def check(self) -> None:
        # The file itself is read by the builder; here only whether there is one, so that
        # a run stops before it starts.
        check_path(self.path)



def check_path(path: str | Path | None) -> Path:
    """The extract's path, if it names a file; ConfigError otherwise."""
    if path is None or not str(path).strip():
        raise ConfigError(f"population.path is not set: give a GIAS extract with "
                          f"population.path=PATH (download edubasealldataYYYYMMDD.csv from "
                          f"{DOWNLOAD})")
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigError(f"population.path: no such file '{path}'")
    if not path.is_file():
        raise ConfigError(f"population.path: '{path}' is not a file")
    return path


def read_extract(path: str | Path | None) -> pd.DataFrame:
    """The GIAS columns the model uses, as text ("" where blank), one row per establishment."""
    path = check_path(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise ConfigError(f"population.path: '{path}' is empty; it should be a GIAS extract")
    if b"\x00" in raw[:65536]:
        raise ConfigError(f"population.path: '{path}' is not a CSV file (it holds binary "
                          f"data; a GIAS extract is CSV text)")
    text = _decode(raw, path)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            usecols=lambda column: column in COLUMNS.values())
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise ConfigError(f"population.path: '{path}' is not a CSV file ({first_line})") from error
    missing = [column for column in COLUMNS.values() if column not in frame.columns]
    if missing:
        raise ConfigError(f"population.path: '{path}' lacks the GIAS columns "
                          f"{', '.join(repr(column) for column in missing)}; is it an "
                          f"'all establishment data' extract ({DOWNLOAD})?")
    frame = frame.rename(columns={csv: name for name, csv in COLUMNS.items()})
    return frame.apply(lambda column: column.str.strip())


def _decode(raw: bytes, path: Path) -> str:
    """GIAS files are Windows-1252; UTF-8 copies (with or without a byte-order mark) circulate."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise ConfigError(f"population.path: '{path}' is not a CSV file in Windows-1252 or "
                          f"UTF-8 (byte {error.start} cannot be read)") from error


# -- choosing rows ---------------------------------------------------------------------

def opportunity_areas() -> dict[str, list[str]]:
    """Each Opportunity Area's local authority or district names (configs/opportunity_areas.yaml)."""
    return yaml.safe_load(OPPORTUNITY_AREAS_FILE.read_text())["opportunity_areas"]


def resolve_areas(areas: list[str]) -> list[str]:
    """Area names with each Opportunity Area replaced by its local authorities or districts."""
    by_name = {name.casefold(): members for name, members in opportunity_areas().items()}
    resolved: list[str] = []
    for area in areas:
        resolved.extend(by_name.get(str(area).strip().casefold(), [str(area).strip()]))
    return resolved


def select_areas(frame: pd.DataFrame, areas: list[str], path: str) -> pd.DataFrame:
    """The rows whose local authority or district is one of `areas` (all rows if none)."""
    if not areas:
        return frame
    local_authority = frame["local_authority"].str.casefold()
    district = frame["district"].str.casefold()
    chosen = np.zeros(len(frame), bool)
    groups = opportunity_areas()
    for area in areas:
        names = [name.casefold() for name in resolve_areas([area])]
        matches = (local_authority.isin(names) | district.isin(names)).to_numpy()
        if not matches.any():
            known = sorted(set(frame["local_authority"]) | set(frame["district"]) | set(groups)
                           - {""})
            near = difflib.get_close_matches(str(area), known, n=3, cutoff=0.6)
            if not near:  # case-insensitive near matches
                folded = {name.casefold(): name for name in known}
                near = [folded[name] for name in difflib.get_close_matches(
                    str(area).casefold(), list(folded), n=3, cutoff=0.6)]
            hint = f"; did you mean {' or '.join(repr(name) for name in near)}?" if near else (
                "; areas are local authority (LA (name)) or district "
                "(DistrictAdministrative (name)) names, or Opportunity Areas")
            raise ConfigError(f"population.areas: '{area}' matches no local authority or "
                              f"district in '{path}'{hint}")
        chosen |= matches
    return frame[chosen]


def usable(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's model phase (or -1), and why a row cannot be used ("" if it can)."""
    status = frame["status"].str.casefold()
    group = frame["type_group"].str.casefold()
    kind = frame["type"].str.casefold()
    phase = frame["phase"].str.casefold().map(PHASES).fillna(-1).astype(int)
    special = kind.str.contains("special", regex=False)
    alternative = kind.str.contains("alternative provision", regex=False) | (
        kind == "pupil referral unit")
    phase = phase.mask(special, int(Phase.SPECIAL)).mask(alternative,
                                                         int(Phase.ALTERNATIVE_PROVISION))
    reason = pd.Series("", index=frame.index).mask(phase < 0, "no phase the model covers")
    reason = reason.mask(~group.isin(STATE_FUNDED_GROUPS) | kind.isin(NOT_STATE_FUNDED_TYPES),
                         "not state-funded")
    reason = reason.mask(~status.isin(OPEN), "not open")
    return phase, reason


# -- building --------------------------------------------------------------------------

def build_gias_population(
    scenario: SimpleNamespace,
    population: SimpleNamespace,
    model: SimpleNamespace,
    rng: np.random.Generator,
) -> Population:
    """Build schools, trusts, hubs and peer clusters from a GIAS extract."""
    frame = read_extract(population.path)
    path = str(population.path)
    report = Report(source=Path(path).name, rows_read=len(frame), areas=list(population.areas))
    phase_everywhere, reason_everywhere = usable(frame)
    in_areas = select_areas(frame, list(population.areas), path)
    report.rows_in_areas = len(in_areas)
    phase, reason = phase_everywhere[in_areas.index], reason_everywhere[in_areas.index]
    report.dropped = {str(why): int(count)
                      for why, count in reason[reason != ""].value_counts().sort_index().items()}
    if (reason == "").sum() == 0:
        dropped = ", ".join(f"{why} {count}" for why, count in report.dropped.items())
        where = ", ".join(population.areas) if population.areas else "the file"
        raise ConfigError(f"population.areas: {where} has {len(in_areas)} establishments in "
                          f"'{path}' but no open state-funded school the model covers "
                          f"({dropped})")
    kept = in_areas[reason == ""].reset_index(drop=True)
    phase = phase[reason == ""].to_numpy().astype(np.int8)
    # A trust's kind comes from its size across the whole file, not only the chosen areas.
    academies_everywhere = frame[(reason_everywhere == "")
                                 & frame["type_group"].str.casefold().isin(ACADEMY_GROUPS)]
    trust_sizes = academies_everywhere["trust_code"][academies_everywhere["trust_code"] != ""] \
        .value_counts()
    population_built = _build(kept, phase, trust_sizes, scenario, population, model, rng, report)
    report.schools = population_built.schools.n
    _log(report)
    population_built.report = report.as_dict()
    return population_built


def _number(column: pd.Series) -> np.ndarray:
    return np.array(pd.to_numeric(column, errors="coerce"), dtype=float)


def _fill_by_group(values: np.ndarray, groups: list[np.ndarray], fallback: float,
                   statistic: str = "mean") -> tuple[np.ndarray, int]:
    """Fill NaNs with the statistic of the first group (finest first) that has values."""
    missing = np.isnan(values)
    count = int(missing.sum())
    filled = values.copy()
    for group in groups:
        if not np.isnan(filled).any():
            break
        table = pd.Series(values).groupby(group).agg(statistic)
        fill = pd.Series(group).map(table).to_numpy(dtype=float)
        filled = np.where(np.isnan(filled), fill, filled)
    return np.where(np.isnan(filled), fallback, filled), count


def _build(kept: pd.DataFrame, phase: np.ndarray, trust_sizes: pd.Series,
           scenario: SimpleNamespace, population: SimpleNamespace, model: SimpleNamespace,
           rng: np.random.Generator, report: Report) -> Population:
    n = len(kept)
    imputed = report.imputed
    area_names = sorted(set(kept["local_authority"]))
    area = np.searchsorted(area_names, kept["local_authority"].to_numpy()).astype(np.int32)

    # Location: a blank or zero grid reference takes its local authority's mean location,
    # or the chosen areas' if none of the authority's schools has one.
    easting, northing = _number(kept["easting"]), _number(kept["northing"])
    no_location = ~(easting > 0) | ~(northing > 0)
    easting[no_location] = northing[no_location] = np.nan
    everywhere = np.zeros(n, np.int64)
    easting, imputed["location"] = _fill_by_group(easting, [area, everywhere], 0.0)
    northing, _ = _fill_by_group(northing, [area, everywhere], 0.0)
    x_km, y_km = easting / 1000.0, northing / 1000.0

    # Pupils: blank or zero takes the median of its phase in its local authority, then
    # in the areas chosen, then the synthetic builder's mean for the phase.
    pupils = _number(kept["pupils"])
    pupils[~(pupils > 0)] = np.nan
    by_phase = np.asarray(population.pupils_mean, float)[phase]
    pupils, imputed["pupils"] = _fill_by_group(pupils, [area * 4 + phase, phase], np.nan, "median")
    pupils = np.where(np.isnan(pupils), by_phase, np.maximum(pupils, 1)).astype(np.int32)
    establishment = np.maximum(
        2, np.round(pupils / np.asarray(population.pupil_teacher_ratio)[phase])).astype(np.int32)

    # Disadvantage: blank FSM takes the mean of its phase in its local authority, then of
    # its phase in the areas chosen, then the scenario's mean.
    fsm = _number(kept["fsm_percent"]) / 100.0
    fsm[(fsm < 0) | (fsm > 1)] = np.nan
    fsm, imputed["fsm_share"] = _fill_by_group(fsm, [area * 4 + phase, phase], scenario.fsm_mean)
    fsm = np.clip(fsm, 0.0, 1.0)

    # Heads, self-assessment and the latent effectiveness behind each grade.
    leadership = beta_from_mean_sd(population.leadership_mean, population.leadership_sd, n, rng)
    accuracy = beta_from_mean_sd(population.self_assessment_accuracy_mean, 0.15, n, rng)
    grade_seen = kept["ofsted_rating"].str.casefold().map(GRADES).fillna(0).to_numpy().astype(int)
    imputed["ofsted_rating"] = int((grade_seen == 0).sum())
    context_potential, effectiveness, grade = _effectiveness(
        phase, fsm, leadership, grade_seen, scenario, population, model, rng)
    inspection = model.inspection
    previous_grade = grade_from_effectiveness(
        effectiveness + rng.normal(0, 1, n) * population.deviation_sd * 0.9
        + rng.normal(0, inspection.noise_sd, n), inspection.cut_points)
    last_inspection_term, inspection_due_term, imputed["inspection_date"] = _inspection_terms(
        kept["ofsted_date"], grade, model, rng)
    behaviour, buy_in = draw_behaviour_and_buy_in(effectiveness, population, rng)
    teachers, ect1, ect2 = draw_staff(establishment, population, rng)

    schools = new_schools(
        rng,
        urn=pd.to_numeric(kept["urn"], errors="coerce").fillna(0).to_numpy(np.int64),
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
    trusts, hubs = _trusts(kept, schools, trust_sizes, scenario, population, model, rng, report)
    clusters = form_partnership_clusters(schools, population, rng)
    centres_x = np.bincount(area, weights=x_km, minlength=len(area_names)) / np.bincount(
        area, minlength=len(area_names))
    centres_y = np.bincount(area, weights=y_km, minlength=len(area_names)) / np.bincount(
        area, minlength=len(area_names))
    return Population(schools=schools, trusts=trusts, hubs=hubs,
                      local_authority_names=area_names, local_authority_x_km=centres_x,
                      local_authority_y_km=centres_y, partnership_clusters=clusters)


def _effectiveness(phase: np.ndarray, fsm: np.ndarray, leadership: np.ndarray,
                   grade_seen: np.ndarray, scenario: SimpleNamespace,
                   population: SimpleNamespace, model: SimpleNamespace,
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


def _inspection_terms(dates: pd.Series, grade: np.ndarray, model: SimpleNamespace,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """Term of the latest inspection (before term 0) and of the next, and how many dates
    were imputed.

    Terms since an inspection are counted back from the extract's own date, taken as its
    latest inspection date, so any extract works with any `scenario.start_year` (a label).
    A missing or unreadable date is drawn, as the synthetic builder draws it, within the
    grade's interval. A school already overdue is due within the first year.
    """
    n = len(grade)
    when = pd.to_datetime(dates, format="%d-%m-%Y", errors="coerce")
    known = when.notna().to_numpy()
    interval_terms = np.asarray(model.inspection.interval_years_by_grade)[grade - 1] * TERMS_PER_YEAR
    drawn = np.maximum(1, np.floor(rng.random(n) * interval_terms)).astype(np.int32)
    terms_since = drawn
    if known.any():
        latest = when[known].max()
        # Terms as thirds of a year: the difference in days over 365.25 / 3.
        days = (latest - when).dt.days.to_numpy(dtype=float)
        counted = np.floor(np.nan_to_num(days) / (365.25 / TERMS_PER_YEAR)).astype(np.int32) + 1
        terms_since = np.where(known, counted, drawn)
    last = -terms_since.astype(np.int32)
    due = last + np.round(interval_terms).astype(np.int32)
    overdue = due < 1
    due = np.where(overdue, 1 + np.floor(rng.random(n) * TERMS_PER_YEAR), due).astype(np.int32)
    return last, due, int((~known).sum())


def _trusts(kept: pd.DataFrame, schools: SchoolArrays, trust_sizes: pd.Series,
            scenario: SimpleNamespace, population: SimpleNamespace, model: SimpleNamespace,
            rng: np.random.Generator, report: Report) -> tuple[TrustArrays, Hubs]:
    """Trusts of the academies: MATs by `Trusts (code)`, hubs at their members."""
    trusts = empty_trusts()
    hubs = Hubs(trust=np.zeros(0, np.int32), x_km=np.zeros(0), y_km=np.zeros(0))
    academy = kept["type_group"].str.casefold().isin(ACADEMY_GROUPS).to_numpy()
    code = kept["trust_code"].to_numpy(dtype=object)
    no_code = academy & (code == "")
    report.imputed["academy_trust"] = int(no_code.sum())
    # An academy with no trust code is taken to be its own single-academy trust.
    code = np.where(no_code, "URN " + kept["urn"].to_numpy(dtype=object), code)
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


def _log(report: Report) -> None:
    dropped = ", ".join(f"{why} {count}" for why, count in report.dropped.items()) or "none"
    imputed = ", ".join(f"{what} {count}" for what, count in report.imputed.items() if count) \
        or "nothing"
    where = ", ".join(report.areas) if report.areas else "all areas"
    log.info("GIAS %s: %d rows, %d in %s, %d schools used; dropped: %s; imputed: %s",
             report.source, report.rows_read, report.rows_in_areas, where, report.schools,
             dropped, imputed)
