"""What the top-level API accepts as an image, turned into ranvis's one image form.

Every task works on float32 tensors ``[1, 3, H, W]`` in ``[0, 1]`` on the CPU (images.py). A user
holds a file path, a bundled sample's name, a Pillow image, a NumPy array or a tensor:
:func:`to_image` takes each of them and refuses anything else, or values outside ``[0, 1]``,
with one :class:`~ranvis.errors.InputError` sentence that says what was expected.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from PIL import Image

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.io import images

#: the accepted forms, as every refusal names them
EXPECTED = ("a file path, 'sample:NAME', a PIL image, an HxWx3 or HxW (grey) NumPy array (uint8, "
            "or float in [0, 1]) or a tensor [3,H,W] or [1,3,H,W] in [0, 1]")
_SLACK = 1e-6  # float rounding just outside [0, 1] (e.g. 1.0000001) is clamped, not refused


def _refuse(what: str, got: str) -> InputError:
    return InputError(f"{what} must be {EXPECTED}; got {got}")


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"a NumPy array of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:120]


def _unit_range(t: torch.Tensor, what: str, kind: str) -> torch.Tensor:
    """``t`` (float32) clamped to [0, 1] after checking that it lies there (within _SLACK)."""
    if not bool(torch.isfinite(t).all()):
        raise _refuse(what, f"a float {kind} with NaN or infinite values")
    lo, hi = float(t.min()), float(t.max())
    if lo < -_SLACK or hi > 1 + _SLACK:
        hint = "; divide a 0-255 image by 255" if hi > 1 else ""
        raise _refuse(what, f"a float {kind} with values from {lo:.4g} to {hi:.4g}{hint}")
    return t.clamp(0.0, 1.0)


def _from_array(a: np.ndarray, what: str) -> torch.Tensor:
    if a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1):  # grey, as a grey PNG or PIL image is
        a = np.repeat(a.reshape(*a.shape[:2], 1), 3, axis=2)
    if a.ndim != 3 or a.shape[2] != 3 or 0 in a.shape:
        raise _refuse(what, _describe(a))
    if a.dtype == np.uint8:
        t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32) / 255.0)
    elif np.issubdtype(a.dtype, np.floating):
        t = _unit_range(torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)), what, "array")
    else:
        raise _refuse(what, _describe(a))
    return t.permute(2, 0, 1).unsqueeze(0).contiguous()


def _from_tensor(t: torch.Tensor, what: str) -> torch.Tensor:
    shape = tuple(t.shape)
    if not ((len(shape) == 3 and shape[0] == 3) or (len(shape) == 4 and shape[:2] == (1, 3))) \
            or 0 in shape:
        raise _refuse(what, _describe(t))
    t = t.detach().cpu()
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    elif t.is_floating_point():
        t = _unit_range(t.float(), what, "tensor")
    else:
        raise _refuse(what, _describe(t))
    return (t if t.dim() == 4 else t.unsqueeze(0)).contiguous()


def to_image(x: Any, size: int | tuple[int, int] | None = None,
             what: str = "image") -> torch.Tensor:
    """``x`` as a float32 ``[1, 3, H, W]`` tensor in [0, 1] on the CPU (a new tensor: ``x`` is
    never changed), resized when ``size`` is given (images.resize: an int is the longer side,
    (W, H) exact).

    Accepted: a path (str or os.PathLike) to an image file or ``sample:NAME`` (images.load); a
    PIL image of any mode (images.from_pil); a NumPy array H×W×3 or H×W (grey), uint8 (0–255)
    or float in [0, 1]; a tensor [3,H,W] or [1,3,H,W], float in [0, 1] or uint8 (0–255), on any device.
    Anything else, float values outside [0, 1], or a side under D.MIN_IMAGE_SIDE raises
    InputError naming what was expected; ``what`` names the argument in that sentence.
    """
    if isinstance(x, str | os.PathLike):
        if not (os.fspath(x).startswith("sample:") or os.path.exists(x)):
            raise _refuse(what, f"the path {os.fspath(x)!r}, which does not exist"
                          + images.did_you_mean(os.fspath(x)))
        img = images.load(x)
    elif isinstance(x, Image.Image):
        img = images.from_pil(x)
    elif isinstance(x, np.ndarray):
        img = _from_array(x, what)
    elif isinstance(x, torch.Tensor):
        img = _from_tensor(x, what)
    else:
        raise _refuse(what, _describe(x))
    if min(img.shape[-2:]) < D.MIN_IMAGE_SIDE:
        h, w = img.shape[-2:]
        raise InputError(f"{what} is {w}x{h}: at least {D.MIN_IMAGE_SIDE} px a side are needed "
                         "(a smaller image holds no structure; upscaling adds none)")
    return img if size is None else images.resize(img, size)


def describe_source(x: Any) -> str:
    """How the run record names an input: its path, or its kind and size."""
    if isinstance(x, str | os.PathLike):
        return os.fspath(x)
    if isinstance(x, Image.Image):
        return f"PIL image {x.size[0]}x{x.size[1]} {x.mode}"
    shape = tuple(getattr(x, "shape", ()))
    return f"{'NumPy array' if isinstance(x, np.ndarray) else 'tensor'} {list(shape)}"
