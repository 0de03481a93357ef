"""The golden baseline: what a few small, fast runs produce, kept so that a change which
should alter no result can be shown to alter none.

Each case is a run of `python -m sim` with its overrides, as a user would start it. For
each, the baseline keeps the run's `summary.json` in full, the SHA-256 of the bytes of
every file the run writes (but `run.log`, whose lines carry the time of day), and for each
parquet table a digest of its content alone (column names, types and values), so that a
failure says whether the numbers moved or only the bytes a library writes around them.

`tests/test_baseline.py` compares fresh runs with `tests/baseline/baseline.json`. When a
change is meant to alter results, update the baseline on purpose and say why in the
commit message:

    scripts/update-baseline        # rewrites tests/baseline/baseline.json

Figures are off in these runs: a PNG's bytes depend on the font renderer as well as on the
model, and the tables they are drawn from are covered.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

REPOSITORY = Path(__file__).resolve().parents[2]
BASELINE = Path(__file__).with_name("baseline.json")
# Relative to the repository, so that config.yaml is the same on every checkout.
GIAS_FIXTURE = "tests/data/gias_fixture.csv"
NOT_DIGESTED = {"run.log"}

OPPORTUNITY_AREA = ("scenario=opportunity_area", "seed=3")
CASES: dict[str, tuple[str, ...]] = {
    **{f"opportunity_area_{policy}": (*OPPORTUNITY_AREA, f"policy={policy}")
       for policy in ("status_quo", "universal_partnership", "mat_contracting",
                      "local_governance", "combined")},
    "national_small": ("scenario=national", "scenario.scale=0.05", "horizon_years=3", "seed=1"),
    "gias_place": ("population=gias", f"population.path={GIAS_FIXTURE}", "seed=2"),
}
QUIET = ("output.plots=false", "output.progress=false")


def content_digest(table: pd.DataFrame) -> str:
    """SHA-256 of a table's column names, types and values, whatever the file's bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(name), str(kind)] for name, kind in table.dtypes.items()])
                  .encode())
    digest.update(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def describe(folder: Path) -> dict[str, object]:
    """The summary and the digests of a finished run's folder."""
    files: dict[str, dict[str, str]] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name in NOT_DIGESTED:
            continue
        entry = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        if path.suffix == ".parquet":
            entry["content"] = content_digest(pd.read_parquet(path))
        files[name] = entry
    summary = json.loads((folder / "summary.json").read_text())
    return {"summary": summary, "files": files}


def run_case(name: str, folder: Path) -> dict[str, object]:
    """Run one case into `folder` (which must not exist yet) and describe what it wrote."""
    command = [sys.executable, "-m", "sim", *CASES[name], *QUIET, f"hydra.run.dir={folder}"]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    finished = subprocess.run(command, cwd=REPOSITORY, env=environment, text=True,
                              capture_output=True, timeout=600)
    if finished.returncode != 0:
        raise RuntimeError(f"case {name} failed: {finished.stderr.strip()}")
    return {"overrides": list(CASES[name]), **describe(folder)}


def main() -> None:
    """Run every case and rewrite the baseline file."""
    cases = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name in CASES:
            print(f"running {name}", flush=True)
            cases[name] = run_case(name, Path(scratch) / name)
    text = json.dumps(cases, indent=1, sort_keys=True) + "\n"
    temporary = BASELINE.with_suffix(".json.partial")
    temporary.write_text(text)
    temporary.replace(BASELINE)
    print(f"wrote {BASELINE.relative_to(REPOSITORY)}: {len(cases)} runs")


if __name__ == "__main__":
    main()
