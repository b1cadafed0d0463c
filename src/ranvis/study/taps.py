"""Which taps a task reads in each architecture: the stride rule, named taps, presets.

**Stride rule.** Inverting "at stride s" compares networks at the same downsampling: per
architecture it takes the *last* tap of ``ranvis layers`` whose output has stride s, i.e. the end
of the stage that works at that resolution (VGG-19 at stride 4: relu3_4, just before pool3;
ResNet-18: layer1.1; ConvNeXt-T: features.1.2; AlexNet: features.1). An architecture with no
tap at stride s, or whose tap needs a larger input than the study's size, has no cell there (the
results table says so); named taps (``taps = [...]``) must exist in every architecture of the
task and fit the size, or the plan is refused.

**Growing.** With the study's ``grow`` on, a tap that needs more than the study's size runs
at the smallest size it accepts instead (its min_input: timm's Inceptions need 75 px at every
stride): the Target's ``size`` says which, and the cells of that target prepare their images
at that size the same way (centre square, resized). A target that fits the study's size is
never changed by ``grow``, so its cells keep their keys.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ranvis.errors import InputError
from ranvis.nets.arch import Arch


@dataclass(frozen=True)
class Target:
    """What one group of cells reads: ``taps`` (one for inversion, the Gram taps for texture,
    content + style for style) and the stride of the deepest; ``reason`` says why a requested
    stride has no cell (then ``taps`` is empty)."""

    taps: tuple[str, ...]
    stride: int | None
    reason: str = ""
    size: int | None = None  # grown: the input side its cells run at (None: the study's)

    @property
    def runs(self) -> bool:
        """Whether this target has a tap to run (else it is a requested combination without a
        cell, with its reason)."""
        return bool(self.taps)


def stride_tap(arch: Arch, stride: int, size: int, grow: bool = False) -> Target:
    """The stride rule (module doc) for one architecture, as a Target (maybe without a tap;
    with ``grow``, a tap that needs more than ``size`` px runs at the size it needs)."""
    taps = [t for t in (arch.tap(n) for n in arch.default_taps())
            if t.spatial and t.stride == stride]
    if not taps:
        return Target((), stride, f"{arch.name} has no tap at stride {stride}")
    last = taps[-1]
    if last.min_input > size:
        if grow:
            return Target((last.name,), stride, size=last.min_input)
        return Target((), stride, f"{last.name} needs {last.min_input} px, the study has {size}")
    return Target((last.name,), stride)


def deepest_fitting(arch: Arch, size: int, grow: bool = False) -> Target:
    """The deepest spatial tap of ``ranvis layers`` that a ``size`` square reaches (zerocost);
    with ``grow``, where none does, the deepest that its shallowest tap's size reaches, at that
    size."""
    fits = [t for t in (arch.tap(n) for n in arch.default_taps())
            if t.spatial and t.min_input <= size]
    if not fits:
        least = min((t.min_input for t in (arch.tap(n) for n in arch.default_taps())
                     if t.spatial), default=None)
        if grow and least:
            return replace(deepest_fitting(arch, least), size=least)
        need = f" (its shallowest tap needs {least} px)" if least else ""
        return Target((), None, f"{arch.name} has no tap that a {size} px input reaches{need}")
    return Target((fits[-1].name,), fits[-1].stride)


def _fitting_size(arch: Arch, taps: list[str], size: int, grow: bool, where: str) -> int | None:
    """None if ``taps`` fit a ``size`` square; with ``grow``, the smallest side they need when
    they do not (InputError where that cannot help: fixed-input taps, or no ``grow``)."""
    need = arch.min_input(arch.deepest(taps))
    grown = need if grow and need > size and not arch.needs_fixed_input(taps) else None
    try:
        arch.check_input_size(grown or size, grown or size, taps)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None
    return grown


def targets(arch: Arch, kind: str, strides: tuple[int, ...], taps: tuple[str, ...],
            size: int, where: str, grow: bool = False) -> list[Target]:
    """Every Target of one task on one architecture (InputError for a bad named tap);
    ``grow``: taps that need more than ``size`` px run at the size they need (module doc)."""
    if kind == "invert" and not taps:
        return [stride_tap(arch, s, size, grow) for s in strides]
    if kind == "zerocost":
        return [deepest_fitting(arch, size, grow)]
    presets = arch.presets
    if kind == "invert":
        names = [arch.check_taps([t])[0] for t in taps]
        return [Target((n,), arch.tap(n).stride, size=_fitting_size(arch, [n], size, grow, where))
                for n in names]
    if kind == "texture":
        names = arch.check_taps(list(taps or presets.texture))
    else:
        style = arch.check_taps(list(taps or presets.style))
        names = [presets.content, *style]
    grown = _fitting_size(arch, names, size, grow, where)
    deepest = arch.deepest(names)
    return [Target(tuple(names), arch.tap(deepest).stride, size=grown)]
