"""The architecture registry: every network ranvis knows, by name (``get_arch``).

Importing this package is cheap and torch-free (the CLI lists the names without torch); the
architectures themselves are built on first use by ``nets.catalog``. See ``nets.arch.Arch`` for
what an architecture holds and ``nets.catalog`` for the zoo.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ranvis.errors import InputError

if TYPE_CHECKING:
    from ranvis.nets.arch import Arch

#: every architecture, in the order ``ranvis layers`` and the benchmarks list them
ARCH_NAMES = ("vgg11", "vgg13", "vgg16", "vgg19", "alexnet", "resnet18", "resnet50",
              "convnext_tiny", "multiscale")
DEFAULT_ARCH = "vgg19"  # the paper's


def check_arch_name(name: str) -> str:
    """``name`` if it is a known architecture (one of :data:`ARCH_NAMES`, or ``timm:NAME`` for
    an architecture timm builds: nets.timmarch), else InputError (one line listing them)."""
    if name.startswith("timm:"):
        from ranvis.nets.timmarch import check_timm_name

        return check_timm_name(name)
    if name not in ARCH_NAMES:
        raise InputError(f"unknown architecture {name!r}; valid architectures: "
                         f"{', '.join(ARCH_NAMES)}, or timm:NAME (any timm architecture)")
    return name


def get_arch(name: str) -> Arch:
    """The :class:`~ranvis.nets.arch.Arch` called ``name``; InputError listing the valid ones."""
    if name.startswith("timm:"):
        from ranvis.nets.timmarch import timm_arch

        return timm_arch(name)
    from ranvis.nets.catalog import ARCHS

    return ARCHS[check_arch_name(name)]


__all__ = ["ARCH_NAMES", "DEFAULT_ARCH", "check_arch_name", "get_arch"]
