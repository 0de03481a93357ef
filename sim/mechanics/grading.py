"""Ofsted grades from effectiveness: the one rule inspection, the population builders and
the MAT-contracting policy's assessments all use (docs/ODD.md section 7.5)."""

from __future__ import annotations

import numpy as np


def grade_from_effectiveness(observed: np.ndarray, cut_points: list[float]) -> np.ndarray:
    """Ofsted grade (1-4) from observed effectiveness and ascending cut points 4|3|2|1."""
    return (4 - np.searchsorted(np.asarray(cut_points), observed, side="right")).astype(np.int8)
