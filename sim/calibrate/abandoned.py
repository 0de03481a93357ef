"""Trials a killed fit left running: found when the study is next opened, and run again.

A fit killed mid-trial (`kill -9`, a machine that went down, a scheduler's hard limit) never
finishes the trials its processes were running, and the journal keeps them as running for
ever: Optuna's journal storage has no heartbeat to notice. So each trial records the
process running it (host and process id), and a later `fit` on the same host marks every
running trial whose process is gone as failed and queues its parameter set again, so that a
Sobol study's point is not lost. Trials of processes on other hosts (a study shared over a
network file system) are left alone: from here a process elsewhere cannot be seen. A
process id reused by an unrelated process since keeps its trial running; that costs one
point, never a wrong result.

A process killed between creating its trial and recording itself (a window of a journal
write, but the moment right after a trial ends, when a kill is likeliest) leaves a running
trial that names no process and has no values yet. Any live process records itself within
milliseconds, so such a trial older than `UNMARKED_GRACE_SECONDS` is abandoned too. A Sobol
study's point is recomputed from the trial's number and queued whole.
"""

from __future__ import annotations

import datetime
import os
import socket

import optuna
from optuna.trial import TrialState

WORKER_ATTRIBUTE = "worker"
UNMARKED_GRACE_SECONDS = 60.0


def mark_worker(trial: optuna.Trial) -> None:
    """Record the host and process running this trial."""
    trial.set_user_attr(WORKER_ATTRIBUTE, {"host": socket.gethostname(), "pid": os.getpid()})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    # A killed worker whose parent died with it waits as a zombie until it is reaped.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as status:
            return status.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def requeue_abandoned(study: optuna.Study) -> list[int]:
    """Fail the trials whose process on this host is gone, queue their sets again; the
    numbers of the trials failed."""
    host = socket.gethostname()
    now = datetime.datetime.now()
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTRIBUTE)
        if worker is None:
            started = trial.datetime_start or now
            if trial.params or (now - started).total_seconds() < UNMARKED_GRACE_SECONDS:
                continue
        elif worker.get("host") != host or _alive(int(worker["pid"])):
            continue
        study.tell(trial.number, state=TrialState.FAIL)
        # A Sobol study's point comes whole from the trial's number (a trial killed between
        # two suggestions holds only part of it); another sampler's values are queued as
        # they are, and it draws the rest.
        params = study.sampler.point(study, trial.number) if hasattr(study.sampler, "point") \
            else trial.params
        if params:
            study.enqueue_trial(params, skip_if_exists=False)
        failed.append(trial.number)
    return failed
