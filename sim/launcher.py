"""sim's own launcher at work: forked worker processes plan a sweep's jobs, then run them.

Hydra's joblib launcher composes every job again in worker processes started afresh,
after the sweeper has composed and checked every job one after another in the sweep's own
process. Here each job is composed once, by a worker, and the workers that planned the
jobs run them:

- the workers are forked from the sweep's process, with Hydra, the config loader and the
  list of jobs already in memory, so they start at once and compose nothing twice;
- first they plan: each job is composed (`sim.composer`) and checked as a single run's
  config would be (`sim.sweeps.plan_sweep`), in parallel; the sweep's process checks
  what only the whole sweep shows (two jobs sharing a folder), plans again itself any job
  whose planning failed, so that the first mistake stops the sweep with its own one line,
  and writes the plan; no job has started, nothing has been written;
- then they run: each job is sent, as planned (its typed config, its folder, its log
  settings; a few kilobytes), to the next worker free, which runs it, so every worker
  stays busy however long each job takes, and runs many jobs; `n_jobs` workers (-1: one
  per core this process may use; -2: all but one), never more than there are jobs;
- for each job a worker does what Hydra's `run_job` does for a task: it sets up the job's
  logging from `hydra.job_logging` (its log file in the job's staging folder, named in the
  worker, whose process id the staging folder's name carries), creates the job's folder,
  sets `hydra.job.env_set`, and runs the job (`sim.run.run_planned_job`), which records a
  failure in `<sweep>/.failed/` and lets the others go on;
- a worker is deaf to Ctrl-C (blocked before it is forked, and ignored), leaves on SIGTERM
  after removing what its job staged, and dies with the sweep's process
  (`sim.run.stop_with_the_sweep`); the sweep's process handles Ctrl-C and SIGTERM, and
  ends its workers (`Pool.stop`);
- `timeout`: a job running longer than this many seconds stops the sweep (a TimeoutError,
  as joblib's launcher raises); a worker that dies (the kernel's out-of-memory killer, a
  `kill -9`) stops it too (`WorkerDiedError`); the sweeper says either in one line.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import multiprocessing
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from sim import folders
from sim.draw_ahead import SWITCH as SECOND_THREAD
from sim.errors import UserError, one_line
from sim.run import SWEEP_PROCESS, load_model, run_planned_job, stop_with_the_sweep
from sim.sweeps import JobPlan, PlannedJob

STOP_SECONDS = 5.0  # how long stopped workers are waited for before they are killed
PlanJob = Callable[[int, Sequence[str]], JobPlan]


class JobFailedError(Exception):
    """A job's error, as its worker said it in one line (the error stays in the worker;
    its traceback is in the job's failure record)."""


class WorkerDiedError(RuntimeError):
    """A worker process ended while it had work."""


@dataclass
class Outcome:
    """How a job ended: completed, with its return value, or failed, with its error."""

    completed: bool
    value: Any


