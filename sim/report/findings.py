"""What the page says: headline outcomes, the key message, what drives the result, caveats.

Every sentence is worked out from the run's or comparison's files; none is written in
advance. The disadvantage gap is the difference in good-or-better share (percentage points)
between the schools in the most and the least disadvantaged fifth by FSM share, as the
run figure shows it. A single run has no counterfactual, so its cost per school moved to
good is an average (all spending over the schools moved), labelled so; a comparison's is
the incremental ratio of `sim.compare`'s cost_effectiveness.csv, with its interval and
dominance verdict.

"What drives the result" names, for a run, the two or three of the model's mechanisms
whose measures stand furthest outside England's published bands
(sim/calibration_targets.yaml) in this place: that is where this area differs from the
system the model was calibrated on. For a comparison it names, for each option with a
measurable effect (its 90% interval excludes zero), the mechanism the option works through
(docs/ODD.md section 7.8) and its largest effects, and the parameter each verdict depends
on most where robustness.csv has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compare.style import parameter_name
from sim.labels import policy_name, scenario_name
from sim.report.sources import Comparison, Run

# Each policy's channel in the model (docs/ODD.md section 7.8), in a reader's words.
MECHANISMS = {
    "universal_partnership": "peer clusters, whose yearly reviews sharpen schools' "
                             "self-assessment and add peer support",
    "mat_contracting": "fixed-term contracts that let proven MATs support weak schools with "
                       "looser due diligence",
    "local_governance": "a local measuring system that targets support at need and raises "
                        "buy-in, at some cost in workload",
    "combined": "peer clusters, MAT contracts and a local measuring system together",
}

# Headline differences of a comparison: summary measure -> (label, scale, unit).
DIFFERENCES = {
    "good_or_better_change": ("Good or better", 100, "points"),
    "good_or_better_gap_final": ("Disadvantage gap at the end", 100, "points"),
    "teacher_leaving_rate_mean": ("Teachers leaving a year", 100, "points"),
    "orphan_terms": ("Waiting for a sponsor", 1, "school-terms"),
    "spending_total_gbp": ("Extra spending", 1, "£"),
}


@dataclass
class Line:
    """A row of the headline table."""

    measure: str
    value: str
    detail: str = ""


def pounds(value: float) -> str:
    """£1.83m, £815k, £950."""
    if not np.isfinite(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e6:
        return f"{sign}£{value / 1e6:.2f}m"
    if value >= 1e3:
        return f"{sign}£{value / 1e3:.0f}k"
    return f"{sign}£{value:.0f}"


def _points(share: float) -> str:
    return f"{100 * share:.1f}%"


def disadvantage_gap_points(panel: pd.DataFrame, year: int) -> float:
    """Good-or-better share of the least minus the most disadvantaged fifth, in points."""
    schools = panel[panel["year"] == year]
    low, high = schools["fsm_share"].quantile([0.2, 0.8])
    good = schools["grade"] <= 2
    least, most = good[schools["fsm_share"] <= low], good[schools["fsm_share"] >= high]
    return 100 * (float(least.mean()) - float(most.mean()))


def run_headlines(run: Run) -> list[Line]:
    s, series = run.summary, run.timeseries
    years = int(s.get("horizon_years", 0))
    lines = [Line("Good or better",
                  f"{_points(float(s['good_or_better_start']))} → "
                  f"{_points(float(s['good_or_better_final']))}",
                  f"{100 * float(s['good_or_better_change']):+.1f} points over {years} "
                  f"year{'s' if years != 1 else ''}")]
    if "good_or_better_gap_final" in s:
        lines.append(Line("Disadvantage gap in good or better",
                          f"{100 * float(s['good_or_better_gap_start']):.0f} → "
                          f"{100 * float(s['good_or_better_gap_final']):.0f} points",
                          "least minus most disadvantaged fifth of schools (FSM)"))
    elif run.panel is not None and "fsm_share" in run.panel:  # runs of earlier versions
        first, last = int(run.panel["year"].min()), int(run.panel["year"].max())
        lines.append(Line("Disadvantage gap in good or better",
                          f"{disadvantage_gap_points(run.panel, first):.0f} → "
                          f"{disadvantage_gap_points(run.panel, last):.0f} points",
                          "least minus most disadvantaged fifth of schools (FSM)"))
    lines.append(Line("Teachers leaving", f"{100 * float(s['teacher_leaving_rate_mean']):.1f}% a year",
                      "England: 8-10% (School Workforce Census)"))
    lines.append(Line("Schools waiting for a sponsor", f"{int(s['orphans_final'])} at the end",
                      f"{int(s['orphan_terms'])} school-terms of waiting in all"))
    moved = int(s.get("schools_moved_to_good", 0))
    average = s.get("average_cost_per_school_moved_to_good_gbp")
    lines.append(Line("Spending", pounds(float(series["spending_total_gbp"].sum())),
                      f"{moved} schools moved to good or better"))
    lines.append(Line("Average cost per school moved to good",
                      pounds(float(average)) if average is not None else "n/a",
                      "all spending over the schools moved: an average, not the cost of an "
                      "option (compare options with sim.compare)"))
    return lines


def run_message(run: Run) -> str:
    """One run's key message: where good or better went, and who is still waiting."""
    s = run.summary
    policy = str(s.get("policy", "status_quo"))
    under = "the status quo" if policy == "status_quo" else policy_name(policy)
    waiting = int(s.get("orphans_final", 0))
    return (f"Under {under}, the share of good or better schools goes from "
            f"{_points(float(s['good_or_better_start']))} to "
            f"{_points(float(s['good_or_better_final']))} in {s.get('horizon_years')} "
            f"year{'s' if s.get('horizon_years') != 1 else ''}; "
            f"{waiting} school{'s' if waiting != 1 else ''} still wait{'' if waiting != 1 else 's'}"
            f" for a sponsor at the end. One run: compare options over several seeds with "
            f"sim.compare.")


