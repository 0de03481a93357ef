"""The validation scorecard's pieces, which read result files and tables only.

Pattern-oriented modelling (Grimm and Railsback): the model is fitted to some published
patterns (calibration targets) and checked against others it was never tuned to
(validation patterns). This package measures runs against both:

- `targets`: the calibration targets of `sim/calibration_targets.yaml` and the yearly
  measures that meet them (shared with `python -m sim.calibrate`);
- `patterns`: a published figure as a band on one measure, and the loader of
  `sim/validation_patterns.yaml`;
- `measures`: the measures of one run's tables (`MEASURES`, by name);
- `reading`: run folders read into those tables;
- `report`: each run scored, the scores pooled over seeds, the tables as text.

The command is `python -m sim.validate` (`sim.validate.command`). Like `sim.compare`, none
of this imports the model: it can score runs made anywhere.
"""
