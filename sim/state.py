"""Per-school and per-trust state as a struct of numpy arrays.

Every number a school has lives in one array with one row per school; every number a trust
has lives in one array with one row per trust. Mechanisms work on whole arrays at once
(masks and vectorised arithmetic), which is what keeps a term of England, about 22,000
schools, to a few milliseconds. The Mesa agents in `sim.agents` are thin views onto rows of
these arrays (docs/ODD.md section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from enum import IntEnum

import numpy as np


class Phase(IntEnum):
    """Phase of education, as Get Information about Schools names them."""

    PRIMARY = 0
    SECONDARY = 1
    SPECIAL = 2
    ALTERNATIVE_PROVISION = 3


class Grade(IntEnum):
    """Ofsted overall effectiveness grade (1 is best)."""

    OUTSTANDING = 1
    GOOD = 2
    REQUIRES_IMPROVEMENT = 3
    INADEQUATE = 4


class Governance(IntEnum):
    """Who runs the school."""

    MAINTAINED = 0  # maintained by the local authority
    SINGLE_ACADEMY_TRUST = 1
    MULTI_ACADEMY_TRUST = 2


class CareerStage(IntEnum):
    """A teacher's career stage: the first two are the early-career (induction) years."""

    EARLY_CAREER_YEAR1 = 0
    EARLY_CAREER_YEAR2 = 1
    POST_INDUCTION = 2  # years 3-5 in teaching
    MID_CAREER = 3
    NEAR_RETIREMENT = 4  # about 55 and over


class TrustKind(IntEnum):
    """Single-academy trusts hold one school; multi-academy trusts (MATs) hold several."""

    SINGLE_ACADEMY_TRUST = 1
    MULTI_ACADEMY_TRUST = 2


TERMS_PER_YEAR = 3  # a school year has three terms; yearly rates are converted per term
ENGLAND_FSM_MEAN = 0.17  # mean share of pupils on free school meals in England's schools (DfE 2019)
# A typical school in England, the reference the mechanisms scale by (a school with these
# improves at `own_improvement_rate`; a giver with a typical head offers
# `giver_capacity_fte`); the synthetic population's means default to them (judgement).
TYPICAL_LEADERSHIP = 0.6  # capacity of a typical head (0-1)
TYPICAL_SELF_ASSESSMENT_ACCURACY = 0.6  # how well a typical school knows its needs (0-1)
TYPICAL_BEHAVIOUR = 0.7  # a typical school's climate for learning (0-1)

NO_TRUST = -1
NEVER = -(10**6)  # a term index that stands for "never happened"

GRADE_NAMES = {
    Grade.OUTSTANDING: "outstanding",
    Grade.GOOD: "good",
    Grade.REQUIRES_IMPROVEMENT: "requires_improvement",
    Grade.INADEQUATE: "inadequate",
}
PHASE_NAMES = {
    Phase.PRIMARY: "primary",
    Phase.SECONDARY: "secondary",
    Phase.SPECIAL: "special",
    Phase.ALTERNATIVE_PROVISION: "alternative_provision",
}
GOVERNANCE_NAMES = {
    Governance.MAINTAINED: "maintained",
    Governance.SINGLE_ACADEMY_TRUST: "single_academy_trust",
    Governance.MULTI_ACADEMY_TRUST: "multi_academy_trust",
}


# Arrays a population builder need not give, and what they start as.
_FILLED: dict[str, object] = {
    "contract_trust": -1, "contract_start_term": -(10**6), "contract_end_term": -(10**6),
    "contract_start_grade": 0, "contract_support_fte": 0.0,
    "last_inspection_graded": False, "sponsor_trust": -1, "opening_term": -(10**6),
    "academy_order_term": -(10**6),
    **dict.fromkeys(("post_induction", "near_retirement",
                     "leavers", "movers", "movers_in", "new_entrants", "early_career_year1_leavers",
                     "early_career_year1_at_risk", "teachers_at_risk",
                     "perceived_need", "area_view_of_need", "is_giver", "is_taker",
                     "support_received", "effective_support", "giver_drain"), 0),
}


