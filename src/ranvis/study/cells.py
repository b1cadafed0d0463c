"""A plan's grid: every cell with its settings and its key, and the prepared images.

A cell is a pure function of its ``settings``: the task, the network (architecture, pooling,
initialization, σ and seed; or a fixed spec; or the SHA-256 of trained weights), the taps, the
SHA-256 of the prepared image's pixels (and the style's), size (the study's, or a grown
target's: study.taps), iterations, the noise start and *every* task option (the library's
defaults filled in). Its key is the SHA-256 of that, as
canonical JSON, with the ranvis version: change any of them, or an image file's pixels, and it
is another cell; rename a file or relabel an architecture and it is the same cell. An option
left at None (the library's own default) is left out of the key, so a task option added later
with a None default keeps every stored cell (scripts/rekey_cells.py re-keys a study stored
before this rule).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ranvis import _version
from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.study.check import task_targets
from ranvis.study.fields import ImageRef
from ranvis.study.model import NetChoice, Plan, Task
from ranvis.study.taps import Target

KEY_CHARS = 20  # hex digits of the SHA-256 kept in a key (80 bits)


@dataclass(frozen=True)
class Cell:
    """One optimization: ``settings`` (what it computes), ``key`` (where it is stored) and
    ``info`` (how tables show it: task name, network label, image name, tap, stride, …)."""

    key: str
    settings: dict[str, Any]
    info: dict[str, Any]


@dataclass
class Grid:
    """Every cell of a plan, the requested combinations that have no cell (``missing``: task,
    network, stride and why), and the prepared images by pixel hash."""

    cells: list[Cell] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, np.ndarray] = field(default_factory=dict)  # sha -> float32 [1,3,S,S]


def cell_key(settings: dict[str, Any]) -> str:
    """SHA-256 (first KEY_CHARS hex digits) of the canonical JSON of settings + version, the
    options at None left out (module doc)."""
    opts = {k: v for k, v in (settings.get("options") or {}).items() if v is not None}
    keyed = {**settings, "options": opts} if "options" in settings else settings
    text = json.dumps({"ranvis": _version.__version__, **keyed}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]


def prepare_image(ref: ImageRef, size: int) -> np.ndarray:
    """Load ``ref`` and centre-crop it to a ``size`` square: float32 [1, 3, size, size]."""
    from ranvis.io.images import center_square, load

    img = load(ref.source)
    if min(img.shape[-2:]) < D.MIN_IMAGE_SIDE:
        raise InputError(f"image {ref.source} is {img.shape[-1]}x{img.shape[-2]}; it needs at "
                         f"least {D.MIN_IMAGE_SIDE} px a side")
    return np.ascontiguousarray(center_square(img, size).numpy(), dtype=np.float32)


def pixel_hash(arr: np.ndarray) -> str:
    """SHA-256 of an image array's shape and float32 bytes."""
    return hashlib.sha256(str(arr.shape).encode() + arr.tobytes()).hexdigest()


def net_settings(net: NetChoice, seed: int | None) -> dict[str, Any]:
    """The network part of a cell's settings (no label: labels are for display)."""
    if net.spec is not None:
        return {"spec": net.spec}
    if net.weights is not None:
        return {"arch": net.arch, "pool": net.pool, "weights_sha256": net.weights_sha256}
    return {"arch": net.arch, "pool": net.pool, "init": net.init, "sigma": net.sigma,
            "net_seed": seed}


def _load_all(refs: tuple[ImageRef, ...], size: int, grid: Grid) -> list[tuple[ImageRef, str]]:
    out = []
    for ref in refs:
        arr = prepare_image(ref, size)
        sha = pixel_hash(arr)
        grid.images.setdefault(sha, arr)
        out.append((ref, sha))
    return out


