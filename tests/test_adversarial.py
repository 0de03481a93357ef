"""Bad input, as a hostile tester would give it: one line, an exit status, nothing touched.

Each case runs a command of the project as a user would (a subprocess, in a folder that
already holds a user's files) and checks:
- the exit status;
- standard error holds exactly one line `sim: error: ...`, with the words expected (and at
  most warnings naming what was skipped on the way);
- no traceback anywhere;
- no file or folder was created, changed or removed (the folder's tree is compared, every
  file's size, time and content, before and after).

The signals, full disks and concurrent sweeps are in tests/test_faults.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GIAS_FIXTURE, REPOSITORY, environment, snapshot


@dataclass(frozen=True)
class Case:
    name: str
    arguments: tuple[str, ...]
    words: str  # in the one error line
    status: int = 2
    module: str = "sim"
    setup: Callable[[Path], None] | None = None


def bounds_file(content: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "bounds.yaml").write_text(content)
    return write


GOOD_BOUNDS = """scenario: opportunity_area
horizon_years: 1
seed: 0
outcomes: [good_or_better_change]
parameters:
  model.trusts.hub_radius_km: [10.0, 50.0]
  model.improvement.support_effect: [0.25, 1.0]
"""


def bounds_with(parameters: str, outcomes: str = "[good_or_better_change]") -> Callable[[Path], None]:
    return bounds_file(GOOD_BOUNDS.replace("[good_or_better_change]", outcomes).split(
        "parameters:")[0] + "parameters:\n" + parameters)


CLI = [
    # Parameters that do not exist, and options that do not exist
    Case("misspelt parameter", ("model.trusts.giver_taker_treshold=4",),
         "did you mean 'model.trusts.giver_taker_threshold'"),
    Case("misspelt leaf", ("model.workforce.leavng_rate_mid_career=0.1",),
         "did you mean 'model.workforce.leaving_rate_mid_career'"),
    Case("a block set as a value", ("model.trusts=3",), "is a block of parameters"),
    Case("added unknown key", ("+foo=1",), "unknown parameter 'foo'"),
    Case("added key inside a phase", ("+model.workforce.new_rate=1",),
         "unknown parameter 'model.workforce.new_rate'"),
    Case("adding a key that exists", ("+seed=3",), "without '+'"),
    Case("unknown scenario", ("scenario=atlantis",), "choose one of national, opportunity_area"),
    Case("unknown policy", ("policy=anarchy",), "unknown policy 'anarchy'"),
    Case("unknown population", ("population=census",), "unknown population 'census'"),
    Case("unknown launcher", ("hydra/launcher=foo",), "unknown hydra/launcher 'foo'"),
    Case("unknown experiment", ("experiment=x",), "unknown experiment 'x'"),
    Case("old experiments group", ("+experiments=policy_comparison",),
         "did you mean the config group experiment"),
    Case("old experiments group without +", ("experiments=policy_comparison",),
         "did you mean"),
    Case("parameter of an option not chosen", ("population.path=x.csv",),
         "not a parameter of population=synthetic: add population=gias"),
    Case("lever of a policy not chosen", ("policy.mat_contracting.contract_length_years=3",),
         "not a parameter of policy=status_quo"),
    Case("lever added to a policy without it", ("+policy.mat_contracting.contract_length_years=3",),
         "policy.mat_contracting"),
    Case("deleted parameter", ("~seed",), "'seed' cannot be deleted"),
    Case("deleted block", ("~model.trusts",), "'model.trusts' cannot be deleted"),
    # Values of the wrong type, out of range or not finite
    Case("text for a number", ("seed=abc",), "seed must be a whole number"),
    Case("fraction for a whole number", ("seed=3.0",), "seed must be a whole number"),
    Case("negative seed", ("seed=-1",), "seed must be a whole number"),
    Case("seed beyond 32 bits", ("seed=4294967296",), "seed must be a whole number"),
    Case("list for a number", ("horizon_years=[1,2]",), "horizon_years must be a whole number"),
    Case("zero years", ("horizon_years=0",), "from 1 to 100"),
    Case("rate above its range", ("model.workforce.moving_rate=1.5",), "from 0 to 0.95"),
    Case("not a number", ("model.diagnosis.error_sd=nan",), "model.diagnosis.error_sd must be"),
    Case("infinity", ("model.diagnosis.error_sd=inf",), "model.diagnosis.error_sd must be"),
    Case("overflows to infinity", ("model.diagnosis.error_sd=1e309",),
         "model.diagnosis.error_sd must be"),
    Case("huge shock", ("model.improvement.major_shock_size=1e308",),
         "model.improvement.major_shock_size must be"),
    Case("list too short", ("model.inspection.cut_points=[1,2]",), "got 2 values"),
    Case("cut points out of order", ("model.inspection.cut_points=[0.5,-1,1]",),
         "strictly increasing"),
    Case("pair the wrong way round", ("model.structure.new_mat_founding_schools=[5,2]",),
         "the first no larger than the second"),
    Case("text for a flag", ("output.plots=maybe",), "true or false"),
    Case("single value for a list", ("population=gias", f"population.path={GIAS_FIXTURE}",
                                      "population.areas=Blackpool"),
         "write it as a list: '[Blackpool]'"),
    Case("shares not adding to one", ("scenario.phase_shares=[0.5,0.5,0.1,0]",), "add up to 1"),
    Case("converter routes over one", ("model.structure.converter_joins_mat_share=0.9",
                                       "model.structure.converter_forms_mat_share=0.2"),
         "at most 1"),
    Case("contracting beyond the memory of a laptop", (
        "scenario=national", "scenario.scale=10", "policy=mat_contracting",
        "model.trusts.hub_radius_km=1000"), "would need about 20 GB of memory"),
    Case("policy ends before it starts", ("policy.start_year=2", "policy.end_year=1"),
         "no earlier than policy.start_year"),
    Case("null where none is allowed", ("policy.start_year=null",), "policy.start_year"),
    # Names and paths
    Case("scenario name climbing out", ("scenario.name=../../x",), "scenario.name must be a name"),
    Case("policy name as an absolute path", ("policy.name=/abs/path",), "policy.name must be a name"),
    Case("empty output root", ("output.root=",), "output.root must be a text value, not blank"),
    Case("unset environment variable", ("output.root=${oc.env:SIM_NOT_SET}",), "SIM_NOT_SET"),
    Case("run folder holding the user's files", ("hydra.run.dir=.",), "already holds files"),
    Case("mistake with the run folder the user's", ("hydra.run.dir=.", "seed=abc"),
         "seed must be a whole number"),
    Case("mistake with the run folder the user's data", ("hydra.run.dir=data",
                                                         "model.trusts=3"),
         "is a block of parameters"),
    Case("run folder that is a file", ("hydra.run.dir=notes.txt",), "is a file"),
    Case("run folder in /proc", ("hydra.run.dir=/proc/self/sim-run",), "/proc/self/sim-run",
         status=1),
    Case("changing directory", ("hydra.job.chdir=true",), "hydra.job.chdir=true is not supported"),
    Case("sample index without a sample", ("sensitivity.index=3",), "go together"),
    Case("sample file missing", ("sensitivity.samples=nope.csv", "sensitivity.index=0"),
         "cannot read nope.csv"),
    Case("GIAS without a file", ("population=gias",), "population.path is not set"),
    Case("GIAS file missing", ("population=gias", "population.path=missing.csv"),
         "no such file"),
    Case("GIAS path a folder", ("population=gias", "population.path=data"),
         "is a folder, not a file"),
    # The command line itself
    Case("override without a value", ("seed",), "cannot read the override 'seed'"),
    Case("override without a key", ("=3",), "cannot read the override '=3'"),
    Case("unclosed list", ("scenario.phase_shares=[0.5,0.5",), "cannot read the override"),
    Case("bad --cfg", ("--cfg", "foo"), "invalid choice: 'foo'"),
    Case("unknown flag", ("--nonsense",), "unrecognized arguments: --nonsense"),
    Case("unknown primary config", ("--config-name", "missing"), "--config-name"),
    # Sweeps: every job is checked before any starts
    Case("bad value in one job", ("-m", "seed=1,2,-3"), "seed=-3 is not allowed"),
    Case("interval sweep", ("-m", "seed=interval(0,1)"), "interval() sweeps are for optimising"),
    Case("sweep into the user's folder", ("-m", "seed=1,2", "hydra.sweep.dir=."),
         "already holds files that are not a sweep's"),
    Case("sweep folder that is a file", ("-m", "seed=1,2", "hydra.sweep.dir=notes.txt"),
         "is a file"),
    Case("empty job folder", ("-m", "seed=1,2", "hydra.sweep.dir=sweep", "hydra.sweep.subdir="),
         "must name a folder inside the sweep folder"),
    Case("job folder climbing out", ("-m", "seed=1,2", "hydra.sweep.dir=sweep",
                                     "hydra.sweep.subdir=../x"), "must name a folder inside"),
    Case("jobs sharing a folder", ("-m", "seed=1,2", "hydra.sweep.dir=sweep",
                                   "hydra.sweep.subdir=same"), "would share the folder"),
    Case("the same job twice", ("-m", "seed=1,1", "hydra.sweep.dir=sweep"),
         "would share the folder"),
    Case("hidden job folder", ("-m", "seed=1,2", "hydra.sweep.dir=sweep",
                               "hydra.sweep.subdir=.x${hydra.job.num}"), "must not start with '.'"),
    Case("sweep changing directory", ("-m", "seed=1,2", "hydra.job.chdir=true"),
         "hydra.job.chdir=true is not supported"),
    Case("lever sweep under status quo", ("-m", "policy.mat_contracting.target_grades=1,2"),
         "not a parameter of policy=status_quo"),
    Case("a sweep with no runs", ("-m", "seed=range(0)"), "the sweep has no runs"),
    Case("no parallel jobs", ("-m", "seed=1,2", "hydra.launcher.n_jobs=0"),
         "hydra.launcher.n_jobs=0 must be"),
    Case("no batch size", ("-m", "seed=1,2", "hydra.sweeper.max_batch_size=0"),
         "hydra.sweeper.max_batch_size=0 must be"),
    Case("Hydra's basic sweeper", ("-m", "seed=1,2", "hydra/sweeper=basic",
                                   "hydra.sweep.dir=my_run"), "need its own sweeper"),
    Case("an area no job's file has", ("-m", "population=gias",
                                       "population.path=data/extract.csv",
                                       "population.areas=[Blackpool],[Atlantis]"),
         "'Atlantis' matches no local authority"),
    Case("a job folder holding the user's files", ("-m", "seed=1,2", "hydra.sweep.dir=my_run",
                                                   "hydra.sweep.subdir=${hydra.job.num}"),
         "holds other files", setup=lambda folder: (
             (folder / "my_run" / "plan.csv").write_text("run,overrides\n"),
             (folder / "my_run" / "0").mkdir(), (folder / "my_run" / "0" / "x").write_text("x"))),
    Case("an edited plan", ("-m", "seed=1,2", "hydra.sweep.dir=sw"),
         "sw/plan.csv is not a plan a sweep wrote (it has no 'run' and 'overrides' columns); "
         "nothing was changed: remove it", setup=lambda folder: (
             (folder / "sw").mkdir(), (folder / "sw" / "plan.csv").write_text("foo,bar\n1,2\n"))),
    Case("a plan that is not UTF-8", ("-m", "seed=1,2", "hydra.sweep.dir=sw"),
         "sw/plan.csv is not a plan a sweep wrote (not UTF-8 text)", setup=lambda folder: (
             (folder / "sw").mkdir(),
             (folder / "sw" / "plan.csv").write_bytes(b"run,overrides\n\xff\xfe,x\n"))),
    Case("a sweep folder inside a file", ("-m", "seed=1,2", "hydra.sweep.dir=notes.txt/sub"),
         "the sweep folder notes.txt/sub is inside notes.txt, a file"),
    Case("a run folder inside a file", ("hydra.run.dir=notes.txt/sub",),
         "is a file"),
    Case("a run folder's name too long", (f"hydra.run.dir=out/{'b' * 300}",),
         "is 300 bytes long, more than a folder's name may be (255 bytes): choose a shorter"),
    Case("a sweep folder's name too long", ("-m", "seed=1,2", f"hydra.sweep.dir={'b' * 300}"),
         "is 300 bytes long"),
    # Hydra's settings that would write outside the run folder or around its checks
    Case("Hydra's own output folder", ("hydra.output_subdir=../data", "seed=-5"),
         "hydra.output_subdir must stay null"),
    Case("the log into a user's file", ("hydra.job_logging.handlers.file.filename=notes.txt",),
         "cannot be changed"),
    Case("a run folder through ..", ("hydra.run.dir=data/x/..",), "must not contain '..'"),
    Case("a sweep folder through ..", ("-m", "seed=1,2", "hydra.sweep.dir=data/x/.."),
         "must not contain '..'"),
    Case("the output root through ..", ("output.root=data/..",),
         "output.root=data/.. must not contain '..'"),
    Case("removing sim's callbacks", ("hydra.callbacks=null",), "cannot be changed"),
    Case("another primary config", ("-cn", "opportunity_areas"), "--config-name"),
    Case("another config path", ("--config-path", "/tmp"), "--config-path"),
    Case("rerunning Hydra's pickle", ("--experimental-rerun", "x.pickle"), "not supported"),
    Case("printing a part that does not exist", ("--cfg", "job", "--package", "nope.nope"),
         "--package nope.nope"),
    Case("a run's own name as a value", ("seed=${sim_run_name:}",), "hydra.sweep.subdir only"),
    Case("deleted group", ("~scenario",), "there is no scenario"),
    Case("added group that is chosen", ("+scenario=national",), "without '+'"),
    Case("an unquoted special character", ("seed=é",), "quote a value"),
    Case("an output root that is a file", ("output.root=notes.txt",), "notes.txt is a file"),
    Case("an interpolation of nothing", ("seed=${oc.env:SIM_NOT_SET}",), "'seed=${oc.env"),
]

SENSITIVITY = [
    Case("bounds file missing", ("--config", "nope.yaml"), "does not exist",
         module="sim.sensitivity"),
    Case("bounds file not YAML", ("--config", "bounds.yaml"), "not a readable YAML",
         module="sim.sensitivity", setup=bounds_file("parameters: [unclosed\n")),
    Case("bounds file a list", ("--config", "bounds.yaml"), "must be a mapping",
         module="sim.sensitivity", setup=bounds_file("- 1\n- 2\n")),
    Case("bounds of a list parameter", ("--config", "bounds.yaml"), "only single numbers",
         module="sim.sensitivity",
         setup=bounds_with("  model.inspection.cut_points: [0, 1]\n"
                           "  model.trusts.hub_radius_km: [10.0, 50.0]\n")),
    Case("bounds of a text parameter", ("--config", "bounds.yaml"), "only single numbers",
         module="sim.sensitivity",
         setup=bounds_with("  scenario.name: [a, b]\n  model.trusts.hub_radius_km: [10.0, 50.0]\n")),
    Case("bounds reversed", ("--config", "bounds.yaml"), "low < high", module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [50, 10]\n"
                           "  model.improvement.support_effect: [0.2, 1]\n")),
    Case("bounds outside the range", ("--config", "bounds.yaml"), "must lie within",
         module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [-5, 10]\n"
                           "  model.improvement.support_effect: [0.2, 1]\n")),
    Case("unknown outcome", ("--config", "bounds.yaml"), "outcome 'happiness'",
         module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [10, 50]\n"
                           "  model.improvement.support_effect: [0.2, 1]\n", "[happiness]")),
    Case("no trajectories", ("--trajectories", "0"), "must be from 2", module="sim.sensitivity"),
    Case("Sobol size not a power of two", ("--sobol", "--samples", "3"), "power of 2",
         module="sim.sensitivity"),
    Case("negative sample seed", ("--sample-seed", "-1"), "--sample-seed",
         module="sim.sensitivity"),
    Case("text trajectories", ("--trajectories", "many"), "invalid int value",
         module="sim.sensitivity"),
    Case("output folder holding the user's files", ("--output", "data"),
         "not a sensitivity analysis's", module="sim.sensitivity"),
    Case("sensitivity output a file", ("--config", "bounds.yaml", "--output", "notes.txt"),
         "notes.txt is a file, not a folder", module="sim.sensitivity",
         setup=bounds_file(GOOD_BOUNDS)),
    Case("sensitivity launcher unknown", ("--config", "bounds.yaml", "--launcher", "nope"),
         "unknown launcher 'nope' (--launcher): choose one of", module="sim.sensitivity",
         setup=bounds_file(GOOD_BOUNDS)),
    Case("bounds of a lever the status quo lacks", ("--config", "bounds.yaml"),
         "is not a parameter of the analysis's runs", module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [10.0, 50.0]\n"
                           "  policy.mat_contracting.contract_length_years: [1, 10]\n")),
    Case("bounds of the seed", ("--config", "bounds.yaml"), "'seed' in bounds.yaml cannot be "
         "varied", module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [10.0, 50.0]\n  seed: [0, 10]\n")),
    Case("bounds of the sample's own index", ("--config", "bounds.yaml"),
         "'sensitivity.index' in bounds.yaml cannot be varied", module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [10.0, 50.0]\n"
                           "  sensitivity.index: [0, 10]\n")),
    Case("sensitivity output with an interpolation", ("--config", "bounds.yaml", "--output",
                                                      "o${now:%Y}"),
         "would be read as an interpolation", module="sim.sensitivity",
         setup=bounds_file(GOOD_BOUNDS)),
    Case("sensitivity output a link to nowhere", ("--config", "bounds.yaml", "--output", "gone"),
         "gone is a symbolic link to nowhere, which does not exist", module="sim.sensitivity",
         setup=lambda folder: (bounds_file(GOOD_BOUNDS)(folder),
                               (folder / "gone").symlink_to("nowhere"))),
    Case("bounds with a parameter twice", ("--config", "bounds.yaml"),
         "'model.trusts.hub_radius_km' appears twice", module="sim.sensitivity",
         setup=bounds_with("  model.trusts.hub_radius_km: [10.0, 50.0]\n"
                           "  model.improvement.support_effect: [0.25, 1.0]\n"
                           "  model.trusts.hub_radius_km: [20.0, 40.0]\n")),
]

def gias_file(content: bytes | Callable[[str], str]) -> Callable[[Path], None]:
    """An extract in the user's data folder: given bytes, or the fixture's text edited."""
    def write(folder: Path) -> None:
        path = folder / "data" / "edited.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content(GIAS_FIXTURE.read_bytes().decode("cp1252")).encode("cp1252"))
    return write


def header_only(text: str) -> str:
    return text.split("\r\n", 1)[0] + "\r\n"


def urn_twice(text: str) -> str:
    """The second data row's URN given to the first, on different rows."""
    header, first, second, *rest = text.split("\r\n")
    urn = second.split(",", 1)[0]
    return "\r\n".join([header, urn + "," + first.split(",", 1)[1], second, *rest])


