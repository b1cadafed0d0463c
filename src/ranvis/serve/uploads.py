"""Checks on what a request may name: an uploaded file or a bundled sample, nothing else.

The web framework stores an upload under its upload folder and hands the page's handler that
file's path; a forged request could hand any path instead, so :func:`check_upload` reads
nothing outside ``root``. It refuses, each with one sentence for the page: a file over
``max_bytes``; an image whose header declares more than ``max_pixels`` (judged from the header
alone, before anything is decoded: a 20,000 x 20,000 PNG of 1 MB is refused without
allocating its 1.2 GB); and then whatever the CLI refuses, by decoding it with the CLI's loader
(io.images.load: not an image, truncated, corrupt). :func:`check_sample` accepts only the names
of images.SAMPLES.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ranvis.errors import InputError

MAX_BYTES = 32 * 1024 * 1024  # our choice: larger than any photo a page run needs
MAX_PIXELS = 4096 * 4096  # our choice: 16.8 MP; decoding it takes 200 MB as float32
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Checked:
    """An upload that passed: its path on the server, the name the page and the command use
    for it, and its decoded size."""

    path: Path
    name: str
    width: int
    height: int


def safe_name(filename: str, fallback: str = "image.png") -> str:
    """The base name of ``filename`` with anything but letters, digits, ``.``, ``_`` and ``-``
    replaced by ``_``; never empty, never starting with ``-`` or ``.`` (so it cannot read as a
    flag, a hidden file or ``sample:NAME``)."""
    base = _SAFE.sub("_", os.path.basename(filename.replace("\\", "/"))).lstrip("-._")
    return base[:80] or fallback


def inside(path: str | os.PathLike[str], root: Path) -> Path:
    """``path`` resolved, if it lies inside ``root`` (symbolic links followed), else
    InputError: a request never makes the server read any other file."""
    p = Path(path).resolve()
    if not p.is_relative_to(root.resolve()):
        raise InputError("that file is not an upload of this page; upload the image again")
    return p


def _too_large(shown: str, pixels: int, max_pixels: int, size: str = "") -> InputError:
    return InputError(f"{shown} is {size}{pixels / 1e6:.0f} MP; this page takes images up to "
                      f"{max_pixels / 1e6:.1f} MP: resize it first")


def _header_size(p: Path, shown: str, max_pixels: int) -> tuple[int, int]:
    """(width, height) from the image's header, without decoding its pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            return im.size
    except Image.DecompressionBombError as err:  # Pillow's own limit, met while opening
        found = re.search(r"\((\d+) pixels\)", str(err))
        raise _too_large(shown, int(found[1]) if found else 2 * Image.MAX_IMAGE_PIXELS,
                         max_pixels) from None
    except UnidentifiedImageError:
        raise InputError(f"{shown} is not an image this page can read; upload a PNG or "
                         "JPEG") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"{shown} is corrupt ({' '.join(str(err).split())}); re-export it as "
                         "PNG or JPEG") from None


def check_upload(path: str | os.PathLike[str], root: Path, filename: str | None = None, *,
                 max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Checked:
    """Accept the upload at ``path`` (inside ``root``) or raise InputError with one sentence
    naming ``filename`` (the user's name for it): too many bytes, too many pixels, or
    anything images.load refuses. Decodes the image once (the CLI's checks)."""
    from ranvis.io.images import load

    p = inside(path, root)
    name = safe_name(filename or p.name)
    if not p.is_file():
        raise InputError(f"{name} was not received; upload it again")
    n = p.stat().st_size
    if n > max_bytes:
        raise InputError(f"{name} is {n / 2**20:.1f} MB; this page takes images up to "
                         f"{max_bytes / 2**20:.0f} MB")
    w, h = _header_size(p, name, max_pixels)
    if w * h > max_pixels:
        raise _too_large(name, w * h, max_pixels, f"{w}x{h} pixels, ")
    try:
        img = load(p)
    except InputError as err:  # the CLI's sentence names the server's path: name the upload
        raise InputError(str(err).replace(f"'{p}'", name).replace(str(p), name)) from None
    return Checked(p, name, int(img.shape[-1]), int(img.shape[-2]))


def check_sample(name: str) -> str:
    """``sample:NAME`` for a bundled sample ``NAME`` (or ``sample:NAME``), else InputError."""
    from ranvis.io.images import SAMPLES

    key = name.removeprefix("sample:")
    if key not in SAMPLES:
        raise InputError(f"unknown sample {key!r}; choose one of the list")
    return f"sample:{key}"