class _Prepared:
    """A task's images and styles, prepared at the study's size and, on demand, at the size of
    a grown target (study.taps): the same photographs, cropped and resized the same way."""

    def __init__(self, plan: Plan, task: Task, grid: Grid) -> None:
        self.plan, self.task, self.grid = plan, task, grid
        self.sizes: dict[int, tuple[list[Any], list[Any]]] = {}
        self.at(plan.size)  # every image read here, before any work

    def at(self, size: int | None) -> tuple[list[Any], list[Any]]:
        """(images, styles) at ``size`` (None: the study's), each a list of (ref, sha)."""
        size = size or self.plan.size
        if size not in self.sizes:
            styles = (_load_all(self.task.styles, size, self.grid) if self.task.kind == "style"
                      else [(None, None)])
            self.sizes[size] = (_load_all(self.task.images, size, self.grid), styles)
        return self.sizes[size]


def _task_cells(plan: Plan, task: Task, grid: Grid) -> None:
    nets = {n.label: n for n in plan.nets}
    tg = task_targets(plan, task)
    prep = _Prepared(plan, task, grid)
    images, styles = prep.at(None)
    for label in task.nets:
        grid.missing += [{"task": task.name, "kind": task.kind, "arch": label, "stride": t.stride,
                          "reason": t.reason} for t in tg[label] if not t.runs]
    if task.kind == "zerocost":
        _zerocost_cells(plan, task, grid, tg, prep)
        return
    pairs = [(i, j) for i in range(len(images)) for j in range(len(styles))]
    for draw_index in range(max(len(plan.draws(task, nets[n])) for n in task.nets)):
        for i, j in pairs:
            for label in task.nets:
                draws = plan.draws(task, nets[label])
                if draw_index >= len(draws):
                    continue
                for target in (t for t in tg[label] if t.runs):
                    imgs, stys = prep.at(target.size)
                    _add(grid, plan, task, nets[label], target, draws[draw_index],
                         (*imgs[i], *stys[j]))


def _zerocost_cells(plan: Plan, task: Task, grid: Grid, tg: dict[str, list[Target]],
                    prep: _Prepared) -> None:
    """One cell per network and draw, scoring it over the batch of all the task's images."""
    nets = {n.label: n for n in plan.nets}
    for label in task.nets:
        for target in (t for t in tg[label] if t.runs):
            images = prep.at(target.size)[0]
            batch = [sha for _ref, sha in images]
            for seed, _start in plan.draws(task, nets[label]):
                _add(grid, plan, task, nets[label], target, (seed, 0),
                     (images[0][0], batch[0], None, None), batch=batch,
                     name=f"batch of {len(batch)}")


def _add(grid: Grid, plan: Plan, task: Task, net: NetChoice, target: Target,
         draw: tuple[int | None, int], images: tuple[Any, ...], batch: list[str] | None = None,
         name: str | None = None) -> None:
    ref, sha, sref, ssha = images
    seed, start = draw
    settings = {"task": task.kind, "net": net_settings(net, seed), "taps": list(target.taps),
                "image": sha, "size": target.size or plan.size, "iters": plan.iters,
                "start": start, "options": task.options}
    if batch is not None:  # zerocost: the batch, not one image; no optimization
        settings.update(batch=batch, iters=0)
    if ssha is not None:
        settings["style"] = ssha
    info = {"task": task.name, "kind": task.kind, "arch": net.label, "arch_name": net.arch,
            "pool": net.pool, "init": net.init, "sigma": net.sigma,
            "fixed": "" if net.random else ("spec" if net.spec else "trained"),
            "tap": target.taps[-1] if task.kind == "invert" else ",".join(target.taps),
            "stride": target.stride, "image": name or ref.name, "style": sref.name if sref else "",
            "net_seed": seed, "start": start, "weights": net.weights}
    grid.cells.append(Cell(cell_key(settings), settings, info))


def expand(plan: Plan) -> Grid:
    """Every cell of ``plan`` (repeats, e.g. the same pixels under two names, dropped), loading
    and preparing every image first: InputError for any unreadable one, before any work."""
    grid = Grid()
    for task in plan.tasks:
        _task_cells(plan, task, grid)
    seen: set[str] = set()
    grid.cells = [c for c in grid.cells if not (c.key in seen or seen.add(c.key))]
    return grid
