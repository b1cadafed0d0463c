"""ranvis: deep visualization with untrained, random-weight convolutional networks
(He, Wang & Hopcroft, NIPS 2016): inversion, texture synthesis and style transfer.

The API, in the manner of the libraries of this field::

    import ranvis
    r = ranvis.invert("sample:chelsea", "pool2", size=64, iters=50)   # -> ranvis.Result
    r.save("chelsea-pool2.png"); r.image; r.pil; r.record

``ranvis.invert``, ``ranvis.texture`` (= ``synthesize_texture``), ``ranvis.style``,
``ranvis.build_net`` (-> ``ranvis.NetSpec``, also called ``ranvis.Net``: a network is its
seeds), ``ranvis.load_image``, ``ranvis.save_image``; bad input raises ``ranvis.InputError``.
Images may be a path, "sample:NAME", a PIL image, a NumPy array or a tensor (ranvis.api).
Everything is imported on first use, so ``import ranvis`` is fast and imports no torch.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from ranvis._version import __version__

# public name -> (module, attribute), imported on first access (module __getattr__, PEP 562)
_LAZY = {
    "invert": ("ranvis.api", "invert"),
    "texture": ("ranvis.api", "texture"),
    "synthesize_texture": ("ranvis.api", "synthesize_texture"),
    "style": ("ranvis.api", "style"),
    "build_net": ("ranvis.api", "build_net"),
    "load_image": ("ranvis.api", "load_image"),
    "save_image": ("ranvis.api", "save_image"),
    "Result": ("ranvis.api", "Result"),
    "NetSpec": ("ranvis.nets.spec", "NetSpec"),
    "Net": ("ranvis.nets.spec", "NetSpec"),
    "InputError": ("ranvis.errors", "InputError"),
}

__all__ = ["__version__", *(n for n in _LAZY if n != "Net")]  # Net: NetSpec's other name


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ranvis' has no attribute {name!r}")
    module, attr = _LAZY[name]
    return getattr(import_module(module), attr)


def __dir__() -> list[str]:
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
