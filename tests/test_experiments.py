"""Every experiment in configs/experiment/ composes and runs in a tiny mode: one seed, one year,
a small place; the sweep has the runs its parameters promise and compare reads it."""

from __future__ import annotations

import math
import re

import pytest
import yaml

from sim.compare.command import main as compare
from sim.config import compose
from tests.conftest import REPOSITORY, run_cli

FOLDER = REPOSITORY / "configs" / "experiment"
EXPERIMENTS = sorted(path.stem for path in FOLDER.glob("*.yaml"))


def sweep_size(name: str) -> int:
    """Runs the experiment's sweep makes with one seed."""
    params = yaml.safe_load((FOLDER / f"{name}.yaml").read_text())
    sweeps = params["hydra"]["sweeper"]["params"]
    return math.prod(len(str(v).split(",")) for k, v in sweeps.items() if k != "seed")


def test_there_is_an_experiment_per_research_question():
    assert set(EXPERIMENTS) >= {"policy_comparison", "capacity_ratio", "due_diligence",
                                "contract_length"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_opens_with_the_command_that_runs_it(name):
    text = (FOLDER / f"{name}.yaml").read_text()
    assert re.search(rf"#\s+python -m sim -m experiment={name}\b", text)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes(name):
    config = compose([f"experiment={name}"])
    assert config.output.plots is False


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_runs_in_tiny_mode_and_compares(name, tmp_path):
    config = compose([f"experiment={name}"])
    tiny_scale = 0.2 if config.scenario.name == "opportunity_area" else 0.02
    # The basic launcher spares starting worker processes (joblib is tested elsewhere).
    result = run_cli("-m", f"experiment={name}", "seed=0", "horizon_years=1",
                     f"scenario.scale={tiny_scale}", "output.root=out",
                     "hydra/launcher=basic", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep = tmp_path / "out" / "experiments" / name
    runs = [p for p in sweep.iterdir() if (p / "summary.json").exists()]
    assert len(runs) == sweep_size(name)
    if name not in ("policy_comparison", "due_diligence"):
        return  # compare is exercised on one policy sweep and one two-parameter sweep
    group = {"policy_comparison": "policy", "capacity_ratio": "model.trusts.giver_taker_threshold",
             "due_diligence": "model.trusts.hub_radius_km",
             "contract_length": "policy.mat_contracting.contract_length_years"}[name]
    baseline = {"policy_comparison": "status_quo", "capacity_ratio": "3",
                "due_diligence": "25", "contract_length": "2"}[name]
    assert compare([str(sweep), "--group", group, "--baseline", baseline]) == 0
    for figure in ("comparison", "differences", "outcomes", "cost_effectiveness"):
        assert (sweep / f"{figure}.png").exists() and (sweep / f"{figure}.svg").exists()
    two_parameter = name in ("capacity_ratio", "due_diligence", "contract_length")
    assert (sweep / "heat_map.png").exists() == two_parameter
