"""Compare runs: a tidy table, differences from a baseline paired by seed, and figures.

    python -m sim.compare results/sweeps/2026-11-22_08-30-00
    python -m sim.compare RUN_OR_SWEEP... --group policy --baseline status_quo --output DIR
    python -m sim.compare results/experiments/policy_comparison_plausible   # parameter sets

Finds every run folder (one with a `summary.json`; hidden folders are not looked into)
under the paths given, and writes into `--output` (by default the single sweep folder
given, or a new folder under `results/comparisons/`). What a sweep varied is found from
the runs' configs with no option given (`sim.compare.swept`): a parameter whose value
differs between runs of the same scenario, policy and parameter set is swept (the seed, a
policy's own levers and a parameter set's free parameters are not). Runs are grouped by
the policy when they have more than one, else by the first swept parameter (`--group`
chooses another), and paired by seed and the other swept parameters; the printed summary
and `comparison.json` (`swept_parameters`) name them. The files:
- `swept.csv`, when a parameter was swept: each headline measure's mean, standard
  deviation and number of runs with a defined value, for every combination of the group
  and the swept values;
- `runs.parquet` and `runs.csv`: one row per run compared, its scenario, policy, seed,
  horizon, headline scalars (with `run_key` and `place`, from summary.json) and
  parameters, in group order;
- `differences.csv`: for each group against the baseline group, the difference in each
  headline measure paired by seed (common random numbers), with its mean, standard
  deviation across seeds, 90% confidence interval, the number of pairs and of pairs left
  out because a value is undefined (null). (Before December 2026 it also held
  `incremental_cost_per_grade_gained_gbp`, mean extra spending over mean extra grades,
  which went negative or huge when the gain was small or negative, with no interval;
  `cost_effectiveness.csv` replaces it);
- `cost_effectiveness.csv`: for each group against the baseline and each effect (net
  grades gained, schools moved to good or better), the mean incremental cost and effect
  over the paired runs with 90% percentile-bootstrap intervals, a dominance verdict
  (`dominant`, `dominated`, `cost-saving but worse`, `no difference`, or `costs more, gains
  more`, the only one given an ICER in pounds per unit of effect, never a negative one),
  the ICER's interval when every resample costs more and gains more, and the share of
  resamples in each quadrant of the cost-effectiveness plane (methods in
  `sim.compare.cost_effectiveness`: 2000 resamples of pairs, seeded, so reproducible);
- `acceptability.csv` and `acceptability.png`: the acceptability curve, for willingness
  to pay per school moved to good from £0 to £5m, each option's (the baseline's included)
  probability of the highest net benefit, and its mean net benefit against the baseline;
- `missing.csv`: every run that is not compared, named, with why (`missing_run`, `reason`,
  `folder`): run folders that cannot be read, runs of a sweep's plan that failed or never
  finished, repeats of a run, and, for runs without a plan, runs that have no partner on
  the other side of a comparison; each is also printed as a warning, so fewer seeds are
  never averaged silently;
- `comparison.png`: each group's paired difference from the baseline over time, term by
  term (a run minus the baseline's run with the same seed, and parameter set, so common
  random numbers cancel what the runs share; runs without a partner left out), with the
  90% confidence interval of the mean difference, one panel per headline measure (the
  good-or-better share, the disadvantage gap, teacher leaving, orphan schools, spending
  to date; differences of shares and rates in percentage points); with one group only,
  the levels below;
- `levels.png`: the levels over time, each group's mean over its runs, the baseline in
  black with its 5th-95th percentile across runs lightly shaded (no other group's band,
  so that five bands never smear into one); differences are read from `comparison.png`;
- `differences.png`: the paired differences from the baseline at the end with their 90%
  intervals;
- `outcomes.png`: the distribution of final outcomes per group (a box and each run);
- `cost_effectiveness.png`: the cost-effectiveness plane, one panel per effect: each
  option's bootstrap resamples of its incremental effect and cost (the very resamples of
  `cost_effectiveness.csv`), its mean and 90% intervals, the baseline at the origin and
  the quadrants named (dominated, dominant, ...), the table's verdict in the legend;
- `heat_map.png`, for a sweep over two numeric parameters: on their grid, each cell's
  paired difference from the reference cell (the baseline's value of the grouping
  parameter, same seed and other settings) ± its standard error, hatched where the 90%
  interval holds 0, in a diverging map oriented so that green is better and brown worse
  on every measure;
Every figure gives a policy its fixed colour and name (`sim.labels`, through
`sim.compare.style`), the status quo black, whatever else is compared;
- `comparison.json`: the manifest, listing the files written, the paths compared and the
  options; it marks the folder as a comparison's. It also repeats each policy's headline
  cost-effectiveness (`cost_effectiveness`: verdict, incremental cost and effect with 90%
  intervals, and the ICER, null unless the policy costs more and gains more).
Runs of a calibration study's plausible parameter sets (`+uncertainty=plausible`, each
naming its set in config.yaml and parameter_set.json) are paired by seed and parameter set,
and the comparison adds parameter uncertainty (methods in `sim.compare.parameter_sets` and
`sim.compare.information`):
- `differences.csv` gains `parameter_sets`, `sd_across_sets` and a 90% band,
  `band90_low`/`band90_high`: where the difference lies for 90% of the plausible sets, seed
  noise included (the 5th and 95th percentiles of an equal mixture over the sets of
  normals centred on each set's seed mean with its standard error; with one seed per set,
  which cannot measure seed noise, the percentiles of the sets' means alone, too narrow,
  and a printed note says so); its seed columns are then seed noise alone (the standard
  deviation within sets, pooled, and the interval of the mean over the sets run were the
  parameters known);
- `robustness.csv`: per group and headline measure, each set's mean difference from the
  baseline (`set_<k>`) and a verdict: `no difference` when it is exactly 0 in every set,
  `robust` when its sign holds in every set, `most` in at least 80%, else `depends`, then
  naming the free parameter whose value has the largest absolute Spearman correlation with
  the sets' differences (p-value exact up to 8 sets); no parameter is named, and
  `why_no_parameter` says why, under 5 sets or when the largest correlation is tied;
  printed, a line per measure;
- `value_of_information.csv`: for choosing the best group on each measure, the expected
  value of perfect information over the sets and each free parameter's partial value
  (Strong and Oakley's binning, floor(sqrt(K)) bins), with its prior range and the share
  of it the plausible set spans; printed with the parameters the answers depend on most.
  Under 4 sets there is one bin: the partial values are empty, with a `note`, and no
  parameter is called worth a trial or new data;
- `robustness.png`: each group's difference in every set, in its colour, the marker
  saying the verdict.
Runs with and without parameter sets, or of two plausible tables, are refused together
in one line; a run whose parameter_set.json is unreadable is skipped and named. Runs of
one set only (`uncertainty.sets=1`, or one set's runs from a bigger sweep) are paired by
seed alone, with a note that one set says nothing about parameter uncertainty, and none of
the above.
Every figure is written as PNG and SVG. No table holds inf or NaN as a number: an undefined
value is empty in CSV and null in Parquet.

Whose files it may touch: the output folder must be new, empty, a folder given as a path
(a sweep folder, the default output) or one an earlier comparison wrote (it holds
`comparison.json`); any other folder holding files is refused. Only files an earlier
manifest lists are replaced or removed; a file the comparison would write that is there and
not listed (a user's `runs.csv`) is named in a one-line refusal, and nothing is written (see
`sim.compare.command`).

Groups are the values of `--group` (`policy` by default, or `scenario`, `horizon_years` or
any parameter), compared as numbers when they are numbers (`--baseline 3` finds a stored
`3.0`, and groups sort numerically). The baseline is `status_quo` for policies and
otherwise the first value, unless `--baseline` names one.

What is refused, and what is skipped:
- A comparison holds one scenario and one horizon: paired differences of final outcomes
  after different horizons, or in different places, are not comparable, so runs that mix
  them are refused in one line, unless the scenario or horizon is what is compared
  (`--group scenario`, `--group horizon_years`). The time series of a group are drawn over
  the terms all its runs share.
- A run folder whose `summary.json`, `config.yaml` or `timeseries.parquet` cannot be read
  (empty, truncated, not JSON or YAML) is skipped, named in a warning with what is wrong,
  and the rest are compared; when no run is left, the command stops with one line.
- An undefined value (`null`, an absent measure, or the bare `NaN` that older versions
  wrote, which is not JSON) leaves its pairs out of that measure, with a warning; so does a
  difference that is not a finite number.
- A run holding a value no run produces (infinite, or larger in size than 1e15, in a
  headline measure of `summary.json` or in `timeseries.parquet`) is damaged, and skipped
  and named like an unreadable one: differences and means of such values overflow.
- A path given twice, or a run given together with its sweep, is read once (a note says so).
- Bad input (a missing or empty path, a file, a folder with no runs, an unknown group, a
  baseline that is not a group value, an empty `--output`, an output folder inside a run
  folder, holding a user's files or that cannot be written) stops the command with one
  line, `sim: error: ...`, exit status 2, before anything is written. Files are written all
  together or not at all, also when interrupted by Ctrl-C or SIGTERM (see
  `sim.compare.command`).

Like the rest of the project it reads result files and never imports the model:
`reading` finds and reads runs, `missing` names the runs that are not there, `pairing`
groups and pairs them, `cost_effectiveness` weighs extra spending against what it buys,
`parameter_sets` and `information` add parameter uncertainty,
`figures`, `over_time`, `plane` and `heat_map` draw (`style` names and colours the
groups), `output` writes it all or nothing, and `command` is the command line
(`sim.compare.command.main`). The package itself imports
nothing, so that `python -m sim.compare` sets its signal handlers before anything heavy
loads.
"""
