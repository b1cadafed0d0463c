"""VGG-11, 13, 16 and 19 as networks: ranvis's hand-written fast path (:class:`Net`).

The architecture is data (nets.vgglayout: the configuration lists and the named layers ``conv1_1,
relu1_1, …, pool1, …, pool5, fc6, relu6, fc7, relu7, fc8``). Weights are drawn from their
seeds (nets.draw) layer by layer, the first time a forward pass needs them, so a network used up to
conv2_2 never draws fc6's 134M weights. A VGG-19 spec gives the same weights as before the
registry (format-1 specs included): same names, same seeds, same stream.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ranvis import defaults as D
from ranvis.nets import frozen
from ranvis.nets.base import FrozenNet
from ranvis.nets.draw import draw
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgglayout import TORCHVISION_GRID, layers_of, weight_shape


def _conv3x3(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, w, b, padding=1)


def _reflect1(x: torch.Tensor) -> torch.Tensor:
    """Pad one pixel on every side with the mirror image (edge values where a side is 1 px,
    which a mirror cannot pad)."""
    mode = "reflect" if min(x.shape[-2:]) > 1 else "replicate"
    return F.pad(x, (1, 1, 1, 1), mode=mode)


def _circular1(x: torch.Tensor) -> torch.Tensor:
    """Pad one pixel on every side with the opposite edge: the map wraps around (a torus)."""
    return F.pad(x, (1, 1, 1, 1), mode="circular")


def _convs(lean: bool, padding: str) -> Callable[..., torch.Tensor]:
    """The 3x3 convolution a forward pass runs: PyTorch's or ranvis.nets.frozen's (``lean``),
    with zero padding (the paper's VGG), ``reflect`` or ``circular`` padding (NetSpec.padding)."""
    if padding == "zeros":
        return frozen.conv3x3 if lean else _conv3x3
    pad = _circular1 if padding == "circular" else _reflect1
    if lean:
        return lambda x, w, b: frozen.conv3x3(pad(x), w, b, padding=0)
    return lambda x, w, b: F.conv2d(pad(x), w, b)


def _avg_pool2(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


def _blur_pool2(x: torch.Tensor) -> torch.Tensor:
    """Binomial pool (pool "blur", issue 28 item 3): the map blurred by [1, 2, 1]/4 ⊗ [1, 2, 1]/4
    (edges replicated), then every second row and column: the 2x2 pool's output size, but every
    input pixel reaches the outputs with the same total weight and the gradient is no longer
    constant over 2x2 blocks (Zhang 2019's anti-aliased pooling). An ablation, not a default:
    on a style transfer it left a stronger period-4 peak than the 2x2 pool (benchmarks/README.md,
    "The grid")."""
    c = x.shape[1]
    k = torch.tensor([1.0, 2.0, 1.0], dtype=x.dtype, device=x.device)
    k = (k[:, None] * k[None, :] / 16).expand(c, 1, 3, 3)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k, stride=2, groups=c)


class Net(FrozenNet):
    """A VGG whose weights never require grad; ``forward(x, layers)`` stops at the deepest layer.

    Input: images in [0, 1], [B, 3, H, W]; :meth:`preprocess` maps them to the network's range.
    ``lean``: convs, ReLUs and average pools from :mod:`ranvis.nets.frozen` (backward to the input
    only, one byte kept per activation instead of 4); None (default) chooses it for float32 inputs
    above ``defaults.LEAN_PIXELS`` pixels, where memory, not speed, is what runs out (measured,
    style transfer, 2 CPU threads, peak RSS with a full L-BFGS history: 1024 px 5.6 → 4.7 GB at
    10.9 → 10.5 s/it; 2048 px 16.4 GB at 41.9 s/it; ~10 % slower at 256 px, and in bfloat16 it
    saved little and was 38 % slower, so it stays off there). ``dtype``: the precision the layers
    compute in; the weights are kept in float32 and the features returned are float32 either way.
    """

    def __init__(self, spec: NetSpec | None = None, device: str | torch.device = "cpu",
                 channels_last: bool = True, dtype: torch.dtype = torch.float32,
                 lean: bool | None = None) -> None:
        super().__init__(spec if spec is not None else NetSpec.random(0), device,
                         channels_last, dtype)
        if self.arch.family != "vgg":
            raise ValueError(f"nets.vgg.Net builds VGGs, not {self.arch.name}")
        self.lean = lean
        self.layers = layers_of(self.arch.name)
        self.index = {la.name: la for la in self.layers}
        self._weights: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._cast: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # weights in self.dtype

    # -- weights ---------------------------------------------------------------------------
    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of a conv or fc layer, drawn from its seed on first use."""
        if name not in self._weights:
            if self.trained:
                raise KeyError(name)
            layer = self.index[name]
            w = draw(self.spec.seeds[name], weight_shape(layer), self.spec.init, self.spec.sigma)
            self.set_weights(name, w, torch.zeros(layer.c_out))
        return self._weights[name]

    def set_weights(self, name: str, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Install weights for one layer (used by stacking candidates and trained loading)."""
        weight = weight.detach().to(self.device, torch.float32)
        if weight.dim() == 4 and self.channels_last:
            weight = weight.contiguous(memory_format=torch.channels_last)
        self._weights[name] = (weight, bias.detach().to(self.device, torch.float32))
        self._cast.pop(name, None)

    def as_dtype(self, dtype: torch.dtype) -> Net:
        """The same network computing in ``dtype``; it shares this one's float32 weights."""
        if dtype == self.dtype:
            return self
        other = Net(self.spec, self.device, self.channels_last, dtype, self.lean)
        other.trained, other._weights = self.trained, self._weights
        return other

    def compute_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`layer_weights` in the compute dtype (cast once and kept)."""
        if self.dtype == torch.float32:
            return self.layer_weights(name)
        if name not in self._cast:
            w, b = self.layer_weights(name)
            self._cast[name] = (w.to(self.dtype), b.to(self.dtype))
        return self._cast[name]

    def checksum(self, upto: str | None = None) -> str:
        """SHA-256 over every weight up to ``upto`` (default: the last conv layer)."""
        convs = [la.name for la in self.layers if la.kind == "conv"]
        return super().checksum(upto if upto is not None else convs[-1])

    # -- forward ---------------------------------------------------------------------------
    def uses_lean(self, height: int, width: int) -> bool:
        """Whether :meth:`forward` runs the lean layers for an input of this size (``lean``)."""
        if self.lean is not None:
            return self.lean
        return self.dtype == torch.float32 and height * width > D.LEAN_PIXELS

    def forward(self, x: torch.Tensor, layers: list[str] | str) -> dict[str, torch.Tensor]:
        """Features of image ``x`` ([B,3,H,W] in [0,1]) at ``layers``: {name: [B,C,h,w] or [B,D]}.

        Runs only up to the deepest requested layer. Raises InputError for an unknown layer,
        an image too small for it, or an fc layer asked of a non-256x256 input.
        """
        wanted = set(self.arch.check_taps(layers))
        self.arch.check_input_size(x.shape[-2], x.shape[-1], list(wanted))
        last = max(self.index[n].index for n in wanted)
        h = self.preprocess(x)
        if self.dtype != torch.float32:  # float32 nets leave the input's dtype (float64 tests)
            h = h.to(self.dtype)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        lean = self.uses_lean(x.shape[-2], x.shape[-1])
        relu, avg = (frozen.relu, frozen.avg_pool2) if lean else (F.relu, _avg_pool2)
        conv = _convs(lean, self.spec.padding)
        out: dict[str, torch.Tensor] = {}
        for layer in self.layers[: last + 1]:
            if layer.kind == "conv":
                h = conv(h, *self.compute_weights(layer.name))
            elif layer.kind == "relu":
                h = relu(h)
            elif layer.kind == "pool":
                h = (avg(h) if self.spec.pool == "avg" else _blur_pool2(h)
                     if self.spec.pool == "blur" else F.max_pool2d(h, 2))
            else:
                h = F.linear(self._flat(h), *self.compute_weights(layer.name))
            if layer.name in wanted:
                out[layer.name] = h if self.dtype == torch.float32 else h.float()
        return out

    def _flat(self, h: torch.Tensor) -> torch.Tensor:
        if h.dim() == 4:
            if self.trained:  # torchvision's VGG pools to 7x7 before the classifier
                h = F.adaptive_avg_pool2d(h, (TORCHVISION_GRID, TORCHVISION_GRID))
            h = h.flatten(1)
        return h
