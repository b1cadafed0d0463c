"""An architecture as a value: :class:`Arch`, its :class:`Tap` table and its :class:`Presets`.

An :class:`Arch` knows everything a task needs about a network *before* any weight exists: the
names a loss may read (taps) in forward order, each tap's channels, stride and receptive field,
the smallest input each needs, the weighted layers a spec seeds, and the activation counts the
memory estimate adds up. These come from a :class:`Layout`, computed once per architecture:
VGG's from its configuration list (``nets.vgg``), torchvision's and the multi-scale network's from
a pass of the traced module tree on the ``meta`` device (``nets.graph``: shapes without
computing). ``nets.build.build_net(spec, device)`` makes the network itself (``nets.base.FrozenNet``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ranvis.errors import InputError


@dataclass(frozen=True)
class Tap:
    """One node a loss may read. ``stride``: input pixels per output position (the product of
    every stride before it); ``receptive_field``: side in input pixels that one output unit
    sees through the conv/pool path (None: the whole input, after global pooling or flattening);
    ``min_input``: the smallest square input side for which it has at least one position;
    ``spatial``: [B, C, h, w] (True) or a vector [B, C] (False). A timm architecture's taps
    carry None for a spatial tap too: its receptive fields are traced only when asked for
    (:meth:`Arch.receptive_field`)."""

    name: str
    index: int
    channels: int
    stride: int
    receptive_field: int | None
    min_input: int
    spatial: bool = True


class ReceptiveFieldUnknown(ValueError):
    """A tap whose receptive field could not be computed; ``str(err)`` is one line: why
    (:meth:`Arch.receptive_field`)."""


@dataclass(frozen=True)
class Footprint:
    """What the memory estimate needs of one run (memory.estimate_bytes): ``activations`` =
    elements of every node computed up to the deepest tap, ``per_tap`` = elements of each asked
    tap, ``params`` = weights used up to the deepest tap."""

    activations: int
    per_tap: dict[str, int]
    params: int


class Layout(Protocol):
    """How an architecture family describes itself (nets.vgglayout.VGGLayout, nets.graph.GraphLayout, nets.timmlayout.TimmLayout)."""

    def nodes(self) -> list[Tap]: ...
    def node(self, name: str) -> Tap: ...
    def resolve(self, name: str) -> str | None: ...
    def min_input(self, name: str) -> int: ...
    def receptive_field(self, name: str) -> int | None: ...
    def out_shape(self, name: str, height: int, width: int) -> tuple[int, ...]: ...
    def footprint(self, height: int, width: int, taps: Sequence[str]) -> Footprint: ...
    def weighted(self) -> list[tuple[str, tuple[int, ...]]]: ...
    def representation(self, weighted: str) -> str: ...


class TapTable:
    """The accessors a layout with a fixed list of named taps shares (nets.vgglayout,
    nets.timmlayout): ``_taps`` in forward order, ``_by_name`` the same by name."""

    _taps: list[Tap]
    _by_name: dict[str, Tap]

    def nodes(self) -> list[Tap]:
        return list(self._taps)

    def node(self, name: str) -> Tap:
        return self._by_name[name]

    def resolve(self, name: str) -> str | None:
        return name if name in self._by_name else None

    def receptive_field(self, name: str) -> int | None:
        return self._by_name[name].receptive_field


@dataclass(frozen=True)
class Presets:
    """An architecture's default taps. ``content``/``style``/``texture``: the task defaults
    (VGG-19: the paper's conv2_2, conv1_1…conv5_1, conv1_1…conv4_1); ``fourier_after``: inversion
    optimizes pixels for taps up to and including this one, preconditioned Fourier coefficients
    deeper (tasks.auto_param); ``invert``: one tap per stride, shallow to deep (Figures 1–3);
    ``deep``: further taps Figures 1–2 and 4 invert at full size; ``judge``: rectified taps an
    independent judge reads (experiments.texture_quality); ``source``: where the choice comes from."""

    content: str
    style: tuple[str, ...]
    texture: tuple[str, ...]
    fourier_after: str
    invert: tuple[str, ...]
    judge: tuple[str, ...]
    deep: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Arch:
    """One architecture, before any weight exists (nets.build.build_net makes its network from a
    spec's seeds by ``family``: vgg, graph or timm); ``layout()`` its taps and shapes (computed once, cached by the registry);
    ``default_taps``: the readable list ``ranvis layers`` shows (any node of the layout is
    accepted); ``fixed_input``: the only input side it takes when a tap needs it (VGG's fc
    layers: 256), else None; ``has_pool``: whether ``pool`` swaps something."""

    name: str
    family: str
    description: str
    layout: Callable[[], Layout]
    default_taps: Callable[[], tuple[str, ...]]
    presets: Presets
    fixed_input: int | None = None
    has_pool: bool = True
    weights_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    # -- taps ----------------------------------------------------------------------------
    def nodes(self) -> list[Tap]:
        """Every node a loss may read, in forward order."""
        return self.layout().nodes()

    def tap(self, name: str) -> Tap:
        """The :class:`Tap` for ``name`` (a node, or a module prefix as torchvision resolves it);
        InputError listing the valid names for an unknown one."""
        node = self.layout().resolve(name)
        if node is None:
            raise InputError(self._unknown(name))
        t = self.layout().node(node)
        # padding lets a strided tap have one position at any input side (ResNet's at 1 px); an
        # input smaller than the stride is still below one position's worth of pixels
        least = max(self.layout().min_input(node), t.stride if t.spatial else 1)
        return Tap(name, t.index, t.channels, t.stride, t.receptive_field, least, t.spatial)

    def _unknown(self, name: str) -> str:
        shown = ", ".join(self.default_taps())
        more = len(self.nodes()) > len(self.default_taps())
        tail = f" (or any node `ranvis layers --arch {self.name} --all` lists)" if more else ""
        return f"unknown layer {name!r} for {self.name}; valid layers: {shown}{tail}"

    def check_taps(self, names: str | Sequence[str]) -> list[str]:
        """Parse ``"pool2,pool4"`` or a list into known tap names, in forward order, without
        repeats. InputError (one line, naming the valid taps) for an unknown or missing name."""
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not names:
            raise InputError(f"no layer given: name at least one, e.g. {self.presets.content}")
        order = {n: self.tap(n).index for n in names}  # raises for the first unknown name
        return sorted(dict.fromkeys(names), key=lambda n: order[n])

    def deepest(self, names: Sequence[str]) -> str:
        """The tap of ``names`` that comes last in forward order."""
        return max(names, key=lambda n: self.tap(n).index)

    def receptive_field(self, name: str) -> int | None:
        """Side in input pixels that one unit of tap ``name`` sees (None: the whole input, for
        a vector tap or one after global pooling). VGG's and the traced architectures' come
        with their taps; a timm architecture's are traced the first time one is asked for
        (0.003-0.07 CPU s on the atlas's 77, kept for the process; nets.timmlayout), never
        when a network is built or run. ReceptiveFieldUnknown (one line: why) where the trace fails or its
        stride disagrees with timm's; InputError for an unknown tap."""
        node = self.layout().resolve(name)
        if node is None:
            raise InputError(self._unknown(name))
        return self.layout().receptive_field(node)

    def min_input(self, name: str) -> int:
        """Smallest square input side (px) for which ``name`` has at least a 1x1 output."""
        return self.tap(name).min_input

    def needs_fixed_input(self, names: Sequence[str]) -> bool:
        """Whether any of ``names`` needs :attr:`fixed_input` (VGG: fc6 … fc8, relu6, relu7)."""
        return self.fixed_input is not None and any(not self.tap(n).spatial for n in names)

    def check_input_size(self, height: int, width: int, names: Sequence[str]) -> None:
        """InputError if an ``height``×``width`` image cannot reach the deepest of ``names``."""
        deepest = self.deepest(names)
        if self.needs_fixed_input([deepest]):
            side = self.fixed_input
            if (height, width) != (side, side):
                raise InputError(f"{deepest} needs a {side}x{side} input (paper §3), got "
                                 f"{width}x{height}; use --size {side} on a square image")
            return
        need = self.min_input(deepest)
        if min(height, width) < need:
            raise InputError(f"image {width}x{height} is too small for {deepest}: it needs at "
                             f"least {need} px on each side; use a larger image or a larger "
                             "size (--size; size= in Python)")

    # -- weights and memory --------------------------------------------------------------
    def weighted(self) -> list[str]:
        """Names of the weighted layers (each seeded by a spec), in forward order."""
        return [n for n, _shape in self.layout().weighted()]

    def representation(self, name: str) -> str:
        """The tap a weighted layer is judged by in the stacking search (stacking.py): VGG's
        ReLU after it; other architectures' node of the layer itself (or of the leaf module
        holding it)."""
        return self.layout().representation(name)

    def weight_shape(self, name: str) -> tuple[int, ...]:
        """Shape of weighted layer ``name``'s weight: [out, in, kh, kw] or [out, in]."""
        return dict(self.layout().weighted())[name]

    def footprint(self, height: int, width: int, names: Sequence[str]) -> Footprint:
        """Activation and weight counts of a run reading ``names`` at this size (memory.py)."""
        layout = self.layout()
        nodes = [layout.resolve(n) for n in names]
        if None in nodes:
            raise InputError(self._unknown(names[nodes.index(None)]))
        fp = layout.footprint(height, width, nodes)
        return Footprint(fp.activations, {n: fp.per_tap[r] for n, r in zip(names, nodes, strict=True)},
                         fp.params)
