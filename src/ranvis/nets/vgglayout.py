"""VGG-11, 13, 16 and 19 as data: the configuration lists (``CONFIGS``, timm's ``cfgs``), the
named layers one loop makes of them (``conv1_1, relu1_1, …, pool1, …, pool5, fc6, relu6, fc7,
relu7, fc8``) and :class:`VGGLayout`, the shapes and counts the registry's :class:`Arch` reads
before any weight exists. The network itself is nets.vgg.Net.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from ranvis.nets.arch import Footprint, Tap, TapTable

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


class VGGLayout(TapTable):
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
