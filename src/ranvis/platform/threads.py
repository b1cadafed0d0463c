"""How many CPU threads a run computes with, and how idle OpenMP threads wait.

Two process-wide settings decide how a CPU run behaves on a shared machine:

* the number of intra-op threads (``torch.set_num_threads``): a task sets it for the run's
  duration only and gives the caller's value back afterwards (:func:`thread_scope`);
* the OpenMP wait policy: by default an OpenMP thread that has finished its share *spins* for a
  while before it sleeps, which is right on an idle machine and ruinous on a shared one (the
  spinning threads take the cores the others need: issue 29 measured ``ranvis texture
  sample:gravel --size 96 --iters 40`` at 23-43 s with two spinning threads beside another job
  against 6 s with one). The policy is read once, when the OpenMP runtime starts (at torch's
  import), so only a program's entry point may choose it: the ``ranvis`` command does, through
  :func:`prefer_passive_waits`, before it imports torch; a library call never touches it.

The command's default thread count is :func:`default_threads`: every core this process may use
(``os.sched_getaffinity``), with passive waits (benchmarks/README.md, "Threads on a shared
machine", has the measurements behind that choice). The API's default (``threads=None``) leaves
torch's own setting as the caller has it.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ranvis.errors import InputError

WAIT_POLICY_ENV = "OMP_WAIT_POLICY"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; os.cpu_count() where the platform
    has no affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """The ``ranvis`` command's thread count when ``--threads`` is not given: an explicit
    ``OMP_NUM_THREADS`` (a positive integer) wins, else :func:`usable_cores`."""
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return usable_cores()


def prefer_passive_waits() -> bool:
    """Ask OpenMP to put idle threads to sleep at once (``OMP_WAIT_POLICY=PASSIVE``) unless the
    environment already chose a policy. Only a program's entry point may call this, and only
    before torch is imported (the runtime reads the variable once, at start-up); returns whether
    the policy in effect for this process will be passive."""
    import sys

    if "torch" in sys.modules:
        return os.environ.get(WAIT_POLICY_ENV, "").upper() == "PASSIVE"
    os.environ.setdefault(WAIT_POLICY_ENV, "PASSIVE")
    return os.environ[WAIT_POLICY_ENV].upper() == "PASSIVE"


def wait_policy() -> str:
    """The OpenMP wait policy this process started with, as the run record reports it:
    "passive", "active", or "default" (unset: spin, then sleep)."""
    value = os.environ.get(WAIT_POLICY_ENV, "").strip().lower()
    return value if value in ("passive", "active") else "default"


def check_threads(threads: int | None) -> int | None:
    """``threads`` if it is None or a positive integer, else InputError (one line)."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads must be a positive integer, got {threads!r}")
    return threads


@contextlib.contextmanager
def thread_scope(threads: int | None) -> Iterator[int]:
    """Compute with ``threads`` intra-op threads inside the block (None: torch's current
    setting), and give the previous setting back on exit. Yields the count in effect."""
    import torch

    saved = torch.get_num_threads()
    want = saved if threads is None else threads
    if want != saved:
        torch.set_num_threads(want)
    try:
        yield want
    finally:
        if torch.get_num_threads() != saved:
            torch.set_num_threads(saved)
