"""`python -m sim.compare`: its numbers against a hand computation, a sweep's plan, and every
bad input a hostile tester tried. Each bad input ends in exactly one `sim: error:` line and
writes nothing, or in the documented warnings and a comparison of the rest; never a
traceback."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from sim.compare.command import main
from sim.config import to_dict
from sim.errors import run_command
from sim.folders import RUNNING_LOCK, run_name, sweep_running
from sim.outputs import write_run
from sim.run import simulate
from tests.conftest import REPOSITORY, environment, make_config


def make_runs(folder: Path, horizon_years: int, seeds: tuple[int, ...]) -> dict[tuple[str, int], Path]:
    """Tiny runs of two policies, in folders named as a sweep names them."""
    runs = {}
    for policy in ("status_quo", "mat_contracting"):
        for seed in seeds:
            config = make_config(f"policy={policy}", f"seed={seed}",
                                 f"horizon_years={horizon_years}", "scenario.scale=0.2")
            run = folder / run_name(to_dict(config))
            write_run(run, to_dict(config), simulate(config))
            runs[policy, seed] = run
    return runs


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory) -> Path:
    """Six runs, two policies x three seeds, two years each (never written into)."""
    folder = tmp_path_factory.mktemp("sweep") / "sweep"
    make_runs(folder, horizon_years=2, seeds=(0, 1, 2))
    return folder


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory) -> Path:
    """Two runs of one year, for comparisons of mixed horizons."""
    folder = tmp_path_factory.mktemp("short") / "short"
    make_runs(folder, horizon_years=1, seeds=(0,))
    return folder


def run(sweep: Path, policy: str, seed: int) -> Path:
    return next(sweep.glob(f"{policy}_seed{seed}_*"))


def compare(arguments: list[str], capsys) -> tuple[int, str, str]:
    """Run the command as `python -m sim.compare` does, in this process: status, out, err."""
    with pytest.raises(SystemExit) as stopped:
        run_command(lambda: main(arguments))
    out, err = capsys.readouterr()
    return stopped.value.code, out, err


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder`, with a hash of each file's content."""
    return {str(path.relative_to(folder)): (hashlib.sha256(path.read_bytes()).hexdigest()
                                            if path.is_file() else "folder")
            for path in sorted(folder.rglob("*"))}


def edit_json(path: Path, **values) -> None:
    summary = json.loads(path.read_text())
    summary.update(values)
    path.write_text(json.dumps(summary))


