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

from collections.abc import Sequence
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
TEXT_COLUMNS = ("kind", "rule", "detail", "outcome")

# The texts of the text columns, numbered in the order first asked (0 is "not
# applicable"). A batch may give a text column as these codes, one small integer an
# event: filling an array of Python strings costs about ten nanoseconds an event, most of
# what logging a batch of inspections once cost; the texts are looked up when the log
# becomes a table. The numbering is the process's, shared by every log.
_TEXTS: list[str | None] = [None]
_TEXT_CODES: dict[str | None, int] = {None: 0}


def text_code(text: str | None) -> int:
    """The code of a text (numbered on first asking)."""
    code = _TEXT_CODES.get(text)
    if code is None:
        code = _TEXT_CODES[text] = len(_TEXTS)
        _TEXTS.append(text)
    return code


def text_codes(texts: Sequence[str | None]) -> np.ndarray:
    """The codes of several texts (`text_code`), as an array to index with."""
    return np.array([text_code(text) for text in texts], np.int16)


def _texts(values: object, length: int) -> np.ndarray:
    """A batch's text column as the table's objects: codes looked up, one text for all
    filled in, an array of texts as it is."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return np.array(_TEXTS, dtype=object)[values]
    if values is None or isinstance(values, (str, int, np.integer)):
        text = _TEXTS[values] if isinstance(values, (int, np.integer)) else values
        return np.full(length, text, dtype=object)
    return np.asarray(values, dtype=object)


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

    A batch's column holds an array aligned with its schools, or one value for all (its
    term always; its kind, or any other column, when the recorder gives one), filled in
    when the log becomes a table. Text columns may be given as codes (`text_code`).

    Single events (a school joining a trust) are kept as rows and turned into one batch
    when the next batch arrives or the log is read, so that logging one costs a list
    append, and events stay in the order they happened.
    """

    def __init__(self) -> None:
        self._batches: list[dict[str, object]] = []
        self._pending: list[tuple[str, int, int, dict[str, object]]] = []

    def __getstate__(self) -> dict[str, object]:
        """The log with the texts its codes stand for: another process (a pickle's reader)
        numbers texts in its own order (`text_code`)."""
        self._flush()
        return {"batches": self._batches, "texts": list(_TEXTS)}

    def __setstate__(self, state: dict[str, object]) -> None:
        # This process's code of each code the log was written with.
        recode = text_codes(state["texts"])  # type: ignore[arg-type]
        self._pending = []
        self._batches = [{name: _recoded(values, recode) if name in TEXT_COLUMNS else values
                          for name, values in batch.items()}
                         for batch in state["batches"]]  # type: ignore[attr-defined]

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
        batch: dict[str, object] = {
            "term": np.array([term for _, term, _, _ in pending], dtype=np.int32),
            "kind": text_codes([kind for kind, *_ in pending]),
            "school": np.array([school for _, _, school, _ in pending], dtype=np.int64)}
        for name in named:
            missing = NOT_APPLICABLE[name]
            batch[name] = np.array([values.get(name, missing) for *_, values in pending],
                                   dtype=object if missing is None else np.int64)
        self._batches.append(batch)

    def record(self, kind: str | np.ndarray, term: int, *, school: np.ndarray,
               **columns: object) -> None:
        """Record one event per entry of `school`; other columns align with it, or give one
        value for all. `kind` is one kind for all, or one per event as codes (`text_codes`:
        a brokering round logs refusals and outcomes school by school); so may a text
        column be given (an array of codes, or of texts)."""
        school = np.asarray(school)
        if len(school) == 0:
            return
        self._flush()
        unknown = set(columns) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown event columns {sorted(unknown)}")
        batch: dict[str, object] = {
            "term": term, "school": school,
            "kind": text_code(kind) if isinstance(kind, str) else np.asarray(kind)}
        batch.update(columns)
        self._batches.append(batch)

    def count(self, kind: str) -> int:
        self._flush()
        code = text_code(kind)
        return sum(int(np.count_nonzero(_kind_codes(batch) == code)) for batch in self._batches)

    def to_frame(self, urn: np.ndarray, trust_id: np.ndarray, start_year: int) -> pd.DataFrame:
        """One row per event, schools and trusts named by their stable identifiers."""
        import pandas as pd

        self._flush()
        batches = self._batches
        n = sum(len(b["school"]) for b in batches)  # type: ignore[arg-type]

        def column(name: str, dtype: object) -> np.ndarray:
            parts = [_filled(b.get(name, NOT_APPLICABLE.get(name)), len(b["school"]), dtype,
                             name in TEXT_COLUMNS)  # type: ignore[arg-type]
                     for b in batches]
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        frame = pd.DataFrame({
            "term": column("term", np.int32) if n else np.zeros(0, np.int32),
            "kind": _kinds(np.concatenate([_filled(_kind_codes(b), len(b["school"]), np.int16,
                                                   False)  # type: ignore[arg-type]
                                           for b in batches]) if n else None)})
        frame["year"] = (start_year + frame["term"] // 3).astype(np.int32)
        schools = column("school", np.int64) if n else np.zeros(0, int)
        frame["urn"] = urn[schools.astype(np.int64)]
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


def _kinds(codes: np.ndarray | None) -> pd.Categorical:
    """The kind column from its codes: the categorical of their texts, its categories
    sorted as one made from the texts themselves (without the texts' hashing)."""
    import pandas as pd

    if codes is None:
        return pd.Categorical([])
    used = np.flatnonzero(np.bincount(codes, minlength=len(_TEXTS)))
    # The categories as pandas makes them from texts (their type inferred the same way).
    categories = pd.Categorical(np.array([_TEXTS[code] for code in used], dtype=object)).categories
    position = np.zeros(len(_TEXTS), np.int64)
    position[used] = categories.get_indexer([_TEXTS[code] for code in used])
    return pd.Categorical.from_codes(position[codes],
                                     dtype=pd.CategoricalDtype(categories, ordered=False))


def _recoded(values: object, recode: np.ndarray) -> object:
    """A batch's text column with its codes (if codes) renumbered by `recode`."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        return recode[values]
    if isinstance(values, (int, np.integer)):
        return int(recode[values])
    return values  # texts, or one text for all


def _kind_codes(batch: dict[str, object]) -> np.ndarray | int:
    """A batch's kinds as codes: one for all, or one an event."""
    kind = batch["kind"]
    if isinstance(kind, np.ndarray) and kind.dtype.kind not in "iu":
        return text_codes(kind.tolist())  # texts, as a caller may give them
    return kind  # type: ignore[return-value]


def _filled(values: object, length: int, dtype: object, text: bool) -> np.ndarray:
    """A batch's column as an array of the table's type (one value for all filled in)."""
    if text:
        return _texts(values, length)
    if np.ndim(values) == 0:
        return np.full(length, values, dtype=dtype)
    return np.asarray(values, dtype=dtype)
