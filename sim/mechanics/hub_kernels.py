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
    not the `known_hubs_per_trust`. Returns them; the trust of each school as int64 and
    the hubs per trust (what is known after this update); and, for each stale school in a
    trust, in turn, its number of hubs and the coordinate differences from each (school
    minus hub, the hubs in their order)."""
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
    trust_now = np.empty(n, np.int64)
    is_stale = np.empty(n, np.bool_)
    n_stale = n_pairs = 0
    for school in range(n):
        t = trust[school]
        trust_now[school] = t
        stale = (t != known_trust[school]) | hubs_changed[t + 1]
        is_stale[school] = stale
        if stale:
            n_stale += 1
            if t >= 0:
                n_pairs += hubs_per_trust[t]
    stale_schools = np.empty(n_stale, np.int64)
    pairs_per_school = np.zeros(n_stale, np.int64)
    along_x, along_y = np.empty(n_pairs), np.empty(n_pairs)
    at = pair = 0
    for school in range(n):
        if not is_stale[school]:
            continue
        stale_schools[at] = school
        t = trust[school]
        if t >= 0:
            pairs_per_school[at] = hubs_per_trust[t]
            for k in range(hub_start[t], hub_start[t + 1]):
                hub = by_trust[k]
                along_x[pair] = x_km[school] - hub_x_km[hub]
                along_y[pair] = y_km[school] - hub_y_km[hub]
                pair += 1
        at += 1
    return stale_schools, trust_now, hubs_per_trust, pairs_per_school, along_x, along_y


@compiled.kernel
def nearest(stale_schools: np.ndarray, pairs_per_school: np.ndarray, distance: np.ndarray,
            nearest_km: np.ndarray) -> np.ndarray:  # pragma: no cover
    """A copy of `nearest_km` with each stale school's entry the least of its pairs'
    distances (inf with none)."""
    found = nearest_km.copy()
    pair = 0
    for at in range(len(stale_schools)):
        least = np.inf
        for _ in range(pairs_per_school[at]):
            least = min(least, distance[pair])
            pair += 1
        found[stale_schools[at]] = least
    return found
