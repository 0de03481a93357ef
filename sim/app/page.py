"""The dashboard page (a Solara app: `Page` is what the server shows).

The left column holds the choice: the place (a scenario, England scaled down, or a GIAS
place), the policy and its main knobs, the seeds and the horizon; Run starts the run and
Stop ends it. The right column shows the run as it goes: a progress bar, the headline
measures of the policy and the status quo with their paired difference, the grade shares
and the good-or-better share over time, and the partnership network drawn by Mesa.

The run happens in a thread (`solara.lab.task`), so the page stays responsive: the task
steps the models (`sim.app.runs.run`) and, after each simulated year, draws the figures
in that same thread, while the models wait, and hands the page a `View` to show. Every
browser session has its own choice and run (Solara's reactive state is per session).
"""

# Solara's components are named like classes (the server looks for `Page`).
# ruff: noqa: N802

from __future__ import annotations

import html
import math
from collections.abc import Iterator
from dataclasses import dataclass

import solara
import solara.lab
from matplotlib.figure import Figure

from sim.app import figures
from sim.app.choices import (
    NATIONAL_SCALES,
    PLACES,
    POLICIES,
    Choice,
    Knob,
    knobs_of,
)
from sim.app.runs import Snapshot, policies_of, run
from sim.errors import UserError, one_line
from sim.labels import policy_name
from sim.state import TERMS_PER_YEAR

PLACE_BY_LABEL = {label: place for place, label in PLACES.items()}
POLICY_BY_NAME = {policy_name(policy): policy for policy in POLICIES}
MOST_SEEDS = 5
LABEL_STYLE = {"font-size": "0.85em", "color": "#444"}
TABLE_STYLE = {"font-size": "0.9em", "margin": "0.5em 0 1em 0"}
LONGEST_HORIZON_YEARS = 10

place = solara.reactive("opportunity_area")
national_scale = solara.reactive(0.02)
gias_path = solara.reactive("")
gias_area = solara.reactive("")
policy = solara.reactive("universal_partnership")
knob_values: solara.Reactive[dict[str, float | int | bool]] = solara.reactive({})
seeds = solara.reactive(2)
horizon_years = solara.reactive(3)


@dataclass(eq=False)
class View:
    """A snapshot and its figures, drawn in the run's thread."""

    snapshot: Snapshot
    grades: Figure
    good_or_better: Figure
    network: Figure | None


def current_choice() -> Choice:
    return Choice(place=place.value, policy=policy.value, knobs=dict(knob_values.value),
                  seeds=seeds.value, horizon_years=horizon_years.value,
                  national_scale=national_scale.value, gias_path=gias_path.value.strip(),
                  gias_area=gias_area.value.strip())


@dataclass(frozen=True)
class Refused:
    """A choice the config refused (a GIAS file that is not there, an unknown area): said
    on the page in the line the command line would print."""

    message: str


@solara.lab.task
def running(choice: Choice) -> Iterator[View | Refused | None]:
    yield None  # the last run's result goes at once: the page says the place is being built
    try:
        # Stop cancels the task; the run asks every term whether it still is the page's.
        for snapshot in run(choice, stopped=lambda: not running.is_current()):
            chosen = snapshot.models.get(choice.policy)
            running.progress = 100 * snapshot.progress
            yield View(snapshot, figures.grade_shares(snapshot),
                       figures.good_or_better(snapshot),
                       figures.network(chosen) if chosen is not None else None)
    except UserError as error:  # the analyst's to fix, not a fault: no traceback in the log
        yield Refused(one_line(error))


