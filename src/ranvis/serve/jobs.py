"""The server's runs: one at a time, the others waiting in order, each outliving its page.

A :class:`Job` is one run: its command, its folder, its state and what a page shows of it
(the latest image, loss, evaluation count, ETA). :class:`JobQueue` owns one worker thread that
runs the jobs in the order submitted with a given ``execute(job)`` (serve.execute: the ranvis
command itself); pages only read jobs, so closing a tab neither stops nor loses a run, and
another page can watch it by its id. :class:`Live` is the optimization loop's callback
(optimize.Step): it records each evaluation and, once Stop was pressed, raises
KeyboardInterrupt, which the loop takes as Ctrl-C: it ends at once and keeps the best image so
far (optimize.optimize; a multi-stage run stops there too). Torch-free.
"""
from __future__ import annotations

import secrets
import shutil
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ranvis.errors import InputError

FINAL = ("done", "stopped", "failed", "cancelled")


@dataclass
class Job:
    """One run. ``state``: queued, running, then done, stopped (by Stop: the best image so far
    is the result), failed (``message`` says why) or cancelled (stopped while queued).
    ``step``: evaluations so far; ``loss``/``best``: the latest and the lowest loss;
    ``image``: the latest evaluated image ([1,3,H,W], any device), replaced at every
    evaluation; ``version`` counts the replacements."""

    argv: list[str]
    command: str
    folder: Path
    total: int = 0
    id: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    state: str = "queued"
    message: str = ""
    step: int = 0
    loss: float | None = None
    best: float | None = None
    image: Any = None
    version: int = 0
    started: float | None = None
    first_step: float | None = None
    ended: float | None = None
    files: list[Path] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left at the mean pace of the evaluations so far (None before two)."""
        if self.first_step is None or self.step < 2 or not self.total:
            return None
        pace = ((now or time.monotonic()) - self.first_step) / (self.step - 1)
        return max(0.0, (self.total - self.step) * pace)

    def seconds(self) -> float:
        """Seconds since the run started (to its end once ended)."""
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started


class Live:
    """The loop's callback for ``job``: keep each evaluation's count, loss and image; stop the
    run (KeyboardInterrupt, the loop's Ctrl-C) once ``job.stop`` is set. ``total()``: the
    run's evaluation budget, read at each call (the command settles it just before running)."""

    def __init__(self, job: Job, total: Callable[[], int | None] = lambda: None) -> None:
        self.job, self.total = job, total

    def __call__(self, step: Any) -> None:
        job = self.job
        if job.first_step is None:
            job.first_step = time.monotonic()
        job.step, job.loss, job.image = step.i + 1, step.loss, step.image
        job.best = step.loss if job.best is None else min(job.best, step.loss)
        job.total = self.total() or job.total
        job.version += 1
        if job.stop.is_set():
            raise KeyboardInterrupt("stopped from the page")


class JobQueue:
    """Runs jobs one at a time on a worker thread, in the order submitted; keeps the last
    ``keep`` finished jobs (older ones and their folders are removed)."""

    def __init__(self, execute: Callable[[Job], None], keep: int = 20) -> None:
        self.execute, self.keep = execute, keep
        self.jobs: dict[str, Job] = {}
        self.waiting: deque[Job] = deque()
        self.cv = threading.Condition()
        self.closed = False
        self.worker = threading.Thread(target=self._work, name="ranvis-runs", daemon=True)
        self.worker.start()

    def submit(self, job: Job) -> Job:
        with self.cv:
            if self.closed:
                raise InputError("the server is shutting down")
            self.jobs[job.id] = job
            self.waiting.append(job)
            self.cv.notify()
        return job

    def get(self, job_id: str | None) -> Job | None:
        return self.jobs.get(job_id) if job_id else None

    def place(self, job: Job) -> tuple[int, int]:
        """(place, waiting): 1 = next to run; (0, n) once running or finished."""
        with self.cv:
            queue = list(self.waiting)
        return (queue.index(job) + 1 if job in queue else 0), len(queue)

    def stop(self, job: Job) -> None:
        """A waiting job is cancelled; a running one ends at its next evaluation."""
        with self.cv:
            if job in self.waiting:
                self.waiting.remove(job)
                job.state, job.message = "cancelled", "cancelled before it started"
                return
        job.stop.set()

    def close(self, timeout: float = 10.0) -> None:
        """Cancel the waiting jobs, stop the running one, wait up to ``timeout`` s for it."""
        with self.cv:
            self.closed = True
            for job in self.waiting:
                job.state = "cancelled"
            self.waiting.clear()
            for job in self.jobs.values():
                job.stop.set()
            self.cv.notify_all()
        self.worker.join(timeout)

    def _next(self) -> Job | None:
        with self.cv:
            while not self.waiting and not self.closed:
                self.cv.wait()
            if self.closed:
                return None
            job = self.waiting.popleft()
            job.state, job.started = "running", time.monotonic()
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            try:
                self.execute(job)
                job.state = "stopped" if job.stop.is_set() else "done"
            except KeyboardInterrupt:  # Live's, raised outside an optimization loop
                job.state, job.message = "stopped", "stopped before any result"
            except InputError as e:  # also the CLI's UsageError, turned into one by execute
                job.state, job.message = "failed", " ".join(str(e).split())
            except Exception as e:  # a bug: the page gets one line, the server log the trace
                traceback.print_exc(file=sys.stderr)
                job.state, job.message = "failed", f"internal error ({type(e).__name__}); " \
                    "see the server's log"
            finally:
                job.ended = time.monotonic()
                self._forget_old()

    def _forget_old(self) -> None:
        with self.cv:
            done = [j for j in self.jobs.values() if j.state in FINAL]
            for job in done[:max(0, len(done) - self.keep)]:
                del self.jobs[job.id]
                shutil.rmtree(job.folder, ignore_errors=True)
