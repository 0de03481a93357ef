"""Patterns: published figures a measure of the model is compared with, and their loader.

A pattern names a measure of one run (`sim.scorecard.measures.MEASURES`), the band
[low, high] the published figure allows, and where it was published. The validation
patterns (figures the model was never fitted to) are read from
`sim/validation_patterns.yaml`, whose schema is:

    patterns:
      - name: good_or_better_stays_good_or_better   # unique; the scorecard's row
        measure: good_or_better_stays_good_or_better  # a key of MEASURES
        band: [0.80, 0.90]     # [low, high], low <= high; or null until it is set
        source: Ofsted ...     # where the figure was published; required with a band
        confidence: high       # optional: high, medium or low, how sure the band is
        note: ...              # optional: what exactly is compared

A pattern whose band is null is shown with its value and "no band yet", and is neither
in nor out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sim.errors import UserError
from sim.scorecard.measures import MEASURES

PATTERNS_FILE = "validation_patterns.yaml"
KEYS = {"name", "measure", "band", "source", "confidence", "note"}


@dataclass(frozen=True)
class Pattern:
    """A published figure, as a band, compared with one measure of each run."""

    name: str
    measure: str  # a key of MEASURES
    low: float | None  # None until the band is set
    high: float | None
    source: str | None
    optional: bool = False  # left out of the scorecard when undefined in every run

    @property
    def has_band(self) -> bool:
        return self.low is not None and self.high is not None


def band_of(value: Any, where: str) -> tuple[float | None, float | None]:
    """A band [low, high] of finite numbers with low <= high, or null; else a UserError."""
    if value is None:
        return None, None
    if not isinstance(value, list) or len(value) != 2 \
            or not all(isinstance(end, int | float) and not isinstance(end, bool)
                       and math.isfinite(end) for end in value):
        raise UserError(f"{where}: band must be [low, high], two finite numbers, or null "
                        f"(it is {value!r})")
    low, high = float(value[0]), float(value[1])
    if low > high:
        raise UserError(f"{where}: band [{value[0]}, {value[1]}] has low above high: write "
                        f"[low, high]")
    return low, high


def load_patterns(path: Path | None = None) -> list[Pattern]:
    """The validation patterns, from the package's file or from `path`; a file that breaks
    the schema is refused in one line naming the entry and what to fix."""
    where = str(path) if path is not None else f"sim/{PATTERNS_FILE}"
    try:
        text = (Path(path).read_text(encoding="utf-8") if path is not None
                else resources.files("sim").joinpath(PATTERNS_FILE).read_text(encoding="utf-8"))
        raw = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise UserError(f"cannot read {where}: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("patterns"), list):
        raise UserError(f"{where}: expected a list under 'patterns' (see the schema at the "
                        f"top of sim/scorecard/patterns.py)")
    patterns: list[Pattern] = []
    for number, entry in enumerate(raw["patterns"], start=1):
        patterns.append(_pattern(entry, f"{where}: pattern {number}"))
    names = [pattern.name for pattern in patterns]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise UserError(f"{where}: the name {repeated[0]} is used twice: give each pattern "
                        f"its own name")
    return patterns


def _pattern(entry: Any, where: str) -> Pattern:
    if not isinstance(entry, dict):
        raise UserError(f"{where}: expected name, measure, band and source (it is {entry!r})")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r}: the keys are "
                        f"{', '.join(sorted(KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{where}: give it a name")
    where = f"{where} ({name})"
    measure = entry.get("measure")
    if measure not in MEASURES:
        raise UserError(f"{where}: unknown measure {measure!r}: choose one of "
                        f"{', '.join(MEASURES)} (or add it to sim/scorecard/measures.py)")
    low, high = band_of(entry.get("band"), where)
    source = entry.get("source")
    if source is not None and not isinstance(source, str):
        raise UserError(f"{where}: source must be text (it is {source!r})")
    if low is not None and not (source or "").strip():
        raise UserError(f"{where}: a band needs its source: say where the figure was published")
    return Pattern(name, measure, low, high, source)
