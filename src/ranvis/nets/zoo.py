"""torchvision's architectures (and the multi-scale network) as seeded random networks.

A :class:`ZooNet` holds the module tree torchvision builds (``weights=None``: nothing is ever
downloaded) on the ``meta`` device, so no memory is spent on layers nobody reads. A forward pass
asks torchvision's ``create_feature_extractor`` for the taps wanted — the graph it returns stops
at the deepest of them — and only that graph's parameters are materialized, each from its own
seed:

* conv and linear weights: ``nets.draw.draw(spec.seeds[module], shape, spec.init, spec.sigma)``,
  the weighted layers in ``named_modules()`` order (``NetSpec.random(s)``: seed 1000·s + i);
* biases: 0 (paper §2);
* every other parameter — LayerNorm scales, ConvNeXt's per-block layer scale — 1, biases 0: the
  identity. (torchvision initializes ConvNeXt's layer scale to 1e-6, a training device that makes
  each block start as the identity; an untrained network given 1e-6 would be its stem and
  downsampling convs only.)
* BatchNorm of an untrained network is the identity (weight 1, bias 0, running mean 0,
  variance 1): its modules are replaced by ``nn.Identity``, exact where eval-mode BN with those
  statistics would still scale by 1/√(1 + eps). Trained weights keep their BatchNorm.

``spec.pool = "avg"`` (the default, after the paper) replaces every ``nn.MaxPool2d`` by an
``nn.AvgPool2d`` with the same window (padding not counted in the mean); adaptive (global)
pooling is left as it is. Weights never require grad; the network runs channels-last; bfloat16
runs under ``torch.autocast``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import fx, nn

from ranvis.errors import InputError
from ranvis.nets._torchvision import import_torchvision
from ranvis.nets.base import FrozenNet
from ranvis.nets.draw import draw
from ranvis.nets.spec import NetSpec

WEIGHTED_TYPES = (nn.Conv2d, nn.Linear)


def _replace(model: nn.Module, kind: type, make: Callable[[nn.Module], nn.Module]) -> None:
    for name, m in list(model.named_modules()):
        if isinstance(m, kind):
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, make(m))


def prepare(model: nn.Module, pool: str, trained: bool, padding: str = "zeros") -> nn.Module:
    """BatchNorm → identity (untrained only), max → average pooling (``pool == "avg"``),
    convolutions padded with ``padding`` (NetSpec.padding; "zeros" as built), eval mode, no
    gradients."""
    if padding != "zeros":
        for m in model.modules():
            if isinstance(m, nn.Conv2d) and any(m.padding):
                m.padding_mode = padding
    if not trained:
        _replace(model, nn.modules.batchnorm._BatchNorm, lambda m: nn.Identity())
    if pool == "avg":
        _replace(model, nn.MaxPool2d, lambda m: nn.AvgPool2d(
            m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode, count_include_pad=False))
    return model.eval().requires_grad_(False)


class _Shared:
    """What a ZooNet shares with its other-dtype views: the module tree, drawn values and
    extractors (one per set of taps)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.values: dict[str, torch.Tensor] = {}
        self.extractors: dict[tuple[str, ...], fx.GraphModule] = {}


