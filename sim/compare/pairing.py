"""Groups, the baseline, pairs and paired differences, from the runs' settings.

Settings are compared as text made by `sim.compare.reading.setting_text` (3 and 3.0 alike,
an explicit null as 'null', '' where a run has no such parameter).
- Group values are compared as numbers when they all are numbers (a stored `3.0` is the
  group `3`, and `--baseline 3`, `3.0` or `'3'` finds it), and then sorted numerically
  (null last); otherwise as text, sorted alphabetically. Runs without the parameter at all
  are left out, with a warning.
- Runs are paired by seed and by every parameter that varies within a group (common random
  numbers: paired runs differ only in the group's setting); runs of plausible parameter
  sets so by their set too (`sim.compare.parameter_sets`), but not by how many sets their
  sweep ran (`uncertainty.sets`). A parameter that is constant
  within each group but differs between groups changes together with the group; the
  differences reflect both, and a note says so.
- A comparison holds one scenario and one horizon, unless those are what is compared
  (`--group scenario`, `--group horizon_years`): effects in different places, or final
  outcomes after different numbers of years, are not comparable, so mixing them is refused.
- Two runs with the same group, seed and parameters (a run copied, a sweep run twice into
  different folders) are one setting: the first is compared and the other named.
- An undefined value (NaN) leaves its pair out of that measure's difference; the pairs left
  out are counted in `differences.csv` and named in a warning. So does a difference that is
  not a finite number (two values each finite, whose difference overflows; the reader skips
  runs with such values as damaged, so this is a second guard), and any statistic that is
  not finite is written empty: `differences.csv` never holds inf or NaN as a number.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.compare.missing import Missing
from sim.compare.reading import IDENTITY, MEASURES, NULL, as_number, number_text
from sim.errors import UserError

IDENTITY_PARAMETERS = {source for sources in IDENTITY.values() for source in sources}
# Settings that never pair runs: how many parameter sets a sweep ran (set k is the same set
# whatever that number, so a sweep resumed with more sets pairs with the first one's runs).
NOT_PAIRING = {"uncertainty.sets"}
CONTEXT = {"scenario": ("scenario", "scenario.name"), "horizon_years": ("horizon_years",)}
DIFFERENCE_COLUMNS = ["baseline", "measure", "pairs", "pairs_left_out", "mean_difference",
                      "sd_across_seeds", "ci90_low", "ci90_high"]


@dataclass
class Comparison:
    """Everything `sim.compare` reports, computed before anything is written."""

    group: str
    table: pd.DataFrame  # the runs compared, in group order
    settings: pd.DataFrame  # their settings as text, row for row
    labels: pd.Series  # each run's group value, as text
    order: list[str]  # the group values, numerically or alphabetically
    baseline: str | None
    keys: list[str]  # what pairs runs: seed and the parameters that vary within groups
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def keep(self, rows: pd.Series) -> None:
        """Keep only the runs where `rows` is true."""
        self.table, self.settings, self.labels = self.table[rows], self.settings[rows], self.labels[rows]

    def describe(self, index: Any) -> str:
        """A run named by its group value, seed and the parameters that pair it."""
        return " ".join([f"{self.group}={self.labels[index]}",
                         *(f"{key}={self.settings.at[index, key]}" for key in self.keys)])


def choices(settings: pd.DataFrame) -> list[str]:
    """Settings a comparison may group by: scenario, policy, horizon and the parameters."""
    return ["scenario", "policy", "horizon_years", *sorted(
        c for c in settings.columns if "." in c)]


def check_group(table: pd.DataFrame, settings: pd.DataFrame, group: str) -> None:
    """Raise a one-line UserError unless `group` is a setting of the runs."""
    allowed = choices(settings)
    if group in allowed:
        return
    varying = [c for c in allowed if c not in IDENTITY_PARAMETERS
               and settings[c].nunique() > 1 and (settings[c] != "").all()]
    listing = (f"choose scenario, policy, horizon_years or a parameter (varying among these "
               f"runs: {', '.join(varying) or 'none'}; every parameter is a column of runs.csv)")
    if group == "seed":
        raise UserError(f"cannot group by seed: runs are paired by seed; {listing}")
    if group in table.columns and group != "run":
        raise UserError(f"cannot group by '{group}': it is an outcome of the runs, not a "
                        f"setting; {listing}")
    close = difflib.get_close_matches(group, allowed, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    raise UserError(f"cannot group by '{group}': no run has it; {guess}{listing}")


def matches(wanted: str, label: str) -> bool:
    """Whether a --baseline matches a group value: as numbers, as null, or as text."""
    wanted_number, label_number = as_number(wanted), as_number(label)
    if wanted_number is not None and label_number is not None:
        return math.isclose(wanted_number, label_number, rel_tol=1e-9)
    if label == NULL:
        return wanted.strip().lower() in ("null", "none", "~")
    return wanted.strip().lower() == label.lower()


def group_labels(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Each run's group value as text, and the values in order: numerically when every
    value (null aside) is a number, else alphabetically."""
    numbers = [as_number(v) for v in values if v != NULL]
    if numbers and all(n is not None for n in numbers):
        labels = values.map(lambda v: v if v == NULL else number_text(as_number(v)))
        return labels, sorted(labels.unique(), key=lambda v: (v == NULL, as_number(v) or 0.0))
    return values, sorted(values.unique())