def worker_count(n_jobs: int, jobs: int) -> int:
    """The workers for `n_jobs` (joblib's meaning: -1 is every core, -2 all but one), never
    more than there are jobs."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    wanted = n_jobs if n_jobs > 0 else cores + 1 + n_jobs
    return max(1, min(wanted, jobs))


@dataclass
class _Worker:
    process: Any  # multiprocessing's Process, forked
    connection: Connection  # the sweep's end of the worker's pipe
    task: int = -1  # the number of the task it works on, or -1 when idle
    started: float = 0.0


class Pool:
    """Forked workers that plan a sweep's jobs, then run them, each sent one at a time."""

    def __init__(self) -> None:
        self.workers: list[_Worker] = []
        self.described: list[str] = []  # each task's job, for an error that names it

    def start(self, count: int, plan_job: PlanJob, jobs: Sequence[Sequence[str]]) -> None:
        """Fork the workers, which inherit `plan_job` and the jobs. Ctrl-C and SIGTERM are
        blocked meanwhile, so that neither reaches a worker before it has set its own
        handlers (`_serve`); one that arrives meanwhile reaches the sweep's process once
        they are unblocked."""
        load_model()  # once, here: every worker inherits it
        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # else each worker would print it again
            with contextlib.suppress(Exception):
                stream.flush()
        os.environ[SWEEP_PROCESS] = str(os.getpid())  # how a worker knows it is one
        if count > 1:  # the workers use the cores: no second thread each (a user's own wins)
            os.environ.setdefault(SECOND_THREAD, "0")
        sweep = os.getpid()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            with warnings.catch_warnings():
                # Python warns of forking a process with threads; the sweep's only other thread
                # is pyarrow's memory allocator's (jemalloc), whose own fork handlers keep the
                # child's allocator sound, as for any fork of a process that imported pandas.
                warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                        DeprecationWarning)
                for number in range(count):
                    ours, theirs = context.Pipe()
                    others = [worker.connection for worker in self.workers] + [ours]
                    process = context.Process(target=_serve, name=f"sim-worker-{number}",
                                              args=(theirs, others, sweep, plan_job, jobs),
                                              daemon=True)
                    process.start()
                    theirs.close()
                    self.workers.append(_Worker(process, ours))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def plan(self, jobs: Sequence[Sequence[str]]) -> list[JobPlan | None]:
        """Each job planned by a worker, in order; None where planning failed."""
        self.described = [" ".join(job) for job in jobs]
        return self._each([("plan", number) for number in range(len(jobs))], None, False)

    def run(self, jobs: list[PlannedJob], timeout: float | None,
            progress: bool) -> list[Outcome]:
        """Run the planned jobs; their outcomes, in order."""
        self.described = [" ".join(job.overrides) for job in jobs]
        replies = self._each([("run", job) for job in jobs], timeout, progress)
        return [Outcome(*reply) for reply in replies]

    def _each(self, tasks: list[Any], timeout: float | None, progress: bool) -> list[Any]:
        """Send each task to the next worker free; the replies, in order."""
        replies: list[Any] = [None] * len(tasks)
        waiting = iter(range(len(tasks)))
        report = _progress(len(tasks)) if progress else None
        busy = [worker for worker in self.workers if self._send_next(worker, tasks, waiting)]
        while busy:
            ready = wait([item for worker in busy
                          for item in (worker.connection, worker.process.sentinel)],
                         _time_left(busy, timeout))
            if not ready:
                late = min(busy, key=lambda worker: worker.started)
                raise TimeoutError(f"{self.described[late.task]} ran longer than {timeout} s")
            for worker in [w for w in busy if w.connection in ready or w.process.sentinel in ready]:
                try:
                    replies[worker.task] = worker.connection.recv()
                except (EOFError, OSError):
                    raise self._died(worker) from None
                if report is not None:
                    next(report)
                if not self._send_next(worker, tasks, waiting):
                    busy.remove(worker)
        return replies

    def _send_next(self, worker: _Worker, tasks: list[Any], waiting: Iterator[int]) -> bool:
        """Send the worker the next task (True), or nothing if none is left (False)."""
        number = next(waiting, None)
        if number is None:
            worker.task = -1
            return False
        worker.task, worker.started = number, time.monotonic()
        try:
            worker.connection.send(tasks[number])
        except OSError:
            raise self._died(worker) from None
        return True

    def _died(self, worker: _Worker) -> WorkerDiedError:
        worker.process.join(timeout=1)
        code = worker.process.exitcode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exit status {code}")
        return WorkerDiedError(f"a worker process ended ({how}) while it had "
                          f"{self.described[worker.task] or 'a job'}")

    def finish(self) -> None:
        """Tell the workers to leave, and wait for them."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        self._wait_or_kill()

    def stop(self) -> None:
        """End the workers now: SIGTERM (each removes what its job staged), then SIGKILL
        for any still there after STOP_SECONDS."""
        for worker in self.workers:
            if worker.process.is_alive():
                with contextlib.suppress(OSError):
                    worker.process.terminate()
        self._wait_or_kill()

    def _wait_or_kill(self) -> None:
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=STOP_SECONDS)
            worker.connection.close()
        self.workers.clear()


def _time_left(busy: list[_Worker], timeout: float | None) -> float | None:
    if timeout is None:
        return None
    return max(0.0, min(worker.started for worker in busy) + timeout - time.monotonic())


def _progress(total: int) -> Iterator[None]:
    """Say on standard error how many jobs are done, at each tenth and at the end (a
    generator, started here: each `next` counts a job done)."""

    def count(started: float) -> Iterator[None]:
        yield  # started
        for done in range(1, total + 1):
            if done * 10 // total > (done - 1) * 10 // total:
                print(f"[sweep] {done} of {total} runs done, "
                      f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
            yield

    counter = count(time.monotonic())
    next(counter)
    return counter


# -- in a worker ---------------------------------------------------------------------------


def _serve(connection: Connection, others: list[Connection], sweep: int, plan_job: PlanJob,
           jobs: Sequence[Sequence[str]]) -> None:
    """A worker's life: plan or run what it is sent, one task at a time, until told to
    leave (or the sweep's end of its pipe closes)."""
    for other in others:  # the sweep's ends of the pipes, inherited by the fork
        other.close()
    folders.close_inherited_locks()
    stop_with_the_sweep()  # SIGTERM: leave; Ctrl-C: ignored; the sweep's end: SIGTERM
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # Ctrl-C stays blocked
    if os.getppid() != sweep:  # the sweep ended before the worker could die with it
        os._exit(128 + signal.SIGTERM)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        kind, what = task
        connection.send(_plan(plan_job, what, jobs[what]) if kind == "plan" else _run(what))
    logging.shutdown()  # the last job's log file, flushed and closed


def _plan(plan_job: PlanJob, number: int, job: Sequence[str]) -> JobPlan | None:
    """Plan one job; None if it cannot be planned (the sweep's process plans it again, to
    stop with its error)."""
    try:
        return plan_job(number, job)
    except BaseException:  # whatever it is, the sweep's process meets it again, and says it
        return None


def _run(job: PlannedJob) -> tuple[bool, Any]:
    """Run one job as Hydra's `run_job` runs a task; (completed, its return value or its
    error in one line)."""
    from hydra.core.utils import configure_log, env_override
    from omegaconf import OmegaConf

    try:
        configure_log(OmegaConf.create(_own_log(job.logging, job.folder)), job.verbose)
        Path(job.folder).mkdir(parents=True, exist_ok=True)  # as Hydra makes a job's folder
        with env_override(job.environment):
            outcome: tuple[bool, Any] = (True, run_planned_job(job.run, job.folder,
                                                               job.overrides))
    except Exception as error:  # the job failed; its record is written, the others go on
        # A user's error says itself; another is named by its type as well (a KeyError's
        # message alone, "('sum', 1)", says nothing).
        said = one_line(error)
        outcome = (False, said if isinstance(error, UserError) and said
                   else f"{type(error).__name__}: {said}" if said else type(error).__name__)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    return outcome


def _own_log(settings: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The job's logging settings with its log file in this process's staging folder (the
    sweep's process resolved them with its own process id)."""
    settings = copy.deepcopy(settings)
    for handler in (settings.get("handlers") or {}).values():
        if isinstance(handler, dict) and "filename" in handler:  # each is the staging log
            handler["filename"] = str(folders.staging_log(folder))
    return settings
