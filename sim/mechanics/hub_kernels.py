"""`NearestHub.update` as compiled passes (`sim.compiled`), for England.

Each term a few hundred schools change trust, and a trust now and then opens a hub: only
those schools, and the members of such trusts, have their nearest hub found again. The
numpy twin in `sim.mechanics.proximity` finds them in a dozen calls over all the schools
(each a pass of its own) and pairs them with their trusts' hubs by sorting the hubs; here
one pass finds them and lists the (school, hub) pairs, and another takes each school's
nearest. The distances between are numpy's `hypot` (`sim.compiled`: no such function in a
kernel), of the same coordinate differences, so the result is the twin's bit for bit
(`tests/test_proximity.py` compares it with a rebuild after every term of a busy run).
"""

from __future__ import annotations

import numpy as np

from sim import compiled


@compiled.kernel
def stale_pairs(trust: np.ndarray, known_trust: np.ndarray, hub_trust: np.ndarray,
                known_hubs_per_trust: np.ndarray, n_trusts: int, hub_x_km: np.ndarray,
                hub_y_km: np.ndarray, x_km: np.ndarray,
                y_km: np.ndarray) -> tuple:  # pragma: no cover
    """The schools whose nearest hub must be found again (`stale`, in school order): those
    whose trust is not the `known_trust`, and the members of trusts whose number of hubs is
    not the `known_hubs_per_trust`. Writes each school's trust into `known_trust`; returns
    the stale schools; the hubs per trust (what is known after this update); and, for each
    stale school in a trust, in turn, its number of hubs and the coordinate differences
    from each (school minus hub, the hubs in their order)."""
    n, n_hubs = len(trust), len(hub_trust)
    hubs_per_trust = np.zeros(n_trusts, np.int64)
    for hub in range(n_hubs):
        hubs_per_trust[hub_trust[hub]] += 1
    # Per trust slot (slot 0: no trust), whether its hubs changed.
    hubs_changed = np.zeros(n_trusts + 1, np.bool_)
    for t in range(n_trusts):
        known = known_hubs_per_trust[t] if t < len(known_hubs_per_trust) else 0
        hubs_changed[t + 1] = hubs_per_trust[t] != known
    # Each trust's hubs, in hub order.
    hub_start = np.zeros(n_trusts + 1, np.int64)
    for t in range(n_trusts):
        hub_start[t + 1] = hub_start[t] + hubs_per_trust[t]
    by_trust = np.empty(n_hubs, np.int64)
    filled = hub_start[:-1].copy()
    for hub in range(n_hubs):
        by_trust[filled[hub_trust[hub]]] = hub
        filled[hub_trust[hub]] += 1
    # One pass over the schools, without a branch on which are stale (each is written at
    # the next free place, which moves on only if it is stale), bringing `known_trust` up
    # to date in place.
    stale_buffer = np.empty(n, np.int64)
    n_stale = 0
    for school in range(n):
        t = trust[school]
        stale = (t != known_trust[school]) | hubs_changed[t + 1]
        known_trust[school] = t
        stale_buffer[n_stale] = school
        n_stale += stale
    n_pairs = 0
    for at in range(n_stale):
        t = trust[stale_buffer[at]]
        if t >= 0:
            n_pairs += hubs_per_trust[t]
    stale_schools = stale_buffer[:n_stale]
    pairs_per_school = np.zeros(n_stale, np.int64)
    along_x, along_y = np.empty(n_pairs), np.empty(n_pairs)
    pair = 0
    for at in range(n_stale):
        school = stale_schools[at]
        t = trust[school]
        if t >= 0:
            pairs_per_school[at] = hubs_per_trust[t]
            for k in range(hub_start[t], hub_start[t + 1]):
                hub = by_trust[k]
                along_x[pair] = x_km[school] - hub_x_km[hub]
                along_y[pair] = y_km[school] - hub_y_km[hub]
                pair += 1
    return stale_schools, hubs_per_trust, pairs_per_school, along_x, along_y


@compiled.kernel
def nearest(stale_schools: np.ndarray, pairs_per_school: np.ndarray, distance: np.ndarray,
            nearest_km: np.ndarray) -> None:  # pragma: no cover
    """Write each stale school's entry of `nearest_km`: the least of its pairs' distances
    (inf with none)."""
    pair = 0
    for at in range(len(stale_schools)):
        least = np.inf
        for _ in range(pairs_per_school[at]):
            least = min(least, distance[pair])
            pair += 1
        nearest_km[stale_schools[at]] = least
