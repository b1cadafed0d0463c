"""timm architectures in the registry: ``timm:NAME`` checked against what timm builds offline,
and its :class:`~ranvis.nets.arch.Arch` (taps by stride from nets.timmlayout, presets by analogy
with VGG-19's). The network itself is nets.timmnet.TimmNet."""
from __future__ import annotations

import difflib
from functools import cache

from ranvis.errors import InputError
from ranvis.nets.arch import Arch, Presets, Tap
from ranvis.nets.timmlayout import TimmLayout, import_timm

PREFIX = "timm:"


def check_timm_name(name: str) -> str:
    """``name`` (``timm:NAME``) if timm knows NAME as an architecture it builds offline, else
    InputError (one line): unknown names, hub or file references, pretrained tags."""
    base = name[len(PREFIX):]
    if not base or any(c in base for c in ":/\\."):
        raise InputError(f"{name!r} is not a timm architecture name: give timm:NAME with a "
                         "name from timm.list_models(), without a hub prefix or pretrained tag")
    timm = import_timm()
    if not timm.is_model(base):
        close = difflib.get_close_matches(base, timm.list_models(), n=3)
        hint = f"; did you mean {', '.join(PREFIX + c for c in close)}?" if close else ""
        raise InputError(f"timm knows no architecture {base!r}{hint} (timm.list_models() "
                         "lists them)")
    return name


def _presets(taps: list[Tap]) -> Presets:
    names = [t.name for t in taps]
    upto = [t.name for t in taps if t.stride <= 16] or names[:1]
    first4 = next((t.name for t in taps if t.stride >= 4), names[0])
    return Presets(content=first4, style=tuple(upto),
                   texture=tuple(t.name for t in taps if t.stride <= 8) or tuple(names[:1]),
                   fourier_after=first4, invert=tuple(names), judge=tuple(names),
                   source="ranvis's choice by analogy with VGG-19's (nets.timmarch); not "
                          "measured")


@cache
def timm_arch(name: str) -> Arch:
    """The :class:`Arch` of ``timm:NAME`` (InputError for a name timm does not build)."""
    base = check_timm_name(name)[len(PREFIX):]
    layout = TimmLayout(base)
    taps = tuple(t.name for t in layout.nodes())
    return Arch(name, "timm", f"timm's {base} (untrained, feature maps by stride "
                f"{', '.join(taps)})", lambda: layout, lambda: taps,
                _presets(layout.nodes()), has_pool=layout.has_pool, extra={"timm": base})
