"""The run's config as a typed tree: what every key is, its default, its type and range.

A run's config is a tree of frozen dataclasses. The top (`RunConfig`) is declared here;
each branch is declared beside the mechanism that reads it (`ScenarioParameters` in
`sim.scenario`, `SyntheticPopulation` and `GiasPopulation` in `sim.population`,
`PolicyParameters` and its levers in `sim.policies`, the phases' parameters in
`sim.phases` and `sim.mechanics.trusts`, gathered in `ModelParameters` here). What the error
messages know about the keys (every declaration, the nearest name to a typo) is here too;
`sim.config` registers the tree with Hydra and loads a composed config into it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from sim import CONFIG_DIR
from sim.errors import ConfigError
from sim.mechanics.brokering import check_brokering_memory
from sim.mechanics.trusts import TrustParameters
from sim.parameters import (
    REQUIRED,
    Declaration,
    declarations,
    parameter,
)
from sim.phases.capacity import CapacityParameters
from sim.phases.diagnosis import DiagnosisParameters
from sim.phases.improvement import ImprovementParameters
from sim.phases.inspection import InspectionParameters
from sim.phases.structure import StructureParameters
from sim.phases.workforce import WorkforceParameters
from sim.policies.base import PolicyParameters
from sim.policies.local_governance import LocalGovernanceParameters
from sim.policies.mat_contracting import MatContractingParameters
from sim.policies.universal_partnership import UniversalPartnershipParameters
from sim.population.gias import GiasPopulation
from sim.population.synthetic import SyntheticPopulation, check_place
from sim.scenario import ScenarioParameters


@dataclass(frozen=True)
class ModelParameters:
    """The parameters of every mechanism, one block per phase (docs/ODD.md section 7)."""

    workforce: WorkforceParameters = field(default_factory=WorkforceParameters)
    diagnosis: DiagnosisParameters = field(default_factory=DiagnosisParameters)
    capacity: CapacityParameters = field(default_factory=CapacityParameters)
    improvement: ImprovementParameters = field(default_factory=ImprovementParameters)
    inspection: InspectionParameters = field(default_factory=InspectionParameters)
    structure: StructureParameters = field(default_factory=StructureParameters)
    trusts: TrustParameters = field(default_factory=TrustParameters)


@dataclass(frozen=True)
class OutputOptions:
    """What a run writes (not what it simulates: these never change results)."""

    root: str = parameter("results", "folder under which runs and sweeps go when no folder is "
                          "named (relative to where the command is run)", source="the user's")
    school_panel: bool = parameter(True, "write schools.parquet, the yearly panel of every "
                                   "school", source="the user's")
    plots: bool = parameter(True, "draw summary.png", source="the user's")
    progress: bool = parameter(True, "log a line of headline measures after each simulated "
                               "year", source="the user's")


@dataclass(frozen=True)
class SensitivityRow:
    """Set by `python -m sim.sensitivity`: the run takes one row of a sample of parameters."""

    samples: str | None = parameter(None, "CSV file of the sample, one column per parameter "
                                    "(null: not part of a sample)", source="sim.sensitivity")
    index: int | None = parameter(
        None, "row of the sample this run takes", source="sim.sensitivity", low=0,
        high=1_000_000_000, why="natural: a row of a sample file")


@dataclass(frozen=True)
class ParameterUncertainty:
    """Added by `+uncertainty=plausible`: the run takes one parameter set of a calibration
    study's plausible set (`sim.parameter_sets` chooses and applies it)."""

    plausible_sets: str = parameter(
        "configs/calibration/england_plausible.csv",
        "CSV of a calibration study's plausible parameter sets (the plausible.csv of python "
        "-m sim.calibrate fit): a column per free parameter, named by its key under model; "
        "a relative path is looked for in the working folder, then in the project's",
        source="python -m sim.calibrate fit")
    study: str = parameter(
        "configs/calibration/england.yaml",
        "the study's declaration of its free parameters and their prior ranges (looked for "
        "as plausible_sets is)", source="python -m sim.calibrate fit")
    sets: int = parameter(
        10, "how many plausible sets a sweep runs (K): the first K in a fixed space-filling "
        "order, so that a larger K keeps the sets of a smaller one",
        source="judgement: enough sets to see whether a sign holds, at ten times the runs",
        low=1, high=10_000, why="natural: a count of sets; at most the table's rows")
    parameter_set: int = parameter(
        0, "which of the K sets this run takes (0 to sets - 1): the sweep over range(sets) "
        "that +uncertainty=plausible adds; a single run takes set 0 unless told",
        source="the user's", low=0, high=9_999, why="natural: an index below sets")


