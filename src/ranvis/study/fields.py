"""Parsers for a plan's values (study.plan): seed lists, image references, task options.

Each takes a raw TOML value (or a flag's string) and returns a checked Python value, or raises
:class:`~ranvis.errors.InputError` with one line naming the field and what would be right. All
of it is torch-free, so a bad plan is refused at once.
"""
from __future__ import annotations

import glob
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranvis.errors import InputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
#: keyword arguments of a task function that the study itself sets (never given as options)
CONTROLLED = frozenset({"arch", "net", "net_seed", "sigma", "pool", "weight_init", "iters",
                        "seed", "device", "keep_freed", "layers", "callbacks", "resume",
                        "out_size", "content_layer", "style_layers"})
_NOT_DATA = ("Tensor", "Callable", "Resume", "NetArg", "Step", "Priors", "Weights")  # not plan values


@dataclass(frozen=True)
class ImageRef:
    """One image of a plan: ``name`` as shown in tables, ``source`` a path or ``sample:NAME``."""

    name: str
    source: str


def positive_int(v: Any, field: str) -> int:
    """``v`` if it is a positive integer (not a bool), else InputError naming ``field``."""
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise InputError(f"{field} must be a positive integer, got {v!r}")
    return v


def str_list(v: Any, field: str) -> list[str]:
    """A string, a comma-separated string or a list of strings as a list (no empty items)."""
    items = v.split(",") if isinstance(v, str) else v
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise InputError(f"{field} must be a string or a list of strings, got {v!r}")
    out = [x.strip() for x in items if x.strip()]
    if not out:
        raise InputError(f"{field} is empty; name at least one")
    return out


def int_list(v: Any, field: str) -> list[int]:
    """Seeds or strides: an integer, a list of integers, or a string like ``"0-2,5"``.
    Non-negative, repeats dropped, order kept."""
    if isinstance(v, int) and not isinstance(v, bool):
        v = [v]
    if isinstance(v, str):
        out: list[int] = []
        for part in (p.strip() for p in v.split(",")):
            m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not m or (m.group(2) and int(m.group(2)) < int(m.group(1))):
                raise InputError(f"{field}: {part!r} is not an integer or a range like 0-2")
            out += range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
        v = out
    if (not isinstance(v, list) or not v
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in v)):
        raise InputError(f"{field} must be non-negative integers (a list, or a string like "
                         f"\"0-2\"), got {v!r}")
    return list(dict.fromkeys(v))


def _expand(entry: str, base: Path) -> str:
    text = os.path.expanduser(os.path.expandvars(entry))
    if "$" in text:
        raise InputError(f"image {entry!r} names an environment variable that is not set")
    return str(base / text) if not os.path.isabs(text) else text


def _folder(path: Path) -> list[Path]:
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise InputError(f"image folder {path} holds no image ({', '.join(IMAGE_SUFFIXES)})")
    return files


def image_refs(v: Any, field: str, base: Path) -> list[ImageRef]:
    """Resolve image entries: ``sample:NAME``; a file; a folder (its images, sorted); a glob
    (``photos/*.png``). Relative paths are taken from ``base`` (the plan's folder); ``$VAR`` and
    ``~`` are expanded. InputError for a missing file, an empty folder or glob, an unknown
    sample. The files themselves are read later (study.cells), still before any work."""
    from ranvis.io.images import SAMPLES

    refs: list[ImageRef] = []
    for entry in str_list(v, field):
        if entry.startswith("sample:"):
            if entry.removeprefix("sample:") not in SAMPLES:
                raise InputError(f"{field}: unknown sample image {entry!r}; valid names: "
                                 f"{', '.join(sorted(SAMPLES))}")
            refs.append(ImageRef(entry, entry))
            continue
        text = _expand(entry, base)
        if any(c in text for c in "*?["):
            paths = [Path(p) for p in sorted(glob.glob(text)) if Path(p).is_file()]
            if not paths:
                raise InputError(f"{field}: no file matches {entry!r}")
        elif Path(text).is_dir():
            paths = _folder(Path(text))
        elif Path(text).is_file():
            paths = [Path(text)]
        else:
            raise InputError(f"{field}: image {entry!r} does not exist ({text}); give a file, "
                             "a folder, a glob or sample:NAME")
        refs += [ImageRef(p.stem, str(p)) for p in paths]
    return list(dict.fromkeys(refs))


def task_parameters(fn: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    """The keyword parameters of task function ``fn`` that a plan may set as options: every
    one with a default, except those the study controls and those taking tensors or callables."""
    out = {}
    for name, p in inspect.signature(fn).parameters.items():
        if p.default is inspect.Parameter.empty or name in CONTROLLED:
            continue
        if any(word in str(p.annotation) for word in _NOT_DATA):
            continue
        out[name] = p
    return out


def _same_kind(value: Any, default: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float)
    if isinstance(default, tuple | list):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def _plain(v: Any) -> Any:
    """A default as plain JSON data (tuples become lists)."""
    if isinstance(v, tuple | list):
        return [_plain(x) for x in v]
    return v


# The recipe a cell runs when its task's ``options`` name no ``preset`` (ranvis.presets):
# inversion and texture as the paper (one network per cell, from white noise; inversion over
# pixels up to stride 4 and the Fourier variable deeper), style transfer with the ``best`` recipe
# (the paper's 100:1:1000 barely moves from the content). A plan that names a preset gets the
# library's defaults for every other option.
STUDY_RECIPES: dict[str, dict[str, Any]] = {
    "invert": {"preset": "paper", "param": "auto"},
    "texture": {"preset": "paper"},
    "style": {"preset": "best"},
}


def task_options(fn: Callable[..., Any], given: Any, field: str,
                 recipe: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every option of ``fn`` (task_parameters) with its value: the one given in the plan, else
    ``recipe``'s when the plan names no ``preset`` (STUDY_RECIPES), else the library's default.
    InputError for an unknown name (listing the valid ones) or a value of another type than the
    default's."""
    if given is None:
        given = {}
    if not isinstance(given, dict):
        raise InputError(f"{field} must be a table of keyword arguments, got {given!r}")
    params = task_parameters(fn)
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise InputError(f"{field}: {fn.__name__} takes no option {unknown[0]!r}; valid "
                         f"options: {', '.join(sorted(params))}")
    for k, v in given.items():
        if not _same_kind(v, params[k].default):
            raise InputError(f"{field}.{k} must be like its default {params[k].default!r}, "
                             f"got {v!r}")
    out = {k: _plain(given.get(k, p.default)) for k, p in params.items()}
    if "preset" not in given:
        out.update({k: v for k, v in (recipe or {}).items() if k not in given and k in out})
    return out