def edit_yaml(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_compare_pairs_runs_by_seed_and_writes_table_and_figures(tiny_sweep, tmp_path, capsys):
    output = tmp_path / "out"
    status, out, err = compare([str(tiny_sweep), "--output", str(output)], capsys)
    assert status == 0 and err == ""
    runs = pd.read_parquet(output / "runs.parquet")
    assert len(runs) == 6 and list(runs["policy"]) == ["mat_contracting"] * 3 + ["status_quo"] * 3
    differences = pd.read_csv(output / "differences.csv")
    summaries = {(s["policy"], s["seed"]): s for s in
                 (json.loads(p.read_text()) for p in tiny_sweep.glob("*/summary.json"))}
    by_hand = [summaries[("mat_contracting", seed)]["orphan_terms"]
               - summaries[("status_quo", seed)]["orphan_terms"] for seed in (0, 1, 2)]
    row = differences[differences["measure"] == "orphan_terms"].iloc[0]
    assert row["pairs"] == 3 and row["pairs_left_out"] == 0
    assert row["mean_difference"] == pytest.approx(sum(by_hand) / 3)
    assert row["sd_across_seeds"] == pytest.approx(pd.Series(by_hand).std(ddof=1), nan_ok=True)
    assert row["ci90_low"] <= row["mean_difference"] <= row["ci90_high"]
    # Real runs record spending, grades gained and schools moved to good: each effect of
    # the one policy gets a verdict over the three pairs, and the curve sums to 1.
    economics = pd.read_csv(output / "cost_effectiveness.csv")
    assert list(economics["effect"]) == ["grades_gained", "schools_moved_to_good"]
    assert (economics["pairs"] == 3).all() and economics["verdict"].notna().all()
    curve = pd.read_csv(output / "acceptability.csv")
    assert set(curve["policy"]) == {"status_quo", "mat_contracting"}
    assert curve.groupby("willingness_to_pay_gbp_per_school_moved_to_good")[
        "probability_highest_net_benefit"].sum().round(9).eq(1).all()
    for figure in ("comparison", "differences", "outcomes", "cost_effectiveness",
                   "acceptability"):
        assert (output / f"{figure}.png").stat().st_size > 10_000
        assert (output / f"{figure}.svg").read_text().startswith("<?xml")
    assert pd.read_csv(output / "missing.csv").empty
    assert "6 runs compared" in out
    assert not list(output.glob(".*")), "no temporary file is left"


def test_the_default_output_is_the_sweep_folder(tiny_sweep, tmp_path, capsys):
    sweep = tmp_path / "sweep"
    shutil.copytree(tiny_sweep, sweep)
    status, _, _ = compare([str(sweep)], capsys)
    assert status == 0 and (sweep / "runs.csv").exists()
    manifest = json.loads((sweep / "comparison.json").read_text())
    assert manifest["written_by"] == "sim.compare" and manifest["complete"] is True
    assert manifest["paths"] == [str(sweep)] and manifest["group"] == "policy"
    assert sorted(manifest["files"]) == sorted(
        path.name for path in sweep.iterdir() if path.is_file() and path.name != "comparison.json")


def test_a_comparison_replaces_only_what_an_earlier_comparison_wrote(tiny_sweep, tmp_path, capsys):
    """A heat map an earlier comparison wrote (its manifest lists it) goes when this one
    draws none; a user's file of another name stays; a manifest naming files elsewhere is
    not obeyed."""
    sweep = tmp_path / "sweep"
    shutil.copytree(tiny_sweep, sweep)
    assert compare([str(sweep)], capsys)[0] == 0
    manifest = json.loads((sweep / "comparison.json").read_text())
    manifest["files"] += ["heat_map.png", "../notes.txt", "plan.csv"]
    (sweep / "comparison.json").write_text(json.dumps(manifest))
    (sweep / "heat_map.png").write_bytes(b"from an earlier comparison")
    (sweep / "plan.csv").write_text("run,overrides\n")  # listed, but not a comparison's name
    (tmp_path / "notes.txt").write_text("mine")
    (sweep / "results.md").write_text("mine too")
    status, _, err = compare([str(sweep)], capsys)
    assert status == 0, err
    assert not (sweep / "heat_map.png").exists(), "a stale figure of an earlier comparison goes"
    assert (tmp_path / "notes.txt").read_text() == "mine" and (sweep / "plan.csv").exists()
    assert (sweep / "results.md").read_text() == "mine too"
    assert "heat_map.png" not in json.loads((sweep / "comparison.json").read_text())["files"]


def test_a_folder_an_earlier_comparison_wrote_can_be_written_again(tiny_sweep, tmp_path, capsys):
    output = tmp_path / "out"
    assert compare([str(tiny_sweep), "--output", str(output)], capsys)[0] == 0
    (output / "runs.csv").write_text("stale")
    status, _, err = compare([str(tiny_sweep), "--output", str(output)], capsys)
    assert status == 0 and err == ""
    assert len(pd.read_csv(output / "runs.csv")) == 6


def test_a_hidden_folder_of_a_killed_comparison_is_removed(tiny_sweep, tmp_path, capsys):
    """SIGKILL leaves the hidden folder; the next comparison into the folder removes it
    (its process is gone) and does not count it as a user's file."""
    output = tmp_path / "out"
    left = output / f".compare-{socket.gethostname()}-4999999.partial"  # beyond any pid
    left.mkdir(parents=True)
    (left / "runs.csv").write_text("half")
    status, _, err = compare([str(tiny_sweep), "--output", str(output)], capsys)
    assert status == 0, err
    assert not left.exists() and (output / "comparison.json").exists()


@pytest.fixture
def planned_sweep(tiny_sweep, tmp_path) -> Path:
    """A sweep as the sweeper leaves it: a plan of 7 runs, of which 4 are complete (one of
    them retried after a failure), one failed, one never ran and one was killed."""
    sweep = tmp_path / "planned"
    sweep.mkdir()
    rows = []
    for policy, seeds in (("status_quo", (0, 1, 2, 3)), ("mat_contracting", (0, 1, 2))):
        for seed in seeds:
            existing = next(tiny_sweep.glob(f"{policy}_seed{seed}_*"), None)
            name = existing.name if existing else f"{policy}_seed{seed}_0123456789ab"
            rows.append({"run": name, "overrides": f"policy={policy} seed={seed}",
                         "policy": policy, "seed": str(seed)})
            if (policy, seed) in {("status_quo", 0), ("status_quo", 1), ("mat_contracting", 0),
                                  ("mat_contracting", 2)}:
                shutil.copytree(existing, sweep / name)
    rows.append(rows[0])  # two sweeps into one folder merge their plans
    pd.DataFrame(rows).to_csv(sweep / "plan.csv", index=False)
    (sweep / ".failed").mkdir()
    for policy, seed, error in (("mat_contracting", 1, "ValueError: no trust can take it"),
                                ("mat_contracting", 0, "MemoryError: retried since")):
        name = next(r["run"] for r in rows if r["policy"] == policy and r["seed"] == str(seed))
        (sweep / ".failed" / f"{name}.txt").write_text(
            f"overrides: policy={policy} seed={seed}\nerror: {error}\n\nTraceback ...\n")
    killed = next(r["run"] for r in rows if r["policy"] == "status_quo" and r["seed"] == "3")
    (sweep / f".{killed}.node-7.cluster-4242.staging").mkdir()
    return sweep


def test_a_plan_names_each_run_that_is_not_complete(planned_sweep, tmp_path, capsys):
    output = tmp_path / "out"
    status, _, err = compare([str(planned_sweep), "--output", str(output)], capsys)
    assert status == 0, err
    warnings = err.strip().splitlines()
    assert sorted(warnings) == sorted([
        "sim: warning: missing: policy=mat_contracting seed=1 (failed: ValueError: no trust can "
        "take it)",
        "sim: warning: missing: policy=status_quo seed=2 (not run or killed)",
        "sim: warning: missing: policy=status_quo seed=3 (killed or still running)",
        # One pair is no distribution to resample (sim.compare.cost_effectiveness).
        "sim: note: no acceptability curve: fewer than two pairs of runs (by seed) have "
        "spending and schools moved to good in every policy"])
    missing = pd.read_csv(output / "missing.csv")
    assert set(missing["missing_run"]) == {"policy=mat_contracting seed=1",
                                           "policy=status_quo seed=2", "policy=status_quo seed=3"}
    assert "retried" not in missing.to_string(), "a failure since retried is not reported"
    differences = pd.read_csv(output / "differences.csv")
    assert set(differences["pairs"]) == {1}  # seed 0 is the only seed both policies have


def test_a_sweep_still_running_is_said_and_its_runs_to_come_are_not_yet_run(
        planned_sweep, tmp_path, capsys):
    import fcntl

    with open(planned_sweep / RUNNING_LOCK, "a") as lock:  # as the sweep's process holds it
        fcntl.flock(lock, fcntl.LOCK_SH)
        status, _, err = compare([str(planned_sweep), "--output", str(tmp_path / "out")],
                                 capsys)
    assert status == 0, err
    assert f"sim: warning: the sweep in {planned_sweep} is still running" in err
    assert "sim: warning: missing: policy=status_quo seed=2 (not yet run (the sweep is still " \
           "running))" in err
    assert "policy=status_quo seed=3 (running)" in err
    assert "not run or killed" not in err


def test_a_sweep_holds_its_running_lock_while_it_runs(tmp_path):
    sweep = tmp_path / "sweep"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "-m", "seed=0,1", "horizon_years=3", "output.plots=false",
         f"hydra.sweep.dir={sweep}"], cwd=tmp_path, env=environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (sweep / "plan.csv").exists() and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sweep_running(sweep)
    finally:
        assert process.wait(timeout=300) == 0
    assert not sweep_running(sweep)


