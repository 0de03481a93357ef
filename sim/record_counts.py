"""The term's record counts over the schools, in one compiled pass for a big place.

`sim.metrics.term_measures` counts schools by grade (and those good or better among the
least and the most disadvantaged fifths), teachers and their flows, givers, takers,
orphans and academies. numpy does that as some thirty passes over the school
arrays; for a place big enough to repay a compiled loop (`sim.compiled`, England)
`school_counts` counts them all in one. Then `trust_counts` counts the trusts, and the
MATs' giver:taker ratios against their thresholds, in one more pass over the trusts
(some twenty numpy calls otherwise). The counts are exact integers either way
(tests/phases/test_compiled_passes.py compares the twins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim import compiled
from sim.phases.capacity_passes import givers_and_takers
from sim.state import NEVER, Governance, Grade, Phase, TrustKind

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

# The bits of `sim.metrics.StaticGroups.fifths`: a school in the least disadvantaged fifth
# (by share of pupils on free school meals), in the most.
LEAST, MOST = 1, 2


class SchoolCounts(NamedTuple):
    """What the term's record counts over the schools, each an exact integer."""

    by_grade: tuple[int, int, int, int]  # outstanding, good, requires improvement, inadequate
    good_or_better_primary: int
    good_or_better_secondary: int
    good_or_better_least_disadvantaged: int
    good_or_better_most_disadvantaged: int
    teachers: int
    teachers_at_risk: int
    posts: int
    early_career_year1_at_risk: int
    leavers: int
    movers: int
    early_career_year1_leavers: int
    early_career_teachers: int
    givers: int
    takers: int  # schools seeking support
    orphans: int  # schools under an academy order that no trust has taken
    orphan_wait_terms: int  # their waits added up
    awaiting_rebrokering: int
    under_contract: int
    academies_primary: int
    academies_secondary: int


def school_counts(model: SchoolSystemModel) -> SchoolCounts:
    """The record's counts over the schools: one compiled pass for a big place
    (`sim.compiled`), numpy's counts and sums for a small one; integers either way."""
    schools = model.schools
    arguments = (schools.grade, schools.phase, model.groups.fifths, schools.teachers,
                 schools.teachers_at_risk, schools.establishment,
                 schools.early_career_year1_at_risk, schools.leavers,
                 schools.movers, schools.early_career_year1_leavers, schools.early_career_year1,
                 schools.early_career_year2, schools.is_giver, schools.is_taker,
                 schools.awaiting_sponsor_since_term, schools.governance,
                 schools.contract_trust, model.term)
    counted = (_school_counts_compiled if compiled.worth_compiling(schools.n)
               else _school_counts_numpy)(*arguments)
    return SchoolCounts(tuple(int(count) for count in counted[:4]),
                        *(int(count) for count in counted[4:]))


def _school_counts_numpy(grade, phase, fifths, teachers, teachers_at_risk, establishment,
                         early_career_year1_at_risk, leavers, movers, early_career_year1_leavers,
                         early_career_year1, early_career_year2, is_giver, is_taker,
                         awaiting_sponsor_since, governance, contract_trust, term):
    by_grade = np.bincount(grade, minlength=Grade.INADEQUATE + 1)[1:]
    good_or_better = grade <= Grade.GOOD
    primary, secondary = phase == Phase.PRIMARY, phase == Phase.SECONDARY
    waiting_for_sponsor = awaiting_sponsor_since != NEVER
    academy = governance != Governance.MAINTAINED
    orphan = waiting_for_sponsor & ~academy & (contract_trust < 0)
    return (*by_grade, np.count_nonzero(good_or_better & primary),
            np.count_nonzero(good_or_better & secondary),
            np.count_nonzero(good_or_better & ((fifths & LEAST) > 0)),
            np.count_nonzero(good_or_better & ((fifths & MOST) > 0)), teachers.sum(),
            teachers_at_risk.sum(), establishment.sum(), early_career_year1_at_risk.sum(),
            leavers.sum(), movers.sum(), early_career_year1_leavers.sum(),
            early_career_year1.sum() + early_career_year2.sum(), np.count_nonzero(is_giver),
            np.count_nonzero(is_taker), np.count_nonzero(orphan),
            (term - awaiting_sponsor_since[orphan]).sum(),
            np.count_nonzero(waiting_for_sponsor & academy), np.count_nonzero(contract_trust >= 0),
            np.count_nonzero(academy & primary), np.count_nonzero(academy & secondary))


