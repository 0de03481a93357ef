"""Rates: the model steps in terms, most published rates are per year."""

from __future__ import annotations

import numpy as np

from sim.state import TERMS_PER_YEAR


def per_term(yearly_rate: float | np.ndarray) -> float | np.ndarray:
    """Probability per term of an event with the given probability per year."""
    return 1.0 - (1.0 - np.asarray(yearly_rate)) ** (1.0 / TERMS_PER_YEAR)
