"""A validation scorecard: is the model right for the reasons it was fitted to, and others?

    python -m sim.validate                              # 5 seeds x 10 years of England
    python -m sim.validate --seeds 2 --scale 0.2 --years 5   # a quick look
    python -m sim.validate --runs RUN_FOLDER...         # score runs already made

Pattern-oriented modelling (Grimm and Railsback): the model is calibrated to some published
patterns and validated on others it was never tuned to. The command prints, and writes
into `--output` (`scorecard.md`, `scorecard.csv`):
- the calibration targets: the static targets of `sim/calibration_targets.yaml` (grade
  shares, teacher flows, academy shares, trust counts, as `sim.calibrate` reads them), its
  dynamic targets (`inspection_transitions`), and the share of MATs below their own
  due-diligence threshold;
- the validation patterns of `sim/validation_patterns.yaml`;
- the transition matrix of grades at the next graded inspection (`transitions.csv`) and
  the distribution of orphan waits (`orphan_waits.csv`).
Each row gives the band, the mean over seeds, the range over seeds, whether the mean is in
the band, and the source. The exit status is 0 when every calibration target is in band
and 1 otherwise; validation patterns are reported but never fail the command.

The package imports nothing itself, so that `python -m sim.validate` sets its signal
handlers before anything heavy loads: `sim.validate.command.main` is the command, and the
measuring is `sim.scorecard`'s, which reads tables and never imports the model.
"""
