"""The summary figure of a run, drawn from its result files (never from the model).

`summary.png` has four panels:
1. grade shares over time (share of schools at each latest Ofsted grade);
2. mean effectiveness by disadvantage fifth (schools ranked by FSM share), per year;
3. teacher flows: leaving, moving and first-year early-career leaving (per year), and the
   vacancy rate;
4. orphan schools waiting for a sponsor, and the median giver:taker ratio of MATs that
   have takers, against the trusts' threshold.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sim.files import write_atomically
from sim.loading import loading_libraries

if TYPE_CHECKING:  # pandas and matplotlib load when a figure is drawn, not with the runner
    import pandas as pd
    from matplotlib.axes import Axes

GRADE_COLOURS = {"share_outstanding": "#1a9850", "share_good": "#91cf60",
                 "share_requires_improvement": "#fc8d59", "share_inadequate": "#d73027"}
GRADE_LABELS = {"share_outstanding": "Outstanding", "share_good": "Good",
                "share_requires_improvement": "Requires improvement",
                "share_inadequate": "Inadequate"}


def _time_axis(timeseries: pd.DataFrame) -> pd.Series:
    """Years as decimals: the end of each term (autumn of 2018 is 2018.33)."""
    return timeseries["year"] + (timeseries["term_of_year"] + 1) / 3


def plot_run(directory: Path) -> Path:
    """Draw `summary.png` in a run folder from its Parquet files; returns its path."""
    # The object-oriented API without pyplot: no GUI backend is looked for, and pyplot's
    # import (half a second) is skipped.
    with loading_libraries():
        import pandas as pd
        from matplotlib import colormaps
        from matplotlib.figure import Figure

    directory = Path(directory)
    timeseries = pd.read_parquet(directory / "timeseries.parquet")
    panel_path = directory / "schools.parquet"
    panel = pd.read_parquet(panel_path) if panel_path.exists() else None
    summary = json.loads((directory / "summary.json").read_text())
    threshold = _threshold(directory)
    time = _time_axis(timeseries)

    figure = Figure(figsize=(12, 8.5))
    # Fixed margins rather than constrained layout, which costs more than the drawing.
    axes = figure.subplots(2, 2, gridspec_kw={"left": 0.06, "right": 0.94, "bottom": 0.06,
                                               "top": 0.92, "wspace": 0.3, "hspace": 0.38})
    title = (f"{summary['scenario'].replace('_', ' ').title()} under "
             f"{summary['policy'].replace('_', ' ')}, seed {summary['seed']}: "
             f"{summary['n_schools']:,} schools, {summary['horizon_years']} years")
    figure.suptitle(title, fontsize=13)

    grades = axes[0, 0]
    grades.stackplot(time, *[timeseries[c] * 100 for c in GRADE_COLOURS],
                     labels=list(GRADE_LABELS.values()), colors=list(GRADE_COLOURS.values()),
                     alpha=0.9)
    _title(grades, "Latest Ofsted grade")
    grades.set(ylabel="Share of schools (%)", ylim=(0, 100))
    grades.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=4, fontsize=8,
                  frameon=False)

    fifths = axes[0, 1]
    if panel is not None:
        ranked = panel.assign(fifth=panel.groupby("year")["fsm_share"].transform(
            lambda s: pd.qcut(s.rank(method="first"), 5, labels=False)) + 1)
        means = ranked.groupby(["year", "fifth"])["effectiveness"].mean().unstack("fifth")
        colours = colormaps["viridis"]
        for fifth in means.columns:
            label = {1: "1 (least disadvantaged)", 5: "5 (most disadvantaged)"}.get(
                int(fifth), str(int(fifth)))
            fifths.plot(means.index + 1, means[fifth], marker="o", markersize=3,
                        color=colours((fifth - 1) / 4), label=label)
        fifths.legend(title="FSM fifth", fontsize=8, title_fontsize=8)
        fifths.set(ylabel="Mean effectiveness (effectiveness units)")
    else:
        fifths.plot(time, timeseries["disadvantage_gap"], color="#5e3c99")
        fifths.set(ylabel="Least minus most disadvantaged fifth (effectiveness units)")
    _title(fifths, "Effectiveness by disadvantage fifth (end of each year)")
    fifths.set(xlabel="Year")
    fifths.xaxis.get_major_locator().set_params(integer=True)

    flows = axes[1, 0]
    for column, label, colour in (
            ("teacher_leaving_rate", "Leaving state schools", "#d95f02"),
            ("teacher_moving_rate", "Moving school", "#7570b3"),
            ("early_career_year1_leaving_rate", "Early-career, first year, leaving", "#e7298a")):
        flows.plot(time, timeseries[column] * 100, label=label, color=colour)
    _title(flows, "Teacher flows")
    flows.set(ylabel="Teachers per year (%)", xlabel="Year")
    flows.set_ylim(bottom=0)
    vacancies = flows.twinx()
    vacancies.plot(time, timeseries["vacancy_rate"] * 100, color="#666666", linestyle="--",
                   label="Vacancy rate (right)")
    vacancies.set(ylabel="Posts vacant (%)")
    vacancies.set_ylim(bottom=0)
    handles = flows.get_legend_handles_labels()
    extra = vacancies.get_legend_handles_labels()
    flows.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="lower left")

    orphans = axes[1, 1]
    orphans.bar(time, timeseries["n_orphans"], width=0.3, color="#b2182b", alpha=0.7,
                label="Orphan schools (left)")
    _title(orphans, "Orphan schools and giver:taker ratios")
    orphans.set(xlabel="Year", ylabel="Schools waiting for a sponsor")
    ratios = orphans.twinx()
    ratios.plot(time, timeseries["giver_taker_ratio_median"], color="#2166ac",
                label="Median MAT giver:taker ratio (right)")
    if threshold is not None:
        ratios.axhline(threshold, color="#2166ac", linestyle=":",
                       label=f"Due-diligence threshold {threshold:g}:1")
    ratios.set(ylabel="Givers per taker")
    ratios.set_ylim(bottom=0)
    handles = orphans.get_legend_handles_labels()
    extra = ratios.get_legend_handles_labels()
    orphans.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize=8, loc="upper left")

    path = directory / "summary.png"
    # Fixed metadata keeps the file byte-identical between identical runs; light PNG
    # compression saves a fifth of the figure's time for a slightly larger file.
    write_atomically(path, lambda temporary: figure.savefig(
        temporary, format="png", dpi=110, metadata={"Software": None},
        pil_kwargs={"compress_level": 1}))
    return path


def _title(axes: Axes, text: str) -> None:
    """A panel's title, at the top of its axes. Placed there rather than left to matplotlib,
    which at every drawing measures each axis of the panel and its twin to lift the title
    clear of tick labels on top (there are none): a tenth of the figure's drawing."""
    axes.set_title(text, y=1.0)


def _threshold(directory: Path) -> float | None:
    import yaml

    config_path = directory / "config.yaml"
    if not config_path.exists():
        return None
    # libyaml's loader when present: ten times faster than the pure-Python one.
    config = yaml.load(config_path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return float(config["model"]["trusts"]["giver_taker_threshold"])
