"""Image I/O, resizing, bundled sample images and YIQ colour helpers.

Every image tensor in ranvis is float32, shape ``[B, 3, H, W]`` (usually ``B == 1``), values in
``[0, 1]``. :func:`load` turns any file Pillow reads into that form; :func:`save` writes 8-bit
RGB PNGs atomically and byte-deterministically. A path spelled ``sample:NAME`` loads one of
scikit-image's bundled images (see :data:`SAMPLES`), so every command runs without user files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

from ranvis.errors import InputError, notice

__all__ = [
    "SAMPLES", "center_square", "from_pil", "is_sample_name", "load", "luminance", "luminance_transfer",
    "resize", "rgb_to_yiq", "sample", "save", "to_pil", "yiq_to_rgb",
]

Size = int | tuple[int, int]

#: Bundled sample images: name -> description. All ship inside the scikit-image package, so
#: loading them needs no network. Use them as ``sample:NAME`` wherever a path is accepted.
SAMPLES: dict[str, str] = {
    "astronaut": "photo: astronaut Eileen Collins (512x512)",
    "camera": "photo: cameraman, grayscale replicated to RGB (512x512)",
    "chelsea": "photo: Chelsea the cat (451x300)",
    "coffee": "photo: cup of coffee (600x400)",
    "rocket": "photo: rocket on the launch pad (640x427)",
    "brick": "texture: brick wall, grayscale replicated to RGB (512x512)",
    "grass": "texture: grass, grayscale replicated to RGB (512x512)",
    "gravel": "texture: gravel, grayscale replicated to RGB (512x512)",
    "motorcycle": "photo: motorcycle, left view of a stereo pair (741x500)",
    "hubble_deep_field": "image: Hubble deep field, stars and galaxies on black (1000x872)",
    "immunohistochemistry": "image: stained tissue, strongly coloured texture (512x512)",
    "colorwheel": "image: colour wheel (371x370)",
    "retina": "image: retina fundus photograph, orange with red vessels (1411x1411)",
    "moon": "photo: lunar surface, grayscale replicated to RGB (512x512)",
    "page": "image: scanned page of text, bright and low-contrast, grayscale (384x191)",
    "coins": "photo: coins on a table, grayscale replicated to RGB (384x303)",
    "cell": "image: bright-field microscopy of a cell, grayscale (550x660)",
}
_SAMPLE_PREFIX = "sample:"
_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})

# NTSC RGB -> YIQ; rows give Y, I, Q.
_RGB2YIQ = (
    (0.299, 0.587, 0.114),
    (0.595716, -0.274453, -0.321263),
    (0.211456, -0.522591, 0.311135),
)


def _name(path: str | os.PathLike[str]) -> str:
    """Quote a path for a one-line message (repr if it holds control characters)."""
    s = os.fspath(path)
    return f"'{s}'" if s.isprintable() else repr(s)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def from_pil(im: Image.Image) -> torch.Tensor:
    """Convert a Pillow image of any mode to a float32 ``[1, 3, H, W]`` tensor in ``[0, 1]``.

    Alpha (LA, RGBA, PA, P with transparency) is composited over white; grayscale is replicated
    to three channels; 16-bit modes (``I;16*`` and ``I``) are scaled from 0..65535; ``F`` is
    taken as-is when its maximum is at most 1, else scaled from 0..255 or 0..65535.
    """
    mode = im.mode
    alpha = None
    has_alpha = mode in _ALPHA_MODES or "transparency" in im.info
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(im, dtype=np.float32) / 65535.0
    elif mode == "F":
        arr = np.asarray(im, dtype=np.float32)
        peak = float(arr.max()) if arr.size else 0.0
        arr = arr if peak <= 1.0 else arr / (255.0 if peak <= 255.0 else 65535.0)
    elif mode in ("1", "L") and not has_alpha:
        arr = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    else:
        rgba = np.asarray(im.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
        arr = rgba[..., :3]
        if has_alpha:
            alpha = rgba[..., 3:]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if alpha is not None:
        if float(alpha.min()) < 1.0:
            notice(f"the {mode} image's transparent pixels were composited over white")
        arr = arr * alpha + (1.0 - alpha)
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32)).permute(2, 0, 1)
    return t.unsqueeze(0).clamp_(0.0, 1.0).contiguous()


def to_pil(img: torch.Tensor) -> Image.Image:
    """Convert ``[1, 3, H, W]`` or ``[3, H, W]`` (any device, clamped to ``[0, 1]``) to RGB."""
    if img.dim() == 4:
        if img.shape[0] != 1:
            raise ValueError(f"to_pil takes one image, got a batch of shape {tuple(img.shape)}")
        img = img[0]
    if img.dim() != 3 or img.shape[0] != 3:
        raise ValueError(f"expected [1,3,H,W] or [3,H,W], got shape {tuple(img.shape)}")
    arr = (img.detach().float().clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
    return Image.fromarray(arr.permute(1, 2, 0).cpu().numpy())


def did_you_mean(path: str) -> str:
    """``"; did you mean sample:NAME?"`` when a missing ``path`` is a bundled sample's name."""
    return f"; did you mean sample:{path}?" if path in SAMPLES else ""


