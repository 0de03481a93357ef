"""A local web dashboard: pick a place, a policy and its knobs, run, and compare.

    python -m sim.app                      # serves http://127.0.0.1:8765
    python -m sim.app --port 9000 --host 0.0.0.0

An analyst picks a scenario (the Opportunity Area, England scaled down) or a GIAS place, a
policy and its main knobs, the seeds and the horizon, and presses Run. The dashboard runs
the policy and the status quo on the same seeds in the server's process, a term at a time,
and shows the grades, the partnership network and the headline measures as they evolve,
then each measure's difference from the status quo, paired by seed, with its range.

It is a Solara app (`sim.app.page`), because Mesa's own visualisation is built on Solara:
the partnership network is `model.grid`, drawn by Mesa's own drawer. Modules:
`sim.app.choices` (what can be chosen, as config overrides), `sim.app.runs` (running a
choice), `sim.app.figures` (the figures), `sim.app.page` (the page) and
`sim.app.command` (the command line and the server).
"""