def zipped(folder: Path) -> None:
    import zipfile

    with zipfile.ZipFile(folder / "data" / "edited.csv", "w") as archive:
        archive.write(GIAS_FIXTURE, "edubasealldata.csv")


EDITED = ("population=gias", "population.path=data/edited.csv")
GIAS_FILES = [
    Case("GIAS binary file", EDITED, "not a CSV file", setup=gias_file(b"\x89PNG\r\n\x1a\n\x00")),
    Case("GIAS empty file", EDITED, "is empty", setup=gias_file(b"")),
    Case("GIAS not an extract", EDITED, "lacks the GIAS columns",
         setup=gias_file(b"name,value\nschool,1\n")),
    Case("GIAS header only", EDITED, "has a header but no rows", setup=gias_file(header_only)),
    Case("GIAS one URN on two rows", EDITED, "on 2 different rows", setup=gias_file(urn_twice)),
    Case("GIAS zip archive", EDITED, "edited.csv", setup=zipped),
    Case("GIAS misspelt area", ("population=gias", "population.path=data/extract.csv",
                                "population.areas=[Blackpol]"), "did you mean 'Blackpool'"),
    Case("GIAS unknown area", ("population=gias", "population.path=data/extract.csv",
                               "population.areas=[Narnia]"), "matches no local authority"),
    Case("GIAS blank area", ("population=gias", "population.path=data/extract.csv",
                             "population.areas=['']"), "population.areas"),
]

