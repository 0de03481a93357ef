"""Which sweeps may join a sweep folder (`sim.sweep_plans.check_same_sweep`): the same
sweep again, one with more seeds or parameter sets, or another value of a key either
sweeps; not one whose runs differ from the folder's in anything else (the output options
and the number of parameter sets aside).

The same through the command line, with the folder left as it was, is in tests/test_cli.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import UserError
from sim.sweep_plans import check_same_sweep

FOLDER = [["seed=0", "horizon_years=2"], ["seed=1", "horizon_years=2"]]
PLUS_SETS = [["+uncertainty=plausible", "uncertainty.parameter_set=0", "seed=0"],
             ["+uncertainty=plausible", "uncertainty.parameter_set=1", "seed=0"]]


def rows(jobs: list[list[str]]) -> list[dict[str, str]]:
    """The folder's plan, as a sweep of these jobs writes it."""
    return [{"run": f"run{number}", "overrides": " ".join(job)}
            for number, job in enumerate(jobs)]


JOINING = {
    "the same sweep": (FOLDER, FOLDER),
    "more seeds": (FOLDER, [["seed=0", "horizon_years=2"], ["seed=2", "horizon_years=2"]]),
    "one more seed": (FOLDER, [["seed=2", "horizon_years=2"]]),
    "a sweep of one more key": (FOLDER, [["seed=0", "policy=status_quo", "horizon_years=2"],
                                         ["seed=0", "policy=combined", "horizon_years=2"]]),
    "another value of a key the folder sweeps": (
        [["horizon_years=1", "seed=0"], ["horizon_years=2", "seed=0"]],
        [["horizon_years=3", "seed=0"]]),
    "another seed of a folder of one": (
        [["policy=status_quo", "seed=0"], ["policy=combined", "seed=0"]],
        [["policy=combined", "seed=1"]]),
    "another parameter set": ([PLUS_SETS[0]], [PLUS_SETS[1]]),
    "other output options": (FOLDER, [["seed=2", "horizon_years=2", "output.plots=False"]]),
    "more parameter sets": (PLUS_SETS, [[*job, "uncertainty.sets=20"] for job in PLUS_SETS]),
    "a quoted value with a space": ([["scenario.name='a b'", "seed=0"]],
                                    [["scenario.name='a b'", "seed=1"]]),
    "an empty plan": ([], [["policy=combined", "horizon_years=9"]]),
}
REFUSED = {
    "another horizon": (FOLDER, [["seed=0", "horizon_years=3"]], "horizon_years: 2 in its runs"),
    "a key the folder does not give": (FOLDER, [["seed=0", "horizon_years=2", "policy=combined"]],
                                       "policy: not given in its runs, combined in this"),
    "a key the folder gives, not given": (FOLDER, [["seed=5"]], "horizon_years: 2 in its runs, "
                                                                "not given in this sweep's"),
    "another value with a space": ([["scenario.name='a b'", "seed=0"]],
                                   [["scenario.name='a c'", "seed=1"]], "scenario.name"),
}


@pytest.mark.parametrize("planned, jobs", JOINING.values(), ids=JOINING.keys())
def test_a_sweep_that_only_resumes_or_grows_the_folder_joins_it(planned, jobs):
    check_same_sweep(Path("sweep"), rows(planned), jobs)


@pytest.mark.parametrize("planned, jobs, words", REFUSED.values(), ids=REFUSED.keys())
def test_a_sweep_whose_runs_differ_otherwise_is_refused_naming_the_difference(planned, jobs,
                                                                            words):
    with pytest.raises(UserError, match="holds another sweep") as refused:
        check_same_sweep(Path("sweep"), rows(planned), jobs)
    assert words in str(refused.value)
    assert refused.value.status == 2
