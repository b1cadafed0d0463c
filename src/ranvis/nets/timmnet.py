"""Any timm architecture as a seeded random network: ``--arch timm:NAME``.

timm (``pip install 'ranvis[timm]'``) builds the module tree with ``pretrained=False`` and
``features_only=True`` — nothing is ever downloaded — and its feature info gives one feature map
per downsampling stage. ranvis names those taps by stride: ``s2``, ``s4``, ``s8``, ``s16``,
``s32`` (``s1`` where a stage keeps the input resolution; a second map at the same stride gets
``s16b``, …). A forward pass asking for taps up to the k-th builds timm's feature model with
``out_indices = 0..k`` (timm truncates the module list there), so nothing deeper is computed or
drawn.

Weights, per ``spec.init``:

* ``paper`` / ``he``: every conv and linear weight from its own seed (``nets.draw``, weighted
  layer i of net seed s: seed 1000·s + i, in ``named_modules`` order of the full feature model);
  biases 0;
* ``timm``: timm's own initialization of conv and linear layers, drawn by torch's generator
  seeded with the spec's first seed (1000·s) while timm builds the model (identical on every
  run of one torch release on the CPU; not across releases, unlike ``paper``/``he``);
* all inits: BatchNorm of an untrained network is the identity, as in ``nets.zoo``: plain
  ``BatchNorm2d`` modules become ``nn.Identity``; timm's fused norm+activation modules
  (``BatchNormAct2d``) keep their activation with weight 1, bias 0, mean 0, variance 1 and
  eps 0 (exactly the identity before the activation); other norms (LayerNorm, GroupNorm) keep
  normalizing with scale 1 and shift 0; every other parameter (ConvNeXt's layer scale, …) is 1.

``spec.pool == "avg"`` swaps each plain ``nn.MaxPool2d`` for an average over the same window.
Receptive fields are traced only when asked for (``ranvis layers``, ``Arch.receptive_field``;
nets.timmlayout), never to build or run this network.
"""
from __future__ import annotations

import torch
from torch import nn

from ranvis.errors import InputError
from ranvis.nets.base import FrozenNet
from ranvis.nets.spec import NetSpec
from ranvis.nets.timmlayout import create_features

NORM_TYPES = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)
WEIGHTED_TYPES = (nn.Conv2d, nn.Linear)


def _neutral_norms(model: nn.Module) -> None:
    """The BatchNorm rule (module doc) on ``model`` in place."""
    for name, m in list(model.named_modules()):
        if type(m) in (nn.BatchNorm2d, nn.BatchNorm1d):
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, nn.Identity())
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eps = 0.0
            if m.running_mean is not None:
                m.running_mean.zero_()
                m.running_var.fill_(1.0)


def _swap_pools(model: nn.Module) -> None:
    for name, m in list(model.named_modules()):
        if type(m) is nn.MaxPool2d:
            parent, _, leaf = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, leaf, nn.AvgPool2d(
                m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode,
                count_include_pad=False))


def _fill(model: nn.Module, spec: NetSpec, drawn: dict[str, torch.Tensor]) -> None:
    """Every parameter's value (module doc); conv/linear weights drawn unless init is timm,
    each once: ``drawn`` keeps them by layer for the network's other truncations."""
    from ranvis.nets.draw import draw

    for mname, m in model.named_modules():
        for pname, p in m.named_parameters(recurse=False):
            with torch.no_grad():
                if isinstance(m, WEIGHTED_TYPES) and spec.init != "timm":
                    if pname == "weight":
                        if mname not in drawn:
                            drawn[mname] = draw(spec.seeds[mname], tuple(p.shape), spec.init,
                                                spec.sigma)
                        p.copy_(drawn[mname])
                    else:
                        p.zero_()
                elif isinstance(m, WEIGHTED_TYPES):
                    continue  # timm's own draw
                elif pname.endswith("bias"):
                    p.zero_()
                else:
                    p.fill_(1.0)


def _has_own_buffers(model: nn.Module) -> bool:
    """Whether the model holds buffers besides norm statistics (then it is built for real)."""
    return any(not isinstance(m, NORM_TYPES) and any(True for _ in m.buffers(recurse=False))
               for m in model.modules())


class TimmNet(FrozenNet):
    """A timm-structured network whose weights come from a spec's seeds (module doc);
    ``forward(x, layers)`` returns {tap: [B, C, h, w]} and runs only up to the deepest tap."""

    def __init__(self, spec: NetSpec, device: str | torch.device = "cpu",
                 channels_last: bool = True, dtype: torch.dtype = torch.float32,
                 models: dict[int, nn.Module] | None = None,
                 drawn: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__(spec, device, channels_last, dtype)
        self.models: dict[int, nn.Module] = {} if models is None else models
        self.drawn: dict[str, torch.Tensor] = {} if drawn is None else drawn

    def as_dtype(self, dtype: torch.dtype) -> TimmNet:
        """The same network computing in ``dtype`` (shares the built models)."""
        if dtype == self.dtype:
            return self
        return TimmNet(self.spec, self.device, self.channels_last, dtype, models=self.models,
                       drawn=self.drawn)

    def model(self, upto: int) -> nn.Module:
        """The feature model with maps 0..``upto``, weights filled, on the device (cached)."""
        if upto not in self.models:
            base = self.arch.extra["timm"]
            if self.spec.init == "timm":
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(self.spec.seeds[self.arch.weighted()[0]])
                    with torch.device("cpu"):
                        m = create_features(base, upto)
            else:
                with torch.device("meta"):
                    m = create_features(base, upto)
                if _has_own_buffers(m):
                    with torch.device("cpu"):
                        m = create_features(base, upto)
                else:
                    m = m.to_empty(device="cpu")
            _neutral_norms(m)
            _fill(m, self.spec, self.drawn)
            if self.spec.pool == "avg":
                _swap_pools(m)
            if self.spec.padding != "zeros":
                for c in m.modules():
                    if type(c) is nn.Conv2d and any(c.padding):
                        c.padding_mode = self.spec.padding
            m = m.to(self.device).eval().requires_grad_(False)
            if self.channels_last:
                m = m.to(memory_format=torch.channels_last)
            self.models[upto] = m
        return self.models[upto]

    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of weighted layer ``name`` (bias zeros when the layer has none)."""
        m = self.model(len(self.arch.nodes()) - 1).get_submodule(name)
        b = m.bias if m.bias is not None else torch.zeros(m.weight.shape[0])
        return m.weight.detach().float(), b.detach().float()

    def set_weights(self, name: str, weight: torch.Tensor, bias: torch.Tensor) -> None:
        raise InputError("build-net's stacking search does not support timm: architectures")

    def forward(self, x: torch.Tensor, layers: list[str] | str) -> dict[str, torch.Tensor]:
        """Features of ``x`` ([B,3,H,W] in [0,1]) at ``layers``: {name: [B,C,h,w]}.
        InputError for an unknown tap or an image too small for the deepest one."""
        taps = self.arch.check_taps(layers)
        self.arch.check_input_size(x.shape[-2], x.shape[-1], taps)
        index = {t: self.arch.tap(t).index for t in taps}
        model = self.model(max(index.values()))
        h = self.preprocess(x)
        if self.channels_last:
            h = h.contiguous(memory_format=torch.channels_last)
        if self.dtype == torch.float32:
            out = model(h)
        else:
            with torch.autocast(self.device.type, dtype=self.dtype):
                out = model(h)
        out = list(out.values()) if isinstance(out, dict) else list(out)
        return {t: out[i].float() for t, i in index.items()}