@dataclass
class SchoolArrays:
    """State of every school, one row per school.

    Teachers are counted, not simulated one by one: `teachers` is the headcount in post,
    counted again by career stage (`CareerStage`): `early_career_year1` and
    `early_career_year2` are early-career teachers in their first and second year, the
    rest are experienced: `post_induction` (years 3-5), `near_retirement` (about 55 and
    over) and `mid_career`, all the others. Posts not filled are `establishment - teachers`.
    """

    # identity and place
    urn: np.ndarray  # int64, unique reference number
    name: np.ndarray  # object (str)
    phase: np.ndarray  # int8, Phase
    local_authority: np.ndarray  # int32, index into Population.local_authority_names
    x_km: np.ndarray  # float64, easting in km
    y_km: np.ndarray  # float64, northing in km
    pupils: np.ndarray  # int32
    fsm_share: np.ndarray  # float64, share of pupils eligible for free school meals
    # quality
    context_potential: np.ndarray  # float64, level the school tends to with a typical head
    effectiveness: np.ndarray  # float64, latent quality that inspection measures
    leadership: np.ndarray  # float64 in [0, 1], capacity of the head and senior team
    head_tenure_terms: np.ndarray  # int32, terms since the head started
    behaviour: np.ndarray  # float64 in [0, 1], climate for learning
    self_assessment_accuracy: np.ndarray  # float64 in [0, 1]
    workload: np.ndarray  # float64, 1.0 is a typical school
    buy_in: np.ndarray  # float64 in [0, 1], buy-in to its trust's shared practice
    # workforce
    establishment: np.ndarray  # int32, teaching posts
    teachers: np.ndarray  # int32, teachers in post
    early_career_year1: np.ndarray  # int32
    early_career_year2: np.ndarray  # int32
    # inspection
    grade: np.ndarray  # int8, Grade of the latest inspection
    previous_grade: np.ndarray  # int8, Grade of the one before (0 if none)
    last_inspection_term: np.ndarray  # int32, can be negative (before the run started)
    inspection_due_term: np.ndarray  # int32
    # governance
    governance: np.ndarray  # int8, Governance
    trust: np.ndarray  # int32, trust row or NO_TRUST
    awaiting_sponsor_since_term: np.ndarray  # int32, NEVER if not waiting for a sponsor
    # True where the next inspection is graded (a full, section 5 inspection); good and
    # outstanding schools otherwise get an ungraded one (from the grade if not given)
    next_inspection_graded: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # True where the school's latest inspection was graded (False: ungraded, or none yet)
    last_inspection_graded: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # a maintained school under an academy order: the term of the order (NEVER if none), and
    # once the commissioner has matched it with a sponsor, the trust and the term it opens
    # as the trust's academy (NEVER until placed)
    academy_order_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    sponsor_trust: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    opening_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # a fixed-term contract with a MAT (seed 003), filled in when one starts
    contract_trust: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    contract_start_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    contract_end_term: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    contract_start_grade: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    contract_support_fte: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # experienced teachers' career stages beyond mid-career (`mid_career` is the rest);
    # a builder need not give them: the workforce phase splits the experienced at the start
    post_induction: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    near_retirement: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    # flows and per-term derived values, rewritten every term (zero until the first term)
    leavers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    movers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    movers_in: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    new_entrants: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    early_career_year1_leavers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    early_career_year1_at_risk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    teachers_at_risk: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    perceived_need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    area_view_of_need: np.ndarray = field(default_factory=lambda: np.zeros(0))
    is_giver: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    is_taker: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    support_received: np.ndarray = field(default_factory=lambda: np.zeros(0))
    effective_support: np.ndarray = field(default_factory=lambda: np.zeros(0))
    giver_drain: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n = len(self.urn)
        if len(self.next_inspection_graded) == 0 and n:
            self.next_inspection_graded = self.grade >= Grade.REQUIRES_IMPROVEMENT
        for column in fields(self):
            array = getattr(self, column.name)
            if column.name in _FILLED and len(array) == 0:
                setattr(self, column.name, np.full(n, _FILLED[column.name], dtype=array.dtype))
            elif len(array) != n:
                raise ValueError(f"school array {column.name!r} has {len(array)} rows, not {n}")

    @property
    def n(self) -> int:
        return len(self.urn)

    @property
    def vacancies(self) -> np.ndarray:
        return self.establishment - self.teachers

    @property
    def experienced(self) -> np.ndarray:
        return self.teachers - self.early_career_year1 - self.early_career_year2

    @property
    def mid_career(self) -> np.ndarray:
        return self.experienced - self.post_induction - self.near_retirement

    @property
    def is_academy(self) -> np.ndarray:
        return self.governance != Governance.MAINTAINED

    @property
    def awaiting_sponsor(self) -> np.ndarray:
        return self.awaiting_sponsor_since_term != NEVER

    @property
    def under_academy_order(self) -> np.ndarray:
        """Waiting for a sponsor, or placed with one and not yet open (or an academy
        waiting to be rebrokered)."""
        return self.awaiting_sponsor | (self.sponsor_trust >= 0)

    @property
    def placed_with_sponsor(self) -> np.ndarray:
        """Under an academy order, matched with a sponsor, not yet open as its academy."""
        return self.sponsor_trust >= 0

    @property
    def under_contract(self) -> np.ndarray:
        return self.contract_trust >= 0