def choose_baseline(order: list[str], group: str, wanted: str | None) -> tuple[str | None, str]:
    """The baseline group value, and a note when it was not asked for by name."""
    if wanted is not None:
        exact = [label for label in order if label == wanted]
        found = exact or [label for label in order if matches(wanted, label)]
        if not found:
            raise UserError(f"baseline '{wanted}' is not among the {group} values: "
                            f"{', '.join(order)}")
        return found[0], ""
    if group == "policy":
        if "status_quo" in order or len(order) == 1:
            return ("status_quo" if "status_quo" in order else None), ""
        raise UserError(f"no status_quo runs to compare against: choose --baseline from "
                        f"{', '.join(order)}")
    if len(order) == 1:
        return None, ""
    return order[0], (f"baseline {group}={order[0]}, the first value (choose another with "
                      f"--baseline)")


def check_context(settings: pd.DataFrame, group: str) -> None:
    """Refuse a comparison across scenarios or horizons, unless that is what is compared."""
    for column, aliases in CONTEXT.items():
        counts = settings[column].value_counts().sort_index()
        if group in aliases or len(counts) < 2:
            continue
        listing = ", ".join(
            f"{value}{(' year' + 's' * (value != '1')) if column == 'horizon_years' else ''}: "
            f"{n} run{'s' * (n > 1)}" for value, n in counts.items())
        if column == "scenario":
            raise UserError(f"the runs are of {len(counts)} scenarios ({listing}): effects in "
                            f"different places are not comparable; compare one scenario at a "
                            f"time (give only its folders), or the scenarios with --group scenario")
        raise UserError(f"the runs have different horizons ({listing}): final outcomes after "
                        f"different numbers of years are not comparable; compare one horizon at "
                        f"a time (give only its folders), or the horizons with --group horizon_years")


def pairing_parameters(settings: pd.DataFrame, labels: pd.Series,
                       group: str) -> tuple[list[str], list[str]]:
    """(parameters that vary within a group, which pair runs; parameters that are constant
    within each group but differ between groups, which change together with the group)."""
    own = f"{group.removesuffix('.name')}."  # a config group (policy) owns its parameters
    varying, together = [], []
    # The policy is a candidate (grouping by a parameter pairs runs within each policy); the
    # scenario and horizon are not (one per comparison, see check_context), nor the config's
    # copies of the run's identity.
    candidates = ["policy", *sorted(c for c in settings.columns if "." in c
                                    and c not in IDENTITY_PARAMETERS | NOT_PAIRING)]
    for column in candidates:
        if column in (group, own.removesuffix(".")) or column.startswith(own):
            continue
        values = settings[column]
        if (values == "").any():  # not every run has it (a policy's own parameter)
            continue
        if values.groupby(labels).nunique().max() > 1:
            varying.append(column)
        elif values.nunique() > 1:
            together.append(column)
    return varying, together