def is_sample_name(s: str | os.PathLike[str]) -> bool:
    """True if ``s`` names a bundled sample, spelled ``NAME`` or ``sample:NAME``."""
    return isinstance(s, str | os.PathLike) and os.fspath(s).removeprefix("sample:") in SAMPLES


def sample(name: str, size: Size | None = None) -> torch.Tensor:
    """Load bundled sample ``name`` (or ``sample:name``) as ``[1, 3, H, W]``; resize if asked."""
    key = name.removeprefix(_SAMPLE_PREFIX)
    if key not in SAMPLES:
        valid = ", ".join(sorted(SAMPLES))
        raise InputError(f"unknown sample image {_name(name)}; valid names: {valid}")
    import skimage.data  # deferred: importing scikit-image is slow

    if key == "motorcycle":
        data = skimage.data.stereo_motorcycle()[0]
    else:
        data = getattr(skimage.data, key)()
    img = from_pil(Image.fromarray(np.asarray(data)))
    return img if size is None else resize(img, size)


def load(path: str | Path, size: Size | None = None) -> torch.Tensor:
    """Read an image file as a contiguous float32 ``[1, 3, H, W]`` tensor in ``[0, 1]``.

    Applies EXIF orientation and composites alpha over white (see :func:`from_pil`), then
    :func:`resize` when ``size`` is given. ``sample:NAME`` loads a bundled sample instead.
    Raises :class:`InputError` for a missing, empty, non-image, truncated or corrupt file.
    """
    s = os.fspath(path)
    if s.startswith(_SAMPLE_PREFIX):
        return sample(s, size)
    p = Path(s)
    n = _name(s)
    if not p.exists():
        raise InputError(f"image file {n} does not exist; give an image file or sample:NAME"
                         + did_you_mean(s))
    if p.is_dir():
        raise InputError(f"{n} is a directory; give the path of an image file")
    if p.stat().st_size == 0:
        raise InputError(f"image file {n} is empty (0 bytes); give a valid image file")
    try:
        with Image.open(p) as im:
            im.load()
            img = from_pil(ImageOps.exif_transpose(im))
    except UnidentifiedImageError:
        msg = "is not an image Pillow can read; give a PNG, JPEG or other image file"
        raise InputError(f"{n} {msg}") from None
    except Image.DecompressionBombError as err:
        raise InputError(f"image {n} is too large ({_one_line(err)}); give a smaller one") from None
    except (OSError, SyntaxError, ValueError) as err:
        msg = f"is truncated or corrupt ({_one_line(err)}); re-export it as PNG or JPEG"
        raise InputError(f"image file {n} {msg}") from None
    return img if size is None else resize(img, size)


def save(img: torch.Tensor, path: str | Path) -> None:
    """Write ``[1, 3, H, W]`` or ``[3, H, W]`` as an 8-bit RGB PNG (or JPEG, quality 95, when
    ``path`` ends in .jpg or .jpeg), atomically.

    Creates missing parent directories, writes a temporary file beside ``path`` and renames it
    into place, so readers never see a partial file. The bytes depend only on the pixel values
    (no timestamps or metadata). Raises :class:`InputError` if the location is not writable.
    """
    p = Path(path)
    n = _name(p)
    parent = p.parent
    if p.is_dir():
        raise InputError(f"cannot save image to {n}: it is a directory; give a file name")
    fix = "choose a writable output location"
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot save image to {n}: a parent path is a file; {fix}") from None
    except OSError as err:
        raise InputError(f"cannot save image to {n} ({_one_line(err)}); {fix}") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot save image to {n}: directory is not writable; {fix}")
    pil = to_pil(img)
    tmp_name = None
    try:
        with tempfile.NamedTemporaryFile(delete=False, dir=parent, suffix=".tmp") as f:
            tmp_name = f.name
            if p.suffix.lower() in (".jpg", ".jpeg"):
                pil.save(f, format="JPEG", quality=95)
            else:  # Pillow's PNG writer adds no time or metadata chunks
                pil.save(f, format="PNG")
        os.chmod(tmp_name, 0o644)  # NamedTemporaryFile creates 0600
        os.replace(tmp_name, p)
        tmp_name = None
    except OSError as err:
        raise InputError(f"cannot save image to {n} ({_one_line(err)}); {fix}") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _positive(v: object) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and v > 0


