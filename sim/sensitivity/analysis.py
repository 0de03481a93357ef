"""Morris elementary effects or Sobol indices of each outcome, and the ranking's figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim.files import write_atomically

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


def plot(table: pd.DataFrame, sobol: bool, path: Path) -> None:
    from matplotlib.figure import Figure

    outcomes = list(dict.fromkeys(table["outcome"]))
    figure = Figure(figsize=(5.5 * len(outcomes), 5), layout="constrained")
    axes = figure.subplots(1, len(outcomes), squeeze=False)
    for axis, outcome in zip(axes[0], outcomes, strict=True):
        rows = table[table["outcome"] == outcome].sort_values("importance")
        error = rows["total_order_conf"] if sobol else rows["mu_star_conf"]
        axis.barh(rows["parameter"], rows["importance"], xerr=error, color="#4c72b0",
                  alpha=0.85, capsize=3)
        axis.set(title=outcome.replace("_", " "),
                 xlabel="total-order Sobol index" if sobol
                 else "mu* (mean absolute elementary effect, outcome units)")
        axis.tick_params(axis="y", labelsize=8)
    figure.suptitle(("Sobol" if sobol else "Morris") + " sensitivity: parameters ranked by "
                    "importance (with 95% intervals)", fontsize=13)
    write_atomically(path.with_suffix(".png"), lambda file: figure.savefig(
        file, format="png", dpi=110, metadata={"Software": None}))
    write_atomically(path.with_suffix(".svg"), lambda file: figure.savefig(
        file, format="svg", metadata={"Date": None, "Creator": None}))
