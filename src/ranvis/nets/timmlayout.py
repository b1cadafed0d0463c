"""The layout (nets.arch.Layout) of a timm feature model: its taps by stride, their channels,
shapes at any input size and the smallest input each needs, from passes on the ``meta`` device
(nets.timmnet builds the network). Also where timm is imported (through the torchvision shim,
offline) and its feature models are made.

Receptive fields are traced only when first asked for (``ranvis layers``,
``Arch.receptive_field``; never to build or run a network) and kept for the process: a
symbolic torch.fx trace of the same meta-device feature model (timm truncates it after the
last tap, so nothing deeper is traced; no tensor is computed), walked by nets.receptive;
timm's no-trace functions and modules are kept whole, but for modules holding windows, traced
into where they can be. Each tap is one of the traced model's outputs, and its value stands
only where the walk's stride equals timm's reduction for it (a check that no window or
resampling was missed); otherwise, or where torch.fx cannot trace the model, the tap's
receptive field is unknown, with the reason."""
from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

import torch
from torch import nn

from ranvis.errors import InputError
from ranvis.nets.arch import Footprint, ReceptiveFieldUnknown, Tap, TapTable
from ranvis.nets.receptive import Info, LeafTracer, module_node, output_nodes, trace_walk

REF_SIDE = 256  # the side of the reference pass that checks the model takes any size
MAX_SIDE = 1024  # min_input's search range
WEIGHTED_TYPES = (nn.Conv2d, nn.Linear)


def import_timm() -> ModuleType:
    """``import timm`` through the torchvision shim (nets._torchvision), offline; InputError
    when timm is not installed."""
    from ranvis.nets._torchvision import import_torchvision

    import_torchvision()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # pretrained=False never asks; be sure anyway
    try:
        import timm
    except ModuleNotFoundError:
        raise InputError("timm: architectures need timm: pip install 'ranvis[timm]'") from None
    return timm


def create_features(base: str, upto: int | None = None) -> nn.Module:
    """timm's untrained feature model of ``base`` (feature maps 0..``upto``, all if None), built
    on the current default device; InputError if timm cannot build it that way."""
    timm = import_timm()
    kw: dict[str, Any] = {"pretrained": False, "features_only": True}
    if upto is not None:
        kw["out_indices"] = tuple(range(upto + 1))
    try:
        return timm.create_model(base, **kw)
    except Exception as e:  # timm raises many kinds; one line for the user
        why = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        raise InputError(f"timm cannot build {base} with feature maps by stride: {why}") from None


def _hooked(model: nn.Module) -> list[tuple[str, bool]] | None:
    """(module name, whether a pre-hook) of each tap of a timm FeatureHookNet (its taps are
    hooks on modules, in tap order, which a trace does not run); None for other models."""
    handles = getattr(getattr(model, "hooks", None), "_handles", None)
    if handles is None:
        return None
    where: dict[int, tuple[str, bool]] = {}
    for qual, m in model.named_modules():
        where.update({k: (qual, False) for k in m._forward_hooks})
        where.update({k: (qual, True) for k in m._forward_pre_hooks})
    return [where.get(h.id, ("", False)) for h in handles]


def _timm_trace(model: nn.Module) -> list[Info | None]:
    """(receptive field, jump) of each tap of a timm feature model, from nets.receptive's
    trace and walk: its outputs, or a hook model's hooked modules. timm's no-trace modules and
    functions are kept whole (``pad_same`` pads from the input's shape; a ``BatchNormAct2d``
    kept whole is ten times cheaper to trace) but those holding windows are traced into;
    where that fails, every no-trace module is kept whole, as timm's feature extraction does."""
    try:
        from timm.layers import get_notrace_functions, get_notrace_modules
    except ImportError:  # an older timm: plain torch.fx
        tracers = [LeafTracer()]
    else:
        leaves, functions = get_notrace_modules(), get_notrace_functions()
        tracers = [LeafTracer(leaves, functions),
                   LeafTracer(leaves, functions, windowed_leaves=True)]
    for k, tracer in enumerate(tracers):
        try:
            graph, info = trace_walk(model, tracer)
            break
        except Exception:  # noqa: BLE001 -- whatever torch.fx raises: the next try tells
            if k == len(tracers) - 1:
                raise
    hooked = _hooked(model)
    if hooked is not None:  # the trace ran the hooks on proxies: keep no proxy in the model
        kept = model.hooks._feature_outputs  # type: ignore[union-attr]
        for k in [k for k in kept if not isinstance(k, torch.device)]:
            del kept[k]
    nodes = output_nodes(graph) if hooked is None else [
        module_node(graph, qual, pre) for qual, pre in hooked]
    return [info[n] if n is not None else None for n in nodes]


def _tap_names(strides: Sequence[int]) -> list[str]:
    names: list[str] = []
    for s in strides:
        name, k = f"s{s}", 0
        while name in names:
            k += 1
            name = f"s{s}{chr(ord('a') + k)}"
        names.append(name)
    return names


