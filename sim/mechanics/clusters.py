"""Peer clusters: nearby schools cut into groups of a few, as the population builders form
Teaching School Alliances and the like (seed 003) and universal partnership forms its
clusters."""

from __future__ import annotations

import numpy as np

from sim.state import SchoolArrays


def form_clusters(
    rows: np.ndarray, schools: SchoolArrays, cluster_size: list[int], rng: np.random.Generator,
) -> list[np.ndarray]:
    """Cut schools into clusters of `cluster_size` (low, high) nearby schools.

    The schools are ordered along a space-filling (Morton) curve within their local
    authority, so that consecutive schools are near each other, then cut in order. Fewer
    schools than the smallest cluster form none.
    """
    low, high = cluster_size
    if len(rows) < low:
        return []
    order = np.lexsort((_morton_code(schools.x_km[rows], schools.y_km[rows]),
                        schools.local_authority[rows]))
    rows = rows[order]
    clusters = []
    start = 0
    while len(rows) - start >= low:
        size = int(rng.integers(low, high + 1))
        if len(rows) - start - size < low:
            size = len(rows) - start if len(rows) - start <= high else size
        clusters.append(rows[start:start + size])
        start += size
    return clusters


def _morton_code(x_km: np.ndarray, y_km: np.ndarray, cell_km: float = 1.0) -> np.ndarray:
    """Interleave the bits of grid coordinates, so nearby points get nearby codes."""
    ix = (x_km / cell_km).astype(np.uint64)
    iy = (y_km / cell_km).astype(np.uint64)
    code = np.zeros_like(ix)
    for bit in range(16):
        code |= ((ix >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit)
        code |= ((iy >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + 1)
    return code