@dataclass
class TrustArrays:
    """State of every trust that ever existed, one row per trust.

    Trusts are appended when they form and marked inactive when they close (a merger),
    so a row index is a stable trust identity for the whole run.
    """

    trust_id: np.ndarray  # int64, stable identifier written to outputs
    name: np.ndarray  # object (str)
    kind: np.ndarray  # int8, TrustKind
    active: np.ndarray  # bool
    founded_term: np.ndarray  # int32
    central_team_fte: np.ndarray  # float64
    prescriptiveness: np.ndarray  # float64 in [0, 1]
    giver_taker_threshold: np.ndarray  # float64, due-diligence minimum ratio
    hub_radius_km: np.ndarray  # float64, due-diligence maximum distance from a hub
    growth_cap_per_year: np.ndarray  # int32
    risk_appetite: np.ndarray  # float64 in [0, 1]
    data_reporting_intensity: np.ndarray  # float64, extra workload from data requests
    leadership_pool: np.ndarray  # float64, mean quality of heads it appoints
    joins_this_year: np.ndarray  # int32
    reputation: np.ndarray  # float64, mean grade of the schools that count toward it (1 best)
    supplier_record: np.ndarray  # float64 in [0, 1], record as a contracted supplier (seed 003)

    @property
    def n(self) -> int:
        return len(self.trust_id)

    def append(self, **values: object) -> int:
        """Add one trust; every field must be given. Returns its row."""
        missing = set(_TRUST_COLUMNS) - set(values)
        if missing:
            raise ValueError(f"new trust is missing {sorted(missing)}")
        append_row(self, _TRUST_COLUMNS, values)
        return self.n - 1

    def extend(self, trusts: Sequence[dict[str, object]]) -> None:
        """Add trusts in turn, as `append` one after another would, one copy a column."""
        for values in trusts:
            missing = set(_TRUST_COLUMNS) - set(values)
            if missing:
                raise ValueError(f"new trust is missing {sorted(missing)}")
        for name in _TRUST_COLUMNS:
            column = getattr(self, name)
            setattr(self, name, np.concatenate(
                [column, np.array([values[name] for values in trusts], dtype=column.dtype)]))


_TRUST_COLUMNS = tuple(column.name for column in fields(TrustArrays))


def grade_index(grade: np.ndarray) -> np.ndarray:
    """Grade - 1 as a native index, to look up per-grade tables (outstanding first)."""
    return np.subtract(grade, 1, dtype=np.intp)


def trust_index(trust: np.ndarray) -> np.ndarray:
    """Each school's trust row plus one, as a native index (0 for a school in no trust).

    Per-school views of per-trust values (`per_school`) and per-trust counts
    (`count_by_trust`) take this index: numpy gathers and counts with a native index
    several times faster than with the int32 rows, and the extra slot 0 stands for "no
    trust" without a mask.
    """
    return np.add(trust, 1, dtype=np.intp)