def files_named_as_a_comparisons(folder: Path) -> None:
    """A folder of the user's holding files a comparison would write."""
    (folder / "mine").mkdir()
    for name in ("heat_map.png", "runs.csv", "missing.csv"):
        (folder / "mine" / name).write_text("mine\n")


COMPARE = [
    Case("compare a missing path", ("nope",), "does not exist", module="sim.compare"),
    Case("compare a file", ("notes.txt",), "notes.txt", module="sim.compare"),
    Case("compare a folder with no runs", ("data",), "data", module="sim.compare"),
    Case("compare nothing", (), "the following arguments are required", module="sim.compare"),
    Case("compare an unknown option", ("my_run", "--colour", "red"), "unrecognized arguments",
         module="sim.compare"),
    Case("compare output inside a run", ("my_run", "--output", "my_run/out"), "my_run",
         module="sim.compare"),
    Case("compare a broken summary only", ("my_run",), "no usable run", module="sim.compare"),
    Case("compare into a user's folder with files of its names", ("my_run", "--output", "mine"),
         "among them runs.csv, missing.csv, heat_map.png", module="sim.compare",
         setup=files_named_as_a_comparisons),
    Case("compare into an empty --output", ("my_run", "--output", ""), "names no folder",
         module="sim.compare"),
    Case("compare into an --output of spaces", ("my_run", "--output", " "), "names no folder",
         module="sim.compare"),
    Case("compare an empty path", ("",), "names no folder", module="sim.compare"),
    Case("compare into a link to nowhere", ("my_run", "--output", "gone"),
         "gone is a symbolic link to nowhere, which does not exist", module="sim.compare",
         setup=lambda folder: (folder / "gone").symlink_to("nowhere")),
]

