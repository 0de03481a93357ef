"""`python -m sim.compare`: its numbers against a hand computation, and its errors."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from sim.compare import main
from sim.config import to_dict
from sim.outputs import write_run
from sim.run import simulate
from tests.conftest import make_config


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    for number, (policy, seed) in enumerate([(p, s) for p in ("status_quo", "mat_contracting")
                                             for s in (0, 1, 2)]):
        config = make_config(f"policy={policy}", f"seed={seed}", "horizon_years=2")
        write_run(folder / str(number), to_dict(config), simulate(config))
    return folder


def test_compare_pairs_runs_by_seed_and_writes_table_and_figures(tiny_sweep, capsys):
    assert main([str(tiny_sweep)]) == 0
    runs = pd.read_parquet(tiny_sweep / "runs.parquet")
    assert len(runs) == 6 and set(runs["policy"]) == {"status_quo", "mat_contracting"}
    differences = pd.read_csv(tiny_sweep / "differences.csv")
    summaries = {(s["policy"], s["seed"]): s for s in
                 (json.loads(p.read_text()) for p in tiny_sweep.glob("*/summary.json"))}
    by_hand = [summaries[("mat_contracting", seed)]["orphan_terms"]
               - summaries[("status_quo", seed)]["orphan_terms"] for seed in (0, 1, 2)]
    row = differences[differences["measure"] == "orphan_terms"].iloc[0]
    assert row["pairs"] == 3
    assert row["mean_difference"] == pytest.approx(sum(by_hand) / 3)
    assert row["sd_across_seeds"] == pytest.approx(pd.Series(by_hand).std(ddof=1))
    assert row["ci90_low"] <= row["mean_difference"] <= row["ci90_high"]
    for figure in ("comparison.png", "differences.png"):
        assert (tiny_sweep / figure).stat().st_size > 10_000
    assert "6 runs compared" in capsys.readouterr().out


@pytest.mark.parametrize(("arguments", "message"), [
    (["/no/such/folder"], "does not exist"),
    (["--baseline", "nothing"], "baseline 'nothing' is not among"),
    (["--group", "colour"], "cannot group by 'colour'"),
])
def test_compare_errors_are_one_clean_line(tiny_sweep, tmp_path, capsys, arguments, message):
    if arguments[0].startswith("--"):
        arguments = [str(tiny_sweep), *arguments, "--output", str(tmp_path)]
    assert main(arguments) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("sim.compare: error: ") and message in error and "\n" not in error


def test_a_sweep_over_seeds_alone_is_compared_without_differences(tiny_sweep, tmp_path, capsys):
    seeds_only = tmp_path / "seeds"
    seeds_only.mkdir()
    for run in tiny_sweep.iterdir():
        if run.is_dir() and json.loads((run / "summary.json").read_text())["policy"] == "status_quo":
            shutil.copytree(run, seeds_only / run.name)
    assert main([str(seeds_only), "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "comparison.png").stat().st_size > 10_000
    assert "no differences to draw" in capsys.readouterr().err


def test_a_folder_with_no_runs_is_an_error(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    assert "holds no complete runs" in capsys.readouterr().err
