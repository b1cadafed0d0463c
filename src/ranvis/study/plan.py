"""A study plan: what to run, as data (a TOML file, or flags turned into the same tables).

::

    [study]                        # sizes, iterations, seeds, images of every task
    size = 64                      # px: images are centre-cropped to a square of this side
    iters = 300                    # optimizer iterations per cell
    seeds = "0-2"                  # network draws (net_seed); a list or a string of ranges
    starts = [0]                   # noise starts (optional; default: each seed's own, start = seed)
    images = ["photos/", "sample:astronaut"]   # files, folders, globs, sample:NAME
    # grow = true                  # a tap needing more than size px runs at the size it needs

    [[arch]]                       # one or more architectures; list values are crossed
    name = ["vgg16", "vgg19"]      # `ranvis layers` names them
    pool = ["avg", "max"]          # avg (the paper) | max
    init = "paper"                 # paper: N(0, sigma) | he
    # sigma = 0.015  label = "..."  spec = "stacked" | "net.json"  weights = "vgg19.pth"

    [[task]]
    kind = "invert"                # invert | texture | style | zerocost
    strides = [4, 8, 16]           # per architecture, the last tap at that stride; or taps = [...]
    # images = [...]  styles = [...]  archs = ["vgg19-avg"]  options = { param = "auto" }
    # seeds = [0, 1]  starts = [0]   (this task's own; default: the study's)

:func:`parse_plan` checks every value (study.fields) and the architectures and taps
(ranvis.nets) and returns a :class:`Plan`; study.cells expands it into cells.
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.study import fields as F
from ranvis.study.check import check_plan
from ranvis.study.model import NetChoice, Plan, Task
from ranvis.study.netchoice import net_choices

KINDS = ("invert", "texture", "style", "zerocost")
DEFAULT_STRIDES = (4, 8, 16)  # an invert task without strides or taps
_KEYS = {"study": {"name", "size", "iters", "seeds", "starts", "images", "grow"},
         "arch": {"name", "pool", "init", "sigma", "label", "spec", "weights"},
         "task": {"kind", "name", "strides", "taps", "images", "styles", "archs", "options",
                  "seeds", "starts"}}


def _table(data: Any, section: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError(f"[{section}] must be a table, got {data!r}")
    unknown = sorted(set(data) - _KEYS[section])
    if unknown:
        raise InputError(f"[{section}] has no key {unknown[0]!r}; valid keys: "
                         f"{', '.join(sorted(_KEYS[section]))}")
    return data


def _tables(data: Any, section: str) -> list[dict[str, Any]]:
    items = data if isinstance(data, list) else [data]
    return [_table(t, section) for t in items]


def load_plan(path: str | Path) -> Plan:
    """Read and check the TOML plan at ``path``, or a plan shipped with ranvis by name
    (study.shipped); InputError (one line) for a missing, malformed or invalid plan."""
    from ranvis.study.shipped import shipped_path

    p = Path(path)
    if not p.exists() and shipped_path(str(path)) is not None:
        p = shipped_path(str(path))
    if not p.is_file():
        raise InputError(f"plan {path} is not a file; give a TOML plan (ranvis study --example "
                         "prints one)")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"plan {path} is not valid TOML: {' '.join(str(e).split())}") from None
    return parse_plan(data, p.resolve().parent, source=str(path))


def parse_plan(data: dict[str, Any], base: Path, source: str = "") -> Plan:
    """A :class:`Plan` from a plan's tables; relative image paths are taken from ``base``."""
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise InputError(f"plan has no section {unknown[0]!r}; valid sections: [study], "
                         "[[arch]], [[task]]")
    study = _table(data.get("study", {}), "study")
    size = F.positive_int(study.get("size", 64), "study.size")
    if size < D.MIN_IMAGE_SIDE:
        raise InputError(f"study.size must be at least {D.MIN_IMAGE_SIDE} px, got {size}")
    seeds = tuple(F.int_list(study.get("seeds", [0]), "study.seeds"))
    starts = study.get("starts")
    grow = study.get("grow", False)
    if not isinstance(grow, bool):
        raise InputError(f"study.grow must be true or false, got {grow!r}")
    nets = _nets(_tables(data.get("arch", []), "arch"))
    if not nets:
        raise InputError("plan names no architecture: add an [[arch]] table (or --arch)")
    images = study.get("images")
    tables = _tables(data.get("task", []), "task")
    if not tables:
        raise InputError("plan names no task: add a [[task]] table (or --task)")
    kinds = [t.get("kind") for t in tables]
    tasks = tuple(_task(t, i, images, nets, base, kinds.count(t.get("kind")) > 1)
                  for i, t in enumerate(tables))
    names = [t.name for t in tasks]
    if len(set(names)) < len(names):
        raise InputError(f"two tasks are named {max(names, key=names.count)!r}; give each a "
                         "distinct name")
    plan = Plan(name=str(study.get("name", Path(source).stem or "study")), size=size,
                iters=F.positive_int(study.get("iters", D.ITERS), "study.iters"), seeds=seeds,
                starts=None if starts is None else tuple(F.int_list(starts, "study.starts")),
                nets=nets, tasks=tasks, source=source, grow=grow)

    check_plan(plan)
    return plan


