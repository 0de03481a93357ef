"""The summary figure of a run, drawn from its result files (never from the model).

`summary.png` answers a policy analyst's questions about one run: what happens to the
share of good-or-better schools, the gap between disadvantaged and other schools, teacher
retention and orphan schools in the place, and what it costs. Six panels, each computed
by a function of `sim.plot_data` from the run's files:
1. schools by latest Ofsted grade each term, with the good-or-better share's first and
   last values marked;
2. the disadvantage gap: the good-or-better share of the least disadvantaged fifth of
   schools (by FSM share) minus that of the most disadvantaged fifth, in percentage
   points, at the end of each year, with a 95% interval for how far chance reaches with
   so few schools in a fifth;
3. teachers leaving the place's state schools over each school year, % of its teachers,
   with a 95% binomial (Wilson) interval: a year, not a term, since a small place's
   termly rate swings with a handful of leavers;
4. early-career retention: of each year's new teachers, the share still teaching at the
   end of that year and of the next (`cohorts.parquet`), with Wilson intervals;
5. orphan schools (maintained schools under an academy order no trust has taken) each
   term, by how long they have waited, and the share of multi-academy trusts whose
   giver:taker ratio is below their due-diligence threshold. That share replaces the
   median ratio the figure used to show: a median near 1 against a threshold of 3 meant,
   without saying so, that most trusts refuse every weak school, which is why orphans
   wait; the share says it in the analyst's terms;
6. spending each school year, and the average cost per school moved to good so far (all
   spending over the net schools moved to good): an average, not an incremental cost,
   since a single run has no counterfactual (`python -m sim.compare` gives that).

The time axis is school years, labelled "2018/19". A term's values are drawn at its end; a
year's, whether a flow over it or a state at its end, under its name, at its middle.
Legends and notes sit below their panels so that they hide no line; a panel of one line
has a note instead of a legend (cheaper to draw, and the figure must stay fast).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sim import plot_data
from sim.files import write_atomically
from sim.loading import loading_libraries

if TYPE_CHECKING:  # pandas and matplotlib load when a figure is drawn, not with the runner
    import pandas as pd
    from matplotlib.axes import Axes

    from sim.plot_data import RunFiles

GRADE_COLOURS = {"share_outstanding": "#1a9850", "share_good": "#91cf60",
                 "share_requires_improvement": "#fc8d59", "share_inadequate": "#d73027"}
GRADE_LABELS = {"share_outstanding": "Outstanding", "share_good": "Good",
                "share_requires_improvement": "Requires improvement",
                "share_inadequate": "Inadequate"}
WAIT_COLOURS = ("#fcbba1", "#ef3b2c", "#67000d")  # darker for a longer wait
COST_COLOUR = "#1b7837"
LEGEND = {"loc": "upper center", "fontsize": 8, "frameon": False}
BELOW = -0.11  # where a legend goes under its panel (axes fraction)
# A written value stays readable over lines and whiskers.
LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}


def plot_run(directory: Path) -> Path:
    """Draw `summary.png` in a run folder from its files; returns its path."""
    # The object-oriented API without pyplot: no GUI backend is looked for, and pyplot's
    # import (half a second) is skipped.
    with loading_libraries():
        from matplotlib.figure import Figure

    directory = Path(directory)
    files = plot_data.read_run(directory)
    summary = files.summary
    first_year = int(files.timeseries["year"].min())
    years = int(summary["horizon_years"])

    figure = Figure(figsize=(12, 12))
    # Fixed margins rather than constrained layout, which costs more than the drawing.
    axes = figure.subplots(3, 2, gridspec_kw={"left": 0.07, "right": 0.92, "bottom": 0.11,
                                               "top": 0.91, "wspace": 0.38, "hspace": 0.58})
    figure.suptitle(plot_data.figure_title(files), fontsize=13, y=0.983)
    figure.text(0.5, 0.947, "Whiskers: 95% intervals, how far chance alone reaches with "
                "this many schools or teachers. A year's value sits under its name.",
                ha="center", fontsize=9, color="#444444")
    _grades(axes[0, 0], files)
    _disadvantage(axes[0, 1], files)
    _leaving(axes[1, 0], files)
    _retention(axes[1, 1], files, first_year)
    _orphans(axes[2, 0], files)
    _spending(axes[2, 1], files, years)
    for panel in axes.flat:
        _school_years(panel, first_year, years)

    path = directory / "summary.png"
    # Fixed metadata keeps the file byte-identical between identical runs; light PNG
    # compression saves a fifth of the figure's time for a slightly larger file.
    write_atomically(path, lambda temporary: figure.savefig(
        temporary, format="png", dpi=100, metadata={"Software": None},
        pil_kwargs={"compress_level": 1}))
    return path


def _grades(axes: Axes, files: RunFiles) -> None:
    timeseries = files.timeseries
    good = plot_data.good_or_better(timeseries)
    axes.stackplot(good["time"], *[timeseries[c] * 100 for c in GRADE_COLOURS],
                   labels=list(GRADE_LABELS.values()), colors=list(GRADE_COLOURS.values()),
                   alpha=0.9)
    axes.plot(good["time"], good["percent"], color="black", linewidth=2,
              label="Good or better")
    for row, align in ((0, "left"), (len(good) - 1, "right")):
        axes.annotate(f"{good['percent'].iloc[row]:.1f}%",
                      (good["time"].iloc[row], good["percent"].iloc[row]),
                      xytext=(0, 8), textcoords="offset points", ha=align, fontsize=9,
                      bbox=LABEL_BOX)
    _title(axes, "Schools by latest Ofsted grade")
    axes.set(ylabel="Share of schools (%)", ylim=(0, 100))
    axes.legend(bbox_to_anchor=(0.5, BELOW), ncols=3, **LEGEND)


def _disadvantage(axes: Axes, files: RunFiles) -> None:
    _title(axes, "Disadvantage gap in good-or-better share")
    if files.schools is None:
        _missing(axes, "schools.parquet was not written (output.school_panel=false)")
        return
    gap = plot_data.disadvantage_gap(files.schools)
    counts = gap[["least_schools", "most_schools"]].to_numpy()
    fewest, most = int(counts.min()), int(counts.max())
    if fewest == 0:
        _missing(axes, "the place has fewer than five schools: no fifths to compare")
        return
    size = f"{fewest}" if fewest == most else f"{fewest}-{most}"
    axes.axhline(0, color="#999999", linewidth=0.8)
    axes.errorbar(gap["time"], gap["gap_points"],
                  yerr=[gap["gap_points"] - gap["gap_low"], gap["gap_high"] - gap["gap_points"]],
                  color="#5e3c99", marker="o", capsize=3)
    _mark_ends(axes, gap["time"], gap["gap_points"], "{:+.1f} points", gap["gap_high"])
    low, high = min(0.0, float(gap["gap_low"].min())), max(1.0, float(gap["gap_high"].max()))
    axes.set(ylabel="Least minus most disadvantaged fifth\n(percentage points)",
             ylim=(low - 0.05 * (high - low), high + 0.15 * (high - low)))
    _note(axes, f"Share good or better, at the end of each year, of the least and the most\n"
                f"disadvantaged fifths ({size} schools each, ranked by FSM share)")


def _leaving(axes: Axes, files: RunFiles) -> None:
    leaving = plot_data.teacher_leaving(files.timeseries)
    axes.errorbar(leaving["time"], leaving["percent"],
                  yerr=[leaving["percent"] - leaving["low"], leaving["high"] - leaving["percent"]],
                  color="#d95f02", marker="o", capsize=3)
    _mark_ends(axes, leaving["time"], leaving["percent"], "{:.1f}%", leaving["high"])
    _title(axes, "Teachers leaving")
    axes.set(ylabel="Teachers leaving the place's state schools,\n% of its teachers per year")
    axes.set_ylim(0, max(1.0, float(leaving["high"].max())) * 1.25)
    _note(axes, "Over each school year: leavers out of its teachers")


def _retention(axes: Axes, files: RunFiles, first_year: int) -> None:
    _title(axes, "Early-career retention")
    if files.cohorts is None or files.cohorts.empty:
        _missing(axes, "cohorts.parquet holds no early-career entrants")
        return
    retention = plot_data.early_career_retention(files.cohorts, first_year)
    # The two lines a little apart, so that their whiskers in the same year do not overlap.
    for since, label, colour, shift in (
            (0, "New teachers of the year, at its end", "#e7298a", -0.05),
            (1, "New teachers of the year before, a year later", "#7570b3", 0.05)):
        kept = retention[retention["years_since_entry"] == since]
        if kept.empty:
            continue
        axes.errorbar(kept["time"] + shift, kept["percent"],
                      yerr=[kept["percent"] - kept["low"], kept["high"] - kept["percent"]],
                      color=colour, marker="o", capsize=3, label=label)
    axes.set(ylabel="Still teaching in the place's state schools,\n% of the year's new teachers")
    axes.set_ylim(max(0.0, float(retention["low"].min()) - 10), 104)
    axes.legend(bbox_to_anchor=(0.5, BELOW), ncols=1, **LEGEND)


def _orphans(axes: Axes, files: RunFiles) -> None:
    orphans = plot_data.orphans_by_wait(files.timeseries, files.orphan_events)
    bottom = 0
    for (label, _, _), colour in zip(plot_data.WAIT_BANDS, WAIT_COLOURS, strict=True):
        axes.bar(orphans["time"] - 1 / 6, orphans[label], width=0.28, bottom=bottom,
                 color=colour, label=f"Orphans waiting {label}")
        bottom = bottom + orphans[label]
    last = orphans.iloc[-1]
    wait = last["median_wait_terms"]
    _title(axes, "Orphan schools: none waiting at the end" if last["waiting"] == 0 else
           f"Orphan schools: {int(last['waiting'])} waiting at the end, median wait "
           f"{wait:g} term{'' if wait == 1 else 's'}")
    axes.set(ylabel="Schools under an academy order\nthat no trust has taken")
    axes.set_ylim(0, max(1, int(orphans["waiting"].max()), int(bottom.max())) * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)
    trusts = axes.twinx()
    stretched = plot_data.stretched_trusts(files.timeseries)
    threshold = _threshold(files)
    trusts.plot(stretched["time"], stretched["percent"], color="#2166ac", linewidth=2,
                label=f"MATs refusing any weak school, % (right):\nunder {threshold} able "
                      "to help per one needing help")
    trusts.set(ylabel="MATs refusing weak schools (%)", ylim=(0, 105))
    handles, labels = axes.get_legend_handles_labels()
    extra, extra_labels = trusts.get_legend_handles_labels()
    axes.legend(handles + extra, labels + extra_labels, bbox_to_anchor=(0.5, BELOW),
                ncols=2, **LEGEND)


def _spending(axes: Axes, files: RunFiles, years: int) -> None:
    spent = plot_data.spending(files.timeseries)
    total = float(files.timeseries["spending_total_gbp"].sum()) / 1e6
    axes.bar(spent["time"], spent["spending_gbp"] / 1e6, width=0.7, color="#bdbdbd")
    _title(axes, f"Spending: £{total:,.1f}m over {years} years")
    axes.set_ylabel("Spending on improvement,\n£ million in the year (bars)")
    average = axes.twinx()
    cost = spent["average_cost_per_school_moved_gbp"] / 1e6
    average.plot(spent["time"], cost, color=COST_COLOUR, marker="o")
    if cost.notna().any():
        _mark_ends(average, spent["time"], cost, "£{:.2f}m")
        average.set_ylim(0, float(cost.max()) * 1.3)
    else:
        average.text(0.5, 0.92, "No net move to good yet: no average cost", ha="center",
                     transform=average.transAxes, fontsize=8)
    average.set_ylabel("Average cost so far, £ million\nper school moved to good (line)",
                       color=COST_COLOUR)
    _note(axes, "Average, not incremental: all spending so far / net schools moved to good\n"
                "at inspection so far. One run has no counterfactual: python -m sim.compare\n"
                "gives a policy's incremental cost over the status quo.")


def _school_years(axes: Axes, first_year: int, years: int) -> None:
    """School years on the x axis: a tick at each year's start, its name ("2018/19")
    under its middle; every k-th name when there are more than eight. Set as locators
    rather than with `set_xticks`, which makes every tick at once: half the time."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter

    step = -(-years // 8)
    middles = [year + 0.5 for year in range(first_year, first_year + years, step)]
    axes.set_xlim(first_year, first_year + years)
    axes.xaxis.set_major_locator(FixedLocator(range(first_year, first_year + years + 1)))
    axes.xaxis.set_major_formatter(NullFormatter())
    axes.xaxis.set_minor_locator(FixedLocator(middles))
    axes.xaxis.set_minor_formatter(FixedFormatter(
        [f"{int(middle)}/{(int(middle) + 1) % 100:02d}" for middle in middles]))
    axes.tick_params(axis="x", which="minor", length=0, labelsize=8)


def _mark_ends(axes: Axes, time: pd.Series, values: pd.Series, form: str,
               above: pd.Series | None = None) -> None:
    """Write the first and last values of a line over them (over `above`, the tops of
    their whiskers, when given)."""
    tops = values if above is None else above
    shown = values.notna().to_numpy().nonzero()[0]
    # The first label reaches right of its point and the last left, inside the panel.
    ends = {shown[0]: ("left", -8), shown[-1]: ("right", 8)} if len(shown) else {}
    for row, (align, shift) in sorted(ends.items()):
        axes.annotate(form.format(values.iloc[row]), (time.iloc[row], tops.iloc[row]),
                      xytext=(shift, 5), textcoords="offset points", ha=align, fontsize=8,
                      bbox=LABEL_BOX)


def _note(axes: Axes, text: str) -> None:
    """A line or two under a panel saying what its numbers are. Cheaper to draw than a
    legend, which a panel with one line does not need."""
    axes.text(0.5, BELOW, text, transform=axes.transAxes, ha="center", va="top", fontsize=8)


def _missing(axes: Axes, why: str) -> None:
    axes.text(0.5, 0.5, why, ha="center", va="center", fontsize=9, transform=axes.transAxes)
    axes.set(yticks=[])


def _title(axes: Axes, text: str) -> None:
    """A panel's title, at the top of its axes. Placed there rather than left to matplotlib,
    which at every drawing measures each axis of the panel and its twin to lift the title
    clear of tick labels on top (there are none): a tenth of the figure's drawing."""
    axes.set_title(text, y=1.0, fontsize=11)


def _threshold(files: RunFiles) -> str:
    """The trusts' due-diligence giver:taker threshold, as the figure names it."""
    threshold = (files.config.get("model") or {}).get("trusts", {}).get("giver_taker_threshold")
    return "the due-diligence number of" if threshold is None else f"{float(threshold):g}"
