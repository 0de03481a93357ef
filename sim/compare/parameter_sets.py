"""Differences with parameter uncertainty: runs of a calibration study's plausible sets.

Runs made with `+uncertainty=plausible` (`sim.parameter_sets`) name their parameter set in
config.yaml (`uncertainty.parameter_set`) and record it in `parameter_set.json`. They are
paired by seed and by parameter set (both vary within each group, so both are pairing
keys in `sim.compare.pairing`; so are the free parameters, which change with the set): a
difference is a group and the baseline under the same parameters and the same random
numbers. Runs of sets and runs without are not compared together, nor runs of two
different plausible tables: each is refused in one line (`check_parameter_sets`). Runs of
a single set (a sweep with `uncertainty.sets=1`, or one set's runs taken from a bigger
sweep) are compared by seed as runs without sets are, with a note that one set says
nothing about parameter uncertainty, and without the outputs below.

For a group and a headline measure, with d the paired differences, m_s the mean of set
s's n_s defined pairs, N the pairs and K the sets with at least one:
- `differences.csv` keeps its columns, with its seed columns now meaning seed noise alone:
  `sd_across_seeds` is the standard deviation within sets, pooled over them (s_w), and
  `ci90_low`/`ci90_high` the mean over all pairs +/- t(0.95, N - K) s_w / sqrt(N), the
  interval of the mean over these K sets were the parameters known. It gains
  `parameter_sets` (K), `sd_across_sets` (of the m_s) and `band90_low`/`band90_high`: the
  5th and 95th percentiles of the difference under a plausible set, seed noise included,
  i.e. of an equal mixture over the K sets of normal distributions, each centred on m_s
  with its standard error s_w / sqrt(n_s). Without a seed-noise estimate (one seed per
  set) they are the percentiles of the m_s themselves (the inverted distribution function:
  with K = 10, the lowest and highest), which leave seed noise out: a printed note says so.
  The band is not a confidence interval of a mean: it is where the difference lies for 90%
  of the plausible sets.
- `robustness.csv`: for each group and measure, m_s for every set (`set_<k>`), their mean
  and its direction, how many sets share that sign, and a verdict: `no difference` when
  m_s is exactly 0 in every set, `robust` when every set shares the sign, `most` when at
  least MOST_SHARE (80%) do, else `depends`. For `most` and `depends`, the free parameter
  whose value has the largest absolute Spearman rank correlation with m_s over the sets
  (with the correlation and its p-value), from these very runs; but none, with why in
  `why_no_parameter`, under MIN_SETS_FOR_CORRELATION (5) sets (with 3, |rho| = 1 comes by
  chance one time in 3, and many parameters tie at it) or when the largest |rho| is tied.
  The p-value is two-sided and exact, counting every ordering of the sets, up to
  EXACT_P_UP_TO (8) sets (scipy's t approximation gives p = 0 to any perfect
  correlation); above, that approximation. A sign is a seed mean's: with few seeds a small
  effect can change sign by seed noise alone, and with ten sets a correlation below about
  0.65 in size is within chance (p above 0.05); with five, even rho = 1 has p = 1/60.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from sim.compare.pairing import Comparison, defined_difference, finite, pairing_frame
from sim.compare.reading import MEASURES, Runs
from sim.errors import UserError

SET = "uncertainty.parameter_set"
MOST_SHARE = 0.8  # "most": the sign holds in at least this share of the sets, but not all
# A rank correlation over fewer sets means nothing: with 3 sets every ordering is one of 6,
# so |rho| = 1 comes by chance one time in 3 and many parameters tie at it.
MIN_SETS_FOR_CORRELATION = 5
# Up to this many sets the p-value counts every ordering of the sets (8! = 40,320); above
# it, scipy's t approximation, which is fair from about ten points.
EXACT_P_UP_TO = 8
TIE = 1e-9  # correlations this close in size are tied
ROBUSTNESS_COLUMNS = ["baseline", "measure", "parameter_sets", "mean_difference", "direction",
                      "sets_with_that_sign", "share_with_that_sign", "verdict",
                      "depends_most_on", "spearman", "spearman_p", "why_no_parameter",
                      "lowest_set_difference", "highest_set_difference"]


@dataclass
class SetComparison:
    """What the parameter sets add to a comparison, computed before anything is written."""

    sets: list[str]  # the sets' indices as text, in order
    values: pd.DataFrame  # one row per set, one column per free parameter: its value
    ranges: dict[str, dict[str, Any]]  # free parameter -> prior and plausible range, scale
    per_set: dict[tuple[str, str], pd.Series] = field(default_factory=dict)  # m_s by set
    robustness: pd.DataFrame = field(default_factory=pd.DataFrame)
    information: pd.DataFrame = field(default_factory=pd.DataFrame)


def check_parameter_sets(runs: Runs) -> None:
    """Refuse runs of plausible sets mixed with runs without, or of two tables."""
    if SET not in runs.settings.columns:
        return
    with_sets = runs.settings[SET] != ""
    if with_sets.all():
        tables = {record["plausible_sets_sha256"] for record in runs.parameter_sets.values()}
        if len(tables) > 1:
            raise UserError(f"the runs took parameter sets from {len(tables)} different "
                            f"plausible tables (parameter_set.json, plausible_sets_sha256): "
                            f"compare the runs of one table at a time")
        return
    if with_sets.any():
        raise UserError(f"{int(with_sets.sum())} of the {len(with_sets)} runs took a plausible "
                        f"parameter set (+uncertainty=plausible) and the others did not: "
                        f"compare them apart (give only the folders of one kind)")


def analyse(comparison: Comparison, runs: Runs, notes: list[str]) -> SetComparison | None:
    """The per-set differences, bands and verdicts of runs of plausible sets (None for runs
    without sets, or a comparison with nothing to compare them against); the value of
    information is `sim.compare.information`'s."""
    settings = comparison.settings
    if SET not in settings.columns or (settings[SET] == "").all() or comparison.baseline is None:
        return None
    records = [runs.parameter_sets[run] for run in comparison.table["run"]]
    ranges = {key: {name: entry[name] for name in ("prior_low", "prior_high", "scale",
                                                   "plausible_low", "plausible_high",
                                                   "share_kept") if name in entry}
              for key, entry in records[0]["parameters"].items()}
    group = comparison.group
    if group.startswith("uncertainty.") or group in ranges:
        notes.append(f"--group {group} is what the parameter sets vary: the runs are compared "
                     f"as any others, without robustness or value of information")
        return None
    if SET not in comparison.keys:
        # The set does not vary within a group, so it pairs nothing: one set throughout (a
        # sweep of one, or one set's runs taken from a bigger sweep), or one per group.
        used = sorted(settings[SET].unique(), key=int)
        if len(used) == 1:
            notes.append(f"every run is of plausible parameter set {used[0]}: one set says "
                         f"nothing about parameter uncertainty, so the runs are paired by seed "
                         f"alone, without bands, robustness.csv or value_of_information.csv")
        else:
            notes.append(f"each {group} ran its own plausible parameter sets ({len(used)} in "
                         f"all), never the same set as the baseline: no difference holds the "
                         f"parameters fixed, so there are no bands, robustness.csv or "
                         f"value_of_information.csv")
        return None
    values = pd.DataFrame({index: {key: entry["value"] for key, entry in record["parameters"].items()}
                           for index, record in zip(settings[SET], records, strict=True)}).T
    values = values.loc[sorted(values.index, key=int)]
    if settings.groupby(SET)["seed"].nunique().max() == 1:
        # One seed cannot measure seed noise, so the band cannot hold it (see `band`).
        notes.append("one seed per parameter set: the 90% band (band90_low/band90_high) is "
                     "the spread of the sets' differences alone and leaves out seed noise, "
                     "so it is too narrow; run more seeds for a band that holds both")
    result = SetComparison(list(values.index), values, ranges)
    extra = set_differences(comparison, result)
    add_columns(comparison, extra)
    result.robustness = robustness(comparison, result)
    return result


