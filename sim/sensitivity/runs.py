"""Running a sample as a sweep of `python -m sim` in a child process, stopping it with the
analysis, and matching its runs to the sample's rows by their values.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from sim import errors
from sim.sensitivity.setup import SensitivityError, finite_number, get_key

if TYPE_CHECKING:  # numpy and pandas load inside the functions, so that Ctrl-C during
    import numpy as np  # start-up reaches run_command and gives its one line
    import pandas as pd
# Stopping the sweep when the analysis is interrupted: Ctrl-C at a terminal reaches the
# sweep's process too, which then ends by itself; if it has not after this long, or at
# once on SIGTERM, it is sent SIGTERM, and SIGKILL if it still runs after as long again.
ENDS_BY_ITSELF_SECONDS = 10.0
STOP_SECONDS = 30.0
# The sweep's one line when it is interrupted; the analysis says its own instead, which
# also names the sample it keeps.
SWEEP_INTERRUPTED = ("sim: interrupted;", "sim: error: terminated by SIGTERM;")


def run_sample(samples: Path, n_runs: int, setup: dict, launcher: str, output: Path) -> int:
    """Run every row of the sample as one sweep of `python -m sim`; returns its exit status.

    The sweep runs in a child process, which ends with this one: if the analysis is
    interrupted (Ctrl-C) or terminated (SIGTERM) it stops the sweep before leaving, and
    Linux's parent-death signal sends the sweep SIGTERM if this process is killed outright.
    The sweep's standard error is passed on, but for its line on being interrupted: the
    analysis says its own, which names what it keeps (errors.interruption_note).
    """
    command = [sys.executable, "-m", "sim", "-m",
               f"scenario={setup['scenario']}", f"seed={setup['seed']}",
               f"horizon_years={setup['horizon_years']}",
               f"sensitivity.samples={quoted(str(samples.resolve()))}",
               f"sensitivity.index=range(0,{n_runs})",
               "output.plots=false", "output.progress=false",
               f"hydra.sweep.dir={quoted(str((output / 'runs').resolve()))}",
               f"hydra/launcher={launcher}"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, errors="replace",
                               preexec_fn=_parent_death_signal())
    assert process.stderr is not None
    relay = threading.Thread(target=_relay, args=(process.stderr,), daemon=True)
    relay.start()
    try:
        status = process.wait()
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        _stop(process, ctrl_c=isinstance(stopped, KeyboardInterrupt))
        raise
    finally:
        relay.join(timeout=5)  # the sweep's last lines, before the analysis says more
        if not relay.is_alive():  # closed by this process (a ResourceWarning otherwise)
            process.stderr.close()
    if status == 130:  # the sweep alone was interrupted (its line was held back)
        raise KeyboardInterrupt
    if status == 143:
        raise errors.Terminated(signal.SIGTERM)
    return status


def quoted(text: str) -> str:
    """A value for Hydra's override grammar that reads back as `text`, whatever it holds
    (a path with `,`, `'`, a line break or `${`): single-quoted, with quotes, `${` and the
    backslashes before them escaped."""
    escaped = re.sub(r"(\\*)('|\$\{|$)",
                     lambda match: match[1] * 2 + ("\\" + match[2] if match[2] else ""), text)
    return f"'{escaped}'"


def _relay(stream: IO[str]) -> None:
    """Pass the sweep's standard error on, line by line, but for its interruption line."""
    relaying = True
    for line in stream:  # read to the end either way, so the sweep never blocks on the pipe
        if relaying and not line.startswith(SWEEP_INTERRUPTED):
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):  # our standard error is gone: nobody is reading
                relaying = False


def _stop(process: subprocess.Popen[str], ctrl_c: bool) -> None:
    """End the sweep's process: wait for it if Ctrl-C reached it too, else SIGTERM, SIGKILL.

    A second Ctrl-C or SIGTERM while waiting moves on to the next, harder step.
    """
    steps: list[signal.Signals | None] = [None] if ctrl_c else []
    steps += [signal.SIGTERM, signal.SIGKILL]
    for step in steps:
        try:
            if step is not None:
                process.send_signal(step)
            process.wait(ENDS_BY_ITSELF_SECONDS if step is None else STOP_SECONDS)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt, errors.Terminated):
            continue


def _parent_death_signal() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child is sent SIGTERM when this process ends (Linux).

    As sim.run's `_stop_with_the_sweep` does for a sweep's workers; elsewhere, None.
    The C function is found here, before the fork: the child only calls it.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, set_parent_death_signal, sigterm = os.getpid(), 1, int(signal.SIGTERM)

    def die_with_the_parent() -> None:
        prctl(set_parent_death_signal, sigterm)
        if os.getppid() != parent:  # the parent ended before the signal was set
            os.kill(os.getpid(), sigterm)

    return die_with_the_parent


def collect(sweep: Path, sample: pd.DataFrame, outcomes: list[str]) -> np.ndarray:
    """Outcomes of each sample row, in sample order, from the runs made with its values."""
    import numpy as np

    values = np.full((len(sample), len(outcomes)), np.nan)
    found = np.zeros(len(sample), dtype=bool)
    for summary_path in sweep.glob("*/summary.json"):
        try:
            config = yaml.safe_load((summary_path.parent / "config.yaml").read_text())
            summary = json.loads(summary_path.read_text())
            index = config["sensitivity"]["index"]
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            continue  # not a run of a sample, or a damaged one: it matches no row
        if not (isinstance(index, int) and 0 <= index < len(sample)
                and isinstance(summary, dict)):
            continue
        try:
            same = all(_same(get_key(config, name), value)
                       for name, value in sample.iloc[index].items())
        except (KeyError, TypeError):
            same = False
        if not same:
            continue  # a run of another sample that had this row number
        found[index] = True
        values[index] = [summary[o] if finite_number(summary.get(o)) else np.nan
                         for o in outcomes]
    missing = np.flatnonzero(~found)
    if len(missing):
        shown = ", ".join(str(i) for i in missing[:10])
        raise SensitivityError(f"{len(missing)} sample rows have no complete run (rows "
                               f"{shown}{' ...' if len(missing) > 10 else ''}); run the same "
                               f"command again to resume")
    undefined = {outcome: int(np.isnan(values[:, column]).sum())
                 for column, outcome in enumerate(outcomes)}
    undefined = {outcome: count for outcome, count in undefined.items() if count}
    if undefined:
        said = ", ".join(f"{outcome} in {count} of {len(sample)} runs"
                         for outcome, count in undefined.items())
        raise SensitivityError(f"an outcome is undefined (null in summary.json): {said}; every "
                               f"run is complete, so running again will not help: choose "
                               f"another outcome, or a larger place (scenario, or its scale)")
    return values


def _same(stored: Any, sampled: float) -> bool:
    """A run's value is its row's (integer parameters are rounded, as the run rounds them)."""
    if isinstance(stored, int) and not isinstance(stored, bool):
        return stored == round(sampled)
    return isinstance(stored, float) and stored == float(sampled)