@solara.component
def KnobControl(knob: Knob) -> None:
    value = knob_values.value.get(knob.key, knob.default)

    def set_value(new: float | int | bool) -> None:
        knob_values.value = {**knob_values.value, knob.key: new}

    label = f"{knob.meaning[:1].upper()}{knob.meaning[1:]}"
    if knob.kind == "bool":
        solara.Checkbox(label=label, value=bool(value), on_value=set_value)
        return
    # The label above its slider: beside it, a long meaning leaves no room for the slider.
    solara.Text(f"{label}: {value:g}", style=LABEL_STYLE)
    if knob.kind == "int":
        solara.SliderInt("", value=int(value), min=int(knob.low), max=int(knob.high),
                         step=int(knob.step), on_value=set_value, tick_labels="end_points")
    else:
        solara.SliderFloat("", value=float(value), min=knob.low, max=knob.high,
                           step=knob.step, on_value=set_value, tick_labels="end_points")


@solara.component
def LabelledSlider(label: str, value: solara.Reactive, low: float, high: float,
                   step: float) -> None:
    """A slider with its label and value above it (the column is narrow)."""
    solara.Text(f"{label}: {value.value:g}", style=LABEL_STYLE)
    if isinstance(step, int):
        solara.SliderInt("", value=value, min=int(low), max=int(high), step=step,
                         tick_labels="end_points")
    else:
        solara.SliderFloat("", value=value, min=low, max=high, step=step,
                           tick_labels="end_points")


@solara.component
def Controls() -> None:
    busy = running.pending
    with solara.Card("Choose", style={"min-width": "300px"}):
        solara.Select("Place", values=list(PLACE_BY_LABEL), value=PLACES[place.value],
                      on_value=lambda label: place.set(PLACE_BY_LABEL[label]))
        if place.value == "national":
            LabelledSlider("England's scale (share of its 21,750 schools)", national_scale,
                           NATIONAL_SCALES[0], NATIONAL_SCALES[1], 0.01)
        elif place.value == "gias":
            # Updated as typed, so that pressing Run straight after typing runs what was typed.
            solara.InputText("GIAS extract (path to the CSV on the server)", value=gias_path,
                             continuous_update=True)
            solara.InputText("Area (local authority, district or Opportunity Area)",
                             value=gias_area, continuous_update=True)
        solara.Select("Policy", values=list(POLICY_BY_NAME), value=policy_name(policy.value),
                      on_value=lambda name: policy.set(POLICY_BY_NAME[name]))
        for knob in knobs_of(policy.value):
            KnobControl(knob)
        LabelledSlider("Seeds (each run under both policies)", seeds, 1, MOST_SEEDS, 1)
        LabelledSlider("Horizon (years)", horizon_years, 1, LONGEST_HORIZON_YEARS, 1)
        with solara.Row():
            solara.Button("Run", color="primary", disabled=busy,
                          on_click=lambda: running(current_choice()))
            solara.Button("Stop", disabled=not busy, on_click=running.cancel)


def _number(value: float, digits: int, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    value = round(value, digits) + 0.0  # no "−0": a difference that rounds to nothing is 0
    text = f"{value:+,.{digits}f}" if signed and value else f"{value:,.{digits}f}"
    return text.replace("-", "−")


# The running seed's measures as they stand (columns of its timeseries): label, column,
# scale for display, unit and digits.
NOW = (("good or better", "share_good_or_better", 100, "%", 1),
       ("disadvantage gap", "good_or_better_gap", 100, " points", 1),
       ("teachers leaving (a year, this term)", "teacher_leaving_rate", 100, "%", 1),
       ("orphans", "n_orphans", 1, "", 0),
       ("spending to date", "spending_to_date_gbp", 1e-6, " £m", 2))


def current_table(snapshot: Snapshot) -> str:
    """The running seed's headline measures now, under each policy, as an HTML table."""
    header = [f"seed {snapshot.seed} now", *(label for label, *_ in NOW)]
    rows = ["<tr>" + "".join(f"<th>{html.escape(cell)}</th>" for cell in header) + "</tr>"]
    for policy in policies_of(snapshot.choice):
        timeseries = snapshot.current.get(policy)
        if timeseries is None:
            continue
        latest = timeseries.iloc[-1]
        cells = [policy_name(policy), *(f"{_number(float(latest[column]) * scale, digits)}{unit}"
                                        for _, column, scale, unit, digits in NOW)]
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
                    + "</tr>")
    return f'<table class="comparison current">{"".join(rows)}</table>'


