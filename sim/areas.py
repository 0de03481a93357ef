"""Measures by area of a place of many local authorities: `areas.parquet`.

Made at output time from the yearly school panel (`schools.parquet`, end of each year), so
the model does no extra work each term and the table agrees with the panel row for row:
an area's counts are sums over its schools, and the sums over areas are the place's.

One row per area and year, `level` saying which kind of area: `local_authority`, and
`region`. A GIAS run's extract names each school's region (`GOR (name)`; an authority
takes the region most of its schools give, `sim.population.gias_report`). The synthetic
population has local authorities but no regions of its own, so a synthetic place of at
least `COMPASS_MIN_AUTHORITIES` authorities (England) is split into nine compass regions,
as England has nine regions: its authorities, by the centre of their schools, into three
bands from north to south of about a third of the schools each, and each band into three
from west to east (`compass_regions`). They are named by compass point with "(synthetic)"
(`north-west (synthetic)`): they show how outcomes vary across the place, and are not
England's regions (a judgement; a GIAS run of England gives the real ones). Written only
for a place of more than one local authority: for one, the table would repeat the time
series.

Columns after the run's identifiers: `level`, `area`, `year`, `n_schools`,
`n_good_or_better` and `share_good_or_better` (latest grade good or outstanding),
`n_orphans` (maintained schools awaiting a sponsor at the year's end; unlike the time
series' `n_orphans`, this counts a school a MAT supports under contract too: the panel does
not record contracts), `n_academies`, `teachers` (at the year's end), `teacher_leavers`
(over the year, out of state schools) and `teacher_leaving_rate` (leavers over the
teachers at the year's start, which the panel's flows give exactly: the end's teachers
less those who arrived, plus those who left or moved out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

GOOD = 2  # sim.state.Grade.GOOD: grades 1 (outstanding) and 2 are good or better
LEVELS = ("local_authority", "region")
NO_REGION = "(no region)"  # an authority none of whose schools names its region
COUNTS = ["schools", "good_or_better", "orphans", "academies", "teachers", "leavers",
          "teachers_at_start"]


COMPASS_MIN_AUTHORITIES = 9
COMPASS_BANDS = (("north-west", "north", "north-east"), ("west", "centre", "east"),
                 ("south-west", "south", "south-east"))


def _thirds(weights: pd.Series) -> pd.Series:
    """0, 1 or 2 for each row of `weights` (in order): the third of their cumulative sum
    in which the row's middle falls."""
    total = float(weights.sum())
    middle = weights.cumsum() - weights / 2
    return (middle * 3 // total).clip(0, 2).astype(int) if total > 0 else weights * 0


def compass_regions(schools: pd.DataFrame) -> dict[str, str]:
    """Nine compass regions of a synthetic place's authorities (see the module docstring):
    authority -> region, from the first year of the panel; {} under COMPASS_MIN_AUTHORITIES
    authorities or without locations."""
    if not {"x_km", "y_km"} <= set(schools.columns):
        return {}
    first = schools[schools["year"] == schools["year"].min()]
    centres = (first.assign(area=first["local_authority"].astype(str))
               .groupby("area", sort=True)
               .agg(x=("x_km", "mean"), y=("y_km", "mean"), schools=("x_km", "size")))
    if len(centres) < COMPASS_MIN_AUTHORITIES:
        return {}
    # North first (largest y), ties by name, so the split is the same on any machine.
    centres = centres.reset_index().sort_values(["y", "area"], ascending=[False, True],
                                                kind="stable")
    centres["band"] = _thirds(centres["schools"]).to_numpy()
    regions: dict[str, str] = {}
    for band, members in centres.groupby("band", sort=True):
        members = members.sort_values(["x", "area"], kind="stable")
        for (_, row), column in zip(members.iterrows(), _thirds(members["schools"]),
                                    strict=True):
            regions[str(row["area"])] = f"{COMPASS_BANDS[band][column]} (synthetic)"
    return regions


def area_frame(schools: pd.DataFrame,
               regions: dict[str, str] | None = None) -> pd.DataFrame | None:
    """The measures of each local authority in each year of the panel and, given each
    authority's region (a GIAS run's), of each region; None for a place of one authority."""
    import numpy as np
    import pandas as pd

    authorities = schools["local_authority"].astype(str)
    if authorities.nunique() < 2:
        return None
    teachers_at_start = (schools["teachers"] - schools["movers_in"] - schools["new_entrants"]
                         + schools["leavers"] + schools["movers_out"])
    frame = pd.DataFrame({
        "year": schools["year"].to_numpy(),
        "area": authorities.to_numpy(),
        "schools": 1,
        "good_or_better": (schools["grade"] <= GOOD).to_numpy(np.int64),
        "orphans": (schools["awaiting_sponsor"]
                    & (schools["governance"] == "maintained")).to_numpy(np.int64),
        "academies": (schools["governance"] != "maintained").to_numpy(np.int64),
        "teachers": schools["teachers"].to_numpy(np.int64),
        "leavers": schools["leavers"].to_numpy(np.int64),
        "teachers_at_start": teachers_at_start.to_numpy(np.int64),
    })
    levels = [frame.groupby(["year", "area"], sort=True)[COUNTS].sum().reset_index()
              .assign(level=LEVELS[0])]
    if regions:
        by_region = frame.assign(area=frame["area"].map(regions).fillna(NO_REGION))
        levels.append(by_region.groupby(["year", "area"], sort=True)[COUNTS].sum()
                      .reset_index().assign(level=LEVELS[1]))
    sums = pd.concat(levels, ignore_index=True)
    sums = sums.sort_values(["year", "level", "area"], kind="stable",
                            key=lambda column: column.map(LEVELS.index)
                            if column.name == "level" else column).reset_index(drop=True)
    start = sums["teachers_at_start"].to_numpy(dtype=np.float64)
    leaving = np.divide(sums["leavers"].to_numpy(dtype=np.float64), start,
                        out=np.zeros(len(sums)), where=start > 0)  # no teachers: 0, as the series
    return pd.DataFrame({
        "level": pd.Categorical(sums["level"], categories=list(LEVELS)),
        "area": pd.Categorical(sums["area"], categories=sorted(sums["area"].unique())),
        "year": sums["year"].astype(np.int32),
        "n_schools": sums["schools"].astype(np.int64),
        "n_good_or_better": sums["good_or_better"],
        "share_good_or_better": sums["good_or_better"] / sums["schools"],
        "n_orphans": sums["orphans"],
        "n_academies": sums["academies"],
        "teachers": sums["teachers"],
        "teacher_leavers": sums["leavers"],
        "teacher_leaving_rate": leaving,
    })