@compiled.kernel
def _school_counts_compiled(grade, phase, fifths, teachers, teachers_at_risk, establishment,
                            early_career_year1_at_risk, leavers, movers,
                            early_career_year1_leavers, early_career_year1, early_career_year2,
                            is_giver, is_taker, awaiting_sponsor_since, governance,
                            contract_trust, term):  # pragma: no cover
    # Each count in a variable of its own, which the compiler keeps in a register.
    outstanding = good = requires_improvement = inadequate = 0
    good_or_better_primary = good_or_better_secondary = 0
    good_or_better_least = good_or_better_most = 0
    teachers_in_post = at_risk = posts = early_career_at_risk = 0
    leaving = moving = early_career_leaving = early_career = givers = takers = 0
    orphans = orphan_wait = rebrokering = contracted = academies_primary = academies_secondary = 0
    for i in range(len(grade)):
        graded = grade[i]
        outstanding += graded == 1
        good += graded == 2
        requires_improvement += graded == 3
        inadequate += graded == 4
        primary, secondary = phase[i] == 0, phase[i] == 1
        academy = governance[i] != 0
        waiting_for_sponsor = awaiting_sponsor_since[i] != NEVER
        orphan = waiting_for_sponsor & (not academy) & (contract_trust[i] < 0)
        good_or_better_primary += (graded <= 2) & primary
        good_or_better_secondary += (graded <= 2) & secondary
        good_or_better_least += (graded <= 2) & ((fifths[i] & LEAST) > 0)
        good_or_better_most += (graded <= 2) & ((fifths[i] & MOST) > 0)
        teachers_in_post += teachers[i]
        at_risk += teachers_at_risk[i]
        posts += establishment[i]
        early_career_at_risk += early_career_year1_at_risk[i]
        leaving += leavers[i]
        moving += movers[i]
        early_career_leaving += early_career_year1_leavers[i]
        early_career += early_career_year1[i] + early_career_year2[i]
        givers += is_giver[i]
        takers += is_taker[i]
        orphans += orphan
        orphan_wait += (term - awaiting_sponsor_since[i]) if orphan else 0
        rebrokering += waiting_for_sponsor & academy
        contracted += contract_trust[i] >= 0
        academies_primary += academy & primary
        academies_secondary += academy & secondary
    return (outstanding, good, requires_improvement, inadequate, good_or_better_primary,
            good_or_better_secondary, good_or_better_least, good_or_better_most,
            teachers_in_post, at_risk, posts, early_career_at_risk,
            leaving, moving, early_career_leaving, early_career, givers, takers, orphans,
            orphan_wait, rebrokering, contracted, academies_primary, academies_secondary)


class TrustCounts(NamedTuple):
    """What the term's record counts over the trusts (open trusts only)."""

    multi_academy_trusts: int
    single_academy_trusts: int
    # The giver:taker ratios (givers over takers, `sim.phases.capacity.giver_taker_ratios`)
    # of the MATs with takers, in trust order, and how many of them, and of all MATs,
    # fall below their trust's threshold (a MAT with no takers has an infinite ratio).
    ratios_with_takers: np.ndarray
    below_threshold_with_takers: int
    below_threshold: int


def trust_counts(model: SchoolSystemModel) -> TrustCounts:
    """The record's counts over the trusts: one compiled pass after the count of givers
    and takers for a big place (by its schools, as `school_counts`), numpy's otherwise."""
    schools, trusts = model.schools, model.trusts
    givers, takers = givers_and_takers(schools.is_giver, schools.grade, schools.trust,
                                       schools.contract_trust, trusts.n)
    counted = (_trust_counts_compiled if compiled.worth_compiling(schools.n)
               else _trust_counts_numpy)(trusts.kind, trusts.active,
                                         trusts.giver_taker_threshold, givers, takers)
    mats, single, ratios, below_with_takers, below = counted
    return TrustCounts(int(mats), int(single), ratios, int(below_with_takers), int(below))


def _trust_counts_numpy(kind, active, threshold, givers, takers):
    ratio = np.divide(givers, takers, out=np.full(len(givers), np.inf), where=takers > 0)
    mats = active & (kind == TrustKind.MULTI_ACADEMY_TRUST)
    with_takers = mats & (takers > 0)
    below = ratio < threshold
    return (np.count_nonzero(mats),
            np.count_nonzero(active & (kind == TrustKind.SINGLE_ACADEMY_TRUST)),
            ratio[with_takers], np.count_nonzero(below & with_takers),
            np.count_nonzero(below & mats))


@compiled.kernel
def _trust_counts_compiled(kind, active, threshold, givers, takers):  # pragma: no cover
    n = len(kind)
    ratios = np.empty(n)
    mats = single = with_takers = below_with_takers = below = 0
    for t in range(n):
        mat = active[t] & (kind[t] == 2)
        single += active[t] & (kind[t] == 1)
        ratio = givers[t] / takers[t] if takers[t] > 0 else np.inf
        is_below = ratio < threshold[t]
        mats += mat
        below += mat & is_below
        if mat and takers[t] > 0:
            ratios[with_takers] = ratio
            with_takers += 1
            below_with_takers += is_below
    return mats, single, ratios[:with_takers].copy(), below_with_takers, below
