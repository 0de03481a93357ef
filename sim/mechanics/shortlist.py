"""A brokering round's shortlists from the k-d tree's answer, as one compiled pass
(`sim.compiled`), for England's rounds.

`Broker.candidates` asks the map's k-d tree for each school's `candidates_per_school`
nearest hubs, then keeps the active trusts other than the school's own, each at its nearest
hub, ordered by distance and then trust row. In numpy that is a dozen calls over the
(school, hub) pairs, with a sort where two hubs are equally near; `shortlists` does it school
by school in one pass, with the same result (a test compares the two on the same answer).
"""

from __future__ import annotations

import numpy as np

from sim import compiled


@compiled.kernel
def shortlists(distance: np.ndarray, hub: np.ndarray, hub_trust: np.ndarray,
               active: np.ndarray, exclude: np.ndarray, position: np.ndarray,
               trust: np.ndarray, distance_km: np.ndarray, start: np.ndarray) -> int:
    """From the tree's answer (`distance`, `hub`: a row per school, nearest first, a hub
    row of `len(hub_trust)` or more where fewer were found), each school's trusts with the
    distance to their nearest hub in the answer, nearest first, ties by trust row; a
    closed trust and the school's `exclude` trust (-1: none) are left out. Written into
    `position`, `trust` and `distance_km` (room for every entry of the answer) and the
    school's `start`; returns how many pairs there are."""
    n_hubs = len(hub_trust)
    # The last school whose list holds each trust: a trust is listed once, at its nearest
    # hub (the answer comes nearest first).
    listed_for = np.full(len(active), -1, np.int64)
    count = 0
    for school in range(distance.shape[0]):
        start[school] = count
        for column in range(distance.shape[1]):
            row = hub[school, column]
            if row >= n_hubs:
                break  # fewer hubs within the radius than asked for
            listed = hub_trust[row]
            if not active[listed] or listed == exclude[school] or listed_for[listed] == school:
                continue
            listed_for[listed] = school
            near = distance[school, column]
            # Into place among the school's pairs so far: by distance, then trust row.
            at = count
            while at > start[school] and (distance_km[at - 1] > near or (
                    distance_km[at - 1] == near and trust[at - 1] > listed)):
                distance_km[at] = distance_km[at - 1]
                trust[at] = trust[at - 1]
                at -= 1
            distance_km[at] = near
            trust[at] = listed
            position[count] = school
            count += 1
    start[distance.shape[0]] = count
    return count
