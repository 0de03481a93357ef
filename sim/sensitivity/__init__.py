"""Global sensitivity analysis: which parameters matter most for the headline outcomes?

    python -m sim.sensitivity                                # Morris screening, 10 trajectories
    python -m sim.sensitivity --trajectories 20 --launcher ray
    python -m sim.sensitivity --sobol --samples 64           # Sobol indices (many more runs)

The parameters and their ranges are in `configs/sensitivity_morris.yaml` (or `--config`).
The command draws a sample with SALib (Morris elementary effects by default; Saltelli's
scheme for Sobol indices with `--sobol`), writes it to `samples.csv`, and runs it as an
ordinary sweep of `python -m sim` over `sensitivity.index`, so any launcher works (sim's own
on this machine by default; `--launcher ray` or `submitit_slurm` on a cluster) and an
interrupted analysis resumes where it stopped. Every run uses the same seed (common random
numbers). It then analyses each outcome and writes, into `--output` (by default
`results/sensitivity/<method>`):
- `sample.json`: what the sample is (method, parameters and bounds, size, seeds);
- `samples.csv`: the sample, one row per run;
- `importance.csv`: one row per parameter and outcome, ranked: for Morris, mu* (mean
  absolute elementary effect, in the outcome's units), its confidence interval and sigma
  (spread, a sign of interactions or non-linearity); for Sobol, first-order and total
  indices with confidence intervals;
- `importance.png` and `.svg`: the ranking, one panel per outcome, parameters named in
  words and in one order: for Morris, mu* with its interval, coloured by its sign (from
  mu: raises, lowers, or both ways) and sigma as a diamond (`sim.sensitivity.figure`).

A run takes its row's values into its own config, so its folder is keyed by them (like any
sweep's runs): a run is reused only for a row with the same values. An output folder that
holds another sample (other bounds, size or seeds) is refused in one line, never mixed.

Everything is checked before anything is written: the bounds file (each parameter a number
of the model, under model., scenario., population. or policy., in the config the runs will
have, which is the scenario's with the status quo policy), the launcher and the output
folder. The sweep ends with the analysis: Ctrl-C or SIGTERM stops it first, and if the
analysis is killed outright Linux's parent-death signal stops it. Either way one line says
what is kept (the sample and the runs already complete), from which the same command
resumes.

The package imports nothing itself, so that `python -m sim.sensitivity` sets its signal
handlers before anything heavy loads: `sim.sensitivity.command.main` is the command,
`sim.sensitivity.runs.collect` reads a sample's runs, `sim.sensitivity.figure` draws.
"""