def _interval(row: pd.Series, scale: float, unit: str) -> tuple[str, str]:
    mean, low, high = (scale * float(row[c]) for c in ("mean_difference", "ci90_low", "ci90_high"))
    if unit == "£":
        return pounds(mean), f"90% interval {pounds(low)} to {pounds(high)}"
    digits = 2 if unit == "points" else 1
    return (f"{mean:+.{digits}f} {unit}",
            f"90% interval {low:+.{digits}f} to {high:+.{digits}f}")


def comparison_headlines(comparison: Comparison) -> dict[str, list[Line]]:
    """Per option: its differences from the baseline, then its cost per school moved."""
    table: dict[str, list[Line]] = {}
    group = str(comparison.manifest.get("group", "policy"))
    for option, rows in comparison.differences.groupby(group, sort=False):
        lines = []
        for measure, (label, scale, unit) in DIFFERENCES.items():
            found = rows[rows["measure"] == measure]
            if len(found):
                value, detail = _interval(found.iloc[0], scale, unit)
                lines.append(Line(label, value, detail))
        lines.append(cost_line(comparison, option, group))
        table[str(option)] = lines
    return table


def cost_line(comparison: Comparison, option: str, group: str) -> Line:
    label = "Cost per extra school moved to good"
    economics = comparison.cost_effectiveness
    if economics is None or group not in economics:
        return Line(label, "n/a", "no cost-effectiveness table")
    rows = economics[(economics[group].astype(str) == str(option))
                     & (economics["effect"] == "schools_moved_to_good")]
    if rows.empty:
        return Line(label, "n/a", "")
    row = rows.iloc[0]
    verdict = str(row["verdict"])
    icer = row.get("icer_gbp_per_unit_of_effect")
    if pd.notna(icer):
        low, high = row.get("icer_ci90_low_gbp_per_unit_of_effect"), row.get(
            "icer_ci90_high_gbp_per_unit_of_effect")
        detail = (f"90% interval {pounds(float(low))} to {pounds(float(high))}"
                  if pd.notna(low) and pd.notna(high) else "no interval: some resamples "
                  "move no extra school")
        return Line(label, pounds(float(icer)), f"{verdict}; {detail}")
    return Line(label, verdict, f"extra cost {pounds(float(row['incremental_cost_gbp']))}, "
                                f"{float(row['incremental_effect']):+.2f} schools moved")


