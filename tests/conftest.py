"""Shared test set-up. ``make test`` runs the suite on two pytest-xdist workers (one per core of
the project's 2-core machine, ``--dist loadfile`` so a module's fixtures are built once): each
worker then computes on one thread, as do the commands it starts, instead of two workers
spinning two OpenMP threads each on two cores."""
from __future__ import annotations

import os


def pytest_configure(config) -> None:  # noqa: ANN001 -- pytest's hook signature
    config.addinivalue_line("markers", "slow: needs a minute or more; make test runs it, "
                                       "`pytest -m 'not slow'` skips it while developing")
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"  # for the commands the tests start
        import torch

        torch.set_num_threads(1)