@dataclass(frozen=True)
class RunConfig:
    """Everything one run needs; `python -m sim --cfg job` prints it."""

    seed: int = parameter(
        0,
        "seed of every random stream; the same config and seed give "
                          "identical files",
        source="the user's", low=0, high=4_294_967_295,
        why="natural: numpy seeds, kept to 32 bits for portability")
    horizon_years: int | None = parameter(
        None,
        "years to simulate; null uses the scenario's "
                                          "own horizon",
        source="the user's", low=1, high=100, why="judgement: a year to a century (default 5-10)")
    sensitivity: SensitivityRow = field(default_factory=SensitivityRow)
    output: OutputOptions = field(default_factory=OutputOptions)
    scenario: Any = REQUIRED  # ScenarioParameters, from the scenario group
    population: Any = REQUIRED  # SyntheticPopulation or GiasPopulation, from the population group
    policy: Any = REQUIRED  # PolicyParameters, from the policy group
    model: Any = REQUIRED  # ModelParameters, from the model group
    # ParameterUncertainty with +uncertainty=plausible, else None (and left out of the
    # run's config.yaml, so runs without it are as they were: see sim.config.to_dict).
    uncertainty: Any = None

    def check(self) -> None:
        """Rules across groups: a synthetic place's trusts must be able to hold its schools."""
        if isinstance(self.population, SyntheticPopulation) and not isinstance(
                self.population, GiasPopulation):
            check_place(self.scenario)
            check_brokering_memory(self)

    @property
    def horizon(self) -> int:
        """Years this run simulates."""
        return int(self.horizon_years or self.scenario.horizon_years)


# The schema of each config group, and of each policy lever.
GROUP_SCHEMAS: dict[str, tuple[type, ...]] = {
    "scenario": (ScenarioParameters,),
    "population": (SyntheticPopulation, GiasPopulation),
    "policy": (PolicyParameters,),
    "model": (ModelParameters,),
}
LEVERS: dict[str, type] = {
    "universal_partnership": UniversalPartnershipParameters,
    "mat_contracting": MatContractingParameters,
    "local_governance": LocalGovernanceParameters,
}
POPULATIONS = {"synthetic": SyntheticPopulation, "gias": GiasPopulation}
GROUPS = ("scenario", "population", "policy", "model", "experiment")
# Groups with no option in configs/config.yaml's defaults: added with a +, as in
# `+uncertainty=plausible`.
ADDED_GROUPS = ("uncertainty",)


# -- what the error messages know about parameters -------------------------------------


def all_declarations() -> list[Declaration]:
    """Every parameter of every option, with its full dotted key."""
    found = list(declarations(RunConfig))
    for group, schemas in GROUP_SCHEMAS.items():
        for schema in schemas:
            found.extend(declarations(schema, f"{group}."))
    for name, lever in LEVERS.items():
        found.extend(declarations(lever, f"policy.{name}."))
    found.extend(declarations(ParameterUncertainty, "uncertainty."))
    unique = {}
    for declaration in found:
        unique.setdefault(declaration.key, declaration)
    return list(unique.values())


def options_declaring(key: str) -> list[str]:
    """The options of a key's group that declare it (population and policy levers)."""
    group, _, rest = key.partition(".")
    if group == "population":
        return [name for name, schema in POPULATIONS.items()
                if any(d.key == rest for d in declarations(schema))]
    lever = rest.split(".")[0]
    if group == "policy" and lever in LEVERS:
        return [path.stem for path in sorted((CONFIG_DIR / "policy").glob("*.yaml"))
                if f"/schema/lever/{lever}@" in path.read_text(encoding="utf-8")]
    return []


def unknown_key(key: str) -> ConfigError:
    """'unknown parameter' with the nearest declared name, if there is one."""
    keys = [d.key for d in all_declarations()]
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
    if not close:  # a near match on the last part of the name, e.g. a misspelt leaf
        ends = {name.rsplit(".", 1)[-1]: name for name in keys}
        near = difflib.get_close_matches(key.rsplit(".", 1)[-1], ends, n=1, cutoff=0.75)
        close = [ends[near[0]]] if near else []
    hint = f"; did you mean '{close[0]}'?" if close else ""
    group = difflib.get_close_matches(key, GROUPS, n=1, cutoff=0.75) if "." not in key else []
    if group:
        hint = f"; did you mean the config group {group[0]} ({group[0]}=NAME)?"
    return ConfigError(f"unknown parameter '{key}'{hint} (list them all with "
                       f"`python -m sim --cfg job`)")
