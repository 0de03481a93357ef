"""Human names, units and fixed colours for what the figures and tables show.

One place for them, so that a policy has the same name and colour in every figure of a
run, a comparison, a sensitivity analysis and (later) the report page. Identifiers stay
the keys of the files; these are only what a reader sees.

Colours are the Okabe-Ito palette (Okabe and Ito 2008, "Color universal design"), which
stays distinguishable under the common forms of colour blindness; the status quo is black,
because it is the reference every other option is read against.
"""

from __future__ import annotations

POLICY_NAMES = {
    "status_quo": "Status quo",
    "universal_partnership": "Universal partnership",
    "mat_contracting": "MAT contracting",
    "local_governance": "Local governance",
    "combined": "All three levers",
}

POLICY_COLOURS = {
    "status_quo": "#000000",
    "universal_partnership": "#0072B2",  # blue
    "mat_contracting": "#E69F00",  # orange
    "local_governance": "#009E73",  # bluish green
    "combined": "#CC79A7",  # reddish purple
}
# For policies of a user's own: the rest of the palette, then grey.
SPARE_COLOURS = ("#56B4E9", "#D55E00", "#F0E442")

SCENARIO_NAMES = {"opportunity_area": "Opportunity Area", "national": "England"}

# Headline measure -> (name, unit of a difference of it, scale from the stored value to
# that unit). A difference of two shares or rates is in percentage points, never in %.
MEASURE_NAMES = {
    "good_or_better_change": ("Good-or-better share", "percentage points", 100.0),
    # least minus most disadvantaged fifth (by FSM share) of schools good or better
    "good_or_better_gap_final": ("Disadvantage gap in good-or-better share", "percentage points",
                                 100.0),
    "teacher_leaving_rate_mean": ("Teacher leaving rate (per year)", "percentage points", 100.0),
    "orphan_terms": ("Orphan-school terms", "school-terms", 1.0),
    "spending_total_gbp": ("Spending", "£ million", 1e-6),
    "grades_gained": ("Net grades gained at inspections", "grades", 1.0),
    "schools_moved_to_good": ("Schools moved to good or better", "schools", 1.0),
}


def policy_name(policy: str) -> str:
    """A policy's name for a reader: 'universal_partnership' -> 'Universal partnership'."""
    return POLICY_NAMES.get(policy, policy.replace("_", " ").capitalize())


def policy_colour(policy: str, others: list[str] | tuple[str, ...] = ()) -> str:
    """A policy's fixed colour; a policy not in `POLICY_COLOURS` takes a spare colour by its
    place among `others` (the unknown policies of the figure, in a fixed order)."""
    if policy in POLICY_COLOURS:
        return POLICY_COLOURS[policy]
    unknown = [name for name in others if name not in POLICY_COLOURS]
    index = unknown.index(policy) if policy in unknown else len(unknown)
    return SPARE_COLOURS[index] if index < len(SPARE_COLOURS) else "#999999"


def scenario_name(scenario: str) -> str:
    """A scenario's name for a reader: 'opportunity_area' -> 'Opportunity Area'."""
    return SCENARIO_NAMES.get(scenario, scenario.replace("_", " ").title())


def measure_name(measure: str) -> tuple[str, str, float]:
    """A headline measure's name, the unit of a difference of it, and the scale to that
    unit: 'good_or_better_change' -> ('Good-or-better share', 'percentage points', 100)."""
    return MEASURE_NAMES.get(measure, (measure.replace("_", " ").capitalize(), "", 1.0))
