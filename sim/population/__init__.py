"""Population builders: turn a scenario into schools, trusts, hubs and peer clusters.

Each builder is a pure function of the config and a random generator. `synthetic` draws a
place from published statistics; `gias` reads the real schools of a place from a Get
Information about Schools extract and draws only what the extract does not hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.population.gias import build_gias_population
from sim.population.synthetic import build_synthetic_population
from sim.state import Population

if TYPE_CHECKING:
    from sim.schema import RunConfig

BUILDERS = {"synthetic": build_synthetic_population, "gias": build_gias_population}


def build_population(parameters: RunConfig, rng: np.random.Generator) -> Population:
    """Build the population named by `parameters.population.name`."""
    builder = BUILDERS[parameters.population.name]
    return builder(parameters.scenario, parameters.population, parameters.model, rng)