def in_order(key: tuple[str, ...]) -> tuple[tuple[bool, float, str], ...]:
    """A sort key for settings text: numbers by value (seed 2 before seed 10), then text."""
    return tuple((as_number(v) is None, as_number(v) or 0.0, v) for v in key)


def sort_key(values: pd.Series) -> pd.Series:
    """Settings text in the order of their values: numerically when all are numbers."""
    numbers = values.map(as_number)
    return numbers.astype(float) if numbers.notna().all() else values


def compare(table: pd.DataFrame, settings: pd.DataFrame, group: str,
            wanted_baseline: str | None) -> Comparison:
    """Group the runs, choose the baseline, pair the runs, and compute the differences."""
    check_group(table, settings, group)
    notes, warnings, missing = [], [], []
    absent = settings[group] == ""
    if absent.all():
        raise UserError(f"no run has {group}")
    if absent.any():
        left = table.loc[absent, "run"].tolist()
        warnings.append(f"{len(left)} run(s) have no {group} and are not compared: "
                        f"{', '.join(left[:3])}{' ...' if len(left) > 3 else ''}")
        missing += [Missing(run, f"not compared: it has no {group}", run) for run in left]
        table, settings = table[~absent], settings[~absent]
    check_context(settings, group)
    labels, order = group_labels(settings[group])
    baseline, note = choose_baseline(order, group, wanted_baseline)
    notes += [note] if note else []
    varying, together = pairing_parameters(settings, labels, group)
    notes += [f"{group} and {column} change together (one {column} per {group}): the "
              f"differences reflect both" for column in together]
    keys = ["seed", *varying]
    # Runs in group order, then by seed and the pairing parameters.
    rank = labels.map({label: number for number, label in enumerate(order)})
    ordered = pd.DataFrame({"rank": rank, **{key: sort_key(settings[key]) for key in keys}})
    index = ordered.sort_values(["rank", *keys], kind="stable").index
    comparison = Comparison(group, table.loc[index], settings.loc[index], labels.loc[index],
                            order, baseline, keys, missing=missing, notes=notes,
                            warnings=warnings)
    drop_duplicates(comparison)
    comparison.differences = paired_differences(comparison)
    return comparison


def pairing_frame(comparison: Comparison) -> pd.DataFrame:
    """The table with the group label and the pairing keys as text, for joins."""
    return comparison.table.assign(
        _label=comparison.labels,
        **{f"_key_{key}": comparison.settings[key] for key in comparison.keys})


def drop_duplicates(comparison: Comparison) -> None:
    """Keep the first of runs with the same group value, seed and parameters."""
    frame = pairing_frame(comparison)
    columns = ["_label", *(f"_key_{key}" for key in comparison.keys)]
    repeated = frame.duplicated(columns, keep="first")
    if not repeated.any():
        return
    first = frame[~repeated].set_index(columns)["run"]
    for index, row in frame[repeated].iterrows():
        original = first.loc[tuple(row[columns])]
        comparison.warnings.append(f"skipped {row['run']}: the same {comparison.group}, seed "
                                   f"and parameters as {original}; compared once")
        comparison.missing.append(Missing(comparison.describe(index),
                                          f"not compared: a repeat of {original}", row["run"]))
    comparison.keep(~repeated)


