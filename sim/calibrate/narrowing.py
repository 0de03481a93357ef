"""How far the data narrow each fitted parameter: the plausible set's range against the prior.

A fit (`sim.calibrate.fit`) keeps every parameter set whose runs put every target in band,
the plausible set. For each free parameter this module compares the range the plausible
set spans with the range the study declared (the prior), on the scale the parameter is
searched on (a log-scaled range is compared in logarithms, as it is sampled):

- `plausible_low`, `plausible_high`: the smallest and largest plausible value;
- `plausible_p05`, `plausible_p95`: the 5th and 95th percentiles, less sensitive to a lone
  set near an edge;
- `share_kept`: the 5th-95th percentile span over the prior span, scaled so that an even
  sample of the whole prior range gives 1 (an even sample's 5th-95th span is 0.9 of it).
  Near 1 the targets leave the parameter as uncertain as it was declared: a trial or a
  data collection about it would be worth its cost if the policy answers depend on it; a
  small share means the data pin it down.

The shares are honest only for a study whose trials fill the prior evenly (the default
`--sampler sobol`): a search that concentrates its trials narrows the sample, not the data.
Nor do a few plausible sets say much (`fit` says so below 20): their span is mostly chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calibrate.space import FreeParameter
from sim.parameter_sets import share_kept

COLUMNS = ["parameter", "scale", "prior_low", "prior_high", "plausible_low", "plausible_high",
           "plausible_p05", "plausible_p95", "share_kept", "plausible_sets", "why"]


def narrowing_table(parameters: tuple[FreeParameter, ...], plausible: pd.DataFrame) -> pd.DataFrame:
    """One row per free parameter: its prior range, its plausible range and the share kept
    (empty when no set is plausible)."""
    rows = []
    for parameter in parameters:
        values = plausible[parameter.column].to_numpy(dtype=float) if len(plausible) \
            else np.array([], dtype=float)
        row: dict[str, object] = {"parameter": parameter.key, "scale": parameter.scale,
                                  "prior_low": parameter.low, "prior_high": parameter.high,
                                  "plausible_sets": len(values), "why": parameter.why}
        if len(values):
            p05, p95 = np.quantile(values, [0.05, 0.95])
            row.update(plausible_low=float(values.min()), plausible_high=float(values.max()),
                       plausible_p05=float(p05), plausible_p95=float(p95),
                       share_kept=share_kept(list(values), parameter.low, parameter.high,
                                             parameter.scale == "log"))
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def describe(table: pd.DataFrame) -> list[str]:
    """A line per parameter, widest first: how much of its declared range the data keep."""
    lines = []
    for row in table.sort_values("share_kept", ascending=False, na_position="last").itertuples():
        if pd.isna(row.share_kept):
            lines.append(f"  {row.parameter}: no plausible set")
            continue
        lines.append(f"  {row.parameter}: {100 * row.share_kept:.0f}% of its range kept "
                     f"({row.plausible_p05:.3g} to {row.plausible_p95:.3g} of "
                     f"{row.prior_low:g} to {row.prior_high:g}, 5th-95th percentile)")
    return lines
