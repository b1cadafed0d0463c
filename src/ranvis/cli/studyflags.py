"""``ranvis study --arch ... --task ...``: a small grid given as flags, turned into the same tables
a TOML plan holds (study.plan), so both are checked by one parser."""
from __future__ import annotations

import argparse
from typing import Any

from ranvis.errors import InputError

#: the flags that describe a grid (a plan file excludes them)
GRID_FLAGS = ("arch", "pool", "weight_init", "task", "strides", "taps", "images", "styles",
              "seeds", "starts", "size", "iters")


def given_grid_flags(a: argparse.Namespace) -> list[str]:
    """The grid flags set on the command line (argparse defaults are None)."""
    return [f for f in GRID_FLAGS if getattr(a, f, None) is not None]


def _split(v: str) -> list[str]:
    return [x.strip() for x in v.split(",") if x.strip()]


def plan_tables(a: argparse.Namespace) -> dict[str, Any]:
    """The plan's tables from the flags (InputError when a needed flag is missing)."""
    for need in ("arch", "task", "images"):
        if getattr(a, need) is None:
            raise InputError(f"a study needs a plan file or --arch, --task and --images "
                             f"(missing --{need}; ranvis study --example prints a plan)")
    study: dict[str, Any] = {"name": "study", "images": a.images}
    for k in ("size", "iters", "seeds", "starts"):
        if getattr(a, k) is not None:
            study[k] = getattr(a, k)
    arch: dict[str, Any] = {"name": _split(a.arch)}
    if a.pool is not None:
        arch["pool"] = _split(a.pool)
    if a.weight_init is not None:
        arch["init"] = _split(a.weight_init)
    tasks = []
    for kind in _split(a.task):
        t: dict[str, Any] = {"kind": kind}
        if a.taps is not None:
            t["taps"] = a.taps
        elif a.strides is not None and kind == "invert":
            t["strides"] = a.strides
        if kind == "style":
            if a.styles is None:
                raise InputError("--task style needs --styles (one or more style images)")
            t["styles"] = a.styles
        tasks.append(t)
    return {"study": study, "arch": [arch], "task": tasks}
