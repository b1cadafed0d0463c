"""VGG-19 as data, seeded random weights, and the network spec that *is* a random network.

The architecture is a list (``VGG19`` below); one loop names the layers
``conv1_1, relu1_1, …, pool1, …, pool5, fc6, relu6, fc7, relu7, fc8``.
Weights are drawn from N(0, σ), σ = 0.015, biases 0 (paper §2), each weighted layer from its own
integer seed. The draw uses NumPy's PCG64 bit generator (whose raw stream NumPy guarantees) and a
Box–Muller transform written here, in float64 on the CPU, so a network is regenerated bit for bit
on any device and any torch release from its :class:`NetSpec` — a JSON file of a few hundred bytes.
"""
from __future__ import annotations

import hashlib
import json
import math
import operator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ranvis import defaults as D
from ranvis import frozen
from ranvis.errors import InputError

# timm-style architecture: ints are 3x3 conv widths (padding 1, each followed by ReLU), "P" a pool.
VGG19: list[int | str] = [64, 64, "P", 128, 128, "P", 256, 256, 256, 256, "P",
                          512, 512, 512, 512, "P", 512, 512, 512, 512, "P"]
FC_WIDTHS = [4096, 4096, 1000]
FC_INPUT_SIZE = 256  # paper §3: fc layers need a 256x256 input, so pool5 is 8x8x512
SPEC_FORMAT = 1
DEFAULT_SIGMA = 0.015  # paper §2
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
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


def _build_layers(cfg: list[int | str], fc: list[int]) -> list[Layer]:
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


LAYERS: list[Layer] = _build_layers(VGG19, FC_WIDTHS)
LAYER_INDEX: dict[str, Layer] = {layer.name: layer for layer in LAYERS}
LAYER_NAMES: list[str] = [layer.name for layer in LAYERS]
WEIGHTED: list[str] = [layer.name for layer in LAYERS if layer.kind in ("conv", "fc")]