def test_a_planned_run_that_cannot_be_read_is_named_by_its_plan(planned_sweep, tmp_path, capsys):
    broken = run(planned_sweep, "status_quo", 1) / "timeseries.parquet"
    broken.write_bytes(broken.read_bytes()[:300])
    status, _, err = compare([str(planned_sweep), "--output", str(tmp_path / "out")], capsys)
    assert status == 0
    assert f"sim: warning: skipped {broken.parent}: timeseries.parquet cannot be read" in err
    missing = pd.read_csv(tmp_path / "out" / "missing.csv").set_index("missing_run")
    assert missing.loc["policy=status_quo seed=1", "reason"].startswith("unreadable: ")


def test_a_sweep_over_seeds_alone_is_compared_without_differences(tiny_sweep, tmp_path, capsys):
    seeds_only = tmp_path / "seeds"
    for seed in (0, 1, 2):
        shutil.copytree(run(tiny_sweep, "status_quo", seed), seeds_only / f"run{seed}")
    status, _, err = compare([str(seeds_only), "--output", str(tmp_path / "out")], capsys)
    assert status == 0
    assert (tmp_path / "out" / "comparison.png").stat().st_size > 10_000
    assert "no differences to draw" in err
    assert pd.read_csv(tmp_path / "out" / "differences.csv").empty


# --- Bad input, table-driven --------------------------------------------------------------

@dataclass
class Case:
    """A bad input: how to make it, and how the command must answer.

    `make(work, sweep)` edits a copy of the tiny sweep at `sweep` (in the folder `work`) and
    returns the arguments. An error (`error` set) is one `sim: error:` line containing it,
    exit status 2 unless said, and no file written; otherwise exit status 0, and each of
    `warnings` appears in standard error, every line of which is a warning or a note.
    """

    make: Callable[[Path, Path], list[str]]
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    check: Callable[[Path], None] | None = None  # of the output folder, after success
    status: int | None = None


def output_args(work: Path) -> list[str]:
    return ["--output", str(work / "out")]


def the_sweep(*extra: str) -> Callable[[Path, Path], list[str]]:
    return lambda work, sweep: [str(sweep), *extra, *output_args(work)]


def breaking(file: str, content: bytes | None, policy: str = "mat_contracting",
             seed: int = 1) -> Callable[[Path, Path], list[str]]:
    """One run's file replaced by `content` (or deleted, for None)."""
    def make(work: Path, sweep: Path) -> list[str]:
        path = run(sweep, policy, seed) / file
        if content is None:
            path.unlink()
        else:
            path.write_bytes(content)
        return [str(sweep), *output_args(work)]
    return make


def truncating_parquet(work: Path, sweep: Path) -> list[str]:
    path = run(sweep, "mat_contracting", 1) / "timeseries.parquet"
    path.write_bytes(path.read_bytes()[:500])
    return [str(sweep), *output_args(work)]


def pairs_of(measure: str, pairs: int, left_out: int = 0) -> Callable[[Path], None]:
    def check(output: Path) -> None:
        differences = pd.read_csv(output / "differences.csv").set_index("measure")
        assert differences.loc[measure, "pairs"] == pairs
        assert differences.loc[measure, "pairs_left_out"] == left_out
    return check


def skipped_is_listed(output: Path) -> None:
    missing = pd.read_csv(output / "missing.csv")
    assert missing["reason"].str.startswith("unreadable: ").sum() == 1
    pairs_of("orphan_terms", 2)(output)


def nan_in_summary(work: Path, sweep: Path) -> list[str]:
    path = run(sweep, "mat_contracting", 1) / "summary.json"
    text = path.read_text()
    summary = json.loads(text)
    path.write_text(text.replace(f'"grades_gained": {summary["grades_gained"]}',
                                 '"grades_gained": NaN'))
    return [str(sweep), *output_args(work)]


def null_in_summary(work: Path, sweep: Path) -> list[str]:
    edit_json(run(sweep, "mat_contracting", 1) / "summary.json", grades_gained=None)
    return [str(sweep), *output_args(work)]


def every_summary_empty(work: Path, sweep: Path) -> list[str]:
    for path in sweep.glob("*/summary.json"):
        path.write_text("")
    return [str(sweep), *output_args(work)]


def with_short_runs(*extra: str) -> Callable[[Path, Path], list[str]]:
    """The sweep and two runs of one year (the `work` fixture puts them in work/short)."""
    return lambda work, sweep: [str(sweep), str(work / "short"), *extra, *output_args(work)]


def another_scenario(*extra: str) -> Callable[[Path, Path], list[str]]:
    def make(work: Path, sweep: Path) -> list[str]:
        for seed in (0, 1, 2):
            for policy in ("status_quo", "mat_contracting"):
                copy = work / "national" / f"{policy}_{seed}"
                shutil.copytree(run(sweep, policy, seed), copy)
                edit_json(copy / "summary.json", scenario="national")
                edit_yaml(copy / "config.yaml", "name: opportunity_area", "name: national")
        return [str(sweep), str(work / "national"), *extra, *output_args(work)]
    return make


def threshold_sweep(*extra: str) -> Callable[[Path, Path], list[str]]:
    """Status-quo runs copied with the giver:taker threshold at 3.0, 9 and 10.0."""
    def make(work: Path, sweep: Path) -> list[str]:
        for threshold in ("3.0", "9", "10.0"):
            for seed in (0, 1, 2):
                copy = work / "thresholds" / f"t{threshold}_{seed}"
                shutil.copytree(run(sweep, "status_quo", seed), copy)
                edit_yaml(copy / "config.yaml", "giver_taker_threshold: 3.0",
                          f"giver_taker_threshold: {threshold}")
        return [str(work / "thresholds"), "--group", "model.trusts.giver_taker_threshold",
                *extra, *output_args(work)]
    return make