CASES = CLI + SENSITIVITY + GIAS_FILES + COMPARE


def user_folder(folder: Path) -> None:
    """A folder as a user's working folder looks: notes, data, a run of their own."""
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "data").mkdir()
    shutil.copy(GIAS_FIXTURE, folder / "data" / "extract.csv")
    (folder / "my_run").mkdir()
    (folder / "my_run" / "summary.json").write_text("{}\n")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_one_line_and_touches_nothing(tmp_path, case):
    user_folder(tmp_path)
    if case.setup is not None:
        case.setup(tmp_path)
    before = snapshot(tmp_path)
    result = subprocess.run([sys.executable, "-m", case.module, *case.arguments], cwd=tmp_path,
                            text=True, capture_output=True, env=environment(), timeout=300)
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in lines if line.startswith("sim: error: ")]
    assert len(errors) == 1, result.stderr
    # Anything else said is a warning or note naming what was skipped on the way.
    assert all(line.startswith(("sim: warning: ", "sim: note: ")) for line in lines
               if line not in errors), result.stderr
    assert case.words in errors[0], errors[0]
    assert result.returncode == case.status, result.stderr
    assert snapshot(tmp_path) == before


def test_there_are_at_least_sixty_cases():
    assert len(CASES) >= 60
    assert REPOSITORY.exists()


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder no one may write into, root included (chattr +i), if this machine allows it."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif shutil.which("chattr") is None or subprocess.run(
            ["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("this machine cannot make a folder read-only for root")
    yield folder
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], check=False)
    folder.chmod(0o755)


@pytest.mark.parametrize("arguments", [
    ("hydra.run.dir=locked/run",),
    ("-m", "seed=1,2", "hydra.sweep.dir=locked/sweep"),
], ids=["run", "sweep"])
def test_a_read_only_folder_gets_one_line(tmp_path, read_only_folder, arguments):
    before = snapshot(tmp_path)
    result = subprocess.run([sys.executable, "-m", "sim", "horizon_years=1", *arguments],
                            cwd=tmp_path, text=True, capture_output=True, env=environment(),
                            timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim: error: cannot use"), result.stderr
    assert snapshot(tmp_path) == before
