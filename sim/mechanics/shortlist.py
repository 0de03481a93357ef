"""A brokering round's shortlists: each waiting school's nearest hubs within reach, and
the trusts they belong to.

The rule (ODD 7.6): a school's shortlist is every hub on the map within the search radius
whose distance is at most that of its `nearest`-th nearest hub there (all of them, if
fewer are in reach). Hubs exactly as far as the `nearest`-th all make the list, so it may
run longer than `nearest` hubs, but only on an exact tie. Which of two equally near hubs
is kept is then never decided by the order of a search (a k-d tree's, before), nor by a
row number with no meaning in the model. The trusts of those hubs are the school's
candidates, each at its nearest hub's distance, nearest first, ties by trust row; closed
trusts and the school's own are left out.

A distance is `sqrt(dx * dx + dy * dy)` in kilometres, worked out the same way by both
ways of finding the list (sqrt, +, - and * are rounded exactly by IEEE 754, so the two
agree to the bit; the rule's ties and the radius are judged on these very numbers):

- `nearest_hubs`, with numpy and scipy, for places under `sim.compiled.MIN_SCHOOLS` schools:
  the pairs within the radius from a k-d tree (asked a hair further, then judged on the
  distance above), cut per school after the `nearest`-th distance. `Broker.candidates`
  turns its hubs into trusts.
- `grid_shortlists`, compiled, for England: hubs are binned on a `HubGrid` of square cells
  at least as wide as the radius, so a school's hubs in reach lie in its cell and the eight
  round it; one pass per school keeps the nearest hubs so far (ties included), then lists
  their trusts. No tree is built, and a school costs about fifty distances.

A test runs both on real rounds and on hubs placed to tie (tests/phases/test_shortlist.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import compiled
from sim.state import TrustKind

if TYPE_CHECKING:  # scipy is loaded where a place is brokered, not with the config
    from scipy.spatial import cKDTree

_MULTI_ACADEMY_TRUST = int(TrustKind.MULTI_ACADEMY_TRUST)
# The k-d tree is asked for pairs this little beyond the radius (a relative margin), so
# that its own rounding of a distance cannot leave out a hub the rule keeps; the pairs are
# then judged on the distance as written above.
TREE_MARGIN = 1e-9


def hub_distances(school_x: np.ndarray, school_y: np.ndarray, hub_x: np.ndarray,
                  hub_y: np.ndarray) -> np.ndarray:
    """Straight-line kilometres between paired schools and hubs, as the kernel computes
    them (not np.hypot, which rounds otherwise)."""
    dx, dy = school_x - hub_x, school_y - hub_y
    return np.sqrt(dx * dx + dy * dy)


def nearest_hubs(school_x: np.ndarray, school_y: np.ndarray, hub_tree: cKDTree,
                 hub_x: np.ndarray, hub_y: np.ndarray, radius_km: float,
                 nearest: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The numpy twin: each school's shortlisted hubs (the rule above) as (school
    position, hub, distance) pairs ordered by school, then distance. `hub_tree` is a
    `scipy.spatial.cKDTree` of the hubs."""
    from scipy.spatial import cKDTree

    schools = cKDTree(np.column_stack([school_x, school_y]))
    near = schools.sparse_distance_matrix(hub_tree, radius_km * (1 + TREE_MARGIN),
                                          output_type="ndarray")
    position, hub = near["i"].astype(np.int64), near["j"].astype(np.int64)
    distance = hub_distances(school_x[position], school_y[position], hub_x[hub], hub_y[hub])
    in_reach = distance <= radius_km
    position, hub, distance = position[in_reach], hub[in_reach], distance[in_reach]
    order = np.lexsort((distance, position))
    position, hub, distance = position[order], hub[order], distance[order]
    # Each school's `nearest`-th distance (infinite if fewer hubs are in reach): the list
    # keeps every hub no further.
    start = np.searchsorted(position, np.arange(len(school_x) + 1))
    long_enough = np.flatnonzero(np.diff(start) > nearest)
    cut = np.full(len(school_x), np.inf)
    cut[long_enough] = distance[start[long_enough] + nearest - 1]
    keep = distance <= cut[position]
    return position[keep], hub[keep], distance[keep]


