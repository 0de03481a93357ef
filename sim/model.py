"""The school-system model: set-up, the order of a term, and what a run produces.

The order of a term is declared once: `TERM_PHASES` (`sim.term_phases`, which runs them;
each phase its own module under `sim.phases`), then, after the summer term,
`YEARLY_PHASE` and the policy's yearly action, then the record (`sim.metrics`). `step()`
and the spin-up before a run both follow it, and
docs/ODD.md section 3 describes it. Beyond the school and trust arrays, everything a term
reads and writes is declared in `SchoolSystemModel.__init__`: `support` (this term's
support and spending, `TermSupport`), `tallies` (the run's counts, `RunTallies`) and
`cohorts` (the run's early-career entrants by year of entry, `careers.Cohorts`).

Randomness: Mesa's `rng=` seeds the model; every phase, and every step of the yearly phase,
draws from its own numpy stream spawned from the same seed (`sim.streams`). So two policies
run with one seed see the same schools, teachers and shocks (common random numbers), and
differences come from the policy.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from sim import at_rest, compiled, draw_ahead, mesa_space, metrics, term_phases
from sim.agents import School, Trust
from sim.errors import NonFiniteOutputError
from sim.events import EventLog
from sim.framework import mesa
from sim.mechanics.shortlist import HubGrid
from sim.mechanics.trusts import new_trust_values
from sim.network import PartnershipNetwork
from sim.phases import (
    careers,
    improvement,
    structure,
    workforce,
)
from sim.policies import PolicyEffects, make_policy
from sim.population import build_population
from sim.state import TERMS_PER_YEAR, Governance, Grade, TrustKind
from sim.streams import RandomStreams
from sim.tallies import SPENDING_SOURCES, RunTallies, TermSupport

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from sim.schema import RunConfig

log = logging.getLogger(__name__)

# The phases of a term, in order (`sim.term_phases`, which runs them).
TERM_PHASES = term_phases.TERM_PHASES
# After the summer term: heads, rebrokering orders, conversions, trust growth.
YEARLY_PHASE = structure

WARM_UP_TERMS = 6


@dataclass
class SimulationResult:
    """Everything a run produces, as tidy tables and headline scalars."""

    timeseries: pd.DataFrame
    schools: pd.DataFrame | None
    events: pd.DataFrame
    cohorts: pd.DataFrame
    summary: dict[str, object]


# The numbers of summary.json (`SchoolSystemModel.summary`), for commands that analyse them.
SUMMARY_SCALARS = (
    "horizon_years", "n_schools", "good_or_better_start", "good_or_better_final",
    "good_or_better_change", "share_inspections_improving",
    "share_requires_improvement_improving", "disadvantage_gap_start", "disadvantage_gap_final",
    "good_or_better_gap_start", "good_or_better_gap_final",
    "teacher_leaving_rate_mean", "vacancy_rate_mean", "orphan_terms", "orphans_final",
    "orphan_wait_mean_terms_at_placement", "academies_moving_trust_per_year",
    "self_assessment_accuracy_final", "targeting_correlation_mean", "workload_mean",
    "contracts_started", "contracts_succeeded", "contracts_failed", "spending_total_gbp",
    *(f"spending_{source}_gbp" for source in SPENDING_SOURCES), "grades_gained",
    "schools_moved_to_good", "average_cost_per_school_moved_to_good_gbp")


class SchoolSystemModel(mesa.Model):
    """Schools and trusts on a partnership graph, stepped one term at a time."""

    term_phases = TERM_PHASES

    def __init__(self, parameters: RunConfig) -> None:
        super().__init__(rng=parameters.seed)
        self.parameters = parameters
        self.streams = RandomStreams(parameters.seed)
        population = build_population(parameters, self.streams.population)
        self.schools = population.schools
        self.trusts = population.trusts
        self.population_report = population.report
        self.hubs = population.hubs
        self.local_authority_names = population.local_authority_names
        self.n_areas = len(self.local_authority_names)
        self.network = PartnershipNetwork(self.schools, self.trusts,
                                          population.partnership_clusters)
        self.policy = make_policy(parameters.policy)
        self.policy_effects = PolicyEffects()
        self.events = EventLog()
        self.term = 0
        schools = self.schools
        # Where a school's behaviour and self-assessment drift back to.
        self.usual_behaviour = schools.behaviour.copy()
        self.usual_accuracy = schools.self_assessment_accuracy.copy()
        # Local-authority capacity is sized on the maintained schools it had at the start.
        self.maintained_at_start_by_area = np.bincount(
            schools.local_authority, weights=schools.governance == Governance.MAINTAINED,
            minlength=self.n_areas)
        # The authority of each school as a native index: numpy gathers and counts with it
        # several times faster than with the stored int32.
        self.area_index = schools.local_authority.astype(np.intp)
        self.distance_to_area_centre_km = np.hypot(
            schools.x_km - population.local_authority_x_km[schools.local_authority],
            schools.y_km - population.local_authority_y_km[schools.local_authority])
        self._reach_from_area_centre: tuple[float, np.ndarray] | None = None
        self._school_grid: tuple[float, HubGrid] | None = None
        # What a term and the run add up, beyond the arrays (each field says who writes it).
        self.support = TermSupport.none(schools.n)
        self.tallies = RunTallies()
        self.tallies.start_year(schools.n)
        # The run's cohorts of early-career entrants: the warm-up and spin-up enter none.
        self.cohorts: careers.Cohorts | None = None
        self.termly_probabilities = workforce.TermlyProbabilities()
        self._closed_since_rebuild: list[int] = []  # trusts whose hubs are still listed
        self._space: tuple[int, mesa.discrete_space.Network] | None = None  # (term, `grid`)
        self.rebuild_structure()
        self.school_agents = [School(self, row) for row in range(schools.n)]
        self.trust_agents = [Trust(self, row) for row in range(self.trusts.n)]
        # Let the labour market settle, hold each group of schools at rest, then start the
        # place at rest (`sim.at_rest`): a synthetic place is spun up to the model's own
        # stationary state; a real place keeps its grades and trusts, and each authority
        # is settled where its observed good-or-better share is the one at rest.
        workforce.warm_up(self, WARM_UP_TERMS)
        improvement.equilibrate_potential(self)
        if population.report is None:
            at_rest.spin_up(self, at_rest.SPIN_UP_TERMS)
        else:
            at_rest.settle_place(self)
        structure.backdate_academy_orders(self)
        # Settling a real place leaves the model with copies of its schools and trusts: the
        # network follows them from here (its views are the same).
        self.rebuild_structure()
        self.cohorts = careers.Cohorts(
            schools.n, followed_years=self.parameters.model.workforce.cohort_years_followed)
        # A big place's phases get their next term's random numbers drawn on a second
        # thread while the rest of the term runs (`sim.draw_ahead`: the same numbers).
        # And the phases that read nothing the workforce phase writes run beside it there
        # (`sim.term_phases`).
        self._second_thread: ThreadPoolExecutor | None = None
        if compiled.worth_compiling(schools.n) and draw_ahead.wanted():
            self.streams.draw_ahead()
            self._second_thread = draw_ahead.shared_worker()

        self._timeseries: list[dict[str, float | int]] = []
        self._panel: list[dict[str, np.ndarray]] = []
        self.running = self.horizon_terms > 0
        # The place as the run finds it, before any term (so before any policy acts): the
        # summary's `_start` values, the same for every policy on a seed. The record's
        # first row comes after the first term, when a policy has already acted.
        self._at_start = {
            "share_good_or_better": float(np.mean(self.schools.grade <= Grade.GOOD)),
            "disadvantage_gap": metrics.disadvantage_gap(self.schools.effectiveness,
                                                         self.groups),
            "good_or_better_gap": metrics.good_or_better_gap(self.schools.grade, self.groups)}

    def _run_term_phases(self) -> None:
        term_phases.run_term(self, self._second_thread)

    # -- structure ---------------------------------------------------------------------

    @functools.cached_property
    def groups(self) -> metrics.StaticGroups:
        """Schools by phase and by disadvantage fifth, which do not change in a run."""
        return metrics.StaticGroups.of(self.schools)

    @functools.cached_property
    def school_tree(self) -> cKDTree:
        """A k-d tree of school locations (schools do not move), for nearest-school searches."""
        return cKDTree(np.column_stack([self.schools.x_km, self.schools.y_km]))

    def school_grid(self, radius_km: float) -> HubGrid:
        """The schools binned on a grid of cells at least `radius_km` wide (schools do not
        move), for England's searches within that radius (`sim.mechanics.neighbours`)."""
        if self._school_grid is None or self._school_grid[0] != radius_km:
            self._school_grid = (radius_km, HubGrid.of(self.schools.x_km, self.schools.y_km,
                                                       radius_km))
        return self._school_grid[1]

    def reach_from_area_centre(self, decay_km: float) -> np.ndarray:
        """exp(-distance to the local authority's centre / decay) for each school."""
        cached = self._reach_from_area_centre
        if cached is None or cached[0] != decay_km:
            cached = self._reach_from_area_centre = (
                decay_km, np.exp(-self.distance_to_area_centre_km / decay_km))
        return cached[1]

    @property
    def horizon_terms(self) -> int:
        years = self.parameters.horizon_years or self.parameters.scenario.horizon_years
        return int(years) * TERMS_PER_YEAR

    def rebuild_structure(self) -> None:
        """Bring the network's sparse matrices up to date after the structure changed
        (termly brokering, the yearly phase, a policy), at a cost that follows the change;
        and drop the hubs of trusts closed since (no broker is open between phases, and
        only brokers hold hub rows)."""
        if self._closed_since_rebuild:
            self.hubs.drop_trusts(np.asarray(self._closed_since_rebuild))
            self._closed_since_rebuild = []
        self.network.update_matrices(self.schools, self.trusts, self.hubs,
                                     self.parameters.model.capacity.distance_decay_km)

    def create_trust(self, kind: TrustKind, hub_school: int) -> int:
        """Found a trust with one hub at a school's location; returns its row."""
        values = new_trust_values(kind, 1, self.parameters.model,
                                  self.streams.yearly("new_trusts", self.term),
                                  self.term, self.parameters.scenario.trust_strength,
                                  trust_id=self.trusts.n + 1)
        row = self.trusts.append(**values)
        self.hubs.add(row, self.schools.x_km[hub_school], self.schools.y_km[hub_school])
        self.network.add_trust(row)
        self.trust_agents.append(Trust(self, row))
        return row

    def create_trusts(self, kinds: Sequence[TrustKind], hub_schools: Sequence[int]) -> list[int]:
        """Found trusts in turn as `create_trust` one after another would (the same draws,
        rows, hubs and agents), copying each column once; returns their rows."""
        rng, first = self.streams.yearly("new_trusts", self.term), self.trusts.n
        self.trusts.extend([new_trust_values(kind, 1, self.parameters.model, rng, self.term,
                                             self.parameters.scenario.trust_strength,
                                             trust_id=first + index + 1)
                            for index, kind in enumerate(kinds)])
        rows = list(range(first, self.trusts.n))
        self.hubs.extend(rows, self.schools.x_km[hub_schools], self.schools.y_km[hub_schools])
        for row in rows:
            self.network.add_trust(row)
            self.trust_agents.append(Trust(self, row))
        return rows

    def close_trust(self, row: int) -> None:
        """A trust with no schools left closes: its row stays for the record, and its hubs
        are dropped at the next `rebuild_structure` (kept, they would make every later
        term's work on hubs grow with the run's length)."""
        self.trusts.active[row] = False
        self.trust_agents[row].remove()
        self._closed_since_rebuild.append(row)

    @property
    def grid(self) -> mesa.discrete_space.Network:
        """The partnership graph as a Mesa network space, each agent in its node's cell,
        where Mesa's visualisation looks for it (`sim.mesa_space`); built when read, once
        a term."""
        if self._space is None or self._space[0] != self.term:
            self._space = (self.term, mesa_space.partnership_space(self))
        return self._space[1]

    # -- time --------------------------------------------------------------------------

    def step(self) -> None:
        """One term: phases 1-5, the yearly phase after the summer term, then record."""
        in_force = self.policy.in_force(self.term)
        self.policy_effects = self.policy.effects(self) if in_force else PolicyEffects()
        self._run_term_phases()
        tallies = self.tallies
        tallies.add_term(self.schools)
        tallies.spending_to_date_gbp += sum(self.support.spending_gbp.values())
        end_of_year = self.term % TERMS_PER_YEAR == TERMS_PER_YEAR - 1
        if end_of_year:
            YEARLY_PHASE.run_year(self)
            self.policy.run_year(self, in_force)
            if self.policy.levers:
                self.rebuild_structure()
            tallies.trust_moves_by_year.append(tallies.trust_moves_this_year)
            tallies.academies_by_year.append(int(self.schools.is_academy.sum()))
            if self.cohorts is not None:
                self.cohorts.record_year(self.term // TERMS_PER_YEAR)
                workforce.expect_member_draws(self)  # the register changed: expect anew
        self._timeseries.append(metrics.term_measures(self))
        if end_of_year:
            if self.parameters.output.school_panel:
                self._panel.append(metrics.school_panel(self))
            tallies.start_year(self.schools.n)
        self.term += 1
        # Mesa's convention: `run_model()` and `mesa.batch_run` step while this holds.
        self.running = self.term < self.horizon_terms

    def run(self, progress: bool = False) -> None:
        """Step to the horizon, logging a line of headline measures each year if asked."""
        while self.running:
            self.step()
            if progress and self.term % TERMS_PER_YEAR == 0:
                row = self._timeseries[-1]
                log.info("year %d/%d: good or better %.1f%%, orphans %d, teacher leaving %.1f%%",
                         self.term // TERMS_PER_YEAR, self.horizon_terms // TERMS_PER_YEAR,
                         100 * row["share_good_or_better"], row["n_orphans"],
                         100 * row["teacher_leaving_rate"])
        self.streams.stop_drawing_ahead()

    # -- results -----------------------------------------------------------------------

    def results(self) -> SimulationResult:
        """The run's tables and headline scalars, checked before they leave the model.

        No table may hold NaN or inf where a number is promised: only the columns
        `metrics.MAY_BE_EMPTY` lists (and results/README.md documents) may be empty, and
        no number may be infinite. A summary value that is undefined is None. Anything
        else raises `NonFiniteOutputError`, so nothing wrong is ever written.
        """
        self.streams.stop_drawing_ahead()
        timeseries = pd.DataFrame(self._timeseries)
        events = self.events.to_frame(self.schools.urn, self.trusts.trust_id,
                                      self.parameters.scenario.start_year)
        panel = metrics.panel_frame(self._panel, self) if self._panel else None
        cohorts = metrics.cohort_frame(self.cohorts or careers.Cohorts(self.schools.n))
        metrics.check_finite(timeseries, "timeseries", "term")
        if panel is not None:
            metrics.check_finite(panel, "schools", "year")
        metrics.check_finite(events, "events", "term")
        metrics.check_finite(cohorts, "cohorts", "year")
        summary = self.summary(timeseries, events)
        for key, value in summary.items():
            if isinstance(value, float) and not np.isfinite(value):
                raise NonFiniteOutputError(
                    f"summary value {key!r} is {value}; an undefined value must be None")
        return SimulationResult(timeseries, panel, events, cohorts, summary)

    def summary(self, timeseries: pd.DataFrame, events: pd.DataFrame) -> dict[str, object]:
        """Headline scalars for sweeps (docs/ODD.md section 6; results/README.md lists them)."""
        last = timeseries.iloc[-1]
        inspections = events[(events["kind"] == "inspection") & (events["detail"] == "graded")]
        change = (inspections["old_grade"] - inspections["new_grade"]).astype(float)
        spending = float(timeseries["spending_total_gbp"].sum())
        contracts = events[events["kind"] == "contract_end"]
        # A waiting school's wait ends when it is placed with a sponsor, or, for an
        # academy, when it moves to its new trust.
        joins = events[(events["kind"] == "placement")
                       | ((events["kind"] == "join") & (events["detail"] == "rebrokered"))]
        tallies = self.tallies
        academies = np.asarray(tallies.academies_by_year, dtype=float)
        moves = np.asarray(tallies.trust_moves_by_year, dtype=float)
        return {
            "scenario": self.parameters.scenario.name,
            "policy": self.parameters.policy.name,
            "seed": int(self.parameters.seed),
            "horizon_years": self.horizon_terms // TERMS_PER_YEAR,
            "n_schools": int(self.schools.n),
            "good_or_better_start": self._at_start["share_good_or_better"],
            "good_or_better_final": float(last["share_good_or_better"]),
            "good_or_better_change": float(last["share_good_or_better"])
                                     - self._at_start["share_good_or_better"],
            "share_inspections_improving": float((change > 0).mean()) if len(change) else None,
            "share_requires_improvement_improving":
                float((change[inspections["old_grade"] == 3] > 0).mean())
                if (inspections["old_grade"] == 3).any() else None,
            "disadvantage_gap_start": self._at_start["disadvantage_gap"],
            "disadvantage_gap_final": float(last["disadvantage_gap"]),
            "good_or_better_gap_start": self._at_start["good_or_better_gap"],
            "good_or_better_gap_final": float(last["good_or_better_gap"]),
            "teacher_leaving_rate_mean": float(timeseries["teacher_leaving_rate"].mean()),
            "vacancy_rate_mean": float(timeseries["vacancy_rate"].mean()),
            "orphan_terms": int(timeseries["n_orphans"].sum()),
            "orphans_final": int(last["n_orphans"]),
            "orphan_wait_mean_terms_at_placement":
                float(joins["wait_terms"].mean()) if len(joins) else None,
            "academies_moving_trust_per_year":
                float(np.mean(moves / np.maximum(academies, 1))) if len(moves) else None,
            "self_assessment_accuracy_final": float(last["self_assessment_accuracy_mean"]),
            "targeting_correlation_mean": _mean_or_none(timeseries["targeting_correlation"]),
            "workload_mean": float(timeseries["workload_mean"].mean()),
            "contracts_started": int((events["kind"] == "contract_start").sum()),
            "contracts_succeeded": int((contracts["detail"] == "success").sum()),
            "contracts_failed": int((contracts["detail"] == "failure").sum()),
            "spending_total_gbp": spending,
            **{f"spending_{source}_gbp": float(timeseries[f"spending_{source}_gbp"].sum())
               for source in SPENDING_SOURCES},
            "grades_gained": tallies.grades_gained,
            "schools_moved_to_good": tallies.schools_moved_to_good,
            # An average, not an incremental, cost: all the system's spending over the net
            # moves to good, many of which would have happened without it. What a policy's
            # extra spending buys is a comparison's question (sim.compare.cost_effectiveness,
            # against the status quo under the same seed); spending per net grade gained is
            # not given, since net grades can be zero or negative by chance.
            "average_cost_per_school_moved_to_good_gbp":
                spending / tallies.schools_moved_to_good
                if tallies.schools_moved_to_good > 0 else None,
            # A population read from data: what was kept, dropped and imputed.
            **({"population": self.population_report} if self.population_report else {}),
        }


def _mean_or_none(column: pd.Series) -> float | None:
    """Mean over the terms where the measure is defined; None if it never was."""
    defined = column.dropna()
    return float(defined.mean()) if len(defined) else None
