"""What an analyst chooses on the dashboard, and the config overrides it stands for.

A `Choice` is the place (a scenario or a GIAS place), the policy, the values of its main
knobs, the number of seeds and the horizon. `Choice.overrides` turns it into the same
override strings `python -m sim` takes, so a dashboard run is exactly the run the command
line would make (composed and checked by `sim.config.configure`).

The knobs are a few of each lever's declared parameters (`KNOBS`). Their meaning, default
and allowed range are read from the declarations beside each lever's code, so the sliders
never offer a value the config would refuse; a knob may narrow the slider to the sensible
part of a wide declared range (`Knob.slider_high`), never widen it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache

from sim.errors import UserError
from sim.labels import POLICY_NAMES
from sim.policies.local_governance import LocalGovernanceParameters
from sim.policies.mat_contracting import MatContractingParameters
from sim.policies.universal_partnership import UniversalPartnershipParameters

PLACES = {"opportunity_area": "Opportunity Area", "national": "England, scaled down",
          "gias": "A GIAS place"}
POLICIES = tuple(POLICY_NAMES)
BASELINE = "status_quo"
# The levers each policy switches on (configs/policy/*.yaml).
POLICY_LEVERS = {"status_quo": (), "universal_partnership": ("universal_partnership",),
                 "mat_contracting": ("mat_contracting",),
                 "local_governance": ("local_governance",),
                 "combined": ("universal_partnership", "mat_contracting", "local_governance")}
DECLARATIONS = {"universal_partnership": UniversalPartnershipParameters,
                "mat_contracting": MatContractingParameters,
                "local_governance": LocalGovernanceParameters}
# England at a twentieth of its schools (about 1,100) builds and runs 5 years in about a
# second; the slider stops at a tenth so that a run with five seeds stays under a minute.
NATIONAL_SCALES = (0.01, 0.1)


def quoted(text: str, what: str) -> str:
    """Text typed on the page as a quoted value of a Hydra override: one value whatever
    its spaces, commas or quotes. Text holding `${` is refused: Hydra would resolve it as
    an interpolation (an environment variable of the server, say), not read it as text."""
    if "${" in text:
        raise UserError(f"the {what} {text!r} holds '${{', which the config would read as a "
                        f"reference to another value: type the {what} itself")
    if not text.strip():
        raise UserError(f"no {what} given: type one")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class Knob:
    """One lever parameter the dashboard offers, with its declared meaning and range."""

    lever: str
    name: str
    slider_high: float | None = None  # a narrower top for a wide declared range
    step: float = 0.05

    @property
    def key(self) -> str:
        return f"policy.{self.lever}.{self.name}"

    @property
    def declared(self) -> dataclasses.Field:
        return {f.name: f for f in dataclasses.fields(DECLARATIONS[self.lever])}[self.name]

    @property
    def meaning(self) -> str:
        return str(self.declared.metadata["meaning"])

    @property
    def default(self) -> float | int | bool:
        return self.declared.default

    @property
    def kind(self) -> str:
        """"float", "int" or "bool": the declared type (annotations are strings here)."""
        return str(self.declared.type)

    @property
    def low(self) -> float | int:
        return self.as_declared(self.declared.metadata["low"] or 0)

    @property
    def high(self) -> float | int:
        declared = self.declared.metadata["high"] or 1
        return self.as_declared(declared if self.slider_high is None
                                else min(declared, self.slider_high))

    def as_declared(self, value: float | int | bool) -> float | int | bool:
        """A value of the knob's declared type: the config refuses 3.0 for a whole number."""
        return {"bool": bool, "int": int}.get(self.kind, float)(value)

    def override(self, value: float | int | bool) -> str:
        """The override setting the knob to a value, as the command line takes it."""
        value = self.as_declared(value)
        return f"{self.key}={str(value).lower() if isinstance(value, bool) else value}"


# The main knobs of each lever (README, "Comparing policies"): 1-3 a lever.
KNOBS = {
    "universal_partnership": (Knob("universal_partnership", "review_accuracy_gain"),
                              Knob("universal_partnership", "review_days_per_school",
                                   slider_high=20, step=1)),
    "mat_contracting": (Knob("mat_contracting", "contract_length_years", slider_high=6, step=1),
                        Knob("mat_contracting", "target_grades", step=1),
                        Knob("mat_contracting", "contract_giver_taker_threshold",
                             slider_high=6, step=0.5)),
    "local_governance": (Knob("local_governance", "workload_strategy"),
                         Knob("local_governance", "measurement_error_sd", slider_high=1,
                              step=0.05)),
}


@cache
def knobs_of(policy: str) -> tuple[Knob, ...]:
    """The knobs of a policy: those of each lever it switches on."""
    return tuple(knob for lever in POLICY_LEVERS[policy] for knob in KNOBS[lever])


@dataclass(frozen=True)
class Choice:
    """Everything an analyst set before pressing Run."""

    place: str = "opportunity_area"
    policy: str = "universal_partnership"
    knobs: dict[str, float | int | bool] = field(default_factory=dict)  # by config key
    seeds: int = 2
    horizon_years: int = 3
    national_scale: float = 0.02
    gias_path: str = ""
    gias_area: str = ""

    def place_overrides(self) -> list[str]:
        """The overrides that build the place, whatever the policy."""
        if self.place == "national":
            return ["scenario=national", f"scenario.scale={self.national_scale}"]
        if self.place == "gias":
            return ["scenario=opportunity_area", "population=gias",
                    f"population.path={quoted(self.gias_path, 'GIAS file')}",
                    f"population.areas=[{quoted(self.gias_area, 'area')}]"]
        return ["scenario=opportunity_area"]

    def overrides(self, policy: str, seed: int) -> list[str]:
        """The overrides of one run of `policy` (the chosen one or the status quo) with a
        seed: the chosen knobs apply only to the levers the policy switches on."""
        knob_values = [knob.override(self.knobs[knob.key]) for knob in knobs_of(policy)
                       if knob.key in self.knobs]
        return ["output.progress=false", "output.school_panel=false", *self.place_overrides(),
                f"policy={policy}", f"seed={seed}", f"horizon_years={self.horizon_years}",
                *knob_values]

    def title(self) -> str:
        """The choice in words, for the page's headline."""
        place = (f"{self.gias_area} (GIAS)" if self.place == "gias"
                 else f"England at scale {self.national_scale:g}" if self.place == "national"
                 else PLACES[self.place])
        seeds = "1 seed" if self.seeds == 1 else f"{self.seeds} seeds"
        years = "1 year" if self.horizon_years == 1 else f"{self.horizon_years} years"
        against = ("(against itself: every difference is zero)" if self.policy == BASELINE
                   else "against the status quo")
        return f"{POLICY_NAMES[self.policy]} {against}: {place}, {years}, {seeds}"