def _measurable(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[(rows["ci90_low"] > 0) | (rows["ci90_high"] < 0)]


def option_name(option: str, group: str) -> str:
    """An option as a reader names it: a policy's name ('Universal partnership'), a
    scenario's, or a setting and its value ('Giver:taker threshold = 2')."""
    if group == "policy":
        return policy_name(option)
    if group == "scenario":
        return scenario_name(option)
    return f"{parameter_name(group)} = {option}"


def paired_by(comparison: Comparison) -> str:
    """What pairs a comparison's runs, in words: 'seed', or 'seed and teacher supply' for a
    sweep of other settings too (comparison.json's swept parameters besides the group)."""
    group = str(comparison.manifest.get("group", "policy"))
    others = [key for key in comparison.manifest.get("swept_parameters") or []
              if key != group]
    words = ["parameter set" if key == "uncertainty.parameter_set" else
             (lambda name: name[:1].lower() + name[1:])(parameter_name(key)) for key in others]
    return " and ".join(["seed", *words])


def baseline_phrase(baseline: str, group: str) -> str:
    """How a sentence names the baseline: 'the status quo', 'MAT contracting',
    'giver:taker threshold = 3'."""
    if group == "policy" and baseline == "status_quo":
        return "the status quo"
    name = option_name(baseline, group)
    return name if group == "policy" else name[:1].lower() + name[1:]


def key_message(comparison: Comparison) -> str:
    group = str(comparison.manifest.get("group", "policy"))
    baseline = str(comparison.manifest.get("baseline"))
    gains = comparison.differences[comparison.differences["measure"] == "good_or_better_change"]
    measurable = _measurable(gains).sort_values("mean_difference", ascending=False)
    def name(option: str) -> str:
        return option_name(option, group)
    if measurable.empty or measurable.iloc[0]["mean_difference"] <= 0:
        return (f"No option changes the share of good or better schools measurably against "
                f"{baseline_phrase(baseline, group)} (every 90% interval includes zero).")
    best = measurable.iloc[0]
    value, detail = _interval(best, 100, "percentage points")
    cost = cost_line(comparison, str(best[group]), group)
    message = (f"{name(str(best[group]))}: the largest gain in the share of good or better "
               f"schools, {value} ({detail}) against {baseline_phrase(baseline, group)}, at "
               f"{cost.value} per extra school moved to good.")
    cheapest = _cheapest_gain(comparison, measurable, group)
    if cheapest is not None and cheapest != str(best[group]):
        row = measurable[measurable[group].astype(str) == cheapest].iloc[0]
        cheap_cost = cost_line(comparison, cheapest, group)
        message += (f" {name(cheapest)} gains {_interval(row, 100, 'percentage points')[0]} "
                    f"at {cheap_cost.value} per extra school moved to good, the least of the "
                    f"options that gain.")
    return message


def _cheapest_gain(comparison: Comparison, gaining: pd.DataFrame, group: str) -> str | None:
    """Of the options with a measurable gain in good or better, the one with the lowest
    incremental cost per extra school moved to good (a dominant one first)."""
    economics = comparison.cost_effectiveness
    if economics is None or group not in economics:
        return None
    rows = economics[(economics["effect"] == "schools_moved_to_good")
                     & economics[group].astype(str).isin(gaining[group].astype(str))]
    dominant = rows[rows["verdict"] == "dominant"]
    if len(dominant):
        return str(dominant.iloc[0][group])
    priced = rows[rows["icer_gbp_per_unit_of_effect"].notna()]
    if priced.empty:
        return None
    return str(priced.loc[priced["icer_gbp_per_unit_of_effect"].idxmin(), group])