def comparison_table(snapshot: Snapshot) -> str:
    """The headline measures as an HTML table: each policy's mean over the seeds done, and
    the paired difference with its range over seeds. (HTML, not Solara's Markdown, which
    loads a diagram library from a CDN.)"""
    name = html.escape(policy_name(snapshot.choice.policy))
    cells = ["measure", f"{name} (mean)", "Status quo (mean)",
             "difference, paired by seed (mean)", "range of the difference over seeds"]
    rows = ["<tr>" + "".join(f"<th>{cell}</th>" for cell in cells) + "</tr>"]
    for row in snapshot.comparison().itertuples():
        unit, digits = row.unit, row.digits
        spread = (f"{_number(row.difference_low, digits, True)} to "
                  f"{_number(row.difference_high, digits, True)}" if row.seeds > 1 else
                  "(one seed)")
        cells = [row.measure, f"{_number(row.policy, digits)}{unit}",
                 f"{_number(row.status_quo, digits)}{unit}",
                 f"{_number(row.difference, digits, True)}{row.difference_unit}", spread]
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
                    + "</tr>")
    return f'<table class="comparison">{"".join(rows)}</table>'


def status_line(snapshot: Snapshot) -> str:
    choice = snapshot.choice
    if snapshot.finished:
        years = "1 year" if choice.horizon_years == 1 else f"{choice.horizon_years} years"
        return f"Finished: {snapshot.seeds_done} of {choice.seeds} seeds, {years} each."
    year = snapshot.done_terms // TERMS_PER_YEAR - snapshot.seed * choice.horizon_years
    return (f"Running seed {snapshot.seed} ({snapshot.seed + 1} of {choice.seeds}), year "
            f"{year} of {choice.horizon_years}...")


@solara.component
def Results() -> None:
    view: View | Refused | None = running.latest
    if running.error:
        solara.Error(f"The run stopped: {one_line(running.exception)}")
    if isinstance(view, Refused):
        solara.Error(f"This choice cannot be run: {view.message}")
        return
    if view is None:
        if running.pending:
            solara.Info("Building the place...")
            solara.ProgressLinear(True)
        elif not running.error:
            solara.Info("No run yet: choose a place, a policy and its knobs, then press Run.")
        return
    snapshot = view.snapshot
    solara.HTML(tag="h2", unsafe_innerHTML=html.escape(snapshot.choice.title()),
                classes=["run-title"])
    stopped = (f"Stopped: the table holds the {snapshot.seeds_done} of "
               f"{snapshot.choice.seeds} seeds that finished." if snapshot.seeds_done
               else "Stopped before any seed finished.")
    solara.Text(status_line(snapshot) if not running.cancelled else stopped,
                classes=["run-status"])
    solara.ProgressLinear(100 * snapshot.progress)
    if not snapshot.finished and snapshot.current:
        solara.HTML(tag="div", unsafe_innerHTML=current_table(snapshot), style=TABLE_STYLE)
    if snapshot.seeds_done:
        solara.HTML(tag="div", unsafe_innerHTML=comparison_table(snapshot), style=TABLE_STYLE)
    with solara.Columns([1, 1]):
        with solara.Column():
            solara.FigureMatplotlib(view.grades, dependencies=[view], format="png")
            solara.FigureMatplotlib(view.good_or_better, dependencies=[view], format="png")
        if view.network is not None:
            solara.FigureMatplotlib(view.network, dependencies=[view], format="png")


@solara.component
def Page() -> None:
    solara.Title("sim: school-led improvement dashboard")
    solara.Style(".comparison td, .comparison th { padding: 2px 10px; text-align: right; }"
                 ".comparison td:first-child, .comparison th:first-child { text-align: left; }"
                 ".comparison tr:nth-child(even) { background: #f4f4f4; }")
    with solara.Columns([1, 3]):
        Controls()
        with solara.Column():
            Results()