def resize(img: torch.Tensor, size: Size) -> torch.Tensor:
    """Resize ``[B, 3, H, W]`` (or ``[3, H, W]``) with antialiased bicubic, clamped to [0, 1].

    ``size=N`` (int): the longer side becomes ``N``, aspect ratio kept (sides rounded, at least
    1). ``size=(W, H)``: exactly that size. Returns ``img`` itself when the size already fits.
    """
    if isinstance(size, tuple | list):
        if len(size) != 2 or not all(_positive(v) for v in size):
            raise InputError(f"bad image size {size!r}; give (WIDTH, HEIGHT), both positive")
        w, h = int(size[0]), int(size[1])
    elif _positive(size):
        hh, ww = img.shape[-2:]
        long_side = max(hh, ww)
        if long_side == size:
            return img
        w = max(1, round(ww * size / long_side))
        h = max(1, round(hh * size / long_side))
    else:
        raise InputError(f"bad image size {size!r}; give a positive integer longer side")
    if tuple(img.shape[-2:]) == (h, w):
        return img
    x = img.unsqueeze(0) if img.dim() == 3 else img
    out = F.interpolate(x, size=(h, w), mode="bicubic", antialias=True, align_corners=False)
    return out[0].clamp(0.0, 1.0) if img.dim() == 3 else out.clamp(0.0, 1.0)


def _yiq(img: torch.Tensor, inverse: bool) -> torch.Tensor:
    if img.dim() != 4 or img.shape[1] != 3:
        raise ValueError(f"expected [B,3,H,W], got shape {tuple(img.shape)}")
    m = torch.tensor(_RGB2YIQ, dtype=torch.float64)
    m = torch.linalg.inv(m) if inverse else m
    return torch.einsum("ij,bjhw->bihw", m.to(device=img.device, dtype=img.dtype), img)


def rgb_to_yiq(img: torch.Tensor) -> torch.Tensor:
    """NTSC RGB -> YIQ, ``[B, 3, H, W]`` -> ``[B, 3, H, W]`` (channels Y, I, Q; not clamped)."""
    return _yiq(img, inverse=False)


def yiq_to_rgb(img: torch.Tensor) -> torch.Tensor:
    """NTSC YIQ -> RGB, the exact inverse of :func:`rgb_to_yiq` (not clamped)."""
    return _yiq(img, inverse=True)


def luminance(img: torch.Tensor) -> torch.Tensor:
    """Luma Y of YIQ: ``[B, 3, H, W]`` -> ``[B, 1, H, W]``."""
    return rgb_to_yiq(img)[:, :1]


def luminance_transfer(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Keep ``result``'s luminance but ``content``'s colours ("original colours" transfer).

    Both are ``[B, 3, H, W]`` (``content`` may have ``B == 1``); ``content`` is resized to
    ``result``'s size if needed. Returns RGB with Y from ``result`` and I, Q from ``content``,
    clamped to ``[0, 1]``, on ``result``'s device and dtype.
    """
    content = content.to(device=result.device, dtype=result.dtype)
    h, w = result.shape[-2:]
    if tuple(content.shape[-2:]) != (h, w):
        content = resize(content, (w, h))
    y = rgb_to_yiq(result)[:, :1]
    iq = rgb_to_yiq(content)[:, 1:].expand(result.shape[0], -1, -1, -1)
    return yiq_to_rgb(torch.cat([y, iq], dim=1)).clamp(0.0, 1.0)


def center_square(img: torch.Tensor, side: int) -> torch.Tensor:
    """The central square of ``img`` ([1,3,H,W]) resized to ``side``×``side`` (fc layers need a
    square 256 px input, paper §3; squares also make pixel metrics comparable across photos)."""
    h, w = img.shape[-2:]
    m = min(h, w)
    top, left = (h - m) // 2, (w - m) // 2
    return resize(img[..., top:top + m, left:left + m].contiguous(), (side, side))