def hub_map(hub_trust: np.ndarray, hub_x: np.ndarray, hub_y: np.ndarray, active: np.ndarray,
            kind: np.ndarray, hub_radius_km: np.ndarray, use_kernel: bool,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """A broker's map: the hubs of active MATs (their rows among all hubs, places and
    trusts), whether each hub's trust has several on the map, and the widest hub radius of
    a trust on it (0 if none). In one compiled pass if `use_kernel` (England)."""
    if use_kernel:
        return _hub_map_compiled(hub_trust, hub_x, hub_y, active, kind, hub_radius_km)
    on_map = active[hub_trust] & (kind[hub_trust] == _MULTI_ACADEMY_TRUST)
    rows = np.flatnonzero(on_map)
    trust = hub_trust[rows].astype(np.int64)
    hubs_on_map = np.bincount(trust, minlength=len(active))
    return (rows, hub_x[rows].astype(np.float64), hub_y[rows].astype(np.float64), trust,
            hubs_on_map[trust] > 1, float(hub_radius_km[trust].max(initial=0.0)))


@compiled.kernel
def _hub_map_compiled(hub_trust: np.ndarray, hub_x: np.ndarray, hub_y: np.ndarray,
                      active: np.ndarray, kind: np.ndarray, hub_radius_km: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                 float]:
    """`hub_map` in two passes over the hubs: count each trust's hubs on the map, then
    list them."""
    hubs_on_map = np.zeros(len(active), np.int64)
    n_on_map = 0
    for hub in range(len(hub_trust)):
        trust = hub_trust[hub]
        if active[trust] and kind[trust] == _MULTI_ACADEMY_TRUST:
            hubs_on_map[trust] += 1
            n_on_map += 1
    rows, trusts = np.empty(n_on_map, np.int64), np.empty(n_on_map, np.int64)
    x, y, several = np.empty(n_on_map), np.empty(n_on_map), np.empty(n_on_map, np.bool_)
    widest = 0.0
    listed = 0
    for hub in range(len(hub_trust)):
        trust = hub_trust[hub]
        if active[trust] and kind[trust] == _MULTI_ACADEMY_TRUST:
            rows[listed], trusts[listed] = hub, trust
            x[listed], y[listed] = hub_x[hub], hub_y[hub]
            several[listed] = hubs_on_map[trust] > 1
            widest = max(widest, hub_radius_km[trust])
            listed += 1
    return rows, x, y, trusts, several, widest


@dataclass
class HubGrid:
    """The hubs of a map binned on square cells at least `radius_km` wide: the hubs of
    cell (column, row), counted from `origin`, are `cell_hubs[cell_start[c]:cell_start[c +
    1]]` with `c = row * columns + column`. Any points bin alike: England's schools are
    binned so too, for founders' neighbourhoods (`SchoolSystemModel.school_grid`)."""

    origin_x: float
    origin_y: float
    cell_km: float
    columns: int
    rows: int
    cell_start: np.ndarray  # int64, one more entry than there are cells
    cell_hubs: np.ndarray  # int64, hub rows by cell

    @classmethod
    def of(cls, hub_x: np.ndarray, hub_y: np.ndarray, radius_km: float) -> HubGrid:
        """Bin the hubs (at least one). Cells are a little wider than the radius, so a hub
        in reach is never two cells away however the division rounds. Only England's
        search uses a grid, so the binning is compiled (`_bin_hubs`)."""
        cell_km = max(radius_km, 1e-6) * (1 + 1e-6)
        origin_x, origin_y, columns, rows, cell_start, cell_hubs = _bin_hubs(hub_x, hub_y,
                                                                             cell_km)
        return cls(float(origin_x), float(origin_y), cell_km, int(columns), int(rows),
                   cell_start, cell_hubs)


@compiled.kernel
def _bin_hubs(hub_x: np.ndarray, hub_y: np.ndarray,
              cell_km: float) -> tuple[float, float, int, int, np.ndarray, np.ndarray]:
    """The grid's origin (the least coordinates), shape and hubs by cell, each cell's in
    hub order (as a stable sort on the cell gives them): a counting sort, in three passes
    over the hubs, several times faster than numpy's calls."""
    origin_x, origin_y = hub_x[0], hub_y[0]
    for hub in range(1, len(hub_x)):
        origin_x = min(origin_x, hub_x[hub])
        origin_y = min(origin_y, hub_y[hub])
    column = np.empty(len(hub_x), np.int64)
    row = np.empty(len(hub_x), np.int64)
    columns = rows = 0
    for hub in range(len(hub_x)):
        column[hub] = int(np.floor((hub_x[hub] - origin_x) / cell_km))
        row[hub] = int(np.floor((hub_y[hub] - origin_y) / cell_km))
        columns, rows = max(columns, column[hub] + 1), max(rows, row[hub] + 1)
    cell_start = np.zeros(columns * rows + 1, np.int64)
    for hub in range(len(hub_x)):
        cell_start[row[hub] * columns + column[hub] + 1] += 1
    for cell in range(columns * rows):
        cell_start[cell + 1] += cell_start[cell]
    filled = cell_start[:-1].copy()
    cell_hubs = np.empty(len(hub_x), np.int64)
    for hub in range(len(hub_x)):
        cell = row[hub] * columns + column[hub]
        cell_hubs[filled[cell]] = hub
        filled[cell] += 1
    return origin_x, origin_y, columns, rows, cell_start, cell_hubs


@compiled.kernel
def grid_shortlists(school_x: np.ndarray, school_y: np.ndarray, exclude: np.ndarray,
                    hub_x: np.ndarray, hub_y: np.ndarray, hub_trust: np.ndarray,
                    active: np.ndarray, origin_x: float, origin_y: float, cell_km: float,
                    columns: int, rows: int, cell_start: np.ndarray, cell_hubs: np.ndarray,
                    radius_km: float, squared_reach: bool, nearest: int, position: np.ndarray,
                    trust: np.ndarray, distance_km: np.ndarray, start: np.ndarray,
                    near_distance: np.ndarray, near_trust: np.ndarray) -> int:
    """Each school's candidates by the rule above, written into `position`, `trust` and
    `distance_km` and the school's `start`; returns how many pairs there are, or -1 if
    they would not fit (the caller makes room and asks again). `near_distance` and
    `near_trust` are scratch with room for every hub. With `squared_reach`, a hub is in
    reach when its squared distance is at most the radius squared, as scipy's k-d tree
    judges it (`Broker.candidates` without a shortlist), rather than by the distance."""
    radius_squared = radius_km * radius_km
    # A hub whose squared distance exceeds this is out of reach by either judgement,
    # whatever the rounding (the margin is millions of times the rounding's): its
    # distance need not be taken.
    beyond_squared = radius_squared * (1 + 1e-9)
    capacity = len(trust)
    # The last school whose list holds each trust: a trust is listed once, at its nearest hub.
    listed_for = np.full(len(active), -1, np.int64)
    count = 0
    for school in range(len(school_x)):
        start[school] = count
        x, y = school_x[school], school_y[school]
        column = int(np.floor((x - origin_x) / cell_km))
        row = int(np.floor((y - origin_y) / cell_km))
        # The nearest hubs so far, by distance then trust: every hub seen that is no
        # further than the `nearest`-th of them.
        found = 0
        for near_row in range(max(row - 1, 0), min(row + 2, rows)):
            for near_column in range(max(column - 1, 0), min(column + 2, columns)):
                cell = near_row * columns + near_column
                for at_cell in range(cell_start[cell], cell_start[cell + 1]):
                    hub = cell_hubs[at_cell]
                    dx, dy = x - hub_x[hub], y - hub_y[hub]
                    squared = dx * dx + dy * dy
                    if squared > beyond_squared:
                        continue
                    distance = np.sqrt(squared)
                    if (squared > radius_squared if squared_reach else distance > radius_km) or (
                            found >= nearest and distance > near_distance[nearest - 1]):
                        continue
                    listed = hub_trust[hub]
                    at = found
                    while at > 0 and (near_distance[at - 1] > distance or (
                            near_distance[at - 1] == distance and near_trust[at - 1] > listed)):
                        near_distance[at] = near_distance[at - 1]
                        near_trust[at] = near_trust[at - 1]
                        at -= 1
                    near_distance[at] = distance
                    near_trust[at] = listed
                    found += 1
                    # Hubs now further than the `nearest`-th drop off the end.
                    while found > nearest and near_distance[found - 1] > near_distance[nearest - 1]:
                        found -= 1
        for at in range(found):
            listed = near_trust[at]
            if not active[listed] or listed == exclude[school] or listed_for[listed] == school:
                continue
            if count == capacity:
                return -1
            listed_for[listed] = school
            position[count] = school
            trust[count] = listed
            distance_km[count] = near_distance[at]
            count += 1
    start[len(school_x)] = count
    return count