class TimmLayout(TapTable):
    """nets.arch.Layout of a timm feature model, from passes on the ``meta`` device."""

    def __init__(self, base: str) -> None:
        self.base = base
        with torch.device("meta"):
            self.model = create_features(base).eval()
        info = self.model.feature_info
        strides, channels = info.reduction(), info.channels()
        self.has_pool = any(type(m) is nn.MaxPool2d for m in self.model.modules())
        self._taps = [Tap(n, i, int(c), int(s), None, 0, True) for i, (n, c, s) in
                      enumerate(zip(_tap_names(strides), channels, strides, strict=True))]
        self._by_name = {t.name: t for t in self._taps}
        if self._pass(REF_SIDE, REF_SIDE + 32) is None:
            raise InputError(f"timm's {base} does not take a {REF_SIDE + 32}x{REF_SIDE} input "
                             "(it needs one fixed input size, as a ViT does); ranvis reads "
                             "feature maps at any input size")

    @lru_cache(maxsize=64)  # noqa: B019 -- one layout per architecture, kept for the process
    def _pass(self, height: int, width: int) -> tuple[list[tuple[int, ...]], int] | None:
        """(shape of each tap, elements of every leaf module's output) at this size; None when
        the input is too small for the model."""
        count = [0]

        def hook(_m: nn.Module, _i: Any, out: Any) -> None:
            if isinstance(out, torch.Tensor):
                count[0] += out.numel()

        leaves = [m for m in self.model.modules() if not list(m.children())]
        handles = [m.register_forward_hook(hook) for m in leaves]
        try:
            with torch.no_grad():
                outs = self.model(torch.empty(1, 3, height, width, device="meta"))
        except (RuntimeError, ValueError, IndexError, AssertionError):
            return None
        finally:
            for h in handles:
                h.remove()
        outs = list(outs.values()) if isinstance(outs, dict) else list(outs)
        return [tuple(o.shape) for o in outs], count[0]

    @cache  # noqa: B019 -- as _pass
    def min_input(self, name: str) -> int:
        i = self._by_name[name].index

        def ok(side: int) -> bool:
            p = self._pass(side, side)
            return p is not None and min(p[0][i]) > 0

        hi = 1  # doubling, then bisection: few passes where 1 px already reaches the tap
        while hi < MAX_SIDE and not ok(hi):
            hi *= 2
        if hi >= MAX_SIDE:
            return MAX_SIDE
        lo = hi // 2 + 1 if hi > 1 else 1
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if ok(mid) else (mid + 1, hi)
        return lo

    def receptive_field(self, name: str) -> int | None:
        """Tap ``name``'s receptive field (module doc); ReceptiveFieldUnknown: why not."""
        got = self._traced()[name]
        if isinstance(got, str):
            raise ReceptiveFieldUnknown(got)
        return got

    @cache  # noqa: B019 -- as _pass
    def _traced(self) -> dict[str, int | None | str]:
        """Every tap's receptive field (px, None: the whole input) or why it is unknown."""
        try:
            outs = _timm_trace(self.model)
        except Exception as e:  # noqa: BLE001 -- torch.fx refuses in many ways; one line
            why = (str(e).strip().splitlines() or [""])[0][:120]
            reason = f"torch.fx cannot trace timm's {self.base} ({type(e).__name__}: {why})"
            return {t.name: reason for t in self._taps}
        if len(outs) != len(self._taps):
            return {t.name: f"the trace of timm's {self.base} has {len(outs)} outputs, not one "
                    f"per tap ({len(self._taps)})" for t in self._taps}
        bad = [(t, o) for t, o in zip(self._taps, outs, strict=True) if o is None
               or o[1] != t.stride]
        many = "s" if len(bad) > 1 else ""
        why = (f"the trace of timm's {self.base} reads stride{many} "
               f"{', '.join('-' if o is None else str(o[1]) for _, o in bad)} where timm's "
               f"{'are' if many else 'is'} {', '.join(str(t.stride) for t, _ in bad)} (a "
               "window or resampling the walk cannot read)")
        got: dict[str, int | None | str] = {t.name: why for t, _ in bad}
        return {t.name: got.get(t.name, o[0] if o else None)
                for t, o in zip(self._taps, outs, strict=True)}

    def out_shape(self, name: str, height: int, width: int) -> tuple[int, ...]:
        p = self._pass(height, width)
        if p is None:
            raise ValueError(f"{name} has no output at {width}x{height}")
        return p[0][self._by_name[name].index]

    def footprint(self, height: int, width: int, taps: Sequence[str]) -> Footprint:
        """Activations: every leaf module's output of the whole feature model (an upper
        bound for taps short of the deepest)."""
        p = self._pass(height, width)
        shapes, acts = p if p is not None else ([()] * len(self._taps), 0)
        per = {n: int(torch.Size(shapes[self._by_name[n].index]).numel()) for n in taps}
        return Footprint(int(acts), per, sum(p.numel() for p in self.model.parameters()))

    def weighted(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(n, tuple(m.weight.shape)) for n, m in self.model.named_modules()
                if isinstance(m, WEIGHTED_TYPES)]

    def representation(self, weighted: str) -> str:
        return self._taps[-1].name