def set_differences(comparison: Comparison, result: SetComparison) -> dict[tuple[str, str], dict]:
    """Each group's paired differences by set: m_s kept in `result.per_set`; the columns
    differences.csv gains (and its seed columns, recomputed within sets) returned."""
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]
    base = frame[frame["_label"] == comparison.baseline]
    extra = {}
    for name in comparison.order:
        if name == comparison.baseline:
            continue
        pairs = frame[frame["_label"] == name].merge(base, on=keys, suffixes=("", "_base"))
        for measure in MEASURES:
            difference = defined_difference(pairs[measure], pairs[f"{measure}_base"])
            by_set = pd.DataFrame({"set": pairs[f"_key_{SET}"], "d": difference}).dropna()
            means = by_set.groupby("set")["d"].mean()
            result.per_set[(name, measure)] = means.reindex(result.sets)
            extra[(name, measure)] = spread(by_set, means)
    return extra


def spread(by_set: pd.DataFrame, means: pd.Series) -> dict[str, float]:
    """Seed noise within sets, the sets' spread, and the band of a plausible set."""
    counts = by_set.groupby("set")["d"].count()
    n, k = len(by_set), len(means)
    residuals = by_set["d"] - by_set["set"].map(means)
    freedom = n - k
    with np.errstate(all="ignore"):
        within = math.sqrt(float((residuals**2).sum()) / freedom) if freedom > 0 else np.nan
        mean = by_set["d"].mean() if n else np.nan
        half = stats.t.ppf(0.95, freedom) * within / math.sqrt(n) if freedom > 0 else np.nan
        across = means.std(ddof=1) if k > 1 else np.nan
    low, high = band(means.to_numpy(), (within / np.sqrt(counts.reindex(means.index))).to_numpy()
                     if np.isfinite(within) else np.zeros(k))
    return {"sd_across_seeds": finite(within), "ci90_low": finite(mean - half),
            "ci90_high": finite(mean + half), "parameter_sets": k,
            "sd_across_sets": finite(across), "band90_low": finite(low),
            "band90_high": finite(high)}