def _nets(tables: list[dict[str, Any]]) -> tuple[NetChoice, ...]:

    out: list[NetChoice] = []
    for i, t in enumerate(tables):
        out += net_choices(t, f"arch[{i}]")
    labels = [n.label for n in out]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise InputError(f"two architectures are labelled {twice[0]!r}; give each a distinct "
                         "label")
    return tuple(out)


def _task(t: dict[str, Any], i: int, images: Any, nets: tuple[NetChoice, ...], base: Path,
          numbered: bool) -> Task:
    where = f"task[{i}]"
    kind = t.get("kind")
    if kind not in KINDS:
        raise InputError(f"{where}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if "strides" in t and "taps" in t:
        raise InputError(f"{where}: give strides or taps, not both")
    if kind == "zerocost" and ({"strides", "taps", "options"} & set(t)):
        raise InputError(f"{where}: a zerocost task takes images, archs and seeds only (it scores "
                         "each network up to its deepest tap that fits the size)")
    if kind != "invert" and "strides" in t:
        raise InputError(f"{where}: strides apply to invert; {kind} takes taps (default: each "
                         "architecture's preset)")
    if t.get("images", images) is None:
        raise InputError(f"{where} has no images: set study.images or {where}.images")
    labels = [n.label for n in nets]
    chosen = F.str_list(t["archs"], f"{where}.archs") if "archs" in t else labels
    for name in chosen:
        if name not in labels:
            raise InputError(f"{where}.archs: no architecture labelled {name!r}; the plan's "
                             f"labels: {', '.join(labels)}")
    if kind == "style" and "styles" not in t:
        raise InputError(f"{where}: a style task needs styles = [...] (style images)")
    if kind != "style" and "styles" in t:
        raise InputError(f"{where}: styles apply to a style task only")
    strides: list[int] = []
    if kind == "invert" and "taps" not in t:
        strides = F.int_list(t.get("strides", list(DEFAULT_STRIDES)), f"{where}.strides")
        if 0 in strides:
            raise InputError(f"{where}.strides must be positive, got {strides}")
    from ranvis import tasks as T

    fn = {"invert": T.invert, "texture": T.synthesize_texture, "style": T.transfer_style,
          "zerocost": None}[kind]
    return Task(kind=kind, name=str(t.get("name", f"{kind}-{i}" if numbered else kind)),
                images=tuple(F.image_refs(t.get("images", images), f"{where}.images", base)),
                nets=tuple(chosen), strides=tuple(strides),
                taps=tuple(F.str_list(t["taps"], f"{where}.taps")) if "taps" in t else (),
                styles=tuple(F.image_refs(t["styles"], f"{where}.styles", base))
                if "styles" in t else (),
                options=F.task_options(fn, t.get("options"), f"{where}.options",
                                       F.STUDY_RECIPES[kind]) if fn is not None else {},
                seeds=tuple(F.int_list(t["seeds"], f"{where}.seeds")) if "seeds" in t else None,
                starts=tuple(F.int_list(t["starts"], f"{where}.starts"))
                if "starts" in t else None)
