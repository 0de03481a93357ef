"""Phase 6: the structure of the system changes, the commissioner's part every term and the
rest once a year after the summer term.

`run_term` (every term, after inspection) and `run_year` are the phase's entry points; each
step is its own module: `heads` (1), `orders` (2-3), `brokering` (4, with the broker of
`sim.mechanics.brokering`) and `growth` (5-7); the parameters are in `parameters`.

Every term (`run_term`):
- **Academy orders**: maintained schools judged inadequate this term are ordered to become
  sponsored academies and wait for a sponsor.
- **Openings**: a school placed with a sponsor opens as its academy
  `sponsored_opening_lag_terms` later (a `conversion` and a `join`).
- **Brokering** (4 below) for every waiting school; a maintained school is placed (it
  opens later), an academy being rebrokered moves at once.

Every year (`run_year`), in order:
1. **Heads replaced**: heads leave (`head_leaving_rate`) and are replaced more often after
   an inadequate grade; a trust appoints from its own pool (seed 002: staff leave, fall
   ill; seed 004: "supporting and deploying leadership"). A new head resets tenure and
   costs the school some self-assessment accuracy.
2. (Academy orders are termly.)
3. **Rebrokering**: academies with two grades below good in a row, the latest from this
   year, are flagged to move to a new trust with `rebrokering_probability`; an academy
   graded good again while it waits is let off.
4. **Brokering** (every term): the regional commissioner asks a shortlist of trusts to
   sponsor each waiting school, those of its `candidates_per_school` nearest hubs within
   `search_radius_km` (and every hub tied at the cut). Each trust applies its due
   diligence (seed 004 finding 4: trusts have become "more disciplined"), in this order:
   `hub_distance` (the school must be within the trust's `hub_radius_km` of a hub; seed
   000), `growth_cap` (schools taken on this year), `giver_taker_ratio` (its givers over
   its members graded below good and the schools placed with it, counting a weak
   newcomer, must stay at or above its threshold) and `risk_appetite`. The school goes to
   the accepting trust with the best reputation; a school no trust accepts is an
   **orphan** and waits for next term's round. Refusals are logged with the rule.
5. **Voluntary conversions**: good or better maintained schools convert; most join a
   nearby MAT, some found a new MAT with neighbours, the rest become single-academy trusts.
6. **Single-academy trusts join MATs**, a few MAT academies **transfer voluntarily** to
   another nearby MAT that accepts them (DfE academy transfers data counts these with
   rebrokering), and **small MATs merge** into nearby larger ones.
7. **Trusts update**: central teams follow size, reputation is refreshed, prescriptiveness
   adapts to the trust's mix of schools (seed 004 finding 2), and a MAT that takes a school
   far from its hubs opens a new hub (seed 000: growth by geographical hubs).

How the work stays in proportion to what changes (issue 14); each piece keeps one
invariant, which its test checks against the plain, slow way:
- A brokering round (`brokering.BrokeringRound`) asks each school's shortlist in one
  search (`sim.mechanics.shortlist`; England's over a grid of hubs, compiled), settles
  every school in turn over plain lists, then its joins and placements are made at once
  (`Broker.join`, `Broker.place`). Invariant: the decisions, refusals and counts are
  those of brokering and joining one school at a time.
- `Broker.join` takes a list of schools in turn. Invariant: counts, hubs opened, arrays
  and events are those of joining them one by one.
- Conversions find their founders first, mergers are agreed on simulated sizes; both
  then join in batches, with the result of the one-at-a-time loop.
- The network's distance-decayed views (`sim.mechanics.proximity`) are brought up to
  date when next read, rewriting only the rows of the groups that changed. Invariant:
  they equal a rebuild from scratch, bit for bit. A closed trust's hubs are dropped at
  the next structure update (`SchoolSystemModel.rebuild_structure`).
- For England, the passes over every school or hub are compiled (`sim.compiled`), each
  with a numpy twin for smaller places that a test compares with it: the term's academy
  orders with the waiting and opening schools (`orders`), a broker's counts and map
  (`sim.mechanics.trust_counts`, `shortlist.hub_map`), a round's pairs and walk (`walk`),
  joins (`sim.mechanics.joins`), new hubs (`sim.mechanics.new_hubs`), founders'
  neighbourhoods (`sim.mechanics.neighbours`), and who converts, moves or is flagged.
"""


from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.mechanics.brokering import Broker
from sim.phases.structure.brokering import place_waiting_schools
from sim.phases.structure.growth import (
    convert_voluntarily,
    merge_small_trusts,
    single_academy_trusts_join,
    transfer_voluntarily,
    update_trusts,
)
from sim.phases.structure.heads import drift_accuracy, replace_heads
from sim.phases.structure.orders import (
    backdate_academy_orders,
    flag_for_rebrokering,
    issue_academy_orders,
)
from sim.phases.structure.parameters import StructureParameters
from sim.state import NEVER, TERMS_PER_YEAR

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

__all__ = ["StructureParameters", "backdate_academy_orders", "run_term", "run_year"]


def run_term(model: SchoolSystemModel) -> None:
    """The commissioner's work every term, after the term's inspections: academy orders for
    maintained schools just judged inadequate, placed schools opening as academies, and a
    brokering round for every school waiting for a trust."""
    waiting, opening = issue_academy_orders(model)
    if len(waiting) == 0 and len(opening) == 0:
        return
    broker = Broker(model)
    opened = broker.open_placed_schools(opening)
    # A placed school whose sponsor has closed waits again, from its order.
    schools = model.schools
    waiting_again = opening[(schools.awaiting_sponsor_since_term[opening] != NEVER)
                            & (schools.contract_trust[opening] < 0)]
    if opened + place_waiting_schools(broker, np.concatenate([waiting, waiting_again])):
        model.rebuild_structure()


def run_year(model: SchoolSystemModel, *, trends: bool = True) -> None:
    """The yearly phase. Without `trends` (the spin-up before a run) only heads come and
    go; rebrokering, conversions, SAT joins, transfers and mergers wait for the run."""
    year_start = model.term - (TERMS_PER_YEAR - 1)
    model.trusts.joins_this_year[:] = 0
    replace_heads(model, year_start)
    drift_accuracy(model)
    if trends:
        broker = Broker(model)
        flag_for_rebrokering(model, year_start)
        convert_voluntarily(model, broker)
        single_academy_trusts_join(model, broker)
        transfer_voluntarily(model, broker)
        merge_small_trusts(model, broker)
    update_trusts(model)
    model.rebuild_structure()