def band(means: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """The 5th and 95th percentiles of an equal mixture of normals (means, standard errors);
    of the means themselves where no error is known."""
    if len(means) == 0:
        return np.nan, np.nan
    if not np.all(np.isfinite(errors)) or np.all(errors == 0):
        low, high = np.quantile(means, [0.05, 0.95], method="inverted_cdf")
        return float(low), float(high)
    errors = np.where(errors > 0, errors, 1e-12 * (1 + np.abs(means)))

    def below(x: float, share: float) -> float:
        return float(np.mean(stats.norm.cdf((x - means) / errors))) - share

    reach = 10 * float(errors.max())
    lowest, highest = float(means.min()) - reach, float(means.max()) + reach
    return (optimize.brentq(below, lowest, highest, args=(0.05,), xtol=1e-12),
            optimize.brentq(below, lowest, highest, args=(0.95,), xtol=1e-12))


def add_columns(comparison: Comparison, extra: dict[tuple[str, str], dict]) -> None:
    """differences.csv with its seed columns within sets, and the columns sets add."""
    differences = comparison.differences.copy()
    group = comparison.group
    for column in ("parameter_sets", "sd_across_sets", "band90_low", "band90_high"):
        differences[column] = np.nan
    for row in differences.index:
        found = extra.get((differences.at[row, group], differences.at[row, "measure"]))
        for column, value in (found or {}).items():
            differences.at[row, column] = value
    differences["parameter_sets"] = differences["parameter_sets"].astype("Int64")
    comparison.differences = differences


def direction_of(value: float) -> str:
    if not np.isfinite(value) or value == 0:
        return "none"
    return "higher" if value > 0 else "lower"


def robustness(comparison: Comparison, result: SetComparison) -> pd.DataFrame:
    """One row per group and measure: the sets' differences, and whether their sign holds."""
    group = comparison.group
    rows = []
    for (name, measure), means in result.per_set.items():
        defined = means.dropna()
        mean = float(defined.mean()) if len(defined) else np.nan
        holding = int((np.sign(defined) == np.sign(mean)).sum()) if len(defined) else 0
        share = holding / len(defined) if len(defined) else np.nan
        # Exactly 0 in every set (a policy that changes nothing the measure sees) is no
        # difference, not a robust one.
        verdict = ("" if not len(defined) else "no difference" if (defined == 0).all()
                   else "robust" if holding == len(defined)
                   else "most" if share >= MOST_SHARE else "depends")
        parameter, rho, p_value, why = ("", np.nan, np.nan, "")
        if verdict in ("most", "depends"):
            parameter, rho, p_value, why = strongest(result.values.loc[defined.index], defined)
        rows.append({group: name, "baseline": comparison.baseline, "measure": measure,
                     "parameter_sets": len(defined), "mean_difference": finite(mean),
                     "direction": direction_of(mean), "sets_with_that_sign": holding,
                     "share_with_that_sign": finite(share), "verdict": verdict,
                     "depends_most_on": parameter, "spearman": finite(rho),
                     "spearman_p": finite(p_value), "why_no_parameter": why,
                     "lowest_set_difference": finite(defined.min()) if len(defined) else np.nan,
                     "highest_set_difference": finite(defined.max()) if len(defined) else np.nan,
                     **{f"set_{index}": finite(means[index]) for index in result.sets}})
    columns = [group, *ROBUSTNESS_COLUMNS, *(f"set_{index}" for index in result.sets)]
    return pd.DataFrame(rows, columns=columns)


def strongest(values: pd.DataFrame, differences: pd.Series) -> tuple[str, float, float, str]:
    """The free parameter with the largest absolute Spearman correlation with the
    differences over the sets, the correlation and its p-value; or no parameter, with why:
    too few sets for a rank correlation to mean anything, no correlation defined, or a tie
    for the largest (the sets cannot tell those parameters apart)."""
    sets = len(differences)
    if sets < MIN_SETS_FOR_CORRELATION:
        return ("", np.nan, np.nan, f"too few sets ({sets}) for a rank correlation: it "
                                    f"needs at least {MIN_SETS_FOR_CORRELATION}")
    correlations = {}
    for parameter in values.columns:
        column = values[parameter].astype(float)
        if column.nunique() < 2 or differences.nunique() < 2:
            continue  # a constant has no rank correlation
        rho = stats.spearmanr(column.to_numpy(), differences.to_numpy())[0]
        if np.isfinite(rho):
            correlations[parameter] = float(rho)
    if not correlations:
        return "", np.nan, np.nan, "no rank correlation is defined (constant values)"
    ranked = sorted(correlations, key=lambda name: -abs(correlations[name]))
    top = abs(correlations[ranked[0]])
    tied = [name for name in ranked if abs(correlations[name]) >= top - TIE]
    if len(tied) > 1:
        return ("", np.nan, np.nan, f"{len(tied)} parameters tie for the largest "
                                    f"|Spearman| ({top:.2f})")
    best = ranked[0]
    return best, correlations[best], spearman_p(values[best].astype(float), differences), ""


def spearman_p(column: pd.Series, differences: pd.Series) -> float:
    """The two-sided p-value of Spearman's correlation: exact, over every ordering of the
    sets, up to EXACT_P_UP_TO sets (scipy's t approximation gives p = 0 for a perfect
    correlation over any number of points); else that approximation."""
    x, y = column.to_numpy(), differences.to_numpy()
    if len(x) > EXACT_P_UP_TO:
        return float(stats.spearmanr(x, y)[1])
    ranks_x, ranks_y = stats.rankdata(x), stats.rankdata(y)
    orderings = np.array(list(itertools.permutations(range(len(x)))))
    shuffled = ranks_x[orderings] - ranks_x.mean()  # each row: x's ranks in one ordering
    centred = ranks_y - ranks_y.mean()
    scale = math.sqrt(float((centred**2).sum()) * float(((ranks_x - ranks_x.mean())**2).sum()))
    every = shuffled @ centred / scale  # Spearman's rho under each ordering
    observed = abs(float(np.corrcoef(ranks_x, ranks_y)[0, 1]))
    return float(np.mean(np.abs(every) >= observed - TIE))
