"""Incremental cost-effectiveness against the baseline, as health economists report it.

For each group (policy) and each effect (net grades gained at inspections, schools moved to
good or better), over the runs paired with the baseline's by seed (and by parameter set,
for runs of plausible sets: the pairing keys of `sim.compare.pairing`), with dC the paired
difference in total spending and dE in the effect:
- the incremental cost and effect are the means of dC and dE over the pairs where both are
  defined, and the verdict follows the dominance rules from those means: `dominant` (costs
  less or the same, gains more; or costs less and gains the same), `dominated` (costs more
  or the same, gains nothing or less), `cost-saving but worse` (costs less, gains less),
  `no difference` (both zero), else `costs more, gains more`, the only case given an
  incremental cost-effectiveness ratio (ICER), mean dC over mean dE in pounds per unit of
  effect. A ratio is never given in the other quadrants, where it is negative or
  misleading: a negative effect never yields a negative cost per unit.
- intervals: a percentile bootstrap over the pairs, RESAMPLES resamples drawn with
  replacement (a pair, seed and parameter set together, is the unit), seeded with
  BOOTSTRAP_SEED and the group's and effect's names, so the same runs give the same table
  whatever else is compared. The 90% intervals are the resampled means' 5th and 95th
  percentiles. The ICER's interval (of the resampled ratios) is given only when every
  resample costs more and gains more; otherwise a ratio's percentiles mix quadrants and
  mean nothing, and the shares of resamples in each quadrant of the cost-effectiveness
  plane say where the answer lies (a resample with both means exactly zero is in none).
- the acceptability curve: for each willingness to pay W per school moved to good, from
  £0 to £5m, the share of resamples in which each option, the baseline included, has the
  highest net benefit W dE - dC (the baseline's is 0). Every option is resampled together,
  over the pairing keys every option has (so that each resample compares the same runs),
  seeded with BOOTSTRAP_SEED alone; a tie goes to the option first in order. At each W the
  probabilities sum to 1.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.compare.pairing import Comparison, defined_difference, finite, pairing_frame

COST = "spending_total_gbp"
EFFECTS = {  # summary.json measure -> its unit, in words, for one of it
    "grades_gained": "net grade gained at inspections",
    "schools_moved_to_good": "school moved to good or better",
}
ACCEPTABILITY_EFFECT = "schools_moved_to_good"
RESAMPLES = 2000
BOOTSTRAP_SEED = 16  # issue 16, where this analysis was asked for; any fixed number would do
WILLINGNESS_TO_PAY_GBP = np.arange(0, 5_000_001, 100_000, dtype=float)  # per school moved
DOMINANT, DOMINATED, WORSE = "dominant", "dominated", "cost-saving but worse"
MORE_FOR_MORE, NO_DIFFERENCE = "costs more, gains more", "no difference"
QUADRANTS = {  # column of the share of resamples -> the verdict of a resample there
    "share_resamples_costs_more_gains_more": MORE_FOR_MORE,
    "share_resamples_dominant": DOMINANT,
    "share_resamples_dominated": DOMINATED,
    "share_resamples_cost_saving_but_worse": WORSE,
}
TABLE_COLUMNS = [
    "baseline", "effect", "effect_unit", "pairs", "pairs_left_out", "incremental_cost_gbp",
    "incremental_cost_ci90_low_gbp", "incremental_cost_ci90_high_gbp", "incremental_effect",
    "incremental_effect_ci90_low", "incremental_effect_ci90_high", "verdict",
    "icer_gbp_per_unit_of_effect", "icer_ci90_low_gbp_per_unit_of_effect",
    "icer_ci90_high_gbp_per_unit_of_effect", *QUADRANTS, "resamples", "bootstrap_seed"]
ACCEPTABILITY_COLUMNS = ["willingness_to_pay_gbp_per_school_moved_to_good",
                         "probability_highest_net_benefit", "mean_net_benefit_gbp",
                         "pairs", "resamples"]


@dataclass
class CostEffectiveness:
    """The cost-effectiveness table and acceptability curve, computed before writing."""

    table: pd.DataFrame
    acceptability: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[str] = field(default_factory=list)
    # (group, effect) -> the resampled means, RESAMPLES x (cost, effect), that the table's
    # intervals and quadrant shares come from; the cost-effectiveness plane draws them.
    resamples: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def verdict(cost: np.ndarray | float, effect: np.ndarray | float) -> np.ndarray:
    """The dominance verdict of mean incremental costs and effects, element by element."""
    cost, effect = np.asarray(cost, dtype=float), np.asarray(effect, dtype=float)
    return np.select(
        [(effect > 0) & (cost > 0), (effect > 0) | ((effect == 0) & (cost < 0)),
         (effect < 0) & (cost < 0), (effect == 0) & (cost == 0)],
        [MORE_FOR_MORE, DOMINANT, WORSE, NO_DIFFERENCE], default=DOMINATED)


def generator(*names: str) -> np.random.Generator:
    """The bootstrap's generator: BOOTSTRAP_SEED and the names, never the run order."""
    return np.random.default_rng([BOOTSTRAP_SEED, *(zlib.crc32(n.encode()) for n in names)])


