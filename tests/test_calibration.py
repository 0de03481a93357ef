"""Calibration on a reduced but representative England: half of its schools (a quarter
leaves each authority's labour market and support pool small enough to shift the grade
shares by a point or two), ten years of the status quo, three seeds. Every target the
project commits to must stay in its band (see `python -m sim.calibrate` for the full-size
table)."""

from __future__ import annotations

import pandas as pd

from sim.calibrate import calibration_table, simulate_national

REQUIRED = [
    "outstanding", "good", "requires_improvement", "inadequate", "good_or_better_primary",
    "good_or_better_secondary", "teacher_leaving_state_sector", "teacher_moving_between_schools",
    "early_career_leaving_after_first_year", "vacancy_rate", "academy_share_primary",
    "academy_share_secondary", "multi_academy_trusts", "single_academy_trusts",
    "state_funded_schools",
]


def test_reduced_national_run_stays_inside_the_calibration_bands():
    scale = 0.5
    runs = [simulate_national(seed, scale, 10) for seed in range(3)]
    table = calibration_table(pd.concat(runs, ignore_index=True), scale).set_index("target")
    outside = table.loc[REQUIRED][~table.loc[REQUIRED, "pass"]]
    assert outside.empty, f"outside their bands:\n{outside.to_string()}"