def numeric_order(output: Path) -> None:
    differences = pd.read_csv(output / "differences.csv", dtype=str)
    assert differences["model.trusts.giver_taker_threshold"].unique().tolist() == ["9", "10"]
    assert set(differences["baseline"]) == {"3"}
    runs = pd.read_csv(output / "runs.csv")
    assert runs["model.trusts.giver_taker_threshold"].tolist() == [3] * 3 + [9] * 3 + [10] * 3


def contract_lengths(work: Path, sweep: Path) -> list[str]:
    """MAT-contracting runs with the contract length stored as 2, '4' (text) and 6.0."""
    for stored in ("2", "'4'", "6.0"):
        for seed in (0, 1, 2):
            copy = work / "lengths" / f"length{stored.strip(chr(39))}_{seed}"
            shutil.copytree(run(sweep, "mat_contracting", seed), copy)
            edit_yaml(copy / "config.yaml", "contract_length_years: 2",
                      f"contract_length_years: {stored}")
    return [str(work / "lengths"), "--group", "policy.mat_contracting.contract_length_years",
            "--baseline", "2.0", *output_args(work)]


def lengths_as_numbers(output: Path) -> None:
    differences = pd.read_csv(output / "differences.csv", dtype=str)
    assert differences["policy.mat_contracting.contract_length_years"].unique().tolist() == ["4", "6"]
    assert set(differences["baseline"]) == {"2"} and set(differences["pairs"]) == {"3"}


def end_years(work: Path, sweep: Path) -> list[str]:
    """Status-quo runs with policy.end_year null (as run) and copies with 2020."""
    for seed in (0, 1, 2):
        original = run(sweep, "status_quo", seed)
        shutil.copytree(original, work / "ends" / f"open_{seed}")
        shutil.copytree(original, work / "ends" / f"2020_{seed}")
        edit_yaml(work / "ends" / f"2020_{seed}" / "config.yaml", "end_year: null", "end_year: 2020")
    return [str(work / "ends"), "--group", "policy.end_year", "--baseline", "none",
            *output_args(work)]


def null_is_a_value(output: Path) -> None:
    differences = pd.read_csv(output / "differences.csv", dtype=str, keep_default_na=False)
    assert set(differences["policy.end_year"]) == {"2020"} and set(differences["baseline"]) == {"null"}
    assert set(differences["pairs"]) == {"3"}


def horizons_compared(output: Path) -> None:
    differences = pd.read_csv(output / "differences.csv")
    assert set(differences["horizon_years"]) == {2} and set(differences["baseline"]) == {1}


def policies_renamed(work: Path, sweep: Path) -> list[str]:
    for path in sweep.glob("status_quo_*/summary.json"):
        edit_json(path, policy="local_governance")
    return [str(sweep), *output_args(work)]


def only_status_quo_has_it(work: Path, sweep: Path) -> list[str]:
    return [str(sweep), "--group", "policy.mat_contracting.contract_length_years",
            *output_args(work)]


def a_copied_run(work: Path, sweep: Path) -> list[str]:
    shutil.copytree(run(sweep, "status_quo", 0), sweep / "zz_copy_of_status_quo_seed0")
    return [str(sweep), *output_args(work)]


def a_run_and_its_sweep(work: Path, sweep: Path) -> list[str]:
    return [str(run(sweep, "status_quo", 0)), str(sweep), *output_args(work)]


def twice(work: Path, sweep: Path) -> list[str]:
    return [str(sweep), str(sweep) + "/", *output_args(work)]


def staging_left(work: Path, sweep: Path) -> list[str]:
    shutil.copytree(run(sweep, "status_quo", 0),
                    sweep / ".status_quo_seed7_0123456789ab.host-99.staging")
    return [str(sweep), *output_args(work)]


def legacy_sweep_only_killed(work: Path, sweep: Path) -> list[str]:
    killed = work / "killed"
    shutil.copytree(run(sweep, "status_quo", 0), killed / ".incomplete" / "0")
    return [str(killed), *output_args(work)]


def an_unpaired_run(work: Path, sweep: Path) -> list[str]:
    shutil.rmtree(run(sweep, "mat_contracting", 2))
    return [str(sweep), *output_args(work)]


def links(work: Path, sweep: Path) -> list[str]:
    """A run kept elsewhere and linked into the sweep, and a link back up the tree (which
    would reach the short runs, of another horizon, if it were followed)."""
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    moved = run(sweep, "mat_contracting", 2)
    moved.rename(elsewhere / moved.name)
    (sweep / moved.name).symlink_to(elsewhere / moved.name)
    (sweep / "up").symlink_to(work)
    return [str(sweep), *output_args(work)]


def a_shorter_series(work: Path, sweep: Path) -> list[str]:
    path = run(sweep, "mat_contracting", 1) / "timeseries.parquet"
    pd.read_parquet(path).head(3).to_parquet(path)
    return [str(sweep), *output_args(work)]


def a_garbled_plan(work: Path, sweep: Path) -> list[str]:
    (sweep / "plan.csv").write_text("this,is\nnot,a plan\n")
    shutil.rmtree(run(sweep, "mat_contracting", 2))
    return [str(sweep), *output_args(work)]


def output_in_a_run(work: Path, sweep: Path) -> list[str]:
    return [str(sweep), "--output", str(run(sweep, "status_quo", 0) / "comparison")]


def output_is_a_file(work: Path, sweep: Path) -> list[str]:
    (work / "notes.txt").write_text("mine")
    return [str(sweep), "--output", str(work / "notes.txt")]


def output_under_a_file(work: Path, sweep: Path) -> list[str]:
    (work / "notes.txt").write_text("mine")
    return [str(sweep), "--output", str(work / "notes.txt" / "comparison")]


def a_users_folder(work: Path, sweep: Path) -> list[str]:
    """A folder of the user's holding files named as a comparison names its own."""
    mine = work / "mine"
    mine.mkdir()
    for name in ("heat_map.png", "runs.csv", "missing.csv"):
        (mine / name).write_text("mine")
    return [str(sweep), "--output", str(mine)]


