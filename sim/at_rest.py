"""Starting a place at rest: the spin-up of a synthetic place, and the settling of a real one.

A status-quo run should show only the change its own conditions imply (docs/ODD.md
section 4). Two starts need help to get there:

- **A synthetic place** is drawn from published statistics, not from the model's own
  stationary state: support lifts weak schools, shocks and departing heads pull others
  down, and below-good schools are inspected more often than good ones. `spin_up` runs the
  term phases and heads' turnover for `SPIN_UP_TERMS` before term 0 under the place's
  governance as it is (the commissioner's orders and openings, like every trend, wait for
  the run), then discards everything but the schools' state.
- **A real place** read from GIAS has real grades and trusts, which a spin-up would
  overwrite. Its grades say where it stands, not where the model would take it: a place
  whose schools are mostly below good would otherwise climb toward England's average in a
  few years, an artefact (issue 13). `settle_place` finds, for each local authority, the
  shift of its schools' context potential (what the place brings that the model does not
  see: its history, its labour market, its intake beyond FSM) at which the authority's
  good-or-better share at rest is its observed share, by a few rounds of a trial spin-up
  from the real start, and then starts the run from the real start with those shifts.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from sim.events import EventLog
from sim.phases import structure
from sim.state import TERMS_PER_YEAR, Grade
from sim.streams import RandomStreams

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

SPIN_UP_TERMS = 72  # 24 years: the slowest process, heads' turnover, settles in about 20
SPIN_UP_PURPOSE = 0x5350494E
# Settling a real place: rounds of trial spin-ups, their length, the terms at their end
# whose good-or-better share is read, and how far a round moves the shift per point of
# share missed (effectiveness units per unit of share: about the inverse of the density of
# schools at the good cut point, judgement; fewer rounds would leave a few points).
SETTLING_ROUNDS = 6
SETTLING_TERMS = 36
SETTLING_READ_TERMS = 18
SETTLING_STEP = 3.0
SETTLING_PURPOSE = 0x5345544C


def spin_up(model: SchoolSystemModel, terms: int, *, purpose: int = SPIN_UP_PURPOSE,
            read_terms: int = 0) -> np.ndarray | None:
    """Run the term phases (but the commissioner's) and heads' turnover for `terms` before
    term 0; events, flows and spending are discarded and the run's random streams are
    untouched (common random numbers). With `read_terms`, returns each authority's mean
    good-or-better share over the last `read_terms` terms."""
    run_streams, run_events = model.streams, model.events
    model.streams = RandomStreams(model.parameters.seed, purpose=purpose)
    model.events = EventLog()
    schools = model.schools
    schools.last_inspection_term -= terms
    schools.inspection_due_term -= terms
    good_or_better = np.zeros(model.n_areas)
    per_area = np.maximum(np.bincount(model.area_index, minlength=model.n_areas), 1)
    for term in range(-terms, 0):
        model.term = term
        for phase in model.term_phases:
            if phase is not structure:
                phase.run_term(model)
        if term % TERMS_PER_YEAR == TERMS_PER_YEAR - 1:
            structure.run_year(model, trends=False)  # heads come and go at rest too
        if term >= -read_terms:
            good_or_better += np.bincount(model.area_index, weights=schools.grade <= Grade.GOOD,
                                          minlength=model.n_areas) / per_area
    model.term = 0
    model.streams, model.events = run_streams, run_events
    model.tallies.start_year(schools.n)
    model.tallies.grades_gained = model.tallies.schools_moved_to_good = 0
    return good_or_better / read_terms if read_terms else None


def settle_place(model: SchoolSystemModel) -> np.ndarray:
    """Shift each authority's context potential so that its good-or-better share at rest
    is its observed share; the schools, trusts and tallies are as they were read. Returns
    the shifts (effectiveness units), by authority."""
    schools = model.schools
    observed = (np.bincount(model.area_index, weights=schools.grade <= Grade.GOOD,
                            minlength=model.n_areas)
                / np.maximum(np.bincount(model.area_index, minlength=model.n_areas), 1))
    start = (copy.deepcopy(model.schools), copy.deepcopy(model.trusts),
             copy.deepcopy(model.tallies))
    shift = np.zeros(model.n_areas)
    for _ in range(SETTLING_ROUNDS):
        model.schools, model.trusts, model.tallies = (copy.deepcopy(part) for part in start)
        model.schools.context_potential += shift[model.area_index]
        at_rest = spin_up(model, SETTLING_TERMS, purpose=SETTLING_PURPOSE,
                          read_terms=SETTLING_READ_TERMS)
        shift += SETTLING_STEP * (observed - at_rest)
    model.schools, model.trusts, model.tallies = start
    model.schools.context_potential += shift[model.area_index]
    return shift