def check_layers(names: str | list[str]) -> list[str]:
    """Parse ``"pool2,pool4"`` or a list into known layer names, in network order.

    Raises InputError naming the valid layers for an unknown name.
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    if not names:
        raise InputError("no layer given: name at least one, e.g. conv2_2")
    bad = [n for n in names if n not in LAYER_INDEX]
    if bad:
        raise InputError(f"unknown layer {bad[0]!r}; valid layers: {', '.join(LAYER_NAMES)}")
    return sorted(dict.fromkeys(names), key=lambda n: LAYER_INDEX[n].index)


def min_input_size(layer: str) -> int:
    """Smallest image side (px) for which ``layer`` has at least a 1x1 output."""
    return 2 ** LAYER_INDEX[layer].pools_before


def check_input_size(height: int, width: int, layers: list[str]) -> None:
    """Raise InputError if an image of this size cannot reach the deepest of ``layers``."""
    deepest = max(layers, key=lambda n: LAYER_INDEX[n].index)
    if LAYER_INDEX[deepest].kind == "fc" or deepest in ("relu6", "relu7"):
        if (height, width) != (FC_INPUT_SIZE, FC_INPUT_SIZE):
            raise InputError(f"{deepest} needs a {FC_INPUT_SIZE}x{FC_INPUT_SIZE} input (paper §3), "
                             f"got {width}x{height}; use --size {FC_INPUT_SIZE} on a square image")
        return
    need = min_input_size(deepest)
    if min(height, width) < need:
        raise InputError(f"image {width}x{height} is too small for {deepest}: it needs at least "
                         f"{need} px on each side; use a larger image or --size")


def normal_weights(seed: int, shape: tuple[int, ...], sigma: float) -> torch.Tensor:
    """Draw N(0, sigma) float32 weights of ``shape`` from integer ``seed``, identically everywhere.

    Stream: PCG64(seed) raw 64-bit words → top 53 bits → uniforms u in (0, 1] → Box–Muller pairs
    (z0, z1) = sqrt(-2 ln u1)·(cos 2πu2, sin 2πu2), laid out in C order, scaled by sigma in float64
    and rounded once to float32. Depends on neither torch's RNG nor the device.
    """
    n = math.prod(shape)
    bitgen = np.random.PCG64(seed)
    out = np.empty(n, dtype=np.float32)
    chunk = 1 << 22  # even, bounds temporary memory to ~100 MB for fc6
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        pairs = (m + 1) // 2
        raw = bitgen.random_raw(2 * pairs)
        u = ((raw >> np.uint64(11)).astype(np.float64) + 1.0) * (1.0 / 9007199254740992.0)
        r = np.sqrt(-2.0 * np.log(u[0::2]))
        theta = (2.0 * math.pi) * u[1::2]
        z = np.empty(2 * pairs, dtype=np.float64)
        z[0::2], z[1::2] = r * np.cos(theta), r * np.sin(theta)
        out[start:start + m] = (z[:m] * sigma).astype(np.float32)
    return torch.from_numpy(out).reshape(shape)


def _valid_seed(v: Any) -> bool:
    """An integer (Python or NumPy, not bool) that PCG64 and torch accept: 0 ≤ v < 2**63."""
    if isinstance(v, bool):
        return False
    try:
        return 0 <= operator.index(v) < 2**63
    except TypeError:
        return False


@dataclass
class NetSpec:
    """A whole random network as data: architecture, σ, pooling and one seed per weighted layer.

    ``NetSpec.random(s)`` gives layer i the seed ``1000*s + i``; the stacked ranVGG stores the
    seeds it chose. JSON round trip with :meth:`save` / :meth:`load` (a few hundred bytes).
    """

    seeds: dict[str, int]
    sigma: float = DEFAULT_SIGMA
    pool: str = "avg"
    arch: str = "vgg19"
    format: int = SPEC_FORMAT
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def random(cls, seed: int = 0, sigma: float = DEFAULT_SIGMA, pool: str = "avg") -> NetSpec:
        """A plain random VGG-19: layer i (0-based among weighted layers) gets seed 1000*seed+i."""
        return cls({n: 1000 * seed + i for i, n in enumerate(WEIGHTED)}, sigma, pool)

    def __post_init__(self) -> None:
        if self.format != SPEC_FORMAT:
            raise InputError(f"network spec format {self.format!r} is unknown; "
                             f"this ranvis reads format {SPEC_FORMAT}")
        if self.arch != "vgg19":
            raise InputError(f"network spec arch {self.arch!r} is unknown; expected 'vgg19'")
        if self.pool not in ("avg", "max"):
            raise InputError(f"pool must be 'avg' or 'max', got {self.pool!r}")
        if not (isinstance(self.sigma, (int, float)) and not isinstance(self.sigma, bool)
                and 0 < self.sigma < math.inf):
            raise InputError(f"sigma must be a positive number, got {self.sigma!r}")
        missing = [n for n in WEIGHTED if n not in self.seeds]
        if missing:
            raise InputError(f"network spec has no seed for {missing[0]}; it needs one per layer "
                             f"of {', '.join(WEIGHTED)}")
        bad = [n for n in WEIGHTED if not _valid_seed(self.seeds[n])]
        if bad:
            raise InputError(f"network spec seed for {bad[0]} is {self.seeds[bad[0]]!r}; "
                             "seeds must be integers from 0 to 2**63-1")
        self.seeds = {n: int(self.seeds[n]) for n in WEIGHTED}

    def to_dict(self) -> dict[str, Any]:
        d = {"format": self.format, "arch": self.arch, "sigma": self.sigma, "pool": self.pool,
             "seeds": self.seeds}
        if self.info:
            d["info"] = self.info
        return d

    @classmethod
    def from_dict(cls, d: Any) -> NetSpec:
        if not isinstance(d, dict) or not isinstance(d.get("seeds"), dict):
            raise InputError("network spec must be a JSON object with a 'seeds' object")
        if "format" not in d:
            raise InputError(f"network spec has no 'format' field; this ranvis reads format "
                             f"{SPEC_FORMAT} (write specs with build-net)")
        try:
            return cls(seeds=d["seeds"], sigma=d.get("sigma", DEFAULT_SIGMA),
                       pool=d.get("pool", "avg"), arch=d.get("arch", "vgg19"),
                       format=d.get("format", -1), info=d.get("info", {}))
        except (TypeError, ValueError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"network spec is malformed: {e}") from None

    def save(self, path: str | Path) -> None:
        from ranvis.record import write_json
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> NetSpec:
        """Load a spec from a JSON file, or the shipped stacked ranVGG by the name ``stacked``."""
        if str(path) == "stacked":
            text = resources.files("ranvis").joinpath("data/stacked.json").read_text()
            return cls.from_dict(json.loads(text))
        p = Path(path)
        if not p.is_file():
            raise InputError(f"network spec {p} is not a file; give a JSON spec from build-net")
        try:
            d = json.loads(p.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"network spec {p} is not valid JSON ({e.msg if hasattr(e, 'msg') else e})"
                             ) from None
        return cls.from_dict(d)


#: defaults.LEAN_PIXELS: above it a float32 Net(lean=None) keeps masks, not activations
#: (ranvis.frozen). Measured, style transfer, 2 CPU threads, peak RSS with a full L-BFGS history:
#: 1024 px 5.6 → 4.7 GB at 10.9 → 10.5 s/it; 2048 px 16.4 GB at 41.9 s/it (the same s/MP as
#: 1024 px). At 256 px it was ~10 % slower (boolean masks cost more than ReLU's own backward);
#: in bfloat16 it saved little (1024 px 5.0 → 4.8 GB) and was 38 % slower, so it stays off there.
#: The value lives in defaults (memory.py, torch-free, reads it too).


def _conv3x3(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, w, b, padding=1)


def _avg_pool2(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 2)


class Net(torch.nn.Module):
    """VGG-19 whose weights never require grad; ``forward(x, layers)`` stops at the deepest layer.

    Random weights are materialized lazily, layer by layer, the first time a forward pass needs
    them, so a network used up to conv2_2 never draws fc6's 134M weights.
    Input: images in [0, 1], [B, 3, H, W]; :meth:`preprocess` maps them to the network's range.
    ``lean``: convs, ReLUs and average pools from :mod:`ranvis.frozen` (backward to the input
    only, one byte kept per activation instead of 4); None (default) chooses it for float32 inputs
    above ``defaults.LEAN_PIXELS`` pixels, where memory, not speed, is what runs out. ``dtype``:
    the precision the layers compute in (float32, or
    bfloat16: about twice as fast on CPUs with AMX/AVX512-BF16 and on GPUs); the weights are kept
    in float32 (checksums, candidates) and the features returned are float32 either way.
    """

    def __init__(self, spec: NetSpec | None = None, device: str | torch.device = "cpu",
                 channels_last: bool = True, dtype: torch.dtype = torch.float32,
                 lean: bool | None = None) -> None:
        super().__init__()
        self.spec = spec if spec is not None else NetSpec.random(0)
        self.device = torch.device(device)
        self.channels_last = channels_last
        if dtype not in (torch.float32, torch.bfloat16):
            raise ValueError(f"dtype must be torch.float32 or torch.bfloat16, got {dtype}")
        self.dtype = dtype
        self.lean = lean
        self.trained = False
        self.fc_grid = FC_INPUT_SIZE // 32  # pool5 side for the fc layers
        self._weights: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._cast: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # weights in self.dtype

    # -- weights ---------------------------------------------------------------------------
    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of a conv or fc layer, drawn from its seed on first use."""
        if name not in self._weights:
            if self.trained:
                raise KeyError(name)
            layer = LAYER_INDEX[name]
            shape = ((layer.c_out, layer.c_in, 3, 3) if layer.kind == "conv"
                     else (layer.c_out, layer.c_in))
            w = normal_weights(self.spec.seeds[name], shape, self.spec.sigma)
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
        other.trained, other.fc_grid, other._weights = self.trained, self.fc_grid, self._weights
        return other

    def compute_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`layer_weights` in the compute dtype (cast once and kept)."""
        if self.dtype == torch.float32:
            return self.layer_weights(name)
        if name not in self._cast:
            w, b = self.layer_weights(name)
            self._cast[name] = (w.to(self.dtype), b.to(self.dtype))
        return self._cast[name]

    def checksum(self, upto: str = "conv5_4") -> str:
        """SHA-256 over the float32 bytes of every weight up to ``upto`` (a fingerprint)."""
        h = hashlib.sha256()
        for name in WEIGHTED[: WEIGHTED.index(upto) + 1]:
            w, b = self.layer_weights(name)
            h.update(w.cpu().contiguous().numpy().tobytes())
            h.update(b.cpu().numpy().tobytes())
        return h.hexdigest()

    # -- forward ---------------------------------------------------------------------------
    def uses_lean(self, height: int, width: int) -> bool:
        """Whether :meth:`forward` runs the lean layers for an input of this size (``lean``)."""
        if self.lean is not None:
            return self.lean
        return self.dtype == torch.float32 and height * width > D.LEAN_PIXELS

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """[B,3,H,W] in [0,1] → network input. Random nets: 255·(x − ImageNet mean), the Caffe
        VGG range the paper used; trained torchvision weights: (x − mean) / std."""
        mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        if self.trained:
            std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
            return (x - mean) / std
        return (x - mean) * 255.0

    def forward(self, x: torch.Tensor, layers: list[str] | str) -> dict[str, torch.Tensor]:
        """Features of image ``x`` ([B,3,H,W] in [0,1]) at ``layers``: {name: [B,C,h,w] or [B,D]}.

        Runs only up to the deepest requested layer. Raises InputError for an unknown layer,
        an image too small for it, or an fc layer asked of a non-256x256 input.
        """
        wanted = set(check_layers(layers))
        check_input_size(x.shape[-2], x.shape[-1], list(wanted))
        last = max(LAYER_INDEX[n].index for n in wanted)
        h = self.preprocess(x)
        if self.dtype != torch.float32:  # float32 nets leave the input's dtype (float64 tests)
            h = h.to(self.dtype)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        lean = self.uses_lean(x.shape[-2], x.shape[-1])
        conv, relu, avg = ((frozen.conv3x3, frozen.relu, frozen.avg_pool2) if lean else
                           (_conv3x3, F.relu, _avg_pool2))
        out: dict[str, torch.Tensor] = {}
        for layer in LAYERS[: last + 1]:
            if layer.kind == "conv":
                h = conv(h, *self.compute_weights(layer.name))
            elif layer.kind == "relu":
                h = relu(h)
            elif layer.kind == "pool":
                h = avg(h) if self.spec.pool == "avg" else F.max_pool2d(h, 2)
            else:  # fc
                if h.dim() == 4:
                    if self.trained:  # torchvision's VGG pools to 7x7 before the classifier
                        h = F.adaptive_avg_pool2d(h, (TORCHVISION_GRID, TORCHVISION_GRID))
                    h = h.flatten(1)
                h = F.linear(h, *self.compute_weights(layer.name))
            if layer.name in wanted:
                out[layer.name] = h if self.dtype == torch.float32 else h.float()
        return out


def load_trained(path: str | Path, device: str | torch.device = "cpu", pool: str = "avg") -> Net:
    """VGG-19 with trained weights from a local torchvision state dict (never downloads).

    Keys ``features.{i}.weight``/``bias`` for the 16 convs (i = their positions in torchvision's
    ``features``) and ``classifier.{0,3,6}.weight``/``bias`` for fc6–fc8. Preprocessing becomes
    torchvision's (x − mean)/std. ``pool`` swaps max for avg pooling as Gatys et al. did.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"trained weights {p} is not a file; give a torchvision VGG-19 state dict")
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a bad file
        raise InputError(f"cannot read trained weights {p}: {str(e).splitlines()[0]}") from None
    return net_from_state_dict(sd, device, pool)


