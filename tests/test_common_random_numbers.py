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

from sim.model import STREAMS
from tests.conftest import REPOSITORY, make_model

POLICIES = sorted(path.stem for path in (REPOSITORY / "configs" / "policy").glob("*.yaml"))
TERMS = 9  # three year ends (terms 2, 5, 8): two-year contracts end at the third
SEED = 3
# The structure stream's draws depend on what happens (see the test at the end), so it is
# checked apart.
FIXED_DRAW_STREAMS = [name for name in STREAMS if name not in ("policy", "structure")]


def stream_states(policy: str, terms: int) -> dict[str, dict]:
    model = make_model("scenario=opportunity_area", f"seed={SEED}", f"policy={policy}")
    for _ in range(terms):
        model.step()
    return {name: getattr(model.streams, name).bit_generator.state for name in STREAMS}


@pytest.fixture(scope="module")
def status_quo_states() -> dict[int, dict[str, dict]]:
    return {terms: stream_states("status_quo", terms) for terms in (3, TERMS)}


def test_every_policy_option_is_checked():
    assert "status_quo" in POLICIES and len(POLICIES) >= 5, POLICIES
    assert all(Path(REPOSITORY, "configs", "policy", f"{name}.yaml").is_file() for name in POLICIES)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_policy_draws_from_no_stream_but_its_own(policy, status_quo_states):
    states = stream_states(policy, TERMS)
    differ = [name for name in FIXED_DRAW_STREAMS
              if states[name] != status_quo_states[TERMS][name]]
    assert differ == [], (f"under {policy} the streams {differ} made other draws than under "
                          f"the status quo: common random numbers are broken")


# The structure stream's consumption depends on what happened that year: founding-size
# draws (`rng.integers(..., size=len(converting))`), a new trust's values drawn from it
# (`create_trust`), and draws sized by the number of trusts (`random(trusts.n)`). So once a
# policy changes one conversion or one trust, every later structural draw (which heads
# leave, academy orders, rebrokering) differs from the status quo's. Policies that change
# nothing before the first year end keep it equal up to then.
STRUCTURE_DIVERGES = {"local_governance", "combined"}


@pytest.mark.parametrize("policy", [
    pytest.param(name, marks=pytest.mark.xfail(
        strict=True, reason="known: the structure stream's draws depend on conversions and "
        "trusts founded, so a policy that changes them desynchronises later structural "
        "draws (reported with issue 12)")) if name in STRUCTURE_DIVERGES else name
    for name in POLICIES])
def test_the_structure_stream_is_common_at_the_first_year_end(policy, status_quo_states):
    states = stream_states(policy, 3)
    assert states["structure"] == status_quo_states[3]["structure"]
