"""Groups, the baseline, pairs and paired differences, from the table of runs.

- Group values are compared as numbers when they all are numbers (a stored `3.0` is the
  group `3`, and `--baseline 3`, `3.0` or `'3'` finds it), and then sorted numerically;
  otherwise as text, sorted alphabetically.
- Runs are paired by seed and by every parameter that varies within a group (common random
  numbers: paired runs differ only in the group's setting). A parameter that is constant
  within each group but differs between groups changes together with the group; the
  differences reflect both, and a note says so.
- A comparison holds one scenario and one horizon, unless those are what is compared
  (`--group scenario`, `--group horizon_years`): effects in different places, or final
  outcomes after different numbers of years, are not comparable, so mixing them is refused.
- Two runs with the same group, seed and parameters (a run copied, a sweep run twice into
  different folders) are one setting: the first is compared and the other named.
- An undefined value (NaN) leaves its pair out of that measure's difference; the pairs left
  out are counted in `differences.csv` and named in a warning.
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
from sim.compare.reading import IDENTITY, MEASURES, is_number
from sim.errors import UserError

IDENTITY_PARAMETERS = {source for sources in IDENTITY.values() for source in sources}
CONTEXT = {"scenario": ("scenario", "scenario.name"), "horizon_years": ("horizon_years",)}
DIFFERENCE_COLUMNS = ["baseline", "measure", "pairs", "pairs_left_out", "mean_difference",
                      "sd_across_seeds", "ci90_low", "ci90_high"]


def as_number(value: Any) -> float | None:
    """The value as a finite number, if it is one or is text that reads as one."""
    if is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def number_text(number: float) -> str:
    """3.0 -> '3', 0.25 -> '0.25': whole numbers without a decimal point."""
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def value_text(value: Any) -> str:
    """How a value is written in labels and keys; '' for an undefined value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return number_text(float(value)) if is_number(value) else str(value)


@dataclass
class Comparison:
    """Everything `sim.compare` reports, computed before anything is written."""

    group: str
    table: pd.DataFrame  # the runs compared, in group order
    labels: pd.Series  # each run's group value, as text
    order: list[str]  # the group values, numerically or alphabetically
    numeric: bool
    baseline: str | None
    keys: list[str]  # what pairs runs: seed and the parameters that vary within groups
    differences: pd.DataFrame = field(default_factory=pd.DataFrame)
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self, row: pd.Series) -> str:
        """A run named by its group value, seed and the parameters that pair it."""
        parts = [f"{self.group}={self.labels[row.name]}", f"seed={value_text(row['seed'])}"]
        return " ".join(parts + [f"{key}={value_text(row[key])}" for key in self.keys
                                 if key != "seed"])


def settings(table: pd.DataFrame) -> list[str]:
    """Columns a comparison may group by: the run's identity and its parameters."""
    return [c for c in ("scenario", "policy", "horizon_years") if c in table.columns] + sorted(
        c for c in table.columns if "." in c)


