"""Choose the areas of a GIAS extract to simulate: local authorities, districts or
Opportunity Areas, named in any case and spacing.

Each name must match a local authority (`LA (name)`) or district
(`DistrictAdministrative (name)`) of the file and hold at least one school the model can
use; otherwise the run stops with one line: near names are suggested, an Opportunity Area
says which authorities or districts it stands for, and an area with no usable school
counts why its rows were dropped. A name given twice is taken once; a blank name is
refused.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

import numpy as np
import yaml

from sim import CONFIG_DIR
from sim.errors import ConfigError

if TYPE_CHECKING:  # only named in annotations: the config is read without pandas
    import pandas as pd

OPPORTUNITY_AREAS_FILE = CONFIG_DIR / "opportunity_areas.yaml"


def opportunity_areas() -> dict[str, list[str]]:
    """Each Opportunity Area's local authority or district names (configs/opportunity_areas.yaml)."""
    return yaml.safe_load(OPPORTUNITY_AREAS_FILE.read_text())["opportunity_areas"]


def resolve_areas(areas: list[str]) -> list[str]:
    """Area names with each Opportunity Area replaced by its local authorities or districts."""
    by_name = {folded(name): members for name, members in opportunity_areas().items()}
    resolved: list[str] = []
    for area in areas:
        resolved.extend(by_name.get(folded(area), [" ".join(str(area).split())]))
    return resolved


def folded(name: object) -> str:
    """A name as compared: runs of white space as one space, case folded."""
    return " ".join(str(name).split()).casefold()


def unique_areas(areas: list[str]) -> list[str]:
    """The area names, each once (whatever its case and spacing); a blank name is refused."""
    unique: dict[str, str] = {}
    for area in areas:
        if not folded(area):
            raise ConfigError("population.areas: an area name is blank; name local authorities, "
                              "districts or Opportunity Areas, or give [] for every school "
                              "in the file")
        unique.setdefault(folded(area), " ".join(str(area).split()))
    return list(unique.values())


def select_areas(rows: pd.DataFrame, areas: list[str], path: str) -> np.ndarray:
    """Which rows lie in `areas` (all rows if none); each area must hold a usable school."""
    if not areas:
        return np.ones(len(rows), bool)
    local_authority = rows["local_authority"].str.casefold()
    district = rows["district"].str.casefold()
    chosen = np.zeros(len(rows), bool)
    groups = opportunity_areas()
    for area in areas:
        names = [folded(name) for name in resolve_areas([area])]
        matches = (local_authority.isin(names) | district.isin(names)).to_numpy()
        if not matches.any():
            raise ConfigError(_no_match(rows, area, groups, path))
        usable = matches & (rows["drop"] == "").to_numpy()
        if not usable.any():
            dropped = rows["drop"][matches].value_counts().sort_index()
            raise ConfigError(
                f"population.areas: '{area}' has {matches.sum()} establishments in '{path}' but "
                f"no open state-funded school the model covers "
                f"({', '.join(f'{why} {count}' for why, count in dropped.items())})")
        chosen |= matches
    return chosen


def _no_match(rows: pd.DataFrame, area: str, groups: dict[str, list[str]], path: str) -> str:
    """The line for an area that matches no row: near names, or what the area stands for."""
    known = sorted((set(rows["local_authority"]) | set(rows["district"]) | set(groups)) - {""})
    near = [name for name in difflib.get_close_matches(area, known, n=4, cutoff=0.6)
            if folded(name) != folded(area)]
    if not near:  # case-insensitive near matches
        by_folded = {folded(name): name for name in known}
        near = [by_folded[name] for name in difflib.get_close_matches(
            folded(area), list(by_folded), n=4, cutoff=0.6) if name != folded(area)]
    group = {folded(name): members for name, members in groups.items()}.get(folded(area))
    if group:
        members = ", ".join(group)
        return (f"population.areas: '{area}' is an Opportunity Area ({members}), and "
                f"'{path}' has no local authority or district of "
                f"{'that name' if ',' not in members else 'those names'}")
    hint = (f"; did you mean {' or '.join(repr(name) for name in near[:3])}?" if near else
            "; areas are local authority (LA (name)) or district "
            "(DistrictAdministrative (name)) names, or Opportunity Areas")
    return (f"population.areas: '{area}' matches no local authority or district in "
            f"'{path}'{hint}")