def paired_differences(comparison: Comparison) -> pd.DataFrame:
    """Each group minus the baseline, pair by pair, for every headline measure."""
    group, baseline = comparison.group, comparison.baseline
    columns = [group, *DIFFERENCE_COLUMNS]
    if baseline is None:
        return pd.DataFrame(columns=columns)
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]
    base = frame[frame["_label"] == baseline]
    rows: list[dict[str, Any]] = []
    undefined: dict[str, set[str]] = {}
    overflowed: dict[str, set[str]] = {}
    for name in comparison.order:
        if name == baseline:
            continue
        pairs = frame[frame["_label"] == name].merge(base, on=keys, suffixes=("", "_base"))
        for measure in MEASURES:
            difference = defined_difference(pairs[measure], pairs[f"{measure}_base"])
            for side in ("", "_base"):
                for run in pairs.loc[pairs[f"{measure}{side}"].isna(), f"run{side}"]:
                    undefined.setdefault(measure, set()).add(run)
            both_defined = pairs[measure].notna() & pairs[f"{measure}_base"].notna()
            for _, pair in pairs[both_defined & difference.isna()].iterrows():
                overflowed.setdefault(measure, set()).add(f"{pair['run']} - {pair['run_base']}")
            rows.append(summarise(difference, name, baseline, measure, group))
    for measure, runs in undefined.items():
        listed = sorted(runs)
        comparison.warnings.append(
            f"{measure} is undefined (null) in {len(listed)} run(s) ({', '.join(listed[:3])}"
            f"{' ...' if len(listed) > 3 else ''}): their pairs are left out of its difference "
            f"(pairs_left_out in differences.csv)")
    for measure, named in overflowed.items():
        listed = sorted(named)
        comparison.warnings.append(
            f"{measure}: the difference is not a finite number in {len(listed)} pair(s) "
            f"({', '.join(listed[:2])}{' ...' if len(listed) > 2 else ''}): left out of its "
            f"difference as undefined (pairs_left_out in differences.csv)")
    return pd.DataFrame(rows, columns=columns)


def defined_difference(values: pd.Series, base: pd.Series) -> pd.Series:
    """Pair by pair, values minus base; NaN (undefined) where either is undefined or the
    difference is not a finite number (it overflowed)."""
    with np.errstate(over="ignore", invalid="ignore"):
        difference = values.astype(float) - base.astype(float)
    return difference.where(np.isfinite(difference))


def finite(value: float) -> float:
    """The value, or NaN (written empty) when it is not a finite number."""
    return float(value) if np.isfinite(value) else np.nan


def summarise(difference: pd.Series, name: str, baseline: str, measure: str,
              group: str) -> dict[str, Any]:
    """Mean, standard deviation and 90% t interval of the defined paired differences."""
    defined = difference.dropna()
    n = len(defined)
    with np.errstate(all="ignore"):  # a statistic that overflows is undefined, said below
        mean = defined.mean() if n else np.nan
        sd = defined.std(ddof=1) if n > 1 else np.nan
        half = stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
        low, high = mean - half, mean + half
    return {group: name, "baseline": baseline, "measure": measure, "pairs": n,
            "pairs_left_out": len(difference) - n, "mean_difference": finite(mean),
            "sd_across_seeds": finite(sd), "ci90_low": finite(low), "ci90_high": finite(high)}


def unpaired_runs(comparison: Comparison) -> list[Missing]:
    """Runs absent from one side of a comparison, named by group, seed and parameters; for
    folders without a plan, where the runs that were never made cannot otherwise be known."""
    if comparison.baseline is None:
        return []
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]

    def settings_of(label: str) -> set[tuple[str, ...]]:
        return set(map(tuple, frame.loc[frame["_label"] == label, keys].to_numpy()))

    def name(label: str, key: tuple[str, ...]) -> str:
        pairs = zip(comparison.keys, key, strict=True)
        return " ".join([f"{comparison.group}={label}", *(f"{k}={v}" for k, v in pairs)])

    base = settings_of(comparison.baseline)
    absent: dict[str, list[str]] = {}
    for label in comparison.order:
        if label == comparison.baseline:
            continue
        mine = settings_of(label)
        for key in sorted(base - mine, key=in_order):
            absent.setdefault(name(label, key), []).append(comparison.baseline)
        for key in sorted(mine - base, key=in_order):
            absent.setdefault(name(comparison.baseline, key), []).append(label)
    return [Missing(run, f"no such run is compared, so the comparison with {comparison.group}="
                    f"{', '.join(partners)} has one pair fewer") for run, partners in absent.items()]