def net_from_state_dict(sd: dict[str, torch.Tensor], device: str | torch.device = "cpu",
                        pool: str = "avg") -> Net:
    """Build a trained :class:`Net` from a torchvision-layout VGG-19 state dict (see load_trained)."""
    spec = NetSpec.random(0, pool=pool)
    spec.info = {"weights": "trained (torchvision state dict)"}
    net = Net(spec, device)
    net.trained = True
    tv_index, i = {}, 0
    for v in VGG19:  # torchvision's features: conv, relu per width; one pool per "P"
        if v == "P":
            i += 1
        else:
            tv_index[len(tv_index)] = i
            i += 2
    convs = [n for n in WEIGHTED if n.startswith("conv")]
    keys = {n: f"features.{tv_index[k]}" for k, n in enumerate(convs)}
    keys.update({"fc6": "classifier.0", "fc7": "classifier.3", "fc8": "classifier.6"})
    for name, key in keys.items():
        if f"{key}.weight" not in sd:
            raise InputError(f"trained weights lack {key}.weight: not a torchvision VGG-19 state dict")
        layer = LAYER_INDEX[name]
        w = sd[f"{key}.weight"]
        c_in = layer.c_in if name != "fc6" else LAYER_INDEX["pool5"].c_out * TORCHVISION_GRID**2
        want = (layer.c_out, c_in, 3, 3) if layer.kind == "conv" else (layer.c_out, c_in)
        if tuple(w.shape) != want:
            raise InputError(f"{key}.weight has shape {tuple(w.shape)}; VGG-19 needs {want}")
        net.set_weights(name, w, sd.get(f"{key}.bias", torch.zeros(layer.c_out)))
    return net
