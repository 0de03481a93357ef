"""Faults a run meets in real use: signals, a full disk, sweeps into one folder at once.

Each test starts `python -m sim` as a user (or a scheduler) would, in a session of its own
so that every process it starts can be found, and checks that:
- SIGTERM or Ctrl-C ends a run with one line and leaves nothing behind;
- SIGKILL (which no program can catch) leaves no complete-looking folder, and the next run
  beside it removes what the killed one staged;
- killing a sweep, even by SIGKILL, leaves no process running;
- a full disk ends a run with one line and leaves nothing;
- two sweeps into one folder at once finish every run once, with no failures recorded.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.outputs import OUTPUT_FILES
from tests.conftest import as_at_a_terminal, environment, session_processes, snapshot, wait_for

LONG_RUN = ("scenario=national", "horizon_years=10", "output.plots=false")
RUN_FILES = sorted({*OUTPUT_FILES, "run.log"} - {"summary.png"})


def start(arguments: tuple[str, ...], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sim", *arguments], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(),
                            start_new_session=True, preexec_fn=as_at_a_terminal)


def staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".staging")] if folder.exists() else []


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr, stderr
    errors = [line for line in lines if line.startswith("sim: ")]
    assert len(errors) == 1, stderr
    return errors[0]


def test_sigterm_ends_a_run_with_one_line_and_leaves_nothing(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    process = start((*LONG_RUN, "hydra.run.dir=run"), tmp_path)
    wait_for(lambda: staging(tmp_path))  # the run has started writing its log
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert one_error_line(stderr) == ("sim: error: terminated by SIGTERM; nothing was written")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.2])
def test_ctrl_c_at_any_moment_of_start_up_gives_one_line(tmp_path, delay):
    before = snapshot(tmp_path)
    process = start(LONG_RUN, tmp_path)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr, stderr
    if process.returncode == -signal.SIGINT:  # so early that Python itself had not started
        assert stderr == ""
    else:
        assert process.returncode == 130, stderr
        assert one_error_line(stderr) == "sim: interrupted; nothing was written"
    assert snapshot(tmp_path) == before


SWALLOWED = """
import signal, time, weakref
from sim import errors
errors.install_signal_handlers()
class Lock: pass
lock = Lock()
# Ctrl-C landing in a callback whose exceptions Python only reports, as importlib's clean-up
# of a module lock is while the libraries load
reference = weakref.ref(lock, lambda ref: errors._interrupt(signal.SIGINT, None))
try:
    del lock
    time.sleep(5)
    print("went on")
except KeyboardInterrupt:
    print("interrupted")
"""


def test_ctrl_c_that_a_callback_swallows_still_interrupts():
    # (found by the test above, when Ctrl-C at 0.05 s landed in importlib's callback: the
    # run printed a traceback and went on to the end, deaf to Ctrl-C)
    finished = subprocess.run([sys.executable, "-c", SWALLOWED], capture_output=True, text=True,
                              env=environment(), timeout=60)
    assert finished.stdout.strip() == "interrupted"
    assert "Traceback" not in finished.stderr, finished.stderr


def test_a_run_started_with_ctrl_c_ignored_keeps_ignoring_it(tmp_path):
    """As a background job of a script (`python -m sim ... &`) is started: Ctrl-C at the
    terminal stops the script, not the run (the shell's convention, which Python keeps)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "horizon_years=3", "output.plots=false",
         "hydra.run.dir=run"], cwd=tmp_path, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=environment(), start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    wait_for(lambda: staging(tmp_path))  # handlers are set: the run has started writing
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    assert (tmp_path / "run" / "summary.json").exists()


def test_sigkill_leaves_no_complete_run_and_the_next_run_clears_its_staging(tmp_path):
    process = start((*LONG_RUN, "hydra.run.dir=run"), tmp_path)
    wait_for(lambda: staging(tmp_path))
    process.kill()
    process.communicate(timeout=60)
    assert not (tmp_path / "run" / "summary.json").exists()
    assert len(staging(tmp_path)) == 1  # what SIGKILL cannot clean up ...
    again = subprocess.run([sys.executable, "-m", "sim", "horizon_years=1", "output.plots=false",
                            "hydra.run.dir=run"], cwd=tmp_path, capture_output=True, text=True,
                           env=environment(), timeout=300)
    assert again.returncode == 0, again.stderr
    assert staging(tmp_path) == []  # ... the next run beside it does
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == RUN_FILES


SWEEP = ("-m", "seed=1,2,3,4", *LONG_RUN, "hydra.sweep.dir=sweep", "hydra.launcher.n_jobs=2")


# One signal in the default run; the others are exhaustive variants, run with --slow.
@pytest.mark.parametrize("how", ["SIGTERM", pytest.param("Ctrl-C", marks=pytest.mark.slow),
                                 pytest.param("SIGKILL", marks=pytest.mark.slow)])
