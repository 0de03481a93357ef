"""The report's pictures: a map of the place, and figures already drawn, embedded in the
page as data (so the HTML file is self-contained: it can be mailed or opened offline)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd

from sim.loading import loading_libraries
from sim.plots import GRADE_COLOURS, GRADE_LABELS

GRADES = list(GRADE_COLOURS)  # outstanding, good, requires improvement, inadequate

# Figures of a comparison worth a place on the page, first found first; `sim.compare`
# names its figures (README's "Comparisons").
# comparison.png is each option's paired difference from the baseline over time,
# cost_effectiveness.png the cost-effectiveness plane.
COMPARISON_FIGURES = ("comparison.png", "cost_effectiveness.png", "robustness.png",
                      "heat_map.png", "acceptability.png", "differences.png")
RUN_FIGURES = ("summary.png",)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def embedded_figures(folder: Path, names: tuple[str, ...], most: int) -> list[tuple[str, str]]:
    """(name, data URI) of up to `most` of the figures `names` found in `folder`."""
    found = []
    for name in names:
        path = folder / name
        if path.is_file():
            found.append((name, data_uri(path.read_bytes())))
        if len(found) == most:
            break
    return found


def place_map(panel: pd.DataFrame | None) -> str | None:
    """The place's schools at the end of the run, coloured by grade, each member of a
    multi-academy trust joined to the centre of its trust's schools; a data URI, or None
    when the run kept no panel with locations."""
    if panel is None or not {"x_km", "y_km", "grade"} <= set(panel.columns):
        return None
    with loading_libraries():
        from matplotlib.figure import Figure

    schools = panel[panel["year"] == panel["year"].max()]
    figure = Figure(figsize=(5.2, 4.6), dpi=110)
    axes = figure.add_axes((0.02, 0.1, 0.96, 0.86))
    if "trust_id" in schools and "governance" in schools:
        in_mat = schools[schools["governance"].astype(str).str.contains("multi", case=False)
                         & schools["trust_id"].notna()]
        centres = in_mat.groupby("trust_id")[["x_km", "y_km"]].transform("mean")
        for (x, y), (cx, cy) in zip(in_mat[["x_km", "y_km"]].to_numpy(),
                                    centres.to_numpy(), strict=True):
            axes.plot((x, cx), (y, cy), color="#9e9e9e", linewidth=0.5, zorder=1)
        trust_centres = in_mat.groupby("trust_id")[["x_km", "y_km"]].mean()
        axes.scatter(trust_centres["x_km"], trust_centres["y_km"], marker="s", s=22,
                     facecolor="white", edgecolor="#424242", linewidth=0.8, zorder=3,
                     label="multi-academy trust (centre of its schools)")
    size = max(4.0, min(30.0, 4000 / max(len(schools), 1)))
    for grade, column in enumerate(GRADES, start=1):
        chosen = schools[schools["grade"] == grade]
        axes.scatter(chosen["x_km"], chosen["y_km"], s=size, color=GRADE_COLOURS[column],
                     edgecolor="none", zorder=2, label=GRADE_LABELS[column])
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.0), ncol=3, fontsize=7,
                frameon=False, markerscale=1.2)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return data_uri(buffer.getvalue())
