"""Cells as Ray tasks (``pip install 'ranvis[ray]'``): the same ``run_job`` as the local pool,
wrapped in ``@ray.remote(num_cpus=1)``.

``address=None`` starts a local Ray instance sized like the local pool: ``num_cpus=workers``,
no dashboard, a small object store (:data:`OBJECT_STORE_BYTES`: a job carries a 64 px image,
a result a PNG and a run record, a few hundred kB at most), usage statistics off (nothing is
sent anywhere). With an address (``HOST:PORT`` of a running cluster, or ``auto``) it connects
to that cluster and uses all of its CPUs.

**Who writes the store.** Ray tasks *return* their results and the driver writes the cell store,
exactly as with the local pool: a cluster needs no shared file system (the driver also ships
each job's prepared image), a worker that dies leaves nothing half-written, and only one
process ever writes ``DIR``. Every node needs the same ranvis installed (and, for trained
networks, the weights file at the same path).
"""
from __future__ import annotations

import os
from typing import Any

from ranvis.errors import InputError
from ranvis.study.executors import Done, describe
from ranvis.study.runcell import warm_up
from ranvis.study.rungroup import run_job

OBJECT_STORE_BYTES = 128 * 1024**2  # Ray's minimum is 75 MiB; results are small
QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}  # never phone home


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'ranvis[ray]'") from None
    return ray


def _cell_with_threads(job: dict[str, Any], threads: int) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    return run_job(job)


class RayExecutor:
    """Ray tasks on a local instance (``address=None``) or a cluster (module doc)."""

    name = "ray"

    def __init__(self, address: str | None, workers: int, threads: int = 1) -> None:
        self.address, self.workers, self.threads = address, workers, threads
        self._ray = _ray()
        self._remote: Any = None
        self._inflight: set[Any] = set()
        self._env_before: dict[str, str | None] = {}

    def start(self) -> None:
        """Start or join Ray, then one warm-up task per CPU (timed as start-up)."""
        ray = self._ray
        self._env_before = {k: os.environ.get(k) for k in QUIET_ENV}
        os.environ.update(QUIET_ENV)  # read by the processes Ray starts; restored by close()
        if self.address is None:
            ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False,
                     object_store_memory=OBJECT_STORE_BYTES, logging_level="warning",
                     configure_logging=True)
        else:
            ray.init(address=self.address, log_to_driver=False, logging_level="warning")
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_cell_with_threads)
        warm = ray.remote(num_cpus=1)(warm_up)
        ray.get([warm.remote(0.5) for _ in range(self.workers)])

    def capacity(self) -> int:
        return 2 * self.workers

    def submit(self, job: dict[str, Any]) -> Any:
        ref = self._remote.remote(job, self.threads)
        self._inflight.add(ref)
        return ref

    def wait(self, handles: list[Any]) -> list[Done]:
        ready, _ = self._ray.wait(handles, num_returns=len(handles), timeout=0)
        if not ready:
            ready, _ = self._ray.wait(handles, num_returns=1, timeout=1.0)
        out: list[Done] = []
        for ref in ready:
            self._inflight.discard(ref)
            try:
                out.append((ref, self._ray.get(ref), None))
            except Exception as e:  # RayTaskError, WorkerCrashedError, …: the driver retries
                out.append((ref, None, describe(e)))
        return out

    def close(self, now: bool = False) -> None:
        """Leave Ray (a local instance stops with it); ``now``: cancel the cells in flight."""
        if now and self._ray.is_initialized():
            for ref in self._inflight:
                self._ray.cancel(ref, force=True)
        self._inflight = set()
        if self._ray.is_initialized():
            self._ray.shutdown()
        for k, v in self._env_before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._env_before = {}
