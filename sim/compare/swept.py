"""What a sweep varied, found from the runs themselves, with no option given.

A parameter is **swept** when its value differs between runs that share a scenario, a
policy and (for runs of plausible parameter sets) a parameter set: so the seed, the
policy and scenario themselves, and the parameters that only go with a policy (its own
levers, present in its runs alone) or with a parameter set (the free parameters a set
fixes) are not. The runs' recorded configs (`config.yaml`, read into the settings as
text) are all it needs, so hand-made run folders without a plan are read the same way.

The comparison then groups by the policy when the runs have more than one, or else by the
first swept parameter (a sweep of one policy over a parameter, such as
`experiment=capacity_ratio`); the others pair runs with the seed. `swept.csv` gives each
headline measure's mean, standard deviation and number of runs for every combination of
the group and the swept values, and the printed summary names the swept parameters.
"""

from __future__ import annotations

import pandas as pd

from sim.compare.pairing import IDENTITY_PARAMETERS, NOT_PAIRING, Comparison, sort_key
from sim.compare.reading import MEASURES

# Settings that identify a cell of runs: within one, only the swept parameters differ.
CELL = ("scenario", "policy", "uncertainty.parameter_set")
SWEPT_COLUMNS = ["measure", "runs", "mean", "sd"]


def swept_parameters(settings: pd.DataFrame) -> list[str]:
    """The parameters whose value differs between runs of the same scenario, policy and
    parameter set, in alphabetical order."""
    cell = [column for column in CELL if column in settings.columns]
    candidates = sorted(column for column in settings.columns if "." in column
                        and column not in IDENTITY_PARAMETERS | NOT_PAIRING | set(CELL))
    if settings.empty:
        return []
    keys = settings[cell].astype(str).agg("\x1f".join, axis=1)
    return [column for column in candidates
            if settings[column].groupby(keys).nunique().max() > 1]


def default_group(settings: pd.DataFrame, swept: list[str]) -> str:
    """What to group by when the user did not say: the policy when it varies, else the
    first swept parameter, else the policy (every run the same: one group)."""
    if settings["policy"].nunique() > 1 or not swept:
        return "policy"
    return swept[0]


def swept_table(comparison: Comparison, swept: list[str]) -> pd.DataFrame:
    """Each headline measure by the group and every swept parameter: the mean, standard
    deviation (empty for one run) and number of runs with a defined value, in the order of
    the values (numerically where they are numbers)."""
    by = [comparison.group, *(column for column in swept if column != comparison.group)]
    columns = [*by, *SWEPT_COLUMNS]
    if comparison.table.empty:
        return pd.DataFrame(columns=columns)
    labels = {column: (comparison.labels if column == comparison.group
                       else comparison.settings[column]) for column in by}
    frame = pd.DataFrame({**{f"_{column}": values for column, values in labels.items()},
                          **{measure: comparison.table[measure].astype(float)
                             for measure in MEASURES if measure in comparison.table}})
    keys = [f"_{column}" for column in by]
    rows = []
    for values, runs in frame.groupby(keys, sort=False):
        for measure in MEASURES:
            if measure not in runs:
                continue
            defined = runs[measure].dropna()
            rows.append({**dict(zip(by, values, strict=True)), "measure": measure,
                         "runs": len(defined),
                         "mean": defined.mean() if len(defined) else float("nan"),
                         "sd": defined.std(ddof=1) if len(defined) > 1 else float("nan")})
    table = pd.DataFrame(rows, columns=columns)
    rank = {label: number for number, label in enumerate(comparison.order)}
    order = pd.DataFrame({"_rank": table[comparison.group].map(rank),
                          **{column: sort_key(table[column]) for column in by[1:]},
                          "_measure": table["measure"].map(list(MEASURES).index)})
    index = order.sort_values(["_rank", *by[1:], "_measure"], kind="stable").index
    return table.loc[index].reset_index(drop=True)


def swept_first(table: pd.DataFrame, swept: list[str]) -> pd.DataFrame:
    """The runs table with the swept parameters right after the run's identity (run,
    scenario, policy, seed, horizon), so that a reader sees first what differs."""
    first = [column for column in ("run", "scenario", "policy", "seed", "horizon_years", *swept)
             if column in table.columns]
    return table[[*first, *(column for column in table.columns if column not in first)]]


def summary_line(swept: list[str], settings: pd.DataFrame, group: str) -> str:
    """The printed line naming what the sweep varied, with its values."""
    if not swept:
        return "Swept parameters (found in the runs' configs): none besides the seed and policy"
    parts = []
    for column in swept:
        values = pd.Series(sorted(settings[column].unique()))
        parts.append(f"{column} ({', '.join(values[sort_key(values).argsort()])})")
    others = [column for column in swept if column != group]
    role = f"grouped by {group}" + (f", runs paired by seed and {', '.join(others)}"
                                    if others else "")
    return (f"Swept parameters (found in the runs' configs): {'; '.join(parts)}; {role}; "
            f"each measure by all of them in swept.csv")
