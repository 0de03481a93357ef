"""What a reader sees of a comparison's groups: their names and their fixed colours.

Every figure of a comparison takes its names and colours from here, so that a policy has
one colour and one name in all of them (and the same as in a run's figures: policies'
come from `sim.labels`). Groups that are not policies (a parameter's values, scenarios,
horizons) have the baseline in black, as the status quo is, and the other values the
Okabe-Ito colours in the group's order.
"""

from __future__ import annotations

import re

from sim.compare.information import BETTER
from sim.compare.pairing import Comparison
from sim.labels import POLICY_COLOURS, SPARE_COLOURS, policy_colour, policy_name, scenario_name

# The colours of non-policy groups, after the baseline's black: the policies' palette, so
# that a figure of either kind looks alike.
GROUP_COLOURS = tuple(c for c in POLICY_COLOURS.values() if c != "#000000") + SPARE_COLOURS
OTHER_COLOUR = "#999999"  # beyond the palette: grey
BASELINE_COLOUR = "#000000"

# Short names of the parameters that experiments sweep; any other is named from its key.
PARAMETER_NAMES = {
    "model.trusts.giver_taker_threshold": "Trusts' giver:taker threshold",
    "model.trusts.hub_radius_km": "Trusts' hub radius (km)",
    "model.trusts.prescriptiveness_mean": "Trusts' mean prescriptiveness",
    "scenario.teacher_supply": "Teacher supply (applicants per post)",
    "scenario.improvement_budget_gbp_per_year": "Improvement budget (£ a year)",
    "policy.mat_contracting.contract_length_years": "MAT contract length (years)",
    "policy.mat_contracting.target_grades": "MAT contract target (grades)",
    "uncertainty.parameter_set": "Plausible parameter set",
    "horizon_years": "Horizon (years)",
}
UNITS = {"km": "km", "years": "years", "gbp": "£", "terms": "terms"}


def parameter_name(key: str) -> str:
    """A setting's name for a reader: from `PARAMETER_NAMES`, else from the last part of its
    dotted key with its unit in brackets ('model.improvement.shock_sd' -> 'Shock sd')."""
    if key in PARAMETER_NAMES:
        return PARAMETER_NAMES[key]
    words = key.rsplit(".", 1)[-1].split("_")
    unit = UNITS.get(words[-1]) if len(words) > 1 else None
    text = " ".join(words[:-1] if unit else words).capitalize()
    text = re.sub(r"\bmat\b", "MAT", text)
    return f"{text} ({unit})" if unit else text


def group_title(comparison: Comparison) -> str:
    """What the groups are, for a legend's title: 'Policy', or the parameter's name."""
    return {"policy": "Policy", "scenario": "Scenario"}.get(comparison.group,
                                                           parameter_name(comparison.group))


def group_name(comparison: Comparison, value: str) -> str:
    """A group value for a reader: a policy's or scenario's name, else the value itself."""
    if comparison.group == "policy":
        return policy_name(value)
    if comparison.group == "scenario":
        return scenario_name(value)
    return value


def baseline_name(comparison: Comparison) -> str:
    """The baseline as a title names it: 'the status quo', or 'threshold = 3'."""
    if comparison.baseline is None:
        return ""
    if comparison.group in ("policy", "scenario"):
        name = group_name(comparison, comparison.baseline)
        return "the status quo" if comparison.baseline == "status_quo" else name
    return f"{parameter_name(comparison.group)} = {comparison.baseline}"


def in_a_sentence(name: str) -> str:
    """A name inside a sentence: its first letter lower-case, unless it starts an
    abbreviation ('Teacher supply' -> 'teacher supply', 'MAT contract' stays)."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


def paired_by(comparison: Comparison) -> str:
    """What pairs runs, in words: 'seed', 'seed and parameter set', 'seed and teacher
    supply (applicants per post)'."""
    if "uncertainty.parameter_set" in comparison.keys:  # its free parameters change with it
        return "seed and parameter set"
    keys = [("parameter set" if key == "uncertainty.parameter_set" else
             "policy" if key == "policy" else in_a_sentence(parameter_name(key)))
            for key in comparison.keys]
    return " and ".join([", ".join(keys[:-1]), keys[-1]] if len(keys) > 1 else keys)


def shown_order(comparison: Comparison) -> list[str]:
    """The group values in the order figures list them: the baseline first, set apart as
    the reference, then the others in the comparison's order."""
    return sorted(comparison.order, key=lambda name: name != comparison.baseline)


def titled(label: str, measure: str) -> str:
    """A panel's title: the measure's name, and under it which way is better for a measure
    that has a better direction (`sim.compare.information.BETTER`; not spending, a cost)."""
    if measure == "spending_total_gbp" or measure not in BETTER:
        return label
    return f"{label}\n{'higher' if BETTER[measure] > 0 else 'lower'} is better"


def group_colours(comparison: Comparison) -> dict[str, str]:
    """Each group value's colour: a policy's own fixed colour (`sim.labels.policy_colour`),
    else the baseline black and the others the palette in order."""
    if comparison.group == "policy":
        return {name: policy_colour(name, comparison.order) for name in comparison.order}
    colours, others = {}, iter(GROUP_COLOURS)
    for name in comparison.order:
        colours[name] = (BASELINE_COLOUR if name == comparison.baseline
                         else next(others, OTHER_COLOUR))
    return colours
