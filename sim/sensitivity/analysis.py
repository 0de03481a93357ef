"""Morris elementary effects or Sobol indices of each outcome (the figure is drawn by
`sim.sensitivity.figure`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and pandas load inside the functions, so that Ctrl-C during
    import numpy as np  # start-up reaches run_command and gives its one line
    import pandas as pd


def analyse(problem: dict, sample: np.ndarray, values: np.ndarray, outcomes: list[str],
            sobol: bool, seed: int) -> pd.DataFrame:
    import pandas as pd

    rows = []
    for column, outcome in enumerate(outcomes):
        y = values[:, column]
        if sobol:
            from SALib.analyze import sobol as sobol_analyse

            result = sobol_analyse.analyze(problem, y, calc_second_order=False, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["ST"][i], "total_order": result["ST"][i],
                             "total_order_conf": result["ST_conf"][i],
                             "first_order": result["S1"][i],
                             "first_order_conf": result["S1_conf"][i]})
        else:
            from SALib.analyze import morris as morris_analyse

            result = morris_analyse.analyze(problem, sample, y, num_levels=4, seed=seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"outcome": outcome, "parameter": name,
                             "importance": result["mu_star"][i], "mu_star": result["mu_star"][i],
                             "mu_star_conf": result["mu_star_conf"][i],
                             "mu": result["mu"][i], "sigma": result["sigma"][i]})
    table = pd.DataFrame(rows)
    table["rank"] = table.groupby("outcome")["importance"].rank(ascending=False, method="min")
    return table.sort_values(["outcome", "rank"]).reset_index(drop=True)