class ZooNet(FrozenNet):
    """A torchvision-structured network whose weights come from a spec's seeds (module doc);
    ``forward(x, layers)`` returns {tap: features} and runs only up to the deepest tap."""

    def __init__(self, spec: NetSpec, device: str | torch.device = "cpu",
                 channels_last: bool = True, dtype: torch.dtype = torch.float32,
                 model: nn.Module | None = None, shared: _Shared | None = None) -> None:
        super().__init__(spec, device, channels_last, dtype)
        if shared is None:
            if model is None:
                with torch.device("meta"):
                    model = self.arch.extra["make_model"]()
                model = prepare(model, spec.pool, trained=False, padding=spec.padding)
            shared = _Shared(model)
        self.shared = shared

    @property
    def model(self) -> nn.Module:
        return self.shared.model

    def as_dtype(self, dtype: torch.dtype) -> ZooNet:
        """The same network computing in ``dtype`` (shares weights and extractors)."""
        if dtype == self.dtype:
            return self
        other = ZooNet(self.spec, self.device, self.channels_last, dtype, shared=self.shared)
        other.trained = self.trained
        return other

    # -- weights ---------------------------------------------------------------------------
    def _value(self, module_name: str, pname: str, like: torch.Tensor) -> torch.Tensor:
        """The value of parameter ``module_name.pname`` (shaped like ``like``), drawn once."""
        key = f"{module_name}.{pname}" if module_name else pname
        if key not in self.shared.values:
            owner = self.model.get_submodule(module_name) if module_name else self.model
            shape = tuple(like.shape)
            if isinstance(owner, WEIGHTED_TYPES) and pname == "weight":
                v = draw(self.spec.seeds[module_name], shape, self.spec.init, self.spec.sigma)
            elif pname.endswith("bias"):
                v = torch.zeros(shape)
            else:
                v = torch.ones(shape)
            self.shared.values[key] = self._place(v)
        return self.shared.values[key]

    def _place(self, v: torch.Tensor) -> torch.Tensor:
        v = v.detach().to(self.device, torch.float32)
        return v.contiguous(memory_format=torch.channels_last) if (
            v.dim() == 4 and self.channels_last) else v

    def _materialize(self, gm: nn.Module) -> None:
        """Give every meta parameter of ``gm`` its value (module doc)."""
        for qual, p in list(gm.named_parameters()):
            if p.is_meta:
                path, _, pname = qual.rpartition(".")
                owner = gm.get_submodule(path) if path else gm
                value = self._value(path, pname, p)
                owner._parameters[pname] = nn.Parameter(value, requires_grad=False)

    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of weighted layer ``name`` (bias zeros when the layer has none)."""
        m = self.model.get_submodule(name)
        w = m.weight if self.trained else self._value(name, "weight", m.weight)
        b = m.bias if m.bias is not None else torch.zeros(w.shape[0], device=w.device)
        if not self.trained and m.bias is not None:
            b = self._value(name, "bias", m.bias)
        return w.detach(), b.detach()

    def set_weights(self, name: str, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Install weights for one weighted layer (stacking candidates)."""
        m = self.model.get_submodule(name)
        w = self._place(weight)
        self.shared.values[f"{name}.weight"] = w
        m._parameters["weight"] = nn.Parameter(w, requires_grad=False)
        if m.bias is not None:
            b = self._place(bias)
            self.shared.values[f"{name}.bias"] = b
            m._parameters["bias"] = nn.Parameter(b, requires_grad=False)

    # -- forward ---------------------------------------------------------------------------
    def extractor(self, taps: list[str]) -> fx.GraphModule:
        """torchvision's feature extractor for ``taps``, truncated at the deepest, materialized."""
        key = tuple(taps)
        if key not in self.shared.extractors:
            import_torchvision()
            from torchvision.models.feature_extraction import create_feature_extractor

            gm = create_feature_extractor(self.model, list(taps), suppress_diff_warning=True)
            if not self.trained:
                self._materialize(gm)
            gm.eval().requires_grad_(False)
            self.shared.extractors[key] = gm
        return self.shared.extractors[key]

    def forward(self, x: torch.Tensor, layers: list[str] | str) -> dict[str, torch.Tensor]:
        """Features of ``x`` ([B,3,H,W] in [0,1]) at ``layers``: {name: [B,C,h,w] or [B,D]}.
        InputError for an unknown tap or an image too small for the deepest one."""
        taps = self.arch.check_taps(layers)
        self.arch.check_input_size(x.shape[-2], x.shape[-1], taps)
        gm = self.extractor(taps)
        h = self.preprocess(x)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        if self.dtype == torch.float32:
            out = gm(h)
        else:
            with torch.autocast(self.device.type, dtype=self.dtype):
                out = gm(h)
        return {n: out[n].float() if out[n].dtype != torch.float32 else out[n] for n in taps}



def from_state_dict(sd: dict[str, torch.Tensor], model: nn.Module, spec: NetSpec,
                    device: str | torch.device = "cpu", source: str = "state dict") -> ZooNet:
    """``model`` (a fresh torchvision module of ``spec.arch``) with the trained weights ``sd``:
    BatchNorm kept with its statistics, preprocessing (x − mean)/std, max pooling swapped for
    average pooling when ``spec.pool == "avg"`` (as Gatys et al. did for VGG). InputError when
    ``sd`` is not that architecture's state dict (``source`` names it in the message)."""
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        lines = str(e).splitlines()
        raise InputError(f"{source} is not a torchvision {spec.arch} state dict: "
                         f"{lines[1].strip() if len(lines) > 1 else e}") from None
    model = prepare(model, spec.pool, trained=True).to(device)
    if torch.device(device).type != "meta":
        model = model.to(memory_format=torch.channels_last)
    net = ZooNet(spec, device, model=model)
    net.trained = True
    return net
