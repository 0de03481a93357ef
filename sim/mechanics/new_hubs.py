"""MATs opening hubs as they grow (seed 000: trusts grow by geographical hubs).

A MAT of `new_hub_min_schools` or more that takes a school further than
`NEW_HUB_DISTANCE_SHARE` of its hub radius from every hub it has opens a hub there. The
schools joining in one batch are taken in turn, so a hub opened for one covers the next
ones near it (`open_hubs`).

Most of the work is pairing each joining school with the hubs its trust had before the
batch, to see whether one is near. For England that is one compiled pass over the hubs
(`_own_hub_offsets`), which also takes each hub's offset from the school; its numpy twin,
for smaller places, groups the hubs by trust (`pairs_within_groups`). Both give the same
pairs and offsets in the same order (a test checks); the distances are numpy's hypot
either way, outside the kernel.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.mechanics.proximity import pairs_within_groups

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel
    from sim.state import Hubs

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
    which, dx, dy, reach = own_hub_offsets(hubs, school, trust, x, y, far_from,
                                           len(model.trusts.active),
                                           compiled.worth_compiling(model.schools.n))
    covered = np.zeros(len(school), bool)
    covered[which[np.hypot(dx, dy) <= reach]] = True
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


def own_hub_offsets(hubs: Hubs, school: np.ndarray, trust: np.ndarray, x: np.ndarray,
                    y: np.ndarray, far_from: np.ndarray, n_trusts: int,
                    use_kernel: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (joining school's position, hub of its trust) pair, by position, then hub
    (with the kernel if `use_kernel`): the position, the hub's offset from the school
    (hub minus school, in km, east and north) and the position's `far_from`."""
    if use_kernel:
        return _own_hub_offsets(hubs.trust, hubs.x_km, hubs.y_km, school, trust, x, y,
                                far_from, n_trusts)
    involved = np.zeros(n_trusts, bool)
    involved[trust] = True
    own_hubs = np.flatnonzero(involved[hubs.trust])
    which, hub = pairs_within_groups(np.arange(len(trust)), trust, own_hubs,
                                     hubs.trust[own_hubs])
    member = school[which]
    return which, hubs.x_km[hub] - x[member], hubs.y_km[hub] - y[member], far_from[which]


@compiled.kernel
def _own_hub_offsets(hub_trust: np.ndarray, hub_x: np.ndarray, hub_y: np.ndarray,
                     school: np.ndarray, trust: np.ndarray, x: np.ndarray, y: np.ndarray,
                     far_from: np.ndarray, n_trusts: int,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`own_hub_offsets` in two passes over the joins, after one over the hubs that chains
    each trust's hubs in order (its first hub, and each hub's next). The offsets are
    differences, which IEEE 754 rounds exactly, so they equal the twin's."""
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
    which, dx, dy, reach = (np.empty(count, np.int64), np.empty(count), np.empty(count),
                            np.empty(count))
    count = 0
    for position in range(len(trust)):
        hub = first[trust[position]]
        member = school[position]
        while hub >= 0:
            which[count] = position
            dx[count], dy[count] = hub_x[hub] - x[member], hub_y[hub] - y[member]
            reach[count] = far_from[position]
            count += 1
            hub = following[hub]
    return which, dx, dy, reach
