"""Which taps a task reads in each architecture: the stride rule, named taps, presets.

**Stride rule.** Inverting "at stride s" compares networks at the same downsampling: per
architecture it takes the *last* tap of ``ranvis layers`` whose output has stride s, i.e. the end
of the stage that works at that resolution (VGG-19 at stride 4: relu3_4, just before pool3;
ResNet-18: layer1.1; ConvNeXt-T: features.1.2; AlexNet: features.1). An architecture with no
tap at stride s, or whose tap needs a larger input than the study's size, has no cell there (the
results table says so); named taps (``taps = [...]``) must exist in every architecture of the
task and fit the size, or the plan is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def runs(self) -> bool:
        """Whether this target has a tap to run (else it is a requested combination without a
        cell, with its reason)."""
        return bool(self.taps)


def stride_tap(arch: Arch, stride: int, size: int) -> Target:
    """The stride rule (module doc) for one architecture, as a Target (maybe without a tap)."""
    taps = [t for t in (arch.tap(n) for n in arch.default_taps())
            if t.spatial and t.stride == stride]
    if not taps:
        return Target((), stride, f"{arch.name} has no tap at stride {stride}")
    last = taps[-1]
    if last.min_input > size:
        return Target((), stride, f"{last.name} needs {last.min_input} px, the study has {size}")
    return Target((last.name,), stride)


def deepest_fitting(arch: Arch, size: int) -> Target:
    """The deepest spatial tap of ``ranvis layers`` that a ``size`` square reaches (zerocost)."""
    fits = [t for t in (arch.tap(n) for n in arch.default_taps())
            if t.spatial and t.min_input <= size]
    if not fits:
        least = min((t.min_input for t in (arch.tap(n) for n in arch.default_taps())
                     if t.spatial), default=None)
        need = f" (its shallowest tap needs {least} px)" if least else ""
        return Target((), None, f"{arch.name} has no tap that a {size} px input reaches{need}")
    return Target((fits[-1].name,), fits[-1].stride)


def _check_fits(arch: Arch, taps: list[str], size: int, where: str) -> None:
    try:
        arch.check_input_size(size, size, taps)
    except InputError as e:
        raise InputError(f"{where}: {e}") from None


def targets(arch: Arch, kind: str, strides: tuple[int, ...], taps: tuple[str, ...],
            size: int, where: str) -> list[Target]:
    """Every Target of one task on one architecture (InputError for a bad named tap)."""
    if kind == "invert" and not taps:
        return [stride_tap(arch, s, size) for s in strides]
    if kind == "zerocost":
        return [deepest_fitting(arch, size)]
    presets = arch.presets
    if kind == "invert":
        names = [arch.check_taps([t])[0] for t in taps]
        for n in names:
            _check_fits(arch, [n], size, where)
        return [Target((n,), arch.tap(n).stride) for n in names]
    if kind == "texture":
        names = arch.check_taps(list(taps or presets.texture))
    else:
        style = arch.check_taps(list(taps or presets.style))
        names = [presets.content, *style]
    _check_fits(arch, names, size, where)
    deepest = arch.deepest(names)
    return [Target(tuple(names), arch.tap(deepest).stride)]
