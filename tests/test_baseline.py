"""The golden baseline: fresh runs of a few small cases give exactly the recorded files.

"Bit-identical" means this test passes. When a change is meant to move results, run
`scripts/update-baseline` and say why in the commit message (tests/baseline/golden.py).
"""

from __future__ import annotations

import json

import pytest

from tests.baseline.golden import BASELINE, CASES, run_case

RECORDED = json.loads(BASELINE.read_text())


def test_the_baseline_covers_every_case():
    assert sorted(RECORDED) == sorted(CASES)
    for name, case in RECORDED.items():
        assert case["overrides"] == list(CASES[name]), name


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_fresh_run_matches_the_baseline(name, tmp_path):
    fresh = run_case(name, tmp_path / name)
    recorded = RECORDED[name]
    moved = {key: (recorded["summary"].get(key), value)
             for key, value in fresh["summary"].items() if recorded["summary"].get(key) != value}
    missing = set(recorded["summary"]) - set(fresh["summary"])
    assert not moved and not missing, (
        f"{name}: summary values moved (recorded, now): {moved}; keys gone: {missing}")
    assert sorted(fresh["files"]) == sorted(recorded["files"]), f"{name}: other files written"
    for file, digests in recorded["files"].items():
        if "content" in digests:
            assert fresh["files"][file]["content"] == digests["content"], (
                f"{name}: the values in {file} changed")
        assert fresh["files"][file]["sha256"] == digests["sha256"], (
            f"{name}: {file} holds the same values but other bytes (a library's version?)")
