"""Schools near a point: scipy's ball query of the schools' k-d tree, or England's grid.

The founders of a new MAT look for good maintained schools within half the hub radius
(`sim.phases.structure.growth`). scipy's k-d tree answers that (`query_ball_point`), but
building one over England's schools costs some milliseconds a run, for a handful of
founders a year. For England the schools are binned once on a grid instead
(`SchoolSystemModel.school_grid`, cells at least the radius wide), and a point's
neighbours are the schools of its cell and the eight round it whose squared distance is
at most the radius squared, as the tree judges it: the same schools, in school order (a
test compares the two).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import compiled

if TYPE_CHECKING:
    from sim.model import SchoolSystemModel


def schools_within(model: SchoolSystemModel, x_km: np.ndarray, y_km: np.ndarray,
                   radius_km: float) -> list[np.ndarray]:
    """For each point, the schools within `radius_km` of it, in school order."""
    if len(x_km) == 0:
        return []
    if not compiled.worth_compiling(model.schools.n):
        found = model.school_tree.query_ball_point(np.column_stack([x_km, y_km]), radius_km,
                                                   return_sorted=True)
        return [np.asarray(schools, np.int64) for schools in found]
    grid = model.school_grid(radius_km)
    start, schools = _within_compiled(
        np.asarray(x_km, np.float64), np.asarray(y_km, np.float64), model.schools.x_km,
        model.schools.y_km, grid.origin_x, grid.origin_y, grid.cell_km, grid.columns,
        grid.rows, grid.cell_start, grid.cell_hubs, float(radius_km))
    return [schools[start[point]:start[point + 1]] for point in range(len(x_km))]


@compiled.kernel
def _within_compiled(point_x: np.ndarray, point_y: np.ndarray, x_km: np.ndarray,
                     y_km: np.ndarray, origin_x: float, origin_y: float, cell_km: float,
                     columns: int, rows: int, cell_start: np.ndarray, cell_schools: np.ndarray,
                     radius_km: float) -> tuple[np.ndarray, np.ndarray]:
    """Each point's schools within the radius (squared distance at most the radius
    squared), in school order: where each point's start, and the schools. Two passes, one
    to count and one to list."""
    radius_squared = radius_km * radius_km
    start = np.zeros(len(point_x) + 1, np.int64)
    schools = np.empty(0, np.int64)
    for listing in range(2):
        if listing:
            schools = np.empty(start[len(point_x)], np.int64)
        for point in range(len(point_x)):
            x, y = point_x[point], point_y[point]
            column = int(np.floor((x - origin_x) / cell_km))
            row = int(np.floor((y - origin_y) / cell_km))
            count = start[point]
            for near_row in range(max(row - 1, 0), min(row + 2, rows)):
                for near_column in range(max(column - 1, 0), min(column + 2, columns)):
                    cell = near_row * columns + near_column
                    for at in range(cell_start[cell], cell_start[cell + 1]):
                        school = cell_schools[at]
                        dx, dy = x - x_km[school], y - y_km[school]
                        if dx * dx + dy * dy <= radius_squared:
                            if listing:
                                schools[count] = school
                            count += 1
            if listing:
                schools[start[point]:count] = np.sort(schools[start[point]:count])
            else:
                start[point + 1] = count
    return start, schools