def per_school(per_trust: np.ndarray, index: np.ndarray, outside: object = 0.0) -> np.ndarray:
    """Each school's entry of `per_trust`, or `outside` for a school in no trust."""
    return np.concatenate(([outside], per_trust))[index]


def count_by_trust(mask: np.ndarray | None, index: np.ndarray, n_trusts: int) -> np.ndarray:
    """Per trust, the sum of `mask` over its members (how many satisfy it; how many there
    are, with no mask), as float64."""
    if mask is not None and mask.dtype != np.bool_:
        return np.bincount(index, weights=mask, minlength=n_trusts + 1)[1:]
    # Counting the members that satisfy a yes-or-no mask: counting the selected entries
    # alone is several times faster than weighting every school by 0 or 1.
    selected = index if mask is None else index[mask]
    return np.bincount(selected, minlength=n_trusts + 1)[1:].astype(np.float64)


def append_row(table: object, columns: tuple[str, ...], values: dict[str, object]) -> None:
    """Append one value to each named 1-d array column of `table`, in amortised constant time.

    Each column becomes a view of a buffer with room to grow, kept in the table's
    `_buffers`, so that founding a trust does not copy every column. A column the caller
    has replaced by a new array since is copied into a new buffer first.
    """
    buffers = table.__dict__.setdefault("_buffers", {})
    for name in columns:
        column = getattr(table, name)
        n = len(column)
        buffer, view = buffers.get(name, (None, None))
        if column is not view or n >= len(buffer):
            buffer = np.empty(max(64, 2 * (n + 1)), dtype=column.dtype)
            buffer[:n] = column
        buffer[n] = values[name]
        view = buffer[:n + 1]
        buffers[name] = (buffer, view)
        setattr(table, name, view)


@dataclass
class Hubs:
    """Geographic hubs of trusts (seed 000: trusts grow by geographical hubs)."""

    trust: np.ndarray  # int32, trust row
    x_km: np.ndarray  # float64
    y_km: np.ndarray  # float64

    def add(self, trust: int, x_km: float, y_km: float) -> None:
        append_row(self, ("trust", "x_km", "y_km"), {"trust": trust, "x_km": x_km, "y_km": y_km})

    def extend(self, trust: Sequence[int], x_km: Sequence[float], y_km: Sequence[float]) -> None:
        """Add several hubs, in order (as `add` one after another would)."""
        self.trust = np.concatenate([self.trust, np.asarray(trust, self.trust.dtype)])
        self.x_km = np.concatenate([self.x_km, np.asarray(x_km, self.x_km.dtype)])
        self.y_km = np.concatenate([self.y_km, np.asarray(y_km, self.y_km.dtype)])

    def drop_trusts(self, trusts: np.ndarray) -> None:
        """Drop the hubs of these trusts (closed ones); the other hubs keep their order."""
        if len(self.trust) == 0 or len(trusts) == 0:
            return
        # A mask over trust rows: several times faster than np.isin's sort for a few trusts.
        closed = np.zeros(max(int(self.trust.max()), int(np.max(trusts))) + 1, bool)
        closed[trusts] = True
        keep = ~closed[self.trust]
        if not keep.all():
            self.trust, self.x_km, self.y_km = self.trust[keep], self.x_km[keep], self.y_km[keep]


@dataclass
class Population:
    """Everything a population builder produces: the schools, trusts, hubs and clusters."""

    schools: SchoolArrays
    trusts: TrustArrays
    hubs: Hubs
    local_authority_names: list[str]
    local_authority_x_km: np.ndarray
    local_authority_y_km: np.ndarray
    partnership_clusters: list[np.ndarray]  # school rows of each peer cluster
    # what a builder from data kept, dropped and imputed (summary.json's `population`);
    # a population read from data has real grades and trusts, so the model skips its spin-up
    report: dict[str, object] | None = None
