"""Measures by area of a place of many local authorities: `areas.parquet`.

Made at output time from the yearly school panel (`schools.parquet`, end of each year), so
the model does no extra work each term and the table agrees with the panel row for row:
an area's counts are sums over its schools, and the sums over areas are the place's.

One row per area and year, `level` saying which kind of area: `local_authority`, and
`region` for a GIAS run, whose extract names each school's region (`GOR (name)`; an
authority takes the region most of its schools give, `sim.population.gias_report`). The
synthetic population has local authorities but no regions, so its runs have no region
rows. Written only for a place of more than one local authority: for one, the table would
repeat the time series.

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