def resampled_means(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Means of RESAMPLES resamples of the rows of `values` (pairs x columns), drawn with
    replacement: an array of RESAMPLES x columns."""
    rows = rng.integers(0, len(values), size=(RESAMPLES, len(values)))
    return values[rows].mean(axis=1)


def paired(comparison: Comparison, name: str, measures: list[str]) -> pd.DataFrame:
    """Group `name` minus the baseline, pair by pair, for each measure (NaN if undefined),
    indexed by the pairing keys."""
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]
    base = frame[frame["_label"] == comparison.baseline]
    pairs = frame[frame["_label"] == name].merge(base, on=keys, suffixes=("", "_base"))
    return pd.DataFrame({measure: defined_difference(
        pairs.get(measure, pd.Series(np.nan, index=pairs.index)),
        pairs.get(f"{measure}_base", pd.Series(np.nan, index=pairs.index)))
        for measure in measures}).set_axis(pd.MultiIndex.from_frame(pairs[keys])
                                           if len(keys) > 1 else pd.Index(pairs[keys[0]]))


def row(comparison: Comparison, name: str, effect: str, pairs: pd.DataFrame,
        kept: dict[tuple[str, str], np.ndarray] | None = None) -> dict[str, Any]:
    """One row of cost_effectiveness.csv: a group against the baseline on one effect; its
    resampled means go into `kept`, for the figure."""
    both = pairs[[COST, effect]].dropna().to_numpy(dtype=float)
    result: dict[str, Any] = {comparison.group: name, "baseline": comparison.baseline,
                              "effect": effect, "effect_unit": EFFECTS[effect],
                              "pairs": len(both), "pairs_left_out": len(pairs) - len(both),
                              "resamples": RESAMPLES if len(both) else 0,
                              "bootstrap_seed": BOOTSTRAP_SEED, "verdict": ""}
    if not len(both):
        return result
    cost, gain = both.mean(axis=0)
    means = resampled_means(both, generator(name, effect))
    if kept is not None:
        kept[(name, effect)] = means
    (cost_low, gain_low), (cost_high, gain_high) = np.quantile(means, [0.05, 0.95], axis=0)
    result.update(incremental_cost_gbp=finite(cost), incremental_cost_ci90_low_gbp=finite(cost_low),
                  incremental_cost_ci90_high_gbp=finite(cost_high),
                  incremental_effect=finite(gain), incremental_effect_ci90_low=finite(gain_low),
                  incremental_effect_ci90_high=finite(gain_high),
                  verdict=str(verdict(cost, gain)))
    kinds = verdict(means[:, 0], means[:, 1])
    result.update({column: float(np.mean(kinds == kind)) for column, kind in QUADRANTS.items()})
    if result["verdict"] == MORE_FOR_MORE:
        result["icer_gbp_per_unit_of_effect"] = finite(cost / gain)
        if np.all(kinds == MORE_FOR_MORE):
            low, high = np.quantile(means[:, 0] / means[:, 1], [0.05, 0.95])
            result.update(icer_ci90_low_gbp_per_unit_of_effect=finite(low),
                          icer_ci90_high_gbp_per_unit_of_effect=finite(high))
    return result


def acceptability(comparison: Comparison, differences: dict[str, pd.DataFrame],
                  notes: list[str]) -> pd.DataFrame:
    """The acceptability curve over WILLINGNESS_TO_PAY_GBP, every option resampled together
    over the pairs all of them have."""
    group, options = comparison.group, comparison.order
    columns = [group, *ACCEPTABILITY_COLUMNS]
    defined = {name: frame[[COST, ACCEPTABILITY_EFFECT]].dropna()
               for name, frame in differences.items()}
    common = None
    for frame in defined.values():
        common = frame.index if common is None else common.intersection(frame.index)
    if common is None or len(common) < 2:
        notes.append(f"no acceptability curve: fewer than two pairs of runs (by seed) have "
                     f"spending and schools moved to good in every {group}")
        return pd.DataFrame(columns=columns)
    common = common.sort_values()
    biggest = max(len(frame) for frame in defined.values())
    if len(common) < biggest:
        notes.append(f"the acceptability curve uses the {len(common)} pairs of runs every "
                     f"{group} has (some have up to {biggest})")
    # pairs x (cost, effect) for each option but the baseline, whose differences are 0.
    stacked = np.hstack([defined[name].loc[common].to_numpy(dtype=float)
                         for name in options if name != comparison.baseline])
    means = resampled_means(stacked, generator()).reshape(RESAMPLES, -1, 2)
    point = stacked.mean(axis=0).reshape(-1, 2)
    # Net benefit of each option at each willingness to pay: resamples x W x options, with
    # the baseline (0) in its place in the order, so that ties go to the first option.
    place = options.index(comparison.baseline)
    benefit = (WILLINGNESS_TO_PAY_GBP[None, :, None] * means[:, None, :, 1]
               - means[:, None, :, 0])
    benefit = np.insert(benefit, place, 0.0, axis=2)
    mean_benefit = np.insert(WILLINGNESS_TO_PAY_GBP[:, None] * point[None, :, 1]
                             - point[None, :, 0], place, 0.0, axis=1)
    best = benefit.argmax(axis=2)
    rows = [{group: name, "willingness_to_pay_gbp_per_school_moved_to_good": pay,
             "probability_highest_net_benefit": float(np.mean(best[:, step] == number)),
             "mean_net_benefit_gbp": float(mean_benefit[step, number]), "pairs": len(common),
             "resamples": RESAMPLES}
            for number, name in enumerate(options)
            for step, pay in enumerate(WILLINGNESS_TO_PAY_GBP)]
    return pd.DataFrame(rows, columns=columns)


def analyse(comparison: Comparison) -> CostEffectiveness | None:
    """The cost-effectiveness of each group against the baseline; None when there is no
    other group to compare."""
    group = comparison.group
    if comparison.baseline is None or len(comparison.order) < 2:
        return None
    measures = [COST, *EFFECTS]
    differences = {name: paired(comparison, name, measures)
                   for name in comparison.order if name != comparison.baseline}
    notes = []
    absent = [m for m in measures if m not in comparison.table.columns
              or comparison.table[m].isna().all()]
    if absent:
        notes.append(f"no run records {', '.join(absent)} (runs of older versions?): its "
                     f"cost-effectiveness is left empty")
    resamples: dict[tuple[str, str], np.ndarray] = {}
    rows = [row(comparison, name, effect, pairs, resamples)
            for name, pairs in differences.items() for effect in EFFECTS]
    table = pd.DataFrame(rows, columns=[group, *TABLE_COLUMNS])
    result = CostEffectiveness(table, notes=notes, resamples=resamples)
    result.acceptability = acceptability(comparison, differences, notes)
    return result


def pounds(value: float) -> str:
    """Pounds as a person reads them: £1.23m, £45,600, -£2.1m."""
    sign = "-" if value < 0 else ""
    size = abs(value)
    return f"{sign}£{size / 1e6:.3g}m" if size >= 1e6 else f"{sign}£{size:,.0f}"


def summary_lines(table: pd.DataFrame, group: str) -> list[str]:
    """A line per group and effect: its verdict, with the ICER and interval where given."""
    lines = []
    for entry in table.to_dict("records"):
        if not entry["verdict"]:
            lines.append(f"  {entry[group]}, per {entry['effect_unit']}: undefined (no pair)")
            continue
        text = entry["verdict"]
        if np.isfinite(entry.get("icer_gbp_per_unit_of_effect", np.nan)):
            text = f"{pounds(entry['icer_gbp_per_unit_of_effect'])} (ICER)"
            low = entry.get("icer_ci90_low_gbp_per_unit_of_effect", np.nan)
            if np.isfinite(low):
                text += (f", 90% interval {pounds(low)} to "
                         f"{pounds(entry['icer_ci90_high_gbp_per_unit_of_effect'])}")
        shares = ", ".join(f"{kind} {entry[column]:.0%}" for column, kind in QUADRANTS.items()
                           if entry[column] > 0)
        # Resamples on the axes (no extra cost or no extra effect) are in no quadrant.
        shares = f"; resamples: {shares}" if shares else ""
        lines.append(f"  {entry[group]}, per {entry['effect_unit']}: {text} (extra cost "
                     f"{pounds(entry['incremental_cost_gbp'])}, effect "
                     f"{entry['incremental_effect']:+.3g}{shares})")
    return lines


# The columns of cost_effectiveness.csv that comparison.json repeats for each policy and
# effect: the comparison's headline economics, where a reader of its summary looks first.
HEADLINE_COLUMNS = ["effect", "verdict", "incremental_cost_gbp", "incremental_cost_ci90_low_gbp",
                    "incremental_cost_ci90_high_gbp", "incremental_effect",
                    "incremental_effect_ci90_low", "incremental_effect_ci90_high",
                    "icer_gbp_per_unit_of_effect", "icer_ci90_low_gbp_per_unit_of_effect",
                    "icer_ci90_high_gbp_per_unit_of_effect"]


def headline(economics: CostEffectiveness, group: str) -> list[dict[str, object]]:
    """Each policy's incremental cost-effectiveness, as records for comparison.json: its
    verdict, the incremental cost and effect with 90% intervals, and the ICER (only for a
    policy that costs more and gains more; null otherwise, never a negative cost)."""
    columns = [group, *HEADLINE_COLUMNS]
    frame = economics.table[[column for column in columns if column in economics.table]]
    return [{key: (None if isinstance(value, float) and not np.isfinite(value) else value)
             for key, value in record.items()} for record in frame.to_dict("records")]