def test_killing_a_sweep_leaves_no_process_running(tmp_path, how):
    process = start(SWEEP, tmp_path)
    wait_for(lambda: staging(tmp_path / "sweep"))  # workers are running jobs
    session = os.getsid(process.pid)
    if how == "Ctrl-C":  # a terminal sends SIGINT to every process of the foreground group
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, getattr(signal, how))
    _, stderr = process.communicate(timeout=60)
    if how != "SIGKILL":
        assert process.returncode == (143 if how == "SIGTERM" else 130)
        line = one_error_line(stderr)
        assert "the runs already complete are kept in sweep" in line
        # What the interrupted runs staged is gone, and so are their empty folders.
        sweep = tmp_path / "sweep"
        assert staging(sweep) == []
        assert all(any(p.iterdir()) for p in sweep.iterdir() if p.is_dir())
    wait_for(lambda: session_processes(session) == [], timeout=30)
    # Resume part of the sweep (another sweep into its folder is refused, tests/test_cli.py):
    # nothing of the killed runs leaks into the runs made again, and what they staged is
    # cleared.
    again = subprocess.run([sys.executable, "-m", "sim", "-m", "seed=1,2", *LONG_RUN,
                            "hydra.sweep.dir=sweep"], cwd=tmp_path,
                           capture_output=True, text=True, env=environment(), timeout=300)
    assert again.returncode == 0, again.stderr
    sweep = tmp_path / "sweep"
    assert staging(sweep) == []
    for seed in (1, 2):  # a national run's files, and its areas
        (run,) = sweep.glob(f"status_quo_seed{seed}_*")
        assert sorted(p.name for p in run.iterdir()) == sorted([*RUN_FILES, "areas.parquet"])


def _tmpfs(folder: Path, size: str) -> list[str] | None:
    """A command prefix that mounts a small tmpfs on `folder`, or None if not allowed here."""
    folder.mkdir()
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                                  str(folder)], capture_output=True)
        if mounted.returncode == 0:
            return []
    if shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-rm", "sh", "-c",
                                f"mount -t tmpfs -o size={size} tmpfs {folder}"],
                               capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-rm", "sh", "-c",
                    f'mount -t tmpfs -o size={size} tmpfs {folder} && exec "$0" "$@"']
    return None


def test_a_full_disk_ends_the_run_with_one_line_and_leaves_nothing(tmp_path):
    disk = tmp_path / "disk"
    prefix = _tmpfs(disk, "200k")
    if prefix is None:
        pytest.skip("this machine lets no test mount a small file system")
    try:
        result = subprocess.run([*prefix, sys.executable, "-m", "sim", "horizon_years=1",
                                 f"hydra.run.dir={disk}/run"], cwd=tmp_path, text=True,
                                capture_output=True, env=environment(), timeout=300)
        assert result.returncode == 1, result.stderr
        assert "no space left on the device" in one_error_line(result.stderr)
        assert list(disk.iterdir()) == []
    finally:
        if not prefix:
            subprocess.run(["umount", str(disk)], check=False)


def test_two_sweeps_into_one_folder_at_once_run_each_job_once(tmp_path):
    common = ("horizon_years=1", "output.plots=false", "hydra.sweep.dir=sweep",
              "hydra.launcher.n_jobs=1")
    first = start(("-m", "seed=1,2,3", *common), tmp_path)
    second = start(("-m", "seed=2,3,4", *common), tmp_path)
    for process in (first, second):
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    sweep = tmp_path / "sweep"
    runs = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert [run.name.split("_")[2] for run in runs] == ["seed1", "seed2", "seed3", "seed4"]
    for run in runs:
        assert sorted(p.name for p in run.iterdir()) == RUN_FILES
    assert not (sweep / ".failed").exists() and staging(sweep) == []
    assert len((sweep / "plan.csv").read_text().strip().splitlines()) == 1 + 4


def test_ctrl_c_as_a_sweep_ends_neither_hangs_nor_prints_a_traceback(tmp_path):
    """Signals that arrive once the work is done are held: the sweep exits as it would."""
    for attempt in range(3):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        process = start(("-m", "seed=1,2", "horizon_years=1", "output.plots=false",
                         "hydra.sweep.dir=sweep"), folder)
        session = os.getsid(process.pid)
        wait_for(lambda folder=folder: len(list((folder / "sweep").glob("*/summary.json"))) == 2)
        for _ in range(20):  # Ctrl-C again and again as the sweep finishes
            if process.poll() is not None:
                break
            os.killpg(process.pid, signal.SIGINT)
            time.sleep(0.02)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode in (0, 130), stderr
        assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
        wait_for(lambda session=session: session_processes(session) == [], timeout=30)


def test_runs_started_in_the_same_second_each_get_a_folder(tmp_path):
    processes = [start(("horizon_years=1", "output.plots=false", f"seed={seed}"), tmp_path)
                 for seed in (0, 0, 0)]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    runs = list((tmp_path / "results" / "runs" / "opportunity_area" / "status_quo").iterdir())
    assert len(runs) == 3 and all((run / "summary.json").exists() for run in runs)
