"""Rates: the model steps in terms, most published rates are per year."""

from __future__ import annotations

import numpy as np

from sim.state import TERMS_PER_YEAR

# A school closes between 1% and half of the gap to its potential a term on its own,
# whatever its head, self-knowledge and behaviour (judgement: the typical rate times
# factors that may be small or large would otherwise stall a school or overshoot).
OWN_IMPROVEMENT_RATE_RANGE = (0.01, 0.5)
# No yearly rate of teachers leaving or moving is above this: some teachers always stay
# (judgement); its rate per term is at most 0.64.
MAX_YEARLY_RATE = 0.95


def per_term(yearly_rate: float | np.ndarray) -> float | np.ndarray:
    """Probability per term of an event with the given probability per year."""
    return 1.0 - (1.0 - np.asarray(yearly_rate)) ** (1.0 / TERMS_PER_YEAR)
