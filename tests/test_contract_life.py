"""A MAT contract's life under `policy=mat_contracting`: it starts, runs its length, is
judged once, and ends, leaving the school free and the partnership graph without its edge.

How contracts are stored (sim/policies/mat_contracting.py): per school, `contract_trust`
(-1 when free; `schools.under_contract` is `contract_trust >= 0`), `contract_start_term`
and `contract_end_term`; the graph has a `contract` edge between the school and the MAT
while the contract runs; `contract_start` and `contract_end` events record both ends.
"""

from __future__ import annotations

import pytest

from sim.state import TERMS_PER_YEAR
from tests.conftest import make_model

YEARS = 6


def contract_edges(model) -> set[tuple[int, int]]:
    """(school row, trust row) for every contract edge of the partnership graph."""
    edges = set()
    for u, v, key in model.network.graph.edges(keys=True):
        if key == "contract":
            (school,), (trust,) = ([n[1] for n in (u, v) if n[0] == kind]
                                   for kind in ("school", "trust"))
            edges.add((school, trust))
    return edges


@pytest.fixture(scope="module", params=[1, 2], ids=["one_year", "two_years"])
def contracted(request):
    """A mat_contracting run, stepped term by term, with the contracts and graph edges seen
    after every year end."""
    model = make_model("scenario=opportunity_area", "seed=1", "policy=mat_contracting",
                       f"horizon_years={YEARS}",
                       f"policy.mat_contracting.contract_length_years={request.param}")
    seen = []
    for _ in range(model.horizon_terms):
        model.step()
        if model.term % TERMS_PER_YEAR == 0:  # a year has just ended
            schools = model.schools
            under = {(int(s), int(schools.contract_trust[s]))
                     for s in range(schools.n) if schools.under_contract[s]}
            seen.append((model.term - 1, under, contract_edges(model),
                         schools.contract_start_term.copy()))
    events = model.events.to_frame(model.schools.urn, model.trusts.trust_id,
                                   model.parameters.scenario.start_year)
    return model, events, seen


def test_the_length_is_read_from_the_config(contracted):
    model, _, _ = contracted
    assert model.parameters.policy.mat_contracting.contract_length_years in (1, 2)


def test_each_contract_ends_once_at_its_length(contracted):
    model, events, _ = contracted
    length = model.parameters.policy.mat_contracting.contract_length_years * TERMS_PER_YEAR
    last_term = model.horizon_terms - 1
    starts = events[events["kind"] == "contract_start"]
    ends = events[events["kind"] == "contract_end"]
    assert len(starts) >= 5 and len(ends) >= 3, "the run must hold contracts that end"
    matched = set()
    for _, start in starts.iterrows():
        due = start["term"] + length
        own = ends[(ends["urn"] == start["urn"]) & (ends["term"] > start["term"])
                   & (ends["term"] <= due)]
        if due > last_term:
            assert own.empty, f"contract of {start['urn']} from term {start['term']} ended early"
            continue
        assert list(own["term"]) == [due], (
            f"contract of {start['urn']} from term {start['term']} (length {length} terms) "
            f"ended at terms {list(own['term'])}")
        assert own.iloc[0]["trust_id"] == start["trust_id"]
        assert own.iloc[0]["detail"] in ("success", "failure")
        matched.add(own.index[0])
    assert matched == set(ends.index), "every contract_end belongs to one contract_start"
    assert model.results().summary["contracts_started"] == len(starts)


def test_an_ended_contract_frees_the_school_and_removes_its_edge(contracted):
    model, events, seen = contracted
    row_of = {int(urn): row for row, urn in enumerate(model.schools.urn)}
    freed = 0
    for term, under, edges, start_term in seen:
        assert edges == under, f"term {term}: contract edges differ from the contracts held"
        held = {school for school, _ in under}
        ended = events[(events["kind"] == "contract_end") & (events["term"] == term)]
        started = events[(events["kind"] == "contract_start") & (events["term"] == term)]
        for urn in ended["urn"]:
            school = row_of[int(urn)]
            if urn in set(started["urn"]):  # contracted again at once: a new contract
                assert school in held and start_term[school] == term
            else:
                assert school not in held, f"term {term}: school {urn} is still under contract"
                freed += 1
    assert freed >= 2, "the run must hold contracts that end and leave the school free"
