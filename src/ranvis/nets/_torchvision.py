"""``import_torchvision()``: torchvision, importable beside a CPU build of torch.

Why this module exists: the torchvision wheel that matches this project's pinned torch
(``torchvision==0.28.0`` for ``torch==2.13.0``) may be a CUDA build whose compiled extension
``torchvision/_C.so`` cannot load beside the CPU torch. torchvision then imports without its
custom operators, but ``torchvision/_meta_registrations.py`` still calls
``torch.library.register_fake("torchvision::nms")`` and ``("torchvision::qnms")`` at import
time, and that raises ``RuntimeError: operator torchvision::nms does not exist``, so
``import torchvision`` fails as a whole.

ranvis uses torchvision only for its model definitions (``torchvision.models``) and its feature
extraction (``torchvision.models.feature_extraction``), never for the detection operators. So,
only when ``_C.so`` fails to load, :func:`import_torchvision` defines the *schemas* of the two
operators (no kernels: calling them still fails) before the first ``import torchvision``; the
fake registrations then find them and the import succeeds. Where ``_C.so`` loads (a matching
build), nothing is defined. The :class:`torch.library.Library` object must stay alive for the
schemas to stay defined, hence the one module-level reference ``_SCHEMAS``.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType

_SCHEMAS = None  # the torch.library.Library holding the two schemas, when they were needed


def _extension_loads() -> bool:
    """Whether torchvision's compiled operators (``torchvision/_C.so``) load into this torch."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("torchvision is not installed; pip install -c constraints.txt "
                                  "torchvision", name="torchvision")
    folder = spec.submodule_search_locations[0]
    names = [n for n in os.listdir(folder) if n.startswith("_C.") and n.endswith((".so", ".pyd"))]
    if not names:
        return False
    try:
        torch.ops.load_library(os.path.join(folder, names[0]))
    except (OSError, ImportError, RuntimeError):
        return False
    return True


def prepare() -> None:
    """Define the nms/qnms schemas where torchvision's ``_C.so`` cannot load (module
    docstring); nothing where it loads or once done. Called before torchvision is imported
    (by :func:`import_torchvision`, or by nets._tvhook's finder for anyone's import)."""
    global _SCHEMAS
    # _extension_loads' lookup of torchvision may run nets._tvhook's finder, which prepares
    # (and sets _SCHEMAS) on the way: hence the second look at it
    if _SCHEMAS is None and not _extension_loads() and _SCHEMAS is None:
        import torch

        lib = torch.library.Library("torchvision", "FRAGMENT")
        lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        lib.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
        _SCHEMAS = lib


def import_torchvision() -> ModuleType:
    """``import torchvision``, defining the nms/qnms schemas first where its ``_C.so`` cannot
    load (module docstring). Idempotent; returns the module."""
    if "torchvision" in sys.modules:
        return sys.modules["torchvision"]
    prepare()
    import torchvision

    return torchvision
