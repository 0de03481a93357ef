"""The same tiny sweep through every launcher gives the same files, byte for byte.

sim's own launcher (the default, `hydra/launcher=local`) and Hydra's joblib launcher run on
this machine's cores; Ray starts a local Ray instance (as it would join a cluster with
`hydra.launcher.ray.init.address`); submitit's local executor runs each job as SLURM would,
in a process of its own. The Ray and submitit launchers come with the `ray` and `slurm`
extras, which `scripts/test` installs. The sweeps take about half a minute of set-up, so the
module is marked slow: CI runs it (`--slow`), a developer with `scripts/test --slow` or
`-m slow`.
"""

from __future__ import annotations

import pytest

from sim.outputs import OUTPUT_FILES
from tests.conftest import run_cli

pytestmark = pytest.mark.slow

SWEEP = ("-m", "seed=1,2", "policy=status_quo,mat_contracting", "horizon_years=1",
         "output.root=out")
LAUNCHERS = {
    "local": (),
    "joblib": ("hydra/launcher=joblib",),
    "ray": ("hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2",
            "+hydra.launcher.ray.init.include_dashboard=false"),
    "submitit_local": ("hydra/launcher=submitit_local",),
}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    folder = tmp_path_factory.mktemp("launchers")
    for name, options in LAUNCHERS.items():
        result = run_cli(*SWEEP, f"hydra.sweep.dir=out/{name}", *options, cwd=folder)
        assert result.returncode == 0, f"{name}: {result.stderr[-2000:]}"
    return folder / "out"


@pytest.mark.parametrize("launcher", ["joblib", "ray", "submitit_local"])
def test_launcher_gives_the_same_runs_as_sims_own(sweeps, launcher):
    reference = sorted(p for p in (sweeps / "local").iterdir() if (p / "summary.json").exists())
    other = sorted(p for p in (sweeps / launcher).iterdir() if (p / "summary.json").exists())
    assert len(reference) == 4
    assert [p.name for p in other] == [p.name for p in reference]
    for mine, theirs in zip(other, reference, strict=True):
        for name in OUTPUT_FILES:
            assert (mine / name).read_bytes() == (theirs / name).read_bytes(), (mine, name)
    plan = (sweeps / launcher / "plan.csv").read_bytes()
    assert plan == (sweeps / "local" / "plan.csv").read_bytes()
