"""Where cells run. Every executor takes jobs (study.runcell; a group of cells, study.groups),
runs ``run_job`` (study.rungroup) on them and hands back, for each finished job, its result or
its error; the driver (study.runner) stores results, retries errors and keeps at most
``capacity`` jobs in flight.

* :class:`Inline`: in the driver's own process, one after another (tests, debugging; the
  driver's torch thread count is left as it is).
* :class:`LocalPool`: ``workers`` processes of a spawn-context ``ProcessPoolExecutor`` (spawn,
  not fork: torch's threads do not survive a fork), each with ``threads`` torch threads. A
  worker ignores SIGINT (the driver handles Ctrl-C and stops them) and exits when the driver
  dies (it watches its parent), so a killed driver leaves no worker computing. A worker that
  dies (killed, out of memory) breaks the pool: its jobs come back as errors and the pool is
  started afresh.
* Ray: study.rayexec.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import signal
import threading
import time
from typing import Any, Protocol

from ranvis.study.runcell import describe, warm_up
from ranvis.study.rungroup import run_job

__all__ = ["Done", "Executor", "Inline", "LocalPool", "describe"]

Done = tuple[Any, dict[str, Any] | None, str | None]  # (handle, result, error)


class Executor(Protocol):
    """What study.runner needs of an executor."""

    name: str
    workers: int
    threads: int | None

    def start(self) -> None:
        """Start the workers (the driver times this as start-up)."""

    def capacity(self) -> int:
        """How many jobs the driver may keep in flight."""

    def submit(self, job: dict[str, Any]) -> Any:
        """Queue one job (study.runcell); a handle to wait on."""

    def wait(self, handles: list[Any]) -> list[Done]:
        """The finished ones among ``handles`` (waits up to about a second for one)."""

    def close(self, now: bool = False) -> None:
        """Stop the workers; ``now``: without letting the jobs in flight finish."""


class Inline:
    """Run each job at once in this process (module doc)."""

    name = "inline"
    workers = 1
    threads = None

    def __init__(self) -> None:
        self._done: list[Done] = []
        self._n = 0

    def start(self) -> None:
        warm_up(0.0)

    def capacity(self) -> int:
        return 1

    def submit(self, job: dict[str, Any]) -> Any:
        self._n += 1
        try:
            self._done.append((self._n, run_job(job), None))
        except Exception as e:  # a cell's failure is data: the driver retries and records it
            self._done.append((self._n, None, describe(e)))
        return self._n

    def wait(self, handles: list[Any]) -> list[Done]:
        done, self._done = self._done, []
        return done

    def close(self, now: bool = False) -> None:
        self._done = []


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(70)  # the driver is gone: stop computing for nobody
        time.sleep(1.0)


def _init_worker(threads: int, parent: int) -> None:
    """Pool worker set-up: torch threads, SIGINT left to the driver, exit with the driver."""
    import torch

    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class LocalPool:
    """``workers`` spawn-context processes with ``threads`` torch threads each (module doc)."""

    name = "local"

    def __init__(self, workers: int, threads: int = 1) -> None:
        self.workers, self.threads = workers, threads
        self._pool: cf.ProcessPoolExecutor | None = None

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_init_worker,
                                      initargs=(self.threads, os.getpid()))

    def start(self) -> None:
        """Start every worker and import torch in it (timed by the driver as start-up)."""
        self._pool = self._new_pool()
        cf.wait([self._pool.submit(warm_up, 0.5) for _ in range(self.workers)])

    def capacity(self) -> int:
        return 2 * self.workers  # one queued behind each running job: no idle gap

    def submit(self, job: dict[str, Any]) -> Any:
        assert self._pool is not None, "start() first"
        return self._pool.submit(run_job, job)

    def wait(self, handles: list[Any]) -> list[Done]:
        done, _ = cf.wait(handles, timeout=1.0, return_when=cf.FIRST_COMPLETED)
        out: list[Done] = []
        broken = False
        for f in done:
            e = f.exception()
            broken |= isinstance(e, cf.process.BrokenProcessPool)
            out.append((f, f.result() if e is None else None, None if e is None else describe(e)))
        if broken:  # a worker died: every job in flight failed with it; start a fresh pool
            self.close(now=True)
            self._pool = self._new_pool()
        return out

    def close(self, now: bool = False) -> None:
        """Shut the pool down; ``now``: terminate the workers instead of letting jobs finish."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if now:
            for p in list(getattr(pool, "_processes", {}).values()):
                p.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
