"""Running a choice: the chosen policy and the status quo on the same seeds, term by term.

`run(choice)` is a generator: for each seed it builds the two models (the chosen policy's
and the status quo's, `sim.config.configure` then `SchoolSystemModel`, exactly as
`python -m sim` does), steps them together, and yields a `Snapshot` after every simulated
year and at the end, so the page can redraw as the run goes. Nothing here computes a
measure: the grades over time are the models' timeseries (`model.results()`), and the
headline measures are the summaries each finished run reports. The only arithmetic is the
comparison: with the same seed both runs see the same schools, teachers and shocks
(common random numbers), so the policy's effect in a seed is the paired difference, and
the spread of those differences over seeds says how much is the seed's luck.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.app.choices import BASELINE, Choice
from sim.config import configure
from sim.model import SchoolSystemModel
from sim.state import TERMS_PER_YEAR


@dataclass(frozen=True)
class Headline:
    """A headline measure: its key in a run's summary and how to show it."""

    key: str
    label: str
    scale: float  # multiplies the stored value for display (shares as percentages)
    unit: str
    digits: int
    difference_unit: str | None = None  # if not the unit: a share's difference is in points


HEADLINES = (
    Headline("good_or_better_final", "Good or better at the end", 100, "%", 1, " points"),
    Headline("good_or_better_gap_final", "Disadvantage gap at the end (good or better, least "
             "minus most disadvantaged fifth)", 100, " points", 1),
    Headline("teacher_leaving_rate_mean", "Teachers leaving a year", 100, "%", 2, " points"),
    Headline("orphan_terms", "Orphan-school terms (schools waiting for a trust x terms)", 1,
             "", 0),
    Headline("spending_total_gbp", "Spending on improvement", 1e-6, " £m", 2),
)


@dataclass(eq=False)
class Snapshot:
    """Where a run of a choice has got to: what the page shows.

    Compared by identity: `run` yields a fresh copy each time, so the page sees a change.
    """

    choice: Choice
    total_terms: int
    done_terms: int = 0
    seed: int = 0  # the seed running now (the last one once finished)
    # The running seed's models, by policy (the chosen one's grid is drawn), and their
    # timeseries so far, taken when the snapshot was yielded: the models step on after.
    models: dict[str, SchoolSystemModel] = field(default_factory=dict)
    current: dict[str, pd.DataFrame] = field(default_factory=dict)
    # Each finished seed's timeseries and summary, by policy.
    timeseries: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    summaries: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    finished: bool = False

    @property
    def progress(self) -> float:
        return self.done_terms / max(self.total_terms, 1)

    @property
    def seeds_done(self) -> int:
        return len(self.summaries.get(self.choice.policy, []))

    def comparison(self) -> pd.DataFrame:
        """Each headline measure over the finished seeds: the policy's mean, the status
        quo's, and the paired difference (policy minus status quo, seed by seed) with its
        mean, smallest and largest, all in display units."""
        policy = self.choice.policy
        rows = []
        for headline in HEADLINES:
            chosen = _values(self.summaries.get(policy, []), headline)
            baseline = _values(self.summaries.get(BASELINE, []), headline)
            paired = chosen[:len(baseline)] - baseline[:len(chosen)]
            rows.append({"measure": headline.label, "unit": headline.unit,
                         "difference_unit": headline.difference_unit or headline.unit,
                         "digits": headline.digits,
                         "policy": chosen.mean() if len(chosen) else np.nan,
                         "status_quo": baseline.mean() if len(baseline) else np.nan,
                         "difference": paired.mean() if len(paired) else np.nan,
                         "difference_low": paired.min() if len(paired) else np.nan,
                         "difference_high": paired.max() if len(paired) else np.nan,
                         "seeds": len(paired)})
        return pd.DataFrame(rows)


def _values(summaries: list[dict[str, object]], headline: Headline) -> np.ndarray:
    """A headline measure of each run, in display units (an undefined one as NaN)."""
    return np.array([np.nan if summary[headline.key] is None
                     else float(summary[headline.key]) * headline.scale  # type: ignore[arg-type]
                     for summary in summaries])


def policies_of(choice: Choice) -> tuple[str, ...]:
    """The policies a choice runs: the chosen one and the status quo (once, if the same)."""
    return (choice.policy,) if choice.policy == BASELINE else (choice.policy, BASELINE)


def run(choice: Choice, stopped: Callable[[], bool] = lambda: False) -> Iterator[Snapshot]:
    """Run the chosen policy and the status quo on seeds 0 to `choice.seeds - 1`, yielding
    a snapshot after each simulated year and when everything is done. `stopped` is asked
    every term: once it says so, the run ends there, without another snapshot."""
    policies = policies_of(choice)
    terms_per_seed = choice.horizon_years * TERMS_PER_YEAR
    snapshot = Snapshot(choice, total_terms=terms_per_seed * choice.seeds,
                        timeseries={policy: [] for policy in policies},
                        summaries={policy: [] for policy in policies})

    def taken() -> Snapshot:
        snapshot.current = {policy: model.results().timeseries
                            for policy, model in snapshot.models.items() if model.term > 0}
        return copy.copy(snapshot)

    for seed in range(choice.seeds):
        # Both models built before either steps: a refused config stops the run before any
        # time is spent on it.
        models = {policy: SchoolSystemModel(configure(choice.overrides(policy, seed)))
                  for policy in policies}
        snapshot.seed, snapshot.models = seed, models
        yield taken()
        chosen = models[choice.policy]
        while chosen.running:
            if stopped():
                return
            for model in models.values():
                model.step()
            snapshot.done_terms += 1
            if chosen.term % TERMS_PER_YEAR == 0 and chosen.running:
                yield taken()
        for policy, model in models.items():
            result = model.results()
            snapshot.timeseries[policy].append(result.timeseries)
            snapshot.summaries[policy].append(result.summary)
        if seed < choice.seeds - 1:
            yield taken()
    snapshot.finished = True
    yield taken()
