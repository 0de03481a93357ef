"""Common random numbers under every policy: a policy may draw only from its own stream.

Two runs with one seed that differ only in the policy must see the same shocks, so every
random stream but `policy` must have made exactly the draws the status quo made. A draw
added under one policy alone (an `if` round a `rng.random`) shifts every later number of
that stream and shows here as a different stream state. Each policy option in
configs/policy/ is checked, after several terms and two year ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.state import TERMS_PER_YEAR
from sim.streams import STREAMS
from tests.conftest import REPOSITORY, make_model

POLICIES = sorted(path.stem for path in (REPOSITORY / "configs" / "policy").glob("*.yaml"))
TERMS = 9  # three year ends (terms 2, 5, 8): two-year contracts end at the third
SEED = 3
# Every phase's stream but the policy's own (`structure` is only the parent of the yearly
# steps' streams and is never drawn from itself).
FIXED_DRAW_STREAMS = [name for name in STREAMS if name not in ("policy", "structure")]
# The steps of the yearly phase that draw one number per school whatever happens; the
# others (brokering, conversions, new trusts, ...) draw as many as that year's events ask,
# from a stream of their own for that year, so that they cannot shift these.
FIXED_YEARLY_STEPS = ("heads", "academy_orders", "rebrokering")


def stream_states(policy: str, terms: int) -> dict[str, dict]:
    model = make_model("scenario=opportunity_area", f"seed={SEED}", f"policy={policy}")
    states = {}
    for _ in range(terms):
        model.step()
        if model.term % TERMS_PER_YEAR == 0:  # a year has ended: its steps' streams
            year_end = model.term - 1
            for step in FIXED_YEARLY_STEPS:
                states[f"{step}, year {year_end // TERMS_PER_YEAR}"] = (
                    model.streams.yearly(step, year_end).bit_generator.state)
    for name in FIXED_DRAW_STREAMS:
        states[name] = getattr(model.streams, name).bit_generator.state
    return states


@pytest.fixture(scope="module")
def status_quo_states() -> dict[int, dict[str, dict]]:
    return {terms: stream_states("status_quo", terms) for terms in (3, TERMS)}


def test_every_policy_option_is_checked():
    assert "status_quo" in POLICIES and len(POLICIES) >= 5, POLICIES
    assert all(Path(REPOSITORY, "configs", "policy", f"{name}.yaml").is_file() for name in POLICIES)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_policy_draws_from_no_stream_but_its_own(policy, status_quo_states):
    states = stream_states(policy, TERMS)
    differ = [name for name in states if states[name] != status_quo_states[TERMS][name]]
    assert differ == [], (f"under {policy} the streams {differ} made other draws than under "
                          f"the status quo: common random numbers are broken")
