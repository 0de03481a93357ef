"""GIAS loading: a national extract of about 50,000 rows, open and closed.

    python benchmarks/gias_load.py            # 11 repetitions after a warm-up
    python benchmarks/gias_load.py --smoke    # 2,000 rows, once

No real extract ships with the project, so the script first writes one: 50,000 invented
establishments in exact GIAS format (the full 140-column header, Windows-1252), with the
mix of a real file: about 45% closed, independent schools and colleges, nurseries, 150
local authorities, 2,500 academy trusts, and gaps (no rating, blank FSM, no location).
Then it times:
- reading: `sim.population.gias.read_extract`, from bytes on disk to the 16 columns;
- loading: `build_gias_population` for the whole file (every area), from bytes on disk to
  a built population of about 22,000 schools: reading, filtering, imputation, the latent
  draws, trusts and hubs.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Measure, arguments, parse, report

ROWS = 50_000


def write_national_extract(path: Path, rows: int, seed: int = 0) -> None:
    """An invented national extract of `rows` establishments in exact GIAS format."""
    import numpy as np
    import pandas as pd

    from tests.data.make_gias_fixture import HEADER

    rng = np.random.default_rng(seed)
    n_areas, n_trusts = 150, 2_500
    kinds = np.array([  # type, group, phase, weight
        ("Community school", "Local authority maintained schools", "Primary", 30),
        ("Voluntary aided school", "Local authority maintained schools", "Primary", 8),
        ("Community school", "Local authority maintained schools", "Secondary", 4),
        ("Academy converter", "Academies", "Primary", 15),
        ("Academy converter", "Academies", "Secondary", 5),
        ("Academy sponsor led", "Academies", "Secondary", 3),
        ("Free schools", "Free Schools", "All-through", 1),
        ("Community special school", "Special schools", "Not applicable", 2),
        ("Academy special converter", "Academies", "Not applicable", 1),
        ("Pupil referral unit", "Local authority maintained schools", "Not applicable", 1),
        ("Local authority nursery school", "Local authority maintained schools", "Nursery", 1),
        ("Other independent school", "Independent schools", "Not applicable", 8),
        ("Further education", "Colleges", "16 plus", 1),
    ], dtype=object)
    weights = kinds[:, 3].astype(float)
    kind = rng.choice(len(kinds), size=rows, p=weights / weights.sum())
    area = rng.integers(0, n_areas, rows)
    centre_x, centre_y = rng.uniform(150_000, 650_000, n_areas), rng.uniform(50_000, 650_000, n_areas)
    academy = np.isin(kinds[kind, 1], ["Academies", "Free Schools"])
    trust = np.where(academy, rng.zipf(1.6, rows) % n_trusts, -1)
    grades = np.array(["Outstanding", "Good", "Requires improvement", "Inadequate", ""])
    frame = pd.DataFrame({column: "" for column in HEADER}, index=range(rows))
    frame["URN"] = (100_000 + np.arange(rows)).astype(str)
    frame["LA (code)"] = (800 + area).astype(str)
    frame["LA (name)"] = [f"Authority {a:03d}" for a in area]
    frame["DistrictAdministrative (name)"] = [f"District {a:03d}-{d}" for a, d in
                                              zip(area, rng.integers(0, 3, rows), strict=True)]
    frame["EstablishmentName"] = [f"École Saint-Éloi’s School {i}" for i in range(rows)]
    frame["TypeOfEstablishment (name)"] = kinds[kind, 0]
    frame["EstablishmentTypeGroup (name)"] = kinds[kind, 1]
    frame["PhaseOfEducation (name)"] = kinds[kind, 2]
    frame["EstablishmentStatus (name)"] = np.where(rng.random(rows) < 0.45, "Closed", "Open")
    frame["Easting"] = np.where(rng.random(rows) < 0.01, "",
                                (centre_x[area] + rng.normal(0, 8_000, rows)).astype(int).astype(str))
    frame["Northing"] = (centre_y[area] + rng.normal(0, 8_000, rows)).astype(int).astype(str)
    frame["Trusts (code)"] = np.where(trust >= 0, (10_000 + trust).astype(str), "")
    frame["Trusts (name)"] = np.where(trust >= 0, [f"Trust {t}" for t in trust], "")
    frame["NumberOfPupils"] = rng.integers(40, 1_500, rows).astype(str)
    frame["PercentageFSM"] = np.where(rng.random(rows) < 0.03, "",
                                      np.round(rng.uniform(2, 60, rows), 1).astype(str))
    frame["OfstedRating (name)"] = grades[rng.choice(5, size=rows, p=[0.18, 0.62, 0.1, 0.04, 0.06])]
    frame["OfstedLastInsp"] = [f"{d:02d}-{m:02d}-{y}" for d, m, y in zip(
        rng.integers(1, 29, rows), rng.integers(1, 13, rows), rng.integers(2010, 2024, rows),
        strict=True)]
    written = [column for column in HEADER if frame[column].ne("").any()] + [
        "Trusts (code)", "Trusts (name)", "OfstedRating (name)", "Easting", "PercentageFSM"]
    # The columns the model does not read fill a real file too (about 1.2 kB a row): give
    # each a value, cycling through a hundred, so that reading skips realistic bulk.
    for column in set(HEADER) - set(written):
        frame[column] = np.resize(np.array([f"{column.split(' ')[0][:9]} {i}"
                                            for i in range(100)], dtype=object), rows)
    frame.to_csv(path, index=False, encoding="cp1252", lineterminator="\r\n")


def measure(smoke: bool, repetitions: int, warm_up: int) -> list[Measure]:
    import numpy as np

    from sim.config import configure
    from sim.population.gias import build_gias_population, read_extract

    rows = 2_000 if smoke else ROWS
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "edubasealldata20250101.csv"
        write_national_extract(path, rows)
        megabytes = path.stat().st_size / 2**20
        parameters = configure(["scenario=national", "population=gias",
                                f"population.path={path}"])
        reads, loads, schools = [], [], 0
        for repetition in range(warm_up + repetitions):
            started = time.perf_counter()
            read_extract(path)
            read = time.perf_counter() - started
            started = time.perf_counter()
            population = build_gias_population(parameters.scenario, parameters.population,
                                               parameters.model, np.random.default_rng(0))
            load = time.perf_counter() - started
            schools = population.schools.n
            if repetition >= warm_up:
                reads.append(read)
                loads.append(load)
                print(f"  repetition {repetition - warm_up + 1}: read {read:.2f} s, "
                      f"load {load:.2f} s", flush=True)
    detail = f"{rows:,} rows ({megabytes:.0f} MB, open and closed) to {schools:,} schools"
    return [Measure.of("GIAS: read the extract", reads, "s", None, detail),
            Measure.of("GIAS: load the whole extract", loads, "s", ("<=", 5.0),
                       f"{detail}: read, filter, impute, draw, trusts and hubs")]


def main() -> None:
    options = parse(arguments(__doc__.splitlines()[0]))
    report("GIAS loading", measure(options.smoke, options.repetitions, options.warm_up), options)


if __name__ == "__main__":
    main()
