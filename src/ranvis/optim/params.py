"""The variable an optimization moves: the pixels (the paper), preconditioned Fourier
coefficients of the image (same objective, same optimum; low frequencies move faster), or a
smaller image upsampled to the full size (a coarse-to-fine stage, tasks.stages).

Each variable maps z → image ``[1, 3, H, W]`` (``to_image``, differentiable) and back
(``from_image``: a z whose image is the given one, or its nearest for a coarse variable)."""
from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F


class Param(Protocol):
    """What optimize() needs of a variable."""

    name: str

    def to_image(self, z: torch.Tensor) -> torch.Tensor: ...

    def from_image(self, x: torch.Tensor) -> torch.Tensor: ...


class PixelParam:
    """The paper's variable: the pixels themselves."""

    name = "pixel"

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def from_image(self, x: torch.Tensor) -> torch.Tensor:
        return x


class FourierParam:
    """x = 0.5 + irfft2(ẑ · s), s(f) = max(|f|·max(H, W), 1)^(-alpha), ẑ a real view of complex
    coefficients ``[1, 3, H, W//2+1, 2]``. A change of variables only: the objective and its
    minimizers are those of pixel space. Measured (pool3 inversion, 128 px, 300 L-BFGS
    iterations, random VGG seed 0): astronaut 17.5 → 19.6 dB, coffee 20.4 → 23.0 dB with
    alpha = 0.5; alpha = 1 gained less (astronaut 18.8 dB).
    """

    name = "fourier"

    def __init__(self, height: int, width: int, device: torch.device, alpha: float = 0.5) -> None:
        fy = torch.fft.fftfreq(height, device=device).view(-1, 1)
        fx = torch.fft.rfftfreq(width, device=device).view(1, -1)
        f = (fx.pow(2) + fy.pow(2)).sqrt() * max(height, width)
        self.scale = f.clamp_min(1.0).pow(-alpha)  # [H, W//2+1], 1 at the lowest frequencies
        self.size = (height, width)

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        coeffs = torch.view_as_complex(z) * self.scale
        return 0.5 + torch.fft.irfft2(coeffs, s=self.size, norm="ortho")

    def from_image(self, x: torch.Tensor) -> torch.Tensor:
        coeffs = torch.fft.rfft2(x - 0.5, norm="ortho") / self.scale
        return torch.view_as_real(coeffs).contiguous()


class UpsampleParam:
    """x = 0.5 + bilinear_upsample(z) to ``full`` (H, W), z of size ``coarse`` (h, w): the image
    can only hold what a ``coarse`` image holds, so an optimizer moving z builds the layout
    first (coarse-to-fine, tasks.stages). ``from_image``: the area-averaged image (the nearest
    coarse image up to the blur of upsampling)."""

    name = "upsample"

    def __init__(self, coarse: tuple[int, int], full: tuple[int, int]) -> None:
        self.coarse, self.full = tuple(coarse), tuple(full)

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        return 0.5 + F.interpolate(z, size=self.full, mode="bilinear", align_corners=False)

    def from_image(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x - 0.5, size=self.coarse, mode="area")


def make_param(name: str | Param, x: torch.Tensor) -> Param:
    """'pixel' (the paper) or 'fourier' (preconditioned) for images shaped like ``x``; a
    variable object (e.g. :class:`UpsampleParam`) is used as given."""
    if not isinstance(name, str):
        return name
    if name == "pixel":
        return PixelParam()
    if name == "fourier":
        return FourierParam(x.shape[-2], x.shape[-1], x.device)
    raise ValueError(f"param must be 'pixel' or 'fourier', got {name!r}")
