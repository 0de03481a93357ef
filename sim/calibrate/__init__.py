"""Calibration of the national model against the published statistics it must reproduce.

    python -m sim.calibrate [check] [--seeds N --scale S --years Y]   # check a default run
    python -m sim.calibrate fit --study FOLDER --trials N            # fit the free parameters

`check` (the default) compares a default national run with the bands of
`sim/calibration_targets.yaml` (`sim.calibrate.check`). `fit` searches the ranges that
`configs/calibration/england.yaml` declares with Optuna, scoring each trial against the
static and transition targets (`sim.calibrate.space`, `.scoring`, `.fit`).
"""

from sim.calibrate.check import calibration_table, simulate_national

__all__ = ["calibration_table", "simulate_national"]