def users_file_in_the_sweep(name: str, output: bool = False) -> Callable[[Path, Path], list[str]]:
    """The sweep folder, the default output, holding a file of the user's named `name`."""
    def make(work: Path, sweep: Path) -> list[str]:
        (sweep / name).write_text("mine")
        return [str(sweep), *(["--output", str(sweep)] if output else [])]
    return make


def a_file_no_manifest_lists(work: Path, sweep: Path) -> list[str]:
    """A folder an earlier comparison wrote, into which the user put a missing.csv of theirs
    after removing the comparison's (the manifest no longer lists it)."""
    output = work / "out"
    output.mkdir()
    (output / "comparison.json").write_text(json.dumps(
        {"written_by": "sim.compare", "files": ["runs.csv", "runs.parquet"]}))
    (output / "runs.csv").write_text("an earlier comparison")
    (output / "missing.csv").write_text("mine")
    return [str(sweep), *output_args(work)]


def an_earlier_comparison_and_the_users_notes(work: Path, sweep: Path) -> list[str]:
    output = work / "out"
    output.mkdir()
    (output / "comparison.json").write_text(json.dumps(
        {"written_by": "sim.compare", "files": ["runs.csv", "heat_map.png", "../notes.txt"]}))
    (output / "runs.csv").write_text("an earlier comparison")
    (output / "heat_map.png").write_text("an earlier comparison")
    (output / "notes.md").write_text("mine")
    (work / "notes.txt").write_text("mine")
    return [str(sweep), *output_args(work)]


def only_the_new_comparison_and_the_users_notes(output: Path) -> None:
    assert not (output / "heat_map.png").exists(), "the earlier comparison's heat map goes"
    assert (output / "notes.md").read_text() == "mine"
    assert (output.parent / "notes.txt").read_text() == "mine", "a manifest naming '..' is not obeyed"
    assert len(pd.read_csv(output / "runs.csv")) == 6


def absurd_values(measure: str, value: str) -> Callable[[Path, Path], list[str]]:
    """`measure` set to `value` (JSON text) in mat_contracting seed 1, and to minus it in
    its partner: a difference of 1e308 and -1e308 overflows to infinity."""
    def make(work: Path, sweep: Path) -> list[str]:
        for policy, sign in (("mat_contracting", ""), ("status_quo", "-")):
            path = run(sweep, policy, 1) / "summary.json"
            summary = json.loads(path.read_text())
            path.write_text(path.read_text().replace(f'"{measure}": {json.dumps(summary[measure])}',
                                                     f'"{measure}": {sign}{value}'))
        return [str(sweep), *output_args(work)]
    return make


def no_infinite_cell(path: Path) -> None:
    """No cell of the CSV file reads as infinite or as a written NaN (empty is undefined)."""
    cells = pd.read_csv(path, dtype=str, keep_default_na=False).to_numpy().ravel()
    assert not {cell.strip().lower() for cell in cells} & {"inf", "-inf", "+inf", "nan",
                                                           "infinity", "-infinity"}, path


def no_number_is_infinite(output: Path) -> None:
    for name in ("runs.csv", "differences.csv", "missing.csv"):
        no_infinite_cell(output / name)
    pairs_of("good_or_better_change", 2)(output)
    missing = pd.read_csv(output / "missing.csv")
    assert missing["reason"].str.contains("damaged").sum() == 2


def an_infinite_series(work: Path, sweep: Path) -> list[str]:
    path = run(sweep, "mat_contracting", 1) / "timeseries.parquet"
    series = pd.read_parquet(path).astype({"n_orphans": float})
    series.loc[2, "n_orphans"] = float("inf")
    series.to_parquet(path)
    return [str(sweep), *output_args(work)]


def an_infinite_other_value(work: Path, sweep: Path) -> list[str]:
    """A summary value that is not a headline measure, too large for a float."""
    path = run(sweep, "mat_contracting", 1) / "summary.json"
    summary = json.loads(path.read_text())
    path.write_text(path.read_text().replace(
        f'"vacancy_rate_mean": {json.dumps(summary["vacancy_rate_mean"])}',
        '"vacancy_rate_mean": 1e400'))
    return [str(sweep), *output_args(work)]


def written_as_undefined(output: Path) -> None:
    no_infinite_cell(output / "runs.csv")
    assert pd.read_csv(output / "runs.csv")["vacancy_rate_mean"].isna().sum() == 1
    assert pd.read_parquet(output / "runs.parquet")["vacancy_rate_mean"].isna().sum() == 1


def a_file(work: Path, sweep: Path) -> list[str]:
    return [str(run(sweep, "status_quo", 0) / "summary.json")]


def an_empty_folder(work: Path, sweep: Path) -> list[str]:
    (work / "empty").mkdir()
    return [str(work / "empty"), *output_args(work)]


def a_folder_of_other_things(work: Path, sweep: Path) -> list[str]:
    (work / "other" / "data").mkdir(parents=True)
    (work / "other" / "data" / "table.csv").write_text("a,b\n1,2\n")
    return [str(work / "other"), *output_args(work)]


def a_missing_folder(work: Path, sweep: Path) -> list[str]:
    return [str(work / "no_such_sweep"), *output_args(work)]


