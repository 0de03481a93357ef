"""A Sobol sampler for Optuna whose points are numbered by the trial, not by a shared counter.

Optuna's own `QMCSampler` numbers its points with a counter kept in the study's storage,
read and then written without a lock: two workers asking at once get the same point (seen
here: two of a four-trial, two-worker fit were the same parameter set), so a parallel
study repeats some points and skips others. A trial's number is handed out once by the
storage, so taking the point from it is safe however many processes share the study, and
a resumed study carries on along the same sequence.

Each parameter is drawn on its declared scale: uniformly in its logarithm for a log range,
uniformly for a linear one, then rounded for an integer.
"""

from __future__ import annotations

import math
from typing import Any

from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.study import Study
from optuna.trial import FrozenTrial

OFFSET_ATTRIBUTE = "sobol_first_trial"


class SobolSampler(BaseSampler):
    """Trial n (from the study's `sobol_first_trial` on) takes point n - first of one
    scrambled Sobol sequence over the whole declared space."""

    def __init__(self, space: dict[str, BaseDistribution], seed: int) -> None:
        self._space = dict(sorted(space.items()))
        self._seed = seed
        self._fallback = RandomSampler(seed=seed)

    def infer_relative_search_space(self, study: Study,
                                    trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._space

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self.point(study, trial.number)

    def point(self, study: Study, number: int) -> dict[str, Any]:
        """The parameter set of the study's trial `number`."""
        from scipy.stats import qmc  # slow to import: only when a point is drawn

        index = max(number - int(study.user_attrs.get(OFFSET_ATTRIBUTE, 0)), 0)
        engine = qmc.Sobol(len(self._space), scramble=True, seed=self._seed)
        if index:
            engine.fast_forward(index)
        point = engine.random(1)[0]
        return {name: _value(distribution, float(share))
                for (name, distribution), share in zip(self._space.items(), point, strict=True)}

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        # Only a parameter outside the declared space gets here (none in a study's runs).
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)


def _value(distribution: BaseDistribution, share: float) -> float | int:
    """The value at `share` (0 to 1) of a distribution's range, on its scale."""
    assert isinstance(distribution, FloatDistribution | IntDistribution)
    low, high = float(distribution.low), float(distribution.high)
    if distribution.log:
        value = math.exp(math.log(low) + share * (math.log(high) - math.log(low)))
    else:
        value = low + share * (high - low)
    if isinstance(distribution, IntDistribution):
        # Each whole number gets an equal share of a linear range (on a log one, the nearest).
        whole = round(value) if distribution.log else math.floor(low + share * (high - low + 1))
        return int(min(max(whole, low), high))
    return min(max(value, low), high)
