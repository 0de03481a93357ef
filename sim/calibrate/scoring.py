"""A trial's score: how far its runs land outside each target's band.

For each target, the seeds' values (common random numbers: every trial runs the same
seeds) give a mean and its standard error. The target's distance is how far the mean lies
beyond the band, less one standard error (floored at 0), divided by the band's width: 0
inside the band or within seed noise of it, 1 a band's width outside it. Taking one
standard error off keeps a trial from being ranked on noise alone: a mean just outside a
band that another set of seeds could put inside costs nothing. A target undefined in
every seed (a reduced run with no such inspection) costs `UNDEFINED_DISTANCE`, as far as
a band's width outside, and keeps the trial out of the plausible set: that it fits is not
shown. A trial is plausible when every distance is 0.

The trial's score is the sum of the distances plus a tie-break: `CENTRING_WEIGHT` times
the mean over targets of the squared offset of the seed mean from its band's centre, in
half-widths (capped at 1). At most `CENTRING_WEIGHT`, it cannot lift a trial with any
distance above one a hundredth of a band's width out of its band; among the many sets that
fit every band it prefers the one landing nearest the published figures, which are the
bands' centres, so that the best set is a fit and not just the first plausible one found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

UNDEFINED_DISTANCE = 1.0
CENTRING_WEIGHT = 0.01


@dataclass(frozen=True)
class TargetScore:
    """One target in one trial: the seed mean, its standard error, and its distance."""

    name: str
    low: float
    high: float
    mean: float  # NaN when undefined in every seed
    standard_error: float
    distance: float

    @property
    def in_band(self) -> bool:
        return self.distance == 0.0 and not math.isnan(self.mean)


def target_distance(values: Sequence[float | None], low: float, high: float) -> TargetScore:
    """Score one target from its seeds' values (None where undefined in a seed)."""
    defined = np.array([value for value in values if value is not None and math.isfinite(value)],
                       dtype=float)
    if len(defined) == 0:
        return TargetScore("", low, high, math.nan, math.nan, UNDEFINED_DISTANCE)
    mean = float(defined.mean())
    standard_error = float(defined.std(ddof=1) / math.sqrt(len(defined))) if len(defined) > 1 \
        else 0.0
    outside = max(low - mean, mean - high, 0.0)
    width = high - low
    # A band of zero width (a single figure) is scaled by the figure itself, so that the
    # distance is still a share.
    width = width if width > 0 else max(abs(high), 1e-12)
    distance = max(outside - standard_error, 0.0) / width
    return TargetScore("", low, high, mean, standard_error, distance)


def score_targets(values_by_target: dict[str, list[float | None]],
                  bands: dict[str, tuple[float, float]]) -> list[TargetScore]:
    """Each target's score, in the order of `bands`."""
    scores = []
    for name, (low, high) in bands.items():
        scored = target_distance(values_by_target.get(name, []), low, high)
        scores.append(TargetScore(name, scored.low, scored.high, scored.mean,
                                  scored.standard_error, scored.distance))
    return scores


def distance_sum(scores: Sequence[TargetScore]) -> float:
    """How far a trial lands outside its targets' bands, in band widths: 0 when plausible."""
    return float(sum(score.distance for score in scores))


def centring(scores: Sequence[TargetScore]) -> float:
    """The mean squared offset of the targets' means from their bands' centres, in
    half-widths, each capped at 1 (an undefined target counts 1): 0 when every mean sits
    at its band's centre."""
    offsets = []
    for score in scores:
        if math.isnan(score.mean):
            offsets.append(1.0)
            continue
        half_width = (score.high - score.low) / 2 or max(abs(score.high), 1e-12)
        offset = (score.mean - (score.low + score.high) / 2) / half_width
        offsets.append(min(offset * offset, 1.0))
    return float(np.mean(offsets)) if offsets else 0.0


def total(scores: Sequence[TargetScore]) -> float:
    """A trial's score: the sum of its distances, plus the centring tie-break."""
    return distance_sum(scores) + CENTRING_WEIGHT * centring(scores)
