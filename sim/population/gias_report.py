"""What the GIAS loader kept, dropped and imputed: counted as it builds a place, logged,
and written into the run's summary.json (`population`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("sim")

# What may be imputed, in the order the report lists it.
IMPUTED = ("name", "location", "pupils", "fsm_share", "ofsted_rating", "inspection_date",
           "academy_trust")


@dataclass
class Report:
    """What the loader kept, dropped and imputed; logged and written to summary.json."""

    source: str
    rows_read: int
    areas: list[str]
    rows_in_areas: int = 0
    schools: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    imputed: dict[str, dict[str, int]] = field(default_factory=dict)
    # Each local authority's region (GIAS's `GOR (name)`), for areas.parquet; empty when
    # the file has no regions.
    regions: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        report: dict[str, object] = {
            "builder": "gias", "source": self.source, "rows_read": self.rows_read,
            "areas": self.areas, "rows_in_areas": self.rows_in_areas, "schools": self.schools,
            "dropped": self.dropped, "imputed": self.imputed}
        if self.regions:
            report["regions"] = self.regions
        return report


def log_report(report: Report) -> None:
    """One line in the run's log: rows read, schools used, what was dropped and imputed."""
    dropped = ", ".join(f"{why} {count}" for why, count in report.dropped.items()) or "none"
    imputed = ", ".join(
        f"{what} {sum(reasons.values())} ({', '.join(f'{why} {n}' for why, n in reasons.items())})"
        for what, reasons in report.imputed.items()) or "nothing"
    where = ", ".join(report.areas) if report.areas else "all areas"
    log.info("GIAS %s: %d rows, %d in %s, %d schools used; dropped: %s; imputed: %s",
             report.source, report.rows_read, report.rows_in_areas, where, report.schools,
             dropped, imputed)


def regions_of(kept: pd.DataFrame) -> dict[str, str]:
    """Each local authority's region: the one most of its schools give (alphabetically
    first of a tie), blanks aside; none when the file gives no region at all."""
    named = kept.loc[kept["region"] != "", ["local_authority", "region"]]
    if named.empty:
        return {}
    counts = named.value_counts().reset_index(name="schools")
    counts = counts.sort_values(["local_authority", "schools", "region"],
                                ascending=[True, False, True], kind="stable")
    first = counts.drop_duplicates("local_authority")
    return dict(zip(first["local_authority"], first["region"], strict=True))
