"""MATs opening hubs as they grow (seed 000: trusts grow by geographical hubs).

A MAT of `new_hub_min_schools` or more that takes a school further than
`NEW_HUB_DISTANCE_SHARE` of its hub radius from every hub it has opens a hub there. The
schools joining in one batch are taken in turn, so a hub opened for one covers the next
ones near it (`open_hubs`).

Most of the work is pairing each joining school with the hubs its trust had before the
batch, to see whether one is near. For England that is one compiled pass over the hubs
(`_own_hub_pairs`); its numpy twin, for smaller places, groups the hubs by trust
(`pairs_within_groups`). Both give the same pairs in the same order (a test checks); the
distances are numpy's hypot either way, outside the kernel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.proximity import pairs_within_groups

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel

# A MAT of `new_hub_min_schools` or more that takes a school further than this share of
# its hub radius from every hub it has opens a hub there (seed 000: trusts grow by
# geographical hubs; the share is a judgement: beyond it the school would sit at the
# edge of what the trust can reach).
NEW_HUB_DISTANCE_SHARE = 0.6


def open_hubs(model: SchoolSystemModel, school: np.ndarray, trust: np.ndarray) -> None:
    """Open the hubs that schools joining large MATs call for, the schools (each with the
    trust it joins) taken in turn."""
    hubs, x, y = model.hubs, model.schools.x_km, model.schools.y_km
    far_from = NEW_HUB_DISTANCE_SHARE * model.trusts.hub_radius_km[trust]
    # Far from every hub its trust had before these joins: only those can open one.
    which, hub = own_hub_pairs(hubs.trust, trust, len(model.trusts.active),
                               compiled.worth_compiling(model.schools.n))
    near = np.hypot(hubs.x_km[hub] - x[school[which]], hubs.y_km[hub] - y[school[which]]) \
        <= far_from[which]
    covered = np.zeros(len(school), bool)
    covered[which[near]] = True
    # Those left open hubs in turn, unless one opened for an earlier school is near. The
    # loop reads plain lists: a list gives up an element several times faster than an
    # array.
    left = np.flatnonzero(~covered)
    opened: dict[int, list[tuple[float, float]]] = {}
    new_hubs: list[tuple[int, float, float]] = []
    for row, here_x, here_y, reach in zip(trust[left].tolist(), x[school[left]].tolist(),
                                          y[school[left]].tolist(), far_from[left].tolist(),
                                          strict=True):
        own = opened.setdefault(row, [])
        if all(math.hypot(a - here_x, b - here_y) > reach for a, b in own):
            new_hubs.append((row, here_x, here_y))
            own.append((here_x, here_y))
    if new_hubs:
        hubs.extend(*zip(*new_hubs, strict=True))  # in the order opened


def own_hub_pairs(hub_trust: np.ndarray, trust: np.ndarray, n_trusts: int,
                  use_kernel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every (joining school's position, hub of its trust) pair, by position, then hub
    (with the kernel if `use_kernel`)."""
    if use_kernel:
        return _own_hub_pairs(hub_trust, trust, n_trusts)
    involved = np.zeros(n_trusts, bool)
    involved[trust] = True
    own_hubs = np.flatnonzero(involved[hub_trust])
    return pairs_within_groups(np.arange(len(trust)), trust, own_hubs, hub_trust[own_hubs])


@compiled.kernel
def _own_hub_pairs(hub_trust: np.ndarray, trust: np.ndarray,
                   n_trusts: int) -> tuple[np.ndarray, np.ndarray]:
    """`own_hub_pairs` in two passes over the joins, after one over the hubs that chains
    each trust's hubs in order (its first hub, and each hub's next)."""
    first = np.full(n_trusts, -1, np.int64)
    following = np.empty(len(hub_trust), np.int64)
    for hub in range(len(hub_trust) - 1, -1, -1):
        following[hub] = first[hub_trust[hub]]
        first[hub_trust[hub]] = hub
    count = 0
    for position in range(len(trust)):
        hub = first[trust[position]]
        while hub >= 0:
            count += 1
            hub = following[hub]
    which, hubs = np.empty(count, np.int64), np.empty(count, np.int64)
    count = 0
    for position in range(len(trust)):
        hub = first[trust[position]]
        while hub >= 0:
            which[count], hubs[count] = position, hub
            count += 1
            hub = following[hub]
    return which, hubs
