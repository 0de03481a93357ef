"""The event log: inspections, joins, brokering refusals, orphans and other happenings.

Events are recorded in batches of arrays (one batch per phase call), not one Python object
per event, so logging thousands of inspections a term costs a few array copies. At the end
of a run the batches become one tidy table, one row per event, with these columns:

| column | meaning |
|---|---|
| term, year | when (term counts from 0; year is the academic year it falls in) |
| kind | inspection, academy_order, placement, conversion, join, brokering_refusal, orphan, |
| | head_replaced, and for academies: rebrokering_ordered, rebrokering_wait, rebrokering_withdrawn |
| urn | the school |
| trust_id | the trust involved (the refusing trust for refusals; the new trust for joins) |
| old_trust_id | for joins, the trust the school left (null if none) |
| old_grade, new_grade | for inspections: the grade before and after |
| rule | for refusals: the due-diligence rule that refused |
| wait_terms | for joins, orphans and rebrokering waits: terms the school has waited for a new trust |
| detail | for inspections: graded or ungraded; for joins: how the school came to join |
| | (sponsored, converted, rebrokered, ...); for conversions: sponsored or converter |
| outcome | for ungraded inspections: confirmed, graded_inspection_next or converted_to_graded |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

# pandas is loaded when the log becomes a table, not with the phases that record events
# (which the config reads to answer `python -m sim --help`; tests/test_start_up.py).
if TYPE_CHECKING:
    import pandas as pd

# The columns an event may have beyond term, kind and school, with what each holds for an
# event it does not apply to.
NOT_APPLICABLE: dict[str, object] = {"trust": -1, "old_trust": -1, "old_grade": -1,
                                     "new_grade": -1, "rule": None, "wait_terms": -1,
                                     "detail": None, "outcome": None}
COLUMNS = ("term", "kind", "school", *NOT_APPLICABLE)


def interleave(before: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where two lists of events go in one, in order, when each of the first comes just
    before one of the `n` second (`before`, non-decreasing: several may come before one):
    the positions of the first and of the second. A school's brokering refusals come
    before its outcome, a conversion before its join; building each column by placing
    the two parts is cheaper than concatenating and sorting them."""
    first_at = np.arange(len(before)) + before
    second_at = np.arange(n) + np.cumsum(np.bincount(before, minlength=n))
    return first_at, second_at


def interleaved(first_at: np.ndarray, second_at: np.ndarray, dtype: type, first: object,
                second: object) -> np.ndarray:
    """One column of two interleaved lists (`interleave`): values (or one value) of each."""
    column = np.empty(len(first_at) + len(second_at), dtype)
    column[first_at] = first
    column[second_at] = second
    return column


class EventLog:
    """Collects events as column batches.

    Single events (a school joining a trust) are kept as rows and turned into one batch
    when the next batch arrives or the log is read, so that logging one costs a list
    append, and events stay in the order they happened.
    """

    def __init__(self) -> None:
        self._batches: list[dict[str, np.ndarray]] = []
        self._pending: list[tuple[str, int, int, dict[str, object]]] = []

    def record_one(self, kind: str, term: int, *, school: int, **values: object) -> None:
        """Record one event; columns not given are not applicable to it."""
        unknown = set(values) - set(NOT_APPLICABLE)
        if unknown:
            raise ValueError(f"unknown event columns {sorted(unknown)}")
        self._pending.append((kind, term, school, values))

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        named = sorted(set().union(*(values for *_, values in pending)))
        batch = {"term": np.array([term for _, term, _, _ in pending], dtype=np.int32),
                 "kind": np.array([kind for kind, *_ in pending], dtype=object),
                 "school": np.array([school for _, _, school, _ in pending], dtype=np.int64)}
        for name in named:
            missing = NOT_APPLICABLE[name]
            batch[name] = np.array([values.get(name, missing) for *_, values in pending],
                                   dtype=object if missing is None else np.int64)
        self._batches.append(batch)

    def record(self, kind: str | np.ndarray, term: int, *, school: np.ndarray,
               **columns: np.ndarray) -> None:
        """Record one event per entry of `school`; other columns align with it. `kind` is
        one kind for all, or one per event (a brokering round logs refusals and outcomes
        school by school)."""
        school = np.asarray(school)
        if len(school) == 0:
            return
        self._flush()
        unknown = set(columns) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown event columns {sorted(unknown)}")
        # One kind for all is filled in (np.broadcast_to costs several times more).
        batch = {"term": np.full(len(school), term, dtype=np.int32),
                 "kind": np.full(len(school), kind, dtype=object) if isinstance(kind, str)
                 else np.asarray(kind, dtype=object),
                 "school": school}
        batch.update({name: np.asarray(values) for name, values in columns.items()})
        self._batches.append(batch)

    def count(self, kind: str) -> int:
        self._flush()
        return sum(int((b["kind"] == kind).sum()) for b in self._batches)

    def to_frame(self, urn: np.ndarray, trust_id: np.ndarray, start_year: int) -> pd.DataFrame:
        """One row per event, schools and trusts named by their stable identifiers."""
        import pandas as pd

        self._flush()
        n = sum(len(b["school"]) for b in self._batches)
        frame = pd.DataFrame({
            "term": np.concatenate([b["term"] for b in self._batches]) if n else np.zeros(0, np.int32),
            "kind": pd.Categorical(
                np.concatenate([b["kind"] for b in self._batches]) if n else [])})
        frame["year"] = (start_year + frame["term"] // 3).astype(np.int32)
        schools = np.concatenate([b["school"] for b in self._batches]) if n else np.zeros(0, int)
        frame["urn"] = urn[schools.astype(np.int64)]

        def column(name: str, dtype: object) -> np.ndarray:
            parts = [np.asarray(b[name], dtype=dtype) if name in b
                     else np.full(len(b["school"]), NOT_APPLICABLE[name], dtype=dtype)
                     for b in self._batches]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        # Integer columns use -1 for "not applicable", which becomes a null. A trust row of
        # -1 looks up the -1 put in front of the identifiers (a place may have no trusts).
        trust_id_or_none = np.concatenate(([-1], trust_id)).astype(np.int64)
        for name, target in (("trust", "trust_id"), ("old_trust", "old_trust_id")):
            rows = column(name, np.int64)
            ids = trust_id_or_none[rows + 1]
            frame[target] = pd.array(np.where(ids >= 0, ids, 0), dtype="Int64")
            frame.loc[ids < 0, target] = pd.NA
        for name in ("old_grade", "new_grade", "wait_terms"):
            values = column(name, np.int64)
            frame[name] = pd.array(np.where(values >= 0, values, 0), dtype="Int64")
            frame.loc[values < 0, name] = pd.NA
        for name in ("rule", "detail", "outcome"):
            frame[name] = pd.array(column(name, object), dtype="string")
        return frame[["term", "year", "kind", "urn", "trust_id", "old_trust_id", "old_grade",
                      "new_grade", "rule", "wait_terms", "detail", "outcome"]]
