"""VGG-11, 13, 16 and 19 as data, with ranvis's hand-written fast path (:class:`Net`).

The architecture is a list (``CONFIGS``, timm's ``cfgs``); one loop names the layers
``conv1_1, relu1_1, …, pool1, …, pool5, fc6, relu6, fc7, relu7, fc8``. Weights are drawn from their
seeds (nets.draw) layer by layer, the first time a forward pass needs them, so a network used up to
conv2_2 never draws fc6's 134M weights. A VGG-19 spec gives the same weights as before the
registry (format-1 specs included): same names, same seeds, same stream.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import torch
import torch.nn.functional as F

from ranvis import defaults as D
from ranvis.nets import frozen
from ranvis.nets.arch import Footprint, Tap
from ranvis.nets.base import FrozenNet
from ranvis.nets.draw import draw
from ranvis.nets.spec import NetSpec

# timm-style architectures: ints are 3x3 conv widths (padding 1, each followed by ReLU), "P" a pool.
CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "P", 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg13": [64, 64, "P", 128, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P"],
    "vgg16": [64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P",
              512, 512, 512, "P"],
    "vgg19": [64, 64, "P", 128, 128, "P", 256, 256, 256, 256, "P",
              512, 512, 512, 512, "P", 512, 512, 512, 512, "P"],
}
FC_WIDTHS = [4096, 4096, 1000]
FC_INPUT_SIZE = 256  # paper §3: fc layers need a 256x256 input, so pool5 is 8x8x512
TORCHVISION_GRID = 7  # torchvision's VGG adaptive-pools pool5 to 7x7 before its classifier


@dataclass(frozen=True)
class Layer:
    """One named layer: kind is conv | relu | pool | fc; weighted layers have in/out widths."""

    name: str
    kind: str
    index: int
    c_in: int = 0
    c_out: int = 0
    pools_before: int = 0  # pools applied before this layer's output (pool layers count themselves)


def build_layers(cfg: list[int | str], fc: list[int] = FC_WIDTHS) -> list[Layer]:
    """The named layers of a VGG configuration, fc6–fc8 included, in forward order."""
    layers: list[Layer] = []
    block, conv_i, c, pools = 1, 1, 3, 0

    def add(name: str, kind: str, **kw: int) -> None:
        layers.append(Layer(name, kind, len(layers), pools_before=pools, **kw))

    for v in cfg:
        if v == "P":
            pools += 1
            add(f"pool{block}", "pool", c_in=c, c_out=c)
            block, conv_i = block + 1, 1
        else:
            add(f"conv{block}_{conv_i}", "conv", c_in=c, c_out=int(v))
            add(f"relu{block}_{conv_i}", "relu", c_in=int(v), c_out=int(v))
            c, conv_i = int(v), conv_i + 1
    d_in = c * (FC_INPUT_SIZE // 2**pools) ** 2
    for i, w in enumerate(fc, start=6):
        add(f"fc{i}", "fc", c_in=d_in, c_out=w)
        if i < 5 + len(fc):
            add(f"relu{i}", "relu", c_in=w, c_out=w)
        d_in = w
    return layers


@cache
def layers_of(arch: str) -> tuple[Layer, ...]:
    """The named layers of VGG architecture ``arch`` (vgg11 … vgg19)."""
    return tuple(build_layers(CONFIGS[arch]))


def weight_shape(layer: Layer) -> tuple[int, ...]:
    return (layer.c_out, layer.c_in, 3, 3) if layer.kind == "conv" else (layer.c_out, layer.c_in)


class VGGLayout:
    """nets.arch.Layout of a VGG, from its configuration alone (no torch pass): a conv keeps the
    size, a pool halves it (floor), the receptive field grows by 2·stride per conv and by
    stride per pool; fc layers see everything."""

    def __init__(self, arch: str) -> None:
        self.layers = layers_of(arch)
        self.index = {la.name: la for la in self.layers}
        taps, rf = [], 1
        for la in self.layers:
            stride = 2 ** la.pools_before
            if la.kind == "conv":
                rf += 2 * 2 ** la.pools_before
            elif la.kind == "pool":
                rf += 2 ** (la.pools_before - 1)
            spatial = la.kind != "fc" and la.name not in ("relu6", "relu7")
            taps.append(Tap(la.name, la.index, la.c_out, stride if spatial else None,
                            rf if spatial else None,
                            2 ** la.pools_before, spatial))
        self._taps = taps
        self._by_name = {t.name: t for t in taps}

    def nodes(self) -> list[Tap]:
        return list(self._taps)

    def node(self, name: str) -> Tap:
        return self._by_name[name]

    def resolve(self, name: str) -> str | None:
        return name if name in self._by_name else None

    def min_input(self, name: str) -> int:
        return 2 ** self.index[name].pools_before  # fc layers: that of pool5

    def out_shape(self, name: str, height: int, width: int) -> tuple[int, ...]:
        la = self.index[name]
        if not self._by_name[name].spatial:
            return (1, la.c_out)
        f = 2 ** la.pools_before
        return (1, la.c_out, height // f, width // f)

    def footprint(self, height: int, width: int, taps: Sequence[str]) -> Footprint:
        """Activation elements as memory.py has counted them since its calibration (ceil)."""
        def elems(la: Layer) -> int:
            if la.kind == "fc" or not self._by_name[la.name].spatial:
                return la.c_out
            f = 2 ** la.pools_before
            return la.c_out * -(-height // f) * -(-width // f)

        last = max((self.index[n].index for n in taps), default=-1)
        used = self.layers[: last + 1]
        params = sum(la.c_out * la.c_in * (9 if la.kind == "conv" else 1) for la in used
                     if la.kind in ("conv", "fc"))
        return Footprint(sum(elems(la) for la in used), {n: elems(self.index[n]) for n in taps},
                         params)

    def weighted(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(la.name, weight_shape(la)) for la in self.layers if la.kind in ("conv", "fc")]

    def representation(self, weighted: str) -> str:
        """Its ReLU (conv1_1 → relu1_1, fc6 → relu6), else the layer itself (fc8)."""
        i = self.index[weighted].index + 1
        nxt = self.layers[i] if i < len(self.layers) else None
        return nxt.name if nxt is not None and nxt.kind == "relu" else weighted


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


def build(spec: NetSpec, device: str | torch.device = "cpu", **kw: object) -> Net:
    """The registry's builder for the VGG family."""
    return Net(spec, device, **kw)
