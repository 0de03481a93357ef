"""The model in the shape `mesa.batch_run` expects: keyword parameters and a DataCollector.

`mesa.batch_run(model_cls, parameters, rng=[...])` builds `model_cls(**kwargs, rng=seed)`
for every combination of `parameters` and steps it while `model.running`, then reads
`model.datacollector`. `SchoolSystemModel` takes a typed, checked config (`RunConfig`)
instead, so `BatchModel` composes one from its keywords exactly as `python -m sim` would:
`scenario` and `policy` choose the groups, `horizon_years` the length, and any other
keyword is a config override by its dotted key, e.g.

    from mesa import batch_run
    from sim.mesa_batch import BatchModel
    rows = batch_run(BatchModel, {"policy": ["status_quo", "universal_partnership"],
                                  "model.capacity.giver_drain_rate": [0.0, 0.1]},
                     rng=[1, 2, 3], max_steps=1000, data_collection_period=1)

Its DataCollector records the headline measures of each term (`HEADLINE`, columns of
timeseries.parquet). An `rng` of None, batch_run's default, is a fresh seed, recorded in
`model.parameters.seed`; give seeds to make a batch repeatable.

The project's own sweeps (`python -m sim -m`, docs/ODD.md and README's Sweeps) remain the
way to run many: they compare policies on common random numbers, write tidy files per run,
resume, and run on Ray or SLURM; batch_run keeps everything in memory and starts a fresh
process per worker with `spawn`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from sim.config import configure
from sim.framework import mesa
from sim.model import SchoolSystemModel

HEADLINE = ("share_good_or_better", "disadvantage_gap", "teacher_leaving_rate",
            "early_career_year1_leaving_rate", "vacancy_rate", "n_orphans",
            "spending_total_gbp", "n_multi_academy_trusts")


def _latest(measure: str, model: SchoolSystemModel) -> float | int:
    return model._timeseries[-1][measure]


class BatchModel(SchoolSystemModel):
    """`SchoolSystemModel` built from keyword parameters, with a Mesa DataCollector."""

    def __init__(self, scenario: str = "opportunity_area", policy: str = "status_quo",
                 horizon_years: int | None = None, rng: Any = None, **overrides: Any) -> None:
        if rng is None:
            seed = int(np.random.SeedSequence().entropy % 2**32)
        elif isinstance(rng, int | np.integer):
            seed = int(rng)
        else:
            raise TypeError(f"BatchModel takes a whole-number seed as rng, not {rng!r}")
        arguments = [f"scenario={scenario}", f"policy={policy}", f"seed={seed}",
                     "output.progress=false"]
        if horizon_years is not None:
            arguments.append(f"horizon_years={horizon_years}")
        arguments += [f"{key}={value}" for key, value in overrides.items()]
        super().__init__(configure(arguments))
        self.datacollector = mesa.DataCollector(
            model_reporters={measure: partial(_latest, measure) for measure in HEADLINE})

    def step(self) -> None:
        super().step()
        self.datacollector.collect(self)