CASES = {
    # Paths
    "a path that does not exist": Case(a_missing_folder, error="does not exist"),
    "a path that is a file": Case(a_file, error="is a file, not a folder"),
    "an empty folder": Case(an_empty_folder, error="holds no runs"),
    "a folder of other things": Case(a_folder_of_other_things, error="holds no runs"),
    "a sweep whose only run was killed": Case(
        legacy_sweep_only_killed, error="no usable run to compare: no run is complete",
        warnings=["killed or still running"]),
    "paths given twice": Case(twice, warnings=["given twice"]),
    "a run folder given with its own sweep": Case(
        a_run_and_its_sweep, warnings=["is inside", "each run is read once"],
        check=lambda output: len(pd.read_csv(output / "runs.csv")) == 6),
    # Broken run folders: skipped and named, the rest compared
    "a truncated timeseries.parquet": Case(
        truncating_parquet, warnings=["timeseries.parquet cannot be read"],
        check=skipped_is_listed),
    "a 0-byte summary.json": Case(breaking("summary.json", b""),
                                  warnings=["summary.json is empty"], check=skipped_is_listed),
    "a truncated summary.json": Case(breaking("summary.json", b'{"scenario": "opport'),
                                     warnings=["summary.json is not valid JSON"],
                                     check=skipped_is_listed),
    "a summary.json that is a list": Case(breaking("summary.json", b"[1, 2]"),
                                          warnings=["summary.json holds no JSON object"]),
    "a measure that is text": Case(breaking("summary.json", b'{"seed": 1, "orphan_terms": "many"}'),
                                   warnings=['orphan_terms="many", not a number']),
    "a broken config.yaml": Case(breaking("config.yaml", b"scenario: [opportunity_area\n"),
                                 warnings=["config.yaml is not valid YAML"],
                                 check=skipped_is_listed),
    "an empty config.yaml": Case(breaking("config.yaml", b""), warnings=["config.yaml is empty"]),
    "no config.yaml": Case(breaking("config.yaml", None), warnings=["has no config.yaml"]),
    "no timeseries.parquet": Case(breaking("timeseries.parquet", None),
                                  warnings=["has no timeseries.parquet"]),
    "every summary.json empty": Case(every_summary_empty, error="no usable run to compare",
                                     warnings=["summary.json is empty"]),
    # Undefined values
    "null in summary.json": Case(null_in_summary, warnings=["grades_gained is undefined (null)"],
                                 check=pairs_of("grades_gained", 2, left_out=1)),
    "bare NaN in summary.json": Case(nan_in_summary, warnings=["bare NaN", "grades_gained is undefined"],
                                     check=pairs_of("grades_gained", 2, left_out=1)),
    "a difference of 1e308 and -1e308": Case(
        absurd_values("good_or_better_change", "1e308"),
        warnings=["good_or_better_change=1e+308, beyond any value a run produces",
                  "good_or_better_change=-1e+308, beyond"], check=no_number_is_infinite),
    "a value too large for a float (1e400)": Case(
        absurd_values("good_or_better_change", "1e400"),
        warnings=["good_or_better_change=Infinity, beyond"], check=no_number_is_infinite),
    "an infinite value in a time series": Case(
        an_infinite_series, warnings=["timeseries.parquet has n_orphans=inf, beyond"],
        check=skipped_is_listed),
    "an infinite value that is not a measure": Case(an_infinite_other_value,
                                                    check=written_as_undefined),
    # What is compared with what
    "mixed horizons": Case(with_short_runs(),
                           error="different horizons (1 year: 2 runs, 2 years: 6 runs)"),
    "horizons compared on purpose": Case(with_short_runs("--group", "horizon_years"),
                                         check=horizons_compared,
                                         warnings=["missing: horizon_years=1 seed=1"]),
    "two scenarios": Case(another_scenario(), error="the runs are of 2 scenarios"),
    "scenarios compared on purpose": Case(another_scenario("--group", "scenario",
                                                           "--baseline", "national"),
                                          check=pairs_of("orphan_terms", 6)),
    "the same run twice in different folders": Case(a_copied_run, warnings=["compared once"],
                                                    check=pairs_of("orphan_terms", 3)),
    "a run without its partner": Case(an_unpaired_run,
                                      warnings=["missing: policy=mat_contracting seed=2"]),
    "a plan that is not a plan": Case(a_garbled_plan, warnings=["found by pairing instead",
                                                                "missing: policy=mat_contracting seed=2"]),
    "a staging folder left in the sweep": Case(
        staging_left, warnings=["missing: status_quo_seed7_0123456789ab (killed or still running)"],
        check=pairs_of("orphan_terms", 3)),
    "a linked run and a link up the tree": Case(links, check=pairs_of("orphan_terms", 3)),
    "a run with fewer terms": Case(a_shorter_series, warnings=["drawn over the 3 terms they share"]),
    # Groups and baselines
    "an unknown group": Case(the_sweep("--group", "colour"),
                             error="cannot group by 'colour': no run has it; choose scenario, policy"),
    "a misspelt group": Case(the_sweep("--group", "model.trusts.giver_taker_treshold"),
                             error="did you mean model.trusts.giver_taker_threshold?"),
    "grouping by seed": Case(the_sweep("--group", "seed"), error="runs are paired by seed"),
    "grouping by an outcome": Case(the_sweep("--group", "orphan_terms"),
                                   error="it is an outcome of the runs, not a setting"),
    "a baseline that is not a group": Case(
        the_sweep("--baseline", "nothing"),
        error="baseline 'nothing' is not among the policy values: mat_contracting, status_quo"),
    "no status quo to compare with": Case(policies_renamed, error="no status_quo runs"),
    "a group with one value": Case(the_sweep("--group", "scenario"),
                                   warnings=["no differences to draw"]),
    "a group some runs lack": Case(only_status_quo_has_it,
                                   warnings=["3 run(s) have no policy.mat_contracting",
                                             "no differences to draw"]),
    "--baseline 3 for a stored 3.0, sorted as numbers": Case(threshold_sweep("--baseline", "3"),
                                                            check=numeric_order),
    "--baseline 3.0 for a stored 3.0": Case(threshold_sweep("--baseline", "3.0"),
                                            check=numeric_order),
    "'2', 2 and 2.0 for an integer-valued parameter": Case(contract_lengths,
                                                           check=lengths_as_numbers),
    "null as a group value (--baseline none)": Case(end_years, check=null_is_a_value),
    "no --baseline for a numeric group": Case(threshold_sweep(), check=numeric_order,
                                              warnings=["the first value"]),
    # The command line and the output folder
    "no arguments": Case(lambda work, sweep: [], error="the following arguments are required"),
    "an unknown option": Case(the_sweep("--colour", "red"), error="unrecognized arguments"),
    "--group without a value": Case(lambda work, sweep: [str(sweep), "--group"],
                                    error="expected one argument"),
    "an output folder inside a run folder": Case(output_in_a_run, error="inside the run folder"),
    "an output that is a file": Case(output_is_a_file, error="is a file, not a folder"),
    "an output under a file": Case(output_under_a_file, error="notes.txt is a file"),
    "an empty --output": Case(lambda work, sweep: [str(sweep), "--output", ""],
                              error="--output '' names no folder"),
    "an --output of spaces": Case(lambda work, sweep: [str(sweep), "--output", "  "],
                                  error="--output '  ' names no folder"),
    "an empty path": Case(lambda work, sweep: ["", *output_args(work)],
                          error="the path '' names no folder"),
    "a user's folder as --output, with files of a comparison's names": Case(
        a_users_folder, error="already holds files that are not a comparison's (it has no "
                              "comparison.json), among them runs.csv, missing.csv, heat_map.png"),
    "a user's runs.csv in the sweep folder": Case(
        users_file_in_the_sweep("runs.csv"),
        error="runs.csv is there and is not from a comparison (there is no comparison.json)"),
    "a user's runs.csv in the sweep folder, given as --output": Case(
        users_file_in_the_sweep("runs.csv", output=True), error="runs.csv is there"),
    "a user's comparison.json in the sweep folder": Case(
        users_file_in_the_sweep("comparison.json"),
        error="comparison.json is there and is not a manifest sim.compare wrote"),
    "a file the earlier comparison's manifest does not list": Case(
        a_file_no_manifest_lists, error="missing.csv is there and is not one comparison.json "
                                        "lists"),
    "a folder an earlier comparison wrote, and the user's notes": Case(
        an_earlier_comparison_and_the_users_notes,
        check=only_the_new_comparison_and_the_users_notes),
}


