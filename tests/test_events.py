"""The event log: interleaving two lists of events (`sim.events.interleave`), the order a
stable sort on (the event each comes before, then which list) gives, as the brokering
round's refusals and outcomes and a join's conversions and joins were once put in order;
a batch's texts given as codes, one for all or texts, making the same table; and a log
read from a pickle where texts are numbered otherwise."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd

from sim.events import EventLog, interleave, interleaved, text_codes


def test_interleaving_is_the_stable_sort_it_replaces():
    rng = np.random.default_rng(4)
    for n in (0, 1, 7, 50):
        before = np.sort(rng.integers(0, max(n, 1), rng.integers(0, 3 * n + 1))) if n else \
            np.zeros(0, np.int64)
        first_at, second_at = interleave(before, n)
        order = np.argsort(np.concatenate([2 * before, 2 * np.arange(n) + 1]), kind="stable")
        labels = np.concatenate([np.arange(len(before)), 1000 + np.arange(n)])
        merged = interleaved(first_at, second_at, np.int64, np.arange(len(before)),
                             1000 + np.arange(n))
        assert np.array_equal(merged, labels[order])


def test_texts_given_as_codes_one_for_all_or_texts_make_the_same_table():
    """A batch's kind and text columns may be codes, one text for all or texts; the table
    is the same, and its kinds are the categorical pandas makes of the texts."""
    urn, trust_id = np.arange(100, 110), np.arange(50, 53)
    kinds = ["join", "brokering_refusal", "join"]
    details = ["sponsored", None, "merger"]
    as_texts, as_codes = EventLog(), EventLog()
    as_texts.record(np.array(kinds, dtype=object), 3, school=np.array([1, 2, 3]),
                    trust=np.array([0, 1, -1]), detail=np.array(details, dtype=object))
    as_codes.record(text_codes(kinds), 3, school=np.array([1, 2, 3]),
                    trust=np.array([0, 1, -1]), detail=text_codes(details))
    for log in (as_texts, as_codes):
        log.record_one("join", 4, school=5, trust=2, detail="merger")
        log.record("inspection", 5, school=np.array([4, 6]), new_grade=np.array([1, 2]))
    log.record("orphan", 5, school=np.array([7]), detail="x", old_trust=-1)
    as_texts.record("orphan", 5, school=np.array([7]), detail=np.array(["x"], dtype=object),
                    old_trust=np.array([-1]))
    expected = as_texts.to_frame(urn, trust_id, 2019)
    pd.testing.assert_frame_equal(as_codes.to_frame(urn, trust_id, 2019), expected)
    texts = ["join", "brokering_refusal", "join", "join", "inspection", "inspection", "orphan"]
    pd.testing.assert_series_equal(expected["kind"], pd.Series(pd.Categorical(
        np.array(texts, dtype=object)), name="kind"))
    assert as_codes.count("join") == 3 and as_texts.count("orphan") == 1
    assert EventLog().to_frame(urn, trust_id, 2019).empty


def test_a_pickled_log_reads_its_texts_in_another_numbering():
    """A log's codes are this process's numbering of texts; a log pickled and read where
    texts are numbered otherwise makes the same table."""
    urn, trust_id = np.arange(100, 110), np.arange(50, 53)
    log = EventLog()
    log.record(text_codes(["join", "orphan"]), 1, school=np.array([1, 2]), detail="merger",
               rule=text_codes(["growth_cap", None]))
    log.record("inspection", 2, school=np.array([3]), outcome=np.array(["confirmed"], object))
    expected = log.to_frame(urn, trust_id, 2019)
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(log)).to_frame(urn, trust_id, 2019),
                                  expected)
    # As another process might have numbered them: every text one code further on.
    state = log.__getstate__()
    state["texts"] = [None, "numbered elsewhere", *state["texts"][1:]]
    for batch in state["batches"]:
        for name in ("kind", "rule"):
            if name in batch:
                batch[name] = np.where(batch[name] > 0, batch[name] + 1, 0)
    elsewhere = EventLog.__new__(EventLog)
    elsewhere.__setstate__(state)
    pd.testing.assert_frame_equal(elsewhere.to_frame(urn, trust_id, 2019), expected)
