"""Standard streams a command cannot write, and a process without the folders it expects.

Each command is run as a user would run it (a subprocess, through a shell where the case
needs one) with its standard output closed, full, read by a reader that leaves, or unable
to encode a path; with no temporary folder to write a traceback's log into; from a
working folder that has been removed. Whatever happens: no traceback, and at most one
`sim:` line.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from sim import errors
from tests.conftest import environment

PYTHON = sys.executable
SMALL = "horizon_years=1 output.plots=false"


def shell(command: str, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run a shell command line (pipes, redirections) with this checkout's `sim`."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, text=True, capture_output=True,
                          env={**environment(), **extra}, timeout=300)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    said = result.stderr + result.stdout
    assert "Traceback" not in said and "Logging error" not in said, result.stderr
    assert "Exception ignored" not in said, result.stderr


@pytest.mark.parametrize("command", [
    f"{PYTHON} -m sim --cfg job",
    f"{PYTHON} -m sim {SMALL} hydra.run.dir=run",
    f"{PYTHON} -m sim -m {SMALL} seed=0,1 hydra.sweep.dir=sweep",
], ids=["config", "run", "sweep"])
def test_a_reader_that_leaves_ends_nothing_and_prints_no_traceback(tmp_path, command):
    result = shell(f"{command} | head -1; exit ${{PIPESTATUS[0]}}", tmp_path)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("sim: error")]


def test_a_sensitivity_analysis_read_by_head_completes_quietly(tmp_path):
    from tests.test_adversarial import GOOD_BOUNDS

    (tmp_path / "b.yaml").write_text(GOOD_BOUNDS)
    result = shell(f"{PYTHON} -m sim.sensitivity --config b.yaml --trajectories 2 "
                   f"--output out | head -1; exit ${{PIPESTATUS[0]}}", tmp_path)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "importance.csv").exists()


@pytest.mark.parametrize("command", [
    f"{PYTHON} -m sim --cfg job",
    f"{PYTHON} -m sim {SMALL} hydra.run.dir=run",
], ids=["config", "run"])
def test_a_full_standard_output_is_named_as_such_in_one_line(tmp_path, command):
    result = shell(f"{command} >/dev/full", tmp_path)
    no_traceback(result)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "sim: error: cannot write to standard output (No space left on device)"), result.stderr
    assert "free some space" not in result.stderr


def test_a_closed_standard_output_is_quiet(tmp_path):
    result = shell(f"{PYTHON} -m sim --cfg job >&-", tmp_path)
    no_traceback(result)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_characters_the_output_cannot_encode_are_escaped(tmp_path):
    result = shell(f"{PYTHON} -m sim {SMALL} \"hydra.run.dir='pos_é'\"", tmp_path,
                   PYTHONIOENCODING="ascii")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "pos_\\xe9" in result.stdout
    assert (tmp_path / "pos_é" / "summary.json").exists()


def test_a_removed_working_folder_is_named_with_the_fix(tmp_path):
    for arguments in (SMALL, f"-m {SMALL} seed=0,1", "--cfg job"):
        result = shell(f"mkdir gone && cd gone && rmdir ../gone && {PYTHON} -m sim "
                       f"{arguments}", tmp_path)
        no_traceback(result)
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            "sim: error: the working folder no longer exists (it was removed or renamed "
            "while the shell was in it): cd to an existing folder and run the command again"]


def test_no_temporary_folder_for_a_traceback_still_gives_one_line(monkeypatch, capsys):
    monkeypatch.setenv("TMPDIR", "/nonexistent")
    monkeypatch.setattr(errors, "temporary_folders", lambda: ["/nonexistent", "/proc"])
    try:
        raise ValueError("a bug")
    except ValueError as error:
        with pytest.raises(SystemExit) as exit_:
            errors.report(error)
    assert exit_.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim: error: unexpected ValueError: a bug; "
                                                   "raised at "), lines
    assert "set TMPDIR" in lines[0]


def test_a_comparison_names_a_path_the_output_cannot_encode_escaped(tmp_path):
    made = shell(f"{PYTHON} -m sim -m {SMALL} seed=0,1 hydra.sweep.dir=sweep", tmp_path)
    assert made.returncode == 0, made.stderr
    result = shell(f"{PYTHON} -m sim.compare sweep --output out_é", tmp_path,
                   PYTHONIOENCODING="ascii")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "out_\\xe9" in result.stdout


def test_an_error_while_unwinding_from_ctrl_c_is_reported_as_the_interruption(monkeypatch,
                                                                             capsys):
    import signal

    monkeypatch.setattr(errors, "signals_received", [signal.SIGINT])
    with pytest.raises(SystemExit) as exit_:
        errors.report(RuntimeError("cannot join thread before it is started"))
    assert exit_.value.code == 130
    assert capsys.readouterr().err.startswith("sim: interrupted; ")


@pytest.mark.parametrize("launcher", ["local", "joblib"])
def test_a_sweeps_workers_start_with_ctrl_c_blocked(tmp_path, launcher):
    """Ctrl-C reaches the sweep's process, which ends its workers: a worker still starting
    would otherwise print a traceback of its own. sim's own launcher forks its workers (any
    child of the sweep's process is one); joblib's start as loky's processes."""
    import os
    import time

    process = subprocess.Popen(
        [PYTHON, "-m", "sim", "-m", "seed=0,1", "horizon_years=8", "output.plots=false",
         "hydra.sweep.dir=sweep", f"hydra/launcher={launcher}"], cwd=tmp_path,
        env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = "popen_loky_posix" if launcher == "joblib" else ""
    try:
        workers: list[str] = []
        deadline = time.monotonic() + 60
        while not workers and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            for child in children.read_text().split() if children.exists() else []:
                with contextlib.suppress(OSError):
                    if marker in Path(f"/proc/{child}/cmdline").read_text():
                        workers.append(Path(f"/proc/{child}/status").read_text())
        assert workers, "no worker process was seen"
        for status in workers:
            blocked = int(next(line for line in status.splitlines()
                               if line.startswith("SigBlk:")).split()[1], 16)
            assert blocked & (1 << (signal_number() - 1))
    finally:
        os.kill(process.pid, 15)
        process.wait(timeout=60)


def signal_number() -> int:
    import signal

    return int(signal.SIGINT)


def test_a_run_folder_that_links_to_an_empty_folder_receives_the_run(tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "link").symlink_to("target")
    result = shell(f"{PYTHON} -m sim {SMALL} hydra.run.dir=link", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "link").is_symlink() and (tmp_path / "target" / "summary.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "target"]


def test_a_sweep_job_folder_that_links_to_an_empty_folder_receives_the_run(tmp_path):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "plan.csv").write_text("run,overrides\n")  # a sweep's folder
    (tmp_path / "target").mkdir()
    (tmp_path / "sweep" / "0").symlink_to("../target")
    result = shell(f"{PYTHON} -m sim -m {SMALL} seed=0,1 hydra.sweep.dir=sweep "
                   f"'hydra.sweep.subdir=${{hydra.job.num}}'", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "target" / "summary.json").exists()
    assert (tmp_path / "sweep" / "1" / "summary.json").exists()


@pytest.mark.parametrize("name", ["c" * 250, "c" * 255, "é" * 127 + "c"],
                         ids=["250 ASCII", "255 bytes ASCII", "255 bytes UTF-8"])
def test_a_long_legal_run_folder_name_is_staged_within_the_name_limit(tmp_path, name):
    """The longest names (255 bytes in the file system's encoding, as many characters or
    about half as many) are staged under a shortened hidden name and end as given."""
    result = shell(f"{PYTHON} -m sim {SMALL} \"hydra.run.dir='{name}'\"", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name / "summary.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_path_the_locale_cannot_decode_is_refused_in_one_line(tmp_path):
    result = subprocess.run(
        [PYTHON, "-X", "utf8=0", "-m", "sim", SMALL.split()[0], "hydra.run.dir='pos_é'"],
        cwd=tmp_path, text=True, capture_output=True, timeout=300,
        env={**environment(), "LC_ALL": "POSIX", "PYTHONIOENCODING": ""})
    no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds characters this locale cannot decode" in lines[0], lines
    assert result.returncode == 2 and list(tmp_path.iterdir()) == []
