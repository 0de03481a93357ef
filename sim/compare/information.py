"""The value of information over the plausible parameter sets: where knowing more would pay.

The decision: which group (policy) is best on a headline measure, judged by its mean over
the plausible sets run (`sim.compare.parameter_sets`), each set equally weighted. With U[p, s]
the difference of group p from the baseline in set s (its mean over seeds; the baseline's
is 0), signed so that more is better (`BETTER`):
- the expected value of perfect information, EVPI = mean_s max_p U[p, s] - max_p mean_s U[p, s]:
  how much better, on average, the choice would be if the true set were known;
- per free parameter, the partial EVPI of knowing that parameter alone, by Strong and
  Oakley's binning (Medical Decision Making 2014): the sets sorted by the parameter's value
  and cut into B bins of (nearly) equal counts, EVPPI = sum_b (n_b / K) max_p mean_{s in b}
  U[p, s] - max_p mean_s U[p, s]. B = floor(sqrt(K)) (3 bins for 10 sets, 4 for 20): more
  bins follow the parameter more closely, but each holds fewer sets, whose noisy means
  make the maximum, and so the value, too high; with under 4 sets (SETS_FOR_TWO_BINS)
  there is one bin, which learns nothing of the parameter: the partial value is written
  empty, with a note, and no parameter is called worth a trial or new data.
Values are in the measure's own units (as in differences.csv), per run. The per-set means
carry seed noise, which makes both values too high (a maximum of noisy means): read a
value within the seed noise of differences.csv as zero.

Beside each parameter, `value_of_information.csv` gives its declared prior range and
scale, the range the whole plausible set spans (from the runs' parameter_set.json), and
the share of the prior that range covers, on the parameter's scale (a log-scale share for
a parameter searched on one): the data leave a parameter wide when that share is near 1.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.compare.pairing import Comparison, finite
from sim.compare.parameter_sets import SetComparison
from sim.compare.reading import MEASURES

# +1 when more of the measure is better, -1 when less is.
BETTER = {"good_or_better_change": 1, "orphan_terms": -1, "teacher_leaving_rate_mean": -1,
          "good_or_better_gap_final": -1, "spending_total_gbp": -1, "grades_gained": 1}
WIDE = 0.5  # a plausible set spanning more than this share of the prior leaves it wide
# The fewest sets that give two bins: with fewer, one bin holds every set and a partial
# value is undefined (written empty), so no parameter is called worth a trial.
SETS_FOR_TWO_BINS = 4
COLUMNS = ["measure", "better", "kind", "parameter", "value_of_information", "bins", "sets",
           "best", "sets_where_another_is_best", "prior_low", "prior_high", "scale",
           "plausible_low", "plausible_high", "plausible_share_of_prior", "note"]


def prior_share(entry: dict) -> float:
    """The share of the prior range the plausible set keeps, as the run recorded it
    (`sim.parameter_sets.share_kept`, the fit's narrowing.csv measure); unknown (NaN) for a
    run that did not record it."""
    share = entry.get("share_kept")
    return float(share) if isinstance(share, int | float) else np.nan


def cleaned(value: float, utility: pd.DataFrame) -> float:
    """A value of information, 0 where it is rounding of the sums alone (never below 0:
    knowing more cannot make the choice worse)."""
    size = float(np.abs(utility.to_numpy()).max()) if utility.size else 0.0
    return 0.0 if value < 1e-12 * max(size, 1e-300) else value


def bins_for(sets: int) -> int:
    return max(1, math.isqrt(sets))


def best_of_bins(utility: pd.DataFrame, order: list[str], bins: int) -> float:
    """sum_b (n_b / K) max_p mean_{s in b} U[p, s], over sets (columns) in the given order."""
    total = 0.0
    for chunk in np.array_split(np.array(order, dtype=object), bins):
        total += len(chunk) / utility.shape[1] * float(utility[list(chunk)].mean(axis=1).max())
    return total


def value_of_information(comparison: Comparison, result: SetComparison) -> pd.DataFrame:
    """EVPI and each free parameter's partial EVPI, for each headline measure."""
    rows = []
    names = comparison.order
    for measure in MEASURES:
        sign = BETTER[measure]
        utility = pd.DataFrame(
            {name: (sign * result.per_set[(name, measure)] if name != comparison.baseline
                    else pd.Series(0.0, index=result.sets)) for name in names}).T
        utility = utility.loc[:, utility.notna().all(axis=0)]  # sets every group has
        common = {"measure": measure, "better": "higher" if sign > 0 else "lower",
                  "sets": utility.shape[1]}
        if utility.shape[1] == 0:
            rows.append({**common, "kind": "perfect", "value_of_information": np.nan})
            continue
        mean_best = float(utility.mean(axis=1).max())
        best = str(utility.mean(axis=1).idxmax())
        # Sets where another group does better than the best on average (a tie, to rounding
        # of the sums, is not better).
        tolerance = 1e-12 * max(float(np.abs(utility.to_numpy()).max()), 1e-300)
        others = int((utility.max(axis=0) - utility.loc[best] > tolerance).sum())
        common.update(best=best, sets_where_another_is_best=others)
        perfect = cleaned(float(utility.max(axis=0).mean()) - mean_best, utility)
        rows.append({**common, "kind": "perfect", "value_of_information": finite(perfect)})
        bins = bins_for(utility.shape[1])
        for parameter, entry in result.ranges.items():
            values = result.values.loc[list(utility.columns), parameter].astype(float)
            order = sorted(utility.columns, key=lambda s, v=values: (v[s], int(s)))
            partial = cleaned(best_of_bins(utility, order, bins) - mean_best, utility)
            # One bin learns nothing of the parameter: its value is undefined, not 0.
            note = ("" if bins > 1 else f"one bin ({utility.shape[1]} sets): a partial value "
                                        f"needs at least {SETS_FOR_TWO_BINS} sets (two bins)")
            rows.append({**common, "kind": "partial", "parameter": parameter,
                         "value_of_information": finite(partial) if bins > 1 else np.nan,
                         "bins": bins, **entry, "plausible_share_of_prior": finite(
                             prior_share(entry)), "note": note})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["bins"] = table["bins"].astype("Int64")
    table["sets_where_another_is_best"] = table["sets_where_another_is_best"].astype("Int64")
    return table


def summary_lines(information: pd.DataFrame, group: str) -> list[str]:
    """The printed lines: per measure, its EVPI and the parameter it depends on most; then
    how wide the plausible set leaves each parameter."""
    lines = []
    for measure, rows in information.groupby("measure", sort=False):
        perfect = rows[rows["kind"] == "perfect"].iloc[0]
        if not np.isfinite(perfect["value_of_information"]):
            lines.append(f"  {measure}: undefined (no set with every {group} defined)")
            continue
        partial = rows[rows["kind"] == "partial"].sort_values("value_of_information",
                                                              ascending=False, kind="stable")
        text = (f"  {measure}: EVPI {perfect['value_of_information']:.4g} (best {group} "
                f"{perfect['best']}; another is best in {perfect['sets_where_another_is_best']} "
                f"of {perfect['sets']} sets)")
        if len(partial) and partial.iloc[0]["value_of_information"] > 0:
            top = partial.iloc[0]
            text += (f"; depends most on {top['parameter']} (partial EVPI "
                     f"{top['value_of_information']:.4g}, its plausible set "
                     f"{top['plausible_share_of_prior']:.0%} of its prior range)")
        lines.append(text)
    shares = information[information["kind"] == "partial"].drop_duplicates("parameter")
    if len(shares):
        listed = ", ".join(f"{row.parameter} {row.plausible_share_of_prior:.0%}"
                           for row in shares.itertuples())
        lines.append(f"  plausible set as a share of each prior range: {listed}")
    partial = information[information["kind"] == "partial"]
    if len(partial) and (partial["bins"] < 2).all():
        lines.append(f"  no partial values: {partial['sets'].max()} sets make one bin, and "
                     f"they need at least {SETS_FOR_TWO_BINS} (two bins), so no parameter is "
                     f"named worth a trial or new data")
        return lines
    worth = [parameter for parameter in dict.fromkeys(top_parameters(information))
             if (shares.set_index("parameter").loc[parameter, "plausible_share_of_prior"]
                 >= WIDE)]
    if worth:
        lines.append(f"  worth a trial or new data (answers depend on them most, and the data "
                     f"leave them wide, over {WIDE:.0%} of their prior): {', '.join(worth)}")
    return lines


def top_parameters(information: pd.DataFrame) -> list[str]:
    """For each measure with a value of information, the parameter with the largest
    partial value (none where every partial value is 0)."""
    partial = information[(information["kind"] == "partial")
                          & (information["value_of_information"] > 0)]
    return [rows.sort_values("value_of_information", ascending=False,
                             kind="stable").iloc[0]["parameter"]
            for _, rows in partial.groupby("measure", sort=False)]
