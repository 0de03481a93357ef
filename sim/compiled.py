"""Compiled kernels: loops numba compiles, used only where a place is big enough to repay it.

A few steps of a term walk arrays element by element, with a branch per element that only
some elements take (a binomial draw walked up its distribution, a mover placed in a post).
numpy does such a step as a series of calls on shrinking arrays, each with its own
overhead and its own temporary arrays; numba compiles the loop to machine code that passes
over the elements once.

But importing numba takes about a quarter of a second of a process, and each kernel's
first call in a process loads it from numba's cache (or, the first time on a machine or
after its source changes, compiles it: about a second each). That is more than a place of
a few hundred schools gains over a whole run. So each kernel has a numpy twin, and a place
uses the kernels only if it has at least `MIN_SCHOOLS` schools (`worth_compiling`, asked
with the place's number of schools whatever the array at hand: every step of a place goes
one way): England's 21,750 schools do, an Opportunity Area's few hundred do not. numba is
imported on the first call of the first kernel a run uses, never when `sim` is imported.

The twins give bit-identical results: a kernel uses only the arithmetic IEEE 754 rounds
exactly (+, -, *, /, comparisons, conversions), never exp, log or pow, whose last bit
numba's libm and numpy's SIMD code may round differently; such values are computed with
numpy and passed in. Tests run both twins on the same inputs and compare.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

# Places of at least this many schools use the compiled kernels. numba's start-up (a
# quarter of a second, plus loading each kernel) is repaid by a run of England (21,750
# schools) within its spin-up; a tenth of England would not repay it (judgement from
# timing both). The bound is where places began to load numba when the decision was made
# array by array (16,384 elements, a (stage, school) array of 3,277 schools): no place
# loads numba that did not, and the places that do now use every kernel. (Array by array,
# half of England ran its school-sized steps with numpy, at 14 ms a term against 6.5 ms
# compiled: slower than England at 10 ms. benchmarks/RESULTS.md, 2026-12-01.)
MIN_SCHOOLS = 3_277


def worth_compiling(schools: int) -> bool:
    """Whether a place of `schools` schools should use the compiled kernels."""
    return schools >= MIN_SCHOOLS


def kernel(function: Callable[..., Any]) -> Callable[..., Any]:
    """Compile `function` with numba on its first call (and cache the machine code on
    disk, next to the source), so that importing a module that defines kernels costs
    nothing until one is used. The plain Python function stays at `.python`."""
    compiled: Callable[..., Any] | None = None

    @functools.wraps(function)
    def call(*arguments: Any) -> Any:
        nonlocal compiled
        if compiled is None:
            import numba  # a quarter of a second: only once a kernel is first needed

            compiled = numba.njit(cache=True, nogil=True)(function)
        return compiled(*arguments)

    call.python = function  # type: ignore[attr-defined]
    return call
