"""`python -m sim.report PATH`: an area on a page, for a policy team's meeting.

Turns a run folder, or a folder `python -m sim.compare` wrote, into one self-contained
HTML page (`report.html`, pictures embedded) and a PDF of it (`report.pdf`, printed by the
system's Chromium), that a director can read in two minutes. Like the "school on a page"
summaries trusts already use (seed 004, finding 1), it shows:

- the place: a map of its schools coloured by grade, with each multi-academy trust's
  schools joined to its centre;
- the key message and the headline outcomes under each option, with 90% intervals from
  the seed-paired runs (and parameter sets, where the comparison has them): good or better,
  the disadvantage gap, teacher leaving, orphan schools, spending;
- the cost per extra school moved to good: for a comparison the incremental ratio with its
  interval and dominance verdict (sim.compare's cost_effectiveness.csv); for one run an
  average, labelled so;
- what drives the result: the two or three mechanisms that matter most here
  (`sim.report.findings` says how they are chosen);
- the model's main caveats, and provenance: version, run folders, scenario, seeds, date.

    python -m sim.report results/runs/opportunity_area/status_quo/<time>_seed0
    python -m sim.report results/experiments/policy_comparison     # after sim.compare
    python -m sim.report PATH --output ~/meeting/area.html --no-pdf

The report reads files only, never the model.
"""