def check_group(table: pd.DataFrame, group: str) -> None:
    """Raise a one-line UserError unless `group` is a setting of the runs."""
    choices = settings(table)
    if group in choices:
        return
    varying = [c for c in choices if c not in IDENTITY_PARAMETERS
               and (values := table[c].map(value_text)).nunique() > 1 and (values != "").all()]
    listing = (f"choose scenario, policy, horizon_years or a parameter (varying among these "
               f"runs: {', '.join(varying) or 'none'}; every parameter is a column of runs.csv)")
    if group == "seed":
        raise UserError(f"cannot group by seed: runs are paired by seed; {listing}")
    if group in table.columns and group != "run":
        raise UserError(f"cannot group by '{group}': it is an outcome of the runs, not a "
                        f"setting; {listing}")
    close = difflib.get_close_matches(group, choices, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    raise UserError(f"cannot group by '{group}': no run has it; {guess}{listing}")


def matches(wanted: str, label: str) -> bool:
    wanted_number, label_number = as_number(wanted), as_number(label)
    if wanted_number is not None and label_number is not None:
        return math.isclose(wanted_number, label_number, rel_tol=1e-9)
    return wanted.lower() == label.lower()


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


def check_context(table: pd.DataFrame, group: str) -> None:
    """Refuse a comparison across scenarios or horizons, unless that is what is compared."""
    for column, aliases in CONTEXT.items():
        counts = table[column].map(value_text).value_counts().sort_index()
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


def pairing_parameters(table: pd.DataFrame, labels: pd.Series, group: str) -> tuple[list[str], list[str]]:
    """(parameters that vary within a group, which pair runs; parameters that are constant
    within each group but differ between groups, which change together with the group)."""
    own = f"{group.removesuffix('.name')}."  # a config group (policy) owns its parameters
    varying, together = [], []
    # The policy is a candidate (grouping by a parameter pairs runs within each policy); the
    # scenario and horizon are not (one per comparison, see check_context), nor the config's
    # copies of the run's identity.
    candidates = ["policy", *sorted(c for c in table.columns if "." in c
                                    and c not in IDENTITY_PARAMETERS)]
    for column in candidates:
        if column in (group, own.removesuffix(".")) or column.startswith(own):
            continue
        values = table[column].map(value_text)
        if (values == "").any():  # not every run has it (a policy's own parameter)
            continue
        if values.groupby(labels).nunique().max() > 1:
            varying.append(column)
        elif values.nunique() > 1:
            together.append(column)
    return varying, together


def compare(table: pd.DataFrame, group: str, wanted_baseline: str | None) -> Comparison:
    """Group the runs, choose the baseline, pair the runs, and compute the differences."""
    check_group(table, group)
    notes, warnings, missing = [], [], []
    undefined = table[group].map(value_text) == ""
    if undefined.all():
        raise UserError(f"no run has a value for {group}")
    if undefined.any():
        left = table.loc[undefined, "run"].tolist()
        warnings.append(f"{len(left)} run(s) have no {group} and are not compared: "
                        f"{', '.join(left[:3])}{' ...' if len(left) > 3 else ''}")
        missing += [Missing(run, f"not compared: it has no {group}", run) for run in left]
        table = table[~undefined]
    check_context(table, group)
    values = table[group]
    numeric = all(as_number(v) is not None for v in values)
    labels = values.map(lambda v: number_text(as_number(v)) if numeric else value_text(v))
    order = sorted(labels.unique(), key=lambda v: (float(v), v) if numeric else (0.0, v))
    baseline, note = choose_baseline(order, group, wanted_baseline)
    notes += [note] if note else []
    varying, together = pairing_parameters(table, labels, group)
    notes += [f"{group} and {column} change together (one {column} per {group}): the "
              f"differences reflect both" for column in together]
    keys = ["seed", *varying]
    # Runs in group order, then by seed and the pairing parameters.
    rank = labels.map({label: number for number, label in enumerate(order)})
    table = table.assign(_rank=rank).sort_values(["_rank", *keys], kind="stable").drop(
        columns="_rank")
    comparison = Comparison(group, table, labels.loc[table.index], order, numeric, baseline,
                            keys, missing=missing, notes=notes, warnings=warnings)
    drop_duplicates(comparison)
    comparison.differences = paired_differences(comparison)
    return comparison


def pairing_frame(comparison: Comparison) -> pd.DataFrame:
    """The table with the group label and the pairing keys as text, for joins."""
    table = comparison.table
    return table.assign(_label=comparison.labels,
                        **{f"_key_{key}": table[key].map(value_text) for key in comparison.keys})


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
        comparison.missing.append(Missing(comparison.describe(comparison.table.loc[index]),
                                          f"not compared: a repeat of {original}", row["run"]))
    keep = ~repeated
    comparison.table = comparison.table[keep]
    comparison.labels = comparison.labels[keep]


def paired_differences(comparison: Comparison) -> pd.DataFrame:
    """Each group minus the baseline, pair by pair, for every headline measure."""
    group, baseline = comparison.group, comparison.baseline
    columns = [group, *DIFFERENCE_COLUMNS]
    if baseline is None:
        return pd.DataFrame(columns=columns)
    frame = pairing_frame(comparison)
    keys = [f"_key_{key}" for key in comparison.keys]
    base = frame[frame["_label"] == baseline]
    rows, undefined = [], {}
    for name in comparison.order:
        if name == baseline:
            continue
        pairs = frame[frame["_label"] == name].merge(base, on=keys, suffixes=("", "_base"))
        for measure in MEASURES:
            difference = pairs[measure] - pairs[f"{measure}_base"]
            for side in ("", "_base"):
                for run in pairs.loc[pairs[f"{measure}{side}"].isna(), f"run{side}"]:
                    undefined.setdefault(measure, set()).add(run)
            rows.append(summarise(difference, name, baseline, measure, group))
        # Incremental cost-effectiveness: extra pounds per extra grade gained.
        both = pairs[["spending_total_gbp", "spending_total_gbp_base", "grades_gained",
                      "grades_gained_base"]].dropna()
        grades = (both["grades_gained"] - both["grades_gained_base"]).mean()
        spending = (both["spending_total_gbp"] - both["spending_total_gbp_base"]).mean()
        rows.append({group: name, "baseline": baseline,
                     "measure": "incremental_cost_per_grade_gained_gbp", "pairs": len(both),
                     "pairs_left_out": len(pairs) - len(both),
                     "mean_difference": spending / grades if grades > 0 else np.nan,
                     "sd_across_seeds": np.nan, "ci90_low": np.nan, "ci90_high": np.nan})
    for measure, runs in undefined.items():
        listed = sorted(runs)
        comparison.warnings.append(
            f"{measure} is undefined (null) in {len(listed)} run(s) ({', '.join(listed[:3])}"
            f"{' ...' if len(listed) > 3 else ''}): their pairs are left out of its difference "
            f"(pairs_left_out in differences.csv)")
    return pd.DataFrame(rows, columns=columns)


def summarise(difference: pd.Series, name: str, baseline: str, measure: str,
              group: str) -> dict[str, Any]:
    """Mean, standard deviation and 90% t interval of the defined paired differences."""
    defined = difference.dropna()
    n = len(defined)
    mean = defined.mean() if n else np.nan
    sd = defined.std(ddof=1) if n > 1 else np.nan
    half = stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n) if n > 1 else np.nan
    return {group: name, "baseline": baseline, "measure": measure, "pairs": n,
            "pairs_left_out": len(difference) - n, "mean_difference": mean,
            "sd_across_seeds": sd, "ci90_low": mean - half, "ci90_high": mean + half}


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
        for key in sorted(base - mine):
            absent.setdefault(name(label, key), []).append(comparison.baseline)
        for key in sorted(mine - base):
            absent.setdefault(name(comparison.baseline, key), []).append(label)
    return [Missing(run, f"no such run is compared, so the comparison with {comparison.group}="
                    f"{', '.join(partners)} has one pair fewer") for run, partners in absent.items()]