@pytest.fixture
def work(tiny_sweep, short_runs, tmp_path) -> Path:
    """A folder with a copy of the tiny sweep (sweep/) and of the short runs (short/)."""
    shutil.copytree(tiny_sweep, tmp_path / "sweep")
    shutil.copytree(short_runs, tmp_path / "short")
    return tmp_path


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name, work, capsys, monkeypatch):
    case = CASES[name]
    monkeypatch.chdir(work)
    # Figures are built from the odd inputs (where the data handling could fail) but not
    # encoded, which takes most of a comparison's time; the tests above encode them.
    monkeypatch.setattr("sim.compare.figures.render", lambda figure: {"png": b"", "svg": b""})
    arguments = case.make(work, work / "sweep")
    before = snapshot(work)
    status, _, err = compare(arguments, capsys)
    lines = err.strip().splitlines()
    assert "Traceback" not in err and "unexpected" not in err, err
    assert all(line.startswith(("sim: warning: ", "sim: note: ", "sim: error: "))
               for line in lines), err
    for warning in case.warnings:
        assert warning in err, err
    if case.error is not None:
        errors = [line for line in lines if line.startswith("sim: error: ")]
        assert status == (case.status or 2) and len(errors) == 1 and lines[-1] == errors[0], err
        assert case.error in errors[0], err
        assert snapshot(work) == before, "an error writes nothing"
    else:
        assert status == 0, err
        assert "sim: error" not in err
        output = work / "out"
        assert (output / "runs.csv").exists() and (output / "comparison.png").exists()
        if case.check is not None:
            assert case.check(output) is not False


def test_a_read_only_output_folder_is_refused_and_nothing_is_written(work, capsys):
    output = work / "read_only"
    output.mkdir()
    output.chmod(0o555)
    made_immutable = False
    if os.geteuid() == 0:  # root writes anywhere a mode forbids; the immutable flag stops it
        made_immutable = subprocess.run(["chattr", "+i", str(output)],
                                        capture_output=True).returncode == 0
    try:
        try:
            (output / "probe").write_text("")
            (output / "probe").unlink()
            pytest.skip("cannot make a folder read-only here")
        except OSError:
            pass
        before = snapshot(work)
        status, _, err = compare([str(work / "sweep"), "--output", str(output)], capsys)
        assert status == 2 and err.count("sim: error: ") == 1 and "Traceback" not in err
        assert "cannot write into" in err and "choose another folder with --output" in err
        assert snapshot(work) == before
    finally:
        if made_immutable:
            subprocess.run(["chattr", "-i", str(output)], check=True)
        output.chmod(0o755)


def test_a_failure_while_writing_leaves_the_output_folder_as_it_was(work, capsys, monkeypatch):
    """The disk fills up after two files: none of the new files appears, the old stay."""
    import errno

    import sim.compare.output as command

    output = work / "sweep"
    (output / "runs.csv").write_text("an earlier comparison\n")
    (output / "comparison.json").write_text(json.dumps({"written_by": "sim.compare",
                                                        "files": ["runs.csv"]}))
    before = snapshot(work)
    written = []

    def filling_up(path, write):
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        written.append(path)
        command_write(path, write)

    command_write = command.write_atomically
    monkeypatch.setattr(command, "write_atomically", filling_up)
    monkeypatch.setattr("sim.compare.figures.render", lambda figure: {"png": b"", "svg": b""})
    status, _, err = compare([str(output)], capsys)
    assert status == 1 and err.startswith("sim: error: no space left on the device")
    assert snapshot(work) == before


