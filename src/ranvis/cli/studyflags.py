"""``ranvis study``'s parser (:func:`add_study`) and its grid flags: ``--arch ... --task ...``,
a small grid turned into the same tables a TOML plan holds (study.plan), so both are checked
by one parser."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis.cli.args import positive_int, subparser
from ranvis.errors import InputError

#: the flags that describe a grid (a plan file excludes them)
GRID_FLAGS = ("arch", "pool", "weight_init", "task", "strides", "taps", "images", "styles",
              "seeds", "starts", "size", "iters", "grow")


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
    for k in ("size", "iters", "seeds", "starts", "grow"):
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


def add_study(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "study", "run a grid of architectures x taps x images x seeds x tasks; "
                "resumable, on a process pool or Ray", [
                    "ranvis study --example > plan.toml",
                    "ranvis study plan.toml -o study             # then open study/index.html",
                    "ranvis study --arch vgg11,resnet18 --task invert --strides 4,8 "
                    "--images a.png,b.png --seeds 0-2 --size 64 -o study",
                    "ranvis study plan.toml -o study --ray       # on a local Ray instance"])
    s.add_argument("plan", nargs="?", default=None,
                   help="TOML plan file, or the name of a shipped plan (example, fig3, "
                        "fig3-quick); or give the grid as flags below")
    s.add_argument("-o", "--output", type=Path, default=None, metavar="DIR",
                   help="study directory: cells/, results.csv, plots, index.html")
    s.add_argument("--example", action="store_true", help="print a commented plan and exit")
    g = s.add_argument_group("grid as flags (instead of a plan file)")
    g.add_argument("--arch", default=None, metavar="A,B", help="architectures, e.g. vgg11,resnet18")
    g.add_argument("--pool", default=None, metavar="avg,max", help="pooling(s) (default: avg)")
    g.add_argument("--weight-init", default=None, metavar="paper,he",
                   help="weight initialization(s) (default: paper)")
    g.add_argument("--task", default=None, metavar="invert,texture,style", help="task(s)")
    g.add_argument("--strides", default=None, metavar="4,8",
                   help="inversion strides: per architecture the last tap at each stride "
                        "(default: 4,8,16)")
    g.add_argument("--taps", default=None, metavar="X,Y",
                   help="named taps instead (each architecture must have them)")
    g.add_argument("--images", default=None, metavar="A,B",
                   help="images: files, folders, globs, sample:NAME")
    g.add_argument("--styles", default=None, metavar="S", help="style images (--task style)")
    g.add_argument("--seeds", default=None, metavar="0-2", help="network seeds (default: 0)")
    g.add_argument("--starts", default=None, metavar="0",
                   help="noise starts (default: each seed's own)")
    g.add_argument("--size", type=positive_int, default=None, help="image side in px (default 64)")
    g.add_argument("--iters", type=positive_int, default=None,
                   help=f"iterations per cell (default {D.ITERS})")
    g.add_argument("--grow", action="store_true", default=None,
                   help="a tap that needs more than --size px runs at the size it needs (the "
                        "leaderboard marks it) instead of having no cell")
    _where(s.add_argument_group("where cells run (never part of a cell's key)"))
    return s


def _where(r: Any) -> None:
    """The flags that say where and how cells run: never part of a cell's key."""
    r.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="worker processes, or Ray CPUs of a local instance (default: all CPUs)")
    r.add_argument("--threads", type=positive_int, default=1, metavar="T",
                   help="torch threads per worker (default: 1)")
    r.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run cells as Ray tasks: a local Ray instance, or the cluster at "
                        "ADDRESS (host:port or auto); needs pip install 'ranvis[ray]'")
    r.add_argument("--inline", action="store_true",
                   help="run cells one by one in this process (debugging)")
    r.add_argument("--order", choices=("grid", "network"), default="grid",
                   help="grid: the plan's order (every network on one image before the next "
                        "image: an interrupted study covers every network); network: the cells "
                        "of one network draw together, so a worker builds it once")
    r.add_argument("--batch", type=positive_int, default=1, metavar="N",
                   help="run up to N inversion cells of one network draw that differ only "
                        "in their photograph as one job, their network passes batched (each "
                        "keeps its own optimization; implies --order network; default: 1, "
                        "each alone)")
    r.add_argument("--device", default="cpu", help="device of every cell (default: cpu)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
