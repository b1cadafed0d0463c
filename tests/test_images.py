"""Tests for ranvis.io.images: loading every Pillow mode, resize, atomic save, samples, YIQ."""

import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from ranvis.errors import InputError
from ranvis.io import images


def _check(img: torch.Tensor, h: int, w: int) -> None:
    assert img.shape == (1, 3, h, w)
    assert img.dtype == torch.float32
    assert img.is_contiguous()
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0


def _load_one(tmp_path, im: Image.Image, name: str = "x.png") -> torch.Tensor:
    p = tmp_path / name
    im.save(p)
    img = images.load(p)
    _check(img, im.height, im.width)
    return img


def _png16_rgb(path, rows) -> None:
    """Write a 16-bit-per-channel RGB PNG by hand (Pillow cannot write one)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\0" + b"".join(struct.pack(">HHH", *px) for px in row) for row in rows)
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _px(img: torch.Tensor, x: int = 0, y: int = 0) -> list[float]:
    return img[0, :, y, x].tolist()


def test_round_trip_rgb(tmp_path):
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, size=(7, 9, 3), dtype=np.uint8)
    img = _load_one(tmp_path, Image.fromarray(arr))
    out = tmp_path / "out.png"
    images.save(img, out)
    back = images.load(out)
    _check(back, 7, 9)
    assert torch.allclose(back, img, atol=1 / 255 + 1e-6)
    expected = torch.from_numpy(arr).permute(2, 0, 1)[None].float() / 255
    assert torch.allclose(back, expected, atol=1e-6)


def test_save_accepts_3d_and_clamps(tmp_path):
    x = torch.full((3, 2, 2), 2.0)
    x[0] = -1.0
    images.save(x, tmp_path / "c.png")
    assert _px(images.load(tmp_path / "c.png")) == [0.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("mode", "value", "expected"),
    [
        ("RGB", (10, 200, 255), (10 / 255, 200 / 255, 1.0)),
        ("L", 100, (100 / 255,) * 3),
        ("1", 1, (1.0, 1.0, 1.0)),
        ("LA", (50, 255), (50 / 255,) * 3),
        ("LA", (0, 0), (1.0, 1.0, 1.0)),
        ("RGBA", (0, 0, 0, 0), (1.0, 1.0, 1.0)),
        ("RGBA", (255, 0, 0, 255), (1.0, 0.0, 0.0)),
        ("RGBA", (0, 0, 0, 128), (127 / 255,) * 3),
        ("CMYK", (255, 0, 0, 0), (0.0, 1.0, 1.0)),
        ("I;16", 65535, (1.0, 1.0, 1.0)),
        ("I;16", 0, (0.0, 0.0, 0.0)),
        ("I", 65535, (1.0, 1.0, 1.0)),
        ("F", 0.25, (0.25, 0.25, 0.25)),
    ],
)
def test_modes(tmp_path, mode, value, expected):
    suffix = ".tif" if mode in ("CMYK", "F", "I") else ".png"
    im = Image.new(mode, (3, 2), value)
    img = _load_one(tmp_path, im, "m" + suffix)
    assert _px(img, 2, 1) == pytest.approx(expected, abs=1 / 255 + 1e-6)


def test_palette_with_and_without_transparency(tmp_path):
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    im.putpixel((1, 0), 1)
    img = _load_one(tmp_path, im, "p.png")
    assert _px(img, 0) == [1.0, 0.0, 0.0] and _px(img, 1) == [0.0, 0.0, 1.0]
    im.info["transparency"] = 0
    im.save(tmp_path / "pt.png", transparency=0)
    img = images.load(tmp_path / "pt.png")
    assert _px(img, 0) == [1.0, 1.0, 1.0] and _px(img, 1) == [0.0, 0.0, 1.0]


def test_16bit_gray_and_rgb_png(tmp_path):
    im = Image.fromarray(np.array([[0, 32768, 65535]], dtype=np.uint16))
    img = _load_one(tmp_path, im, "g16.png")
    assert img[0, 0, 0].tolist() == pytest.approx([0.0, 32768 / 65535, 1.0], abs=1e-6)
    p = tmp_path / "rgb16.png"
    _png16_rgb(p, [[(65535, 0, 32768), (0, 65535, 0)]])
    img = images.load(p)
    _check(img, 1, 2)
    assert _px(img, 0) == pytest.approx([1.0, 0.0, 0.5], abs=1 / 255)
    assert _px(img, 1) == pytest.approx([0.0, 1.0, 0.0], abs=1 / 255)


def test_exif_orientation(tmp_path):
    im = Image.new("RGB", (4, 2), (0, 128, 0))
    exif = im.getexif()
    exif[0x0112] = 6
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif)
    _check(images.load(p), 4, 2)


def test_resize_longer_side_keeps_aspect():
    x = torch.rand(1, 3, 20, 40)
    y = images.resize(x, 10)
    assert y.shape == (1, 3, 5, 10)
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert images.resize(torch.rand(1, 3, 40, 20), 10).shape == (1, 3, 10, 5)
    assert images.resize(torch.rand(1, 3, 1, 100), 10).shape == (1, 3, 1, 10)
    assert images.load("sample:chelsea", size=30).shape == (1, 3, 20, 30)


def test_resize_exact_and_noop():
    x = torch.rand(1, 3, 20, 40)
    assert images.resize(x, (7, 3)).shape == (1, 3, 3, 7)
    assert images.resize(x, 40) is x
    assert images.resize(x, (40, 20)) is x
    const = torch.full((1, 3, 8, 8), 0.5)
    assert torch.allclose(images.resize(const, 4), const[..., :4, :4], atol=1e-5)


@pytest.mark.parametrize("size", [0, -3, (0, 5), (5, -1), (5,), 2.5, True])
def test_resize_bad_size(size):
    with pytest.raises(InputError):
        images.resize(torch.rand(1, 3, 4, 4), size)


def _bad_files(tmp_path):
    good = tmp_path / "good.png"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(good)
    data = good.read_bytes()
    (tmp_path / "half.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "x.jpg").write_text("this is not a JPEG\n")
    (tmp_path / "adir").mkdir()
    return ["missing.png", "adir", "empty.png", "half.png", "x.jpg"]


def test_bad_inputs_raise_one_line_input_error(tmp_path):
    for name in _bad_files(tmp_path):
        with pytest.raises(InputError) as info:
            images.load(tmp_path / name)
        msg = str(info.value)
        assert "\n" not in msg and name in msg, msg


def test_save_creates_missing_directories(tmp_path):
    out = tmp_path / "a" / "b" / "img.png"
    images.save(torch.rand(1, 3, 4, 5), out)
    _check(images.load(out), 4, 5)
    assert not list(tmp_path.rglob("*.tmp"))


def test_save_parent_is_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(InputError) as info:
        images.save(torch.rand(1, 3, 4, 4), tmp_path / "f" / "img.png")
    assert "\n" not in str(info.value) and "img.png" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_save_is_deterministic_and_clean(tmp_path):
    x = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    images.save(x, tmp_path / "a.png")
    images.save(x.clone(), tmp_path / "b.png")
    images.save(x, tmp_path / "a.png")  # overwrite in place
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


def test_samples():
    brick = images.sample("brick")
    _check(brick, 512, 512)
    assert torch.equal(brick[:, 0], brick[:, 1])  # grayscale replicated
    _check(images.sample("astronaut", size=32), 32, 32)
    _check(images.load("sample:astronaut", size=(16, 8)), 8, 16)
    assert images.is_sample_name("camera") and images.is_sample_name("sample:camera")
    assert not images.is_sample_name("nope") and not images.is_sample_name("x.png")
    with pytest.raises(InputError) as info:
        images.sample("nope")
    msg = str(info.value)
    assert "nope" in msg and "astronaut" in msg and "brick" in msg and "\n" not in msg
    with pytest.raises(InputError):
        images.load("sample:nope")


def test_yiq_round_trip_and_luminance():
    x = torch.rand(2, 3, 5, 4, generator=torch.Generator().manual_seed(2))
    yiq = images.rgb_to_yiq(x)
    assert torch.allclose(images.yiq_to_rgb(yiq), x, atol=1e-5)
    assert torch.allclose(yiq[:, 0], 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])
    assert torch.allclose(images.luminance(x), yiq[:, :1])
    white = images.rgb_to_yiq(torch.ones(1, 3, 1, 1)).flatten()
    assert white.tolist() == pytest.approx([1.0, 0.0, 0.0], abs=1e-5)


def test_luminance_transfer():
    g = torch.Generator().manual_seed(3)
    result = 0.25 + 0.5 * torch.rand(1, 3, 6, 6, generator=g)
    content = 0.4 + 0.2 * torch.rand(1, 3, 6, 6, generator=g)  # mild colours: no clamping
    out = images.luminance_transfer(result, content)
    assert out.shape == result.shape
    a, r, c = images.rgb_to_yiq(out), images.rgb_to_yiq(result), images.rgb_to_yiq(content)
    assert torch.allclose(a[:, 0], r[:, 0], atol=1e-5)
    assert torch.allclose(a[:, 1:], c[:, 1:], atol=1e-5)
    big = images.luminance_transfer(result, torch.rand(1, 3, 12, 12, generator=g))
    assert big.shape == result.shape
    assert float(big.min()) >= 0.0 and float(big.max()) <= 1.0


def test_save_failure_removes_temp_file(tmp_path, monkeypatch):
    def boom(src, dst):
        raise PermissionError("denied")

    monkeypatch.setattr(images.os, "replace", boom)
    with pytest.raises(InputError) as info:
        images.save(torch.rand(1, 3, 2, 2), tmp_path / "out.png")
    assert "out.png" in str(info.value) and "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