def test_the_command_line_prints_one_line_and_no_traceback(work):
    """`python -m sim.compare` itself, for an error and for a run it must skip."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    broken = run(work / "sweep", "status_quo", 2) / "timeseries.parquet"
    broken.write_bytes(b"PAR1")
    for arguments, status, first in (([str(broken)], 2, "sim: error: "),
                                     ([str(work / "sweep"), "--output", str(work / "out")], 0,
                                      f"sim: warning: skipped {broken.parent}")):
        result = subprocess.run([sys.executable, "-m", "sim.compare", *arguments], cwd=work,
                                capture_output=True, text=True, env=environment, timeout=120)
        assert result.returncode == status, result.stderr
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith(first) and "Traceback" not in result.stderr
        assert all(line.startswith("sim: ") for line in lines)
        assert sum(line.startswith("sim: error: ") for line in lines) == (status != 0)



def test_a_difference_that_overflows_is_undefined_and_no_warning_of_numpy_shows(
        work, capsys, monkeypatch, recwarn):
    """Without the reader's limit on a run's values, a difference of 1e308 and -1e308 is
    infinite: it is left out as undefined, counted and named, and numpy says nothing."""
    monkeypatch.setattr("sim.compare.reading.LARGEST", float("inf"))
    arguments = absurd_values("good_or_better_change", "1e308")(work, work / "sweep")
    status, _, err = compare(arguments, capsys)
    assert status == 0, err
    assert err.strip().splitlines() == [
        f"sim: warning: good_or_better_change: the difference is not a finite number in 1 "
        f"pair(s) ({run(work / 'sweep', 'mat_contracting', 1)} - "
        f"{run(work / 'sweep', 'status_quo', 1)}): left out of its difference as undefined "
        f"(pairs_left_out in differences.csv)"]
    pairs_of("good_or_better_change", 2, left_out=1)(work / "out")
    no_infinite_cell(work / "out" / "differences.csv")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)], \
        [str(w.message) for w in recwarn]


def test_absurd_values_on_the_command_line_give_only_sim_lines(work):
    """As the tester ran it: standard error holds the two warnings and nothing of numpy's or
    matplotlib's, and no output holds inf."""
    arguments = absurd_values("good_or_better_change", "1e308")(work, work / "sweep")
    result = subprocess.run([sys.executable, "-m", "sim.compare", *arguments], cwd=work,
                            capture_output=True, text=True, env=environment(), timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("sim: warning: skipped ") for line in lines), \
        result.stderr
    no_number_is_infinite(work / "out")


# --- Interrupted while writing ------------------------------------------------------------

# `python -m sim.compare` with each file written slowly ("write"), or each file moved into
# place slowly ("commit"), so that a signal sent by the test arrives at that moment. SIGINT
# raises KeyboardInterrupt, as at a terminal (a process started in the background may
# inherit SIGINT ignored).
SLOW_COMPARE = """
import os, runpy, signal, sys, time
from pathlib import Path
import sim.compare.output as command

signal.signal(signal.SIGINT, signal.default_int_handler)
slow, *arguments = sys.argv[1:]
write_atomically, replace = command.write_atomically, os.replace

def slow_write(path, write):
    time.sleep(0.3)
    write_atomically(path, write)

def slow_replace(source, target):
    if Path(source).parent.name.startswith(".compare-") and Path(target).parent != Path(source).parent:
        time.sleep(0.3)
    replace(source, target)

if slow == "write":
    command.write_atomically = slow_write
else:
    os.replace = slow_replace
sys.argv = ["python -m sim.compare", *arguments]
runpy.run_module("sim.compare", run_name="__main__", alter_sys=True)
"""


def interrupt(work: Path, slow: str, arguments: list[str], ready: Callable[[], bool],
              signal_number: int) -> subprocess.CompletedProcess[str]:
    """Run the slowed comparison, send the signal once `ready()`, and wait for the end."""
    script = work / "slow_compare.py"
    script.write_text(SLOW_COMPARE)
    process = subprocess.Popen([sys.executable, str(script), slow, *arguments], cwd=work,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment())
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the comparison never began to write"
            time.sleep(0.01)
        process.send_signal(signal_number)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    script.unlink()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def staging_holds_a_file(output: Path) -> Callable[[], bool]:
    return lambda: any(any(folder.iterdir()) for folder in output.glob(".compare-*.partial"))


LINES = {signal.SIGTERM: (143, "sim: error: terminated by SIGTERM; nothing was written"),
         signal.SIGINT: (130, "sim: interrupted; nothing was written")}


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_comparison_interrupted_while_writing_leaves_nothing(work, signal_number):
    """Into a new folder: it is not left behind, nor its hidden folder of partial files."""
    output = work / "new" / "comparison"
    before = snapshot(work)
    result = interrupt(work, "write", [str(work / "sweep"), "--output", str(output)],
                       staging_holds_a_file(output), signal_number)
    status, line = LINES[signal_number]
    assert result.returncode == status and result.stderr.strip().splitlines() == [line], \
        result.stderr
    assert not (work / "new").exists()
    assert snapshot(work) == before


def test_a_comparison_interrupted_while_writing_keeps_the_earlier_one(work, capsys):
    """Into the sweep folder, over an earlier comparison: that stays exactly as it was."""
    sweep = work / "sweep"
    assert compare([str(sweep), "--group", "policy"], capsys)[0] == 0
    before = snapshot(work)
    result = interrupt(work, "write", [str(sweep)], staging_holds_a_file(sweep), signal.SIGTERM)
    assert result.returncode == 143, result.stderr
    assert snapshot(work) == before


def test_a_signal_while_the_files_are_moved_into_place_waits_for_them(work):
    """The move into place is not interrupted: every file is the new comparison's, and the
    line says so."""
    output = work / "out"
    result = interrupt(work, "commit", [str(work / "sweep"), "--output", str(output)],
                       lambda: (output / "runs.parquet").exists(), signal.SIGTERM)
    assert result.returncode == 143
    assert result.stderr.strip().splitlines() == [
        f"sim: error: terminated by SIGTERM; the comparison was written in full into {output}"]
    manifest = json.loads((output / "comparison.json").read_text())
    assert manifest["complete"] is True
    assert sorted(path.name for path in output.iterdir()) == sorted(
        [*manifest["files"], "comparison.json"])


def test_a_run_whose_summary_was_removed_is_named_damaged_not_unrun(planned_sweep, tmp_path,
                                                                      capsys):
    done = next(run for run in planned_sweep.iterdir()
                if run.name.startswith("mat_contracting_seed2"))
    (done / "summary.json").unlink()
    status, _, err = compare([str(planned_sweep), "--output", str(tmp_path / "out")], capsys)
    assert status == 0, err
    assert ("sim: warning: missing: policy=mat_contracting seed=2 (damaged: its folder has "
            "files but no summary.json)") in err.splitlines()
