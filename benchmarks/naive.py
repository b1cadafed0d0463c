"""The usual implementation, written the way tutorials write it: the benchmark's reference.

What makes it "usual" (on purpose — this is what ranvis is compared against):
- the whole VGG-19 feature stack as an ``nn.Sequential`` of ``nn.Conv2d`` / ``nn.ReLU`` /
  ``nn.AvgPool2d`` up to pool5, evaluated in full on every call (no truncation after the last
  loss layer), float32, NCHW (PyTorch's default layout);
- parameters left requiring grad, so every backward pass also computes (and accumulates)
  the weight gradients nobody uses;
- loss modules (``ContentLoss``, ``StyleLoss``) inserted after the conv layers, which store their
  loss as a side effect; the closure sums them;
- ``torch.optim.LBFGS([x])`` with its defaults (max_iter=20 evaluations per ``step``, history 100),
  stepped in a loop until the number of closure calls reaches the budget.

As in the tutorials, the closure clamps the image to [0, 1] before each evaluation
(``clamp=False`` leaves it unconstrained, as ranvis's L-BFGS is; the benchmark reports both).

It computes the same objective as ranvis (same formulas, same normalizations); the per-layer
factors are fed in from ranvis (``weighting.layer_factors``), the targets are computed here the
tutorial way, by running the model built so far on the content / style image.
The weights are copied from ``ranvis.nets.vgg.Net.layer_weights``, so both use the same network.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from ranvis.nets.base import IMAGENET_MEAN
from ranvis.nets.vgg import Net
from ranvis.nets.vgglayout import CONFIGS

VGG19 = CONFIGS["vgg19"]


class Normalization(nn.Module):
    """Caffe-range preprocessing of the random nets: 255·(x − ImageNet mean)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(-1, 1, 1))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return (img - self.mean) * 255.0


class ContentLoss(nn.Module):
    """scale · ‖F − F0‖² / (2·N·M) (paper eq. 1); stores ``self.loss``, passes its input on."""

    def __init__(self, target: torch.Tensor, scale: float) -> None:
        super().__init__()
        self.target = target.detach()
        self.scale = scale

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        _, n, h, w = input.size()
        self.loss = self.scale * ((input - self.target) ** 2).sum() / (2.0 * n * h * w)
        return input


def gram_matrix(input: torch.Tensor) -> torch.Tensor:
    """G/M for one image: features reshaped to [N, M], G = F·Fᵀ, divided by M = h·w."""
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    g = torch.mm(features, features.t())
    return g.div(c * d)


class StyleLoss(nn.Module):
    """scale · ‖G/M − G0/M0‖² / (4·N²) (paper eq. 6 with G/M on both sides, as ranvis)."""

    def __init__(self, target_feature: torch.Tensor, scale: float) -> None:
        super().__init__()
        self.target = gram_matrix(target_feature).detach()
        self.scale = scale

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        n = input.size(1)
        g = gram_matrix(input)
        self.loss = self.scale * ((g - self.target) ** 2).sum() / (4.0 * n * n)
        return input


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """(Σ(Δx)² + Σ(Δy)²) / numel, the same normalization as ranvis.objectives.losses.total_variation."""
    dx = x[:, :, :, 1:] - x[:, :, :, :-1]
    dy = x[:, :, 1:, :] - x[:, :, :-1, :]
    return ((dx ** 2).sum() + (dy ** 2).sum()) / x.numel()


def vgg19_layers(net: Net) -> list[tuple[str, nn.Module]]:
    """(name, module) for VGG-19's feature stack to pool5, weights copied from ``net``."""
    layers: list[tuple[str, nn.Module]] = []
    block, i, c = 1, 1, 3
    for v in VGG19:
        if v == "P":
            pool = nn.AvgPool2d(2) if net.spec.pool == "avg" else nn.MaxPool2d(2)
            layers.append((f"pool{block}", pool))
            block, i = block + 1, 1
            continue
        conv = nn.Conv2d(c, int(v), kernel_size=3, padding=1)
        w, b = net.layer_weights(f"conv{block}_{i}")
        with torch.no_grad():
            conv.weight.copy_(w.cpu())
            conv.bias.copy_(b.cpu())
        layers.append((f"conv{block}_{i}", conv))
        layers.append((f"relu{block}_{i}", nn.ReLU(inplace=False)))
        c, i = int(v), i + 1
    return layers


@dataclass
class NaiveModel:
    """The model with its loss modules; :meth:`loss` evaluates the whole thing on an image."""

    model: nn.Sequential
    content_losses: list[ContentLoss] = field(default_factory=list)
    style_losses: list[StyleLoss] = field(default_factory=list)
    tv_weight: float = 0.0

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        self.model(x)
        loss = sum(cl.loss for cl in self.content_losses) + sum(sl.loss for sl in self.style_losses)
        if self.tv_weight:
            loss = loss + self.tv_weight * total_variation(x)
        return loss


def build(net: Net, *, content_img: torch.Tensor | None = None,
          content_scales: dict[str, float] | None = None,
          style_img: torch.Tensor | None = None, style_scales: dict[str, float] | None = None,
          tv_weight: float = 0.0, device: str | torch.device = "cpu") -> NaiveModel:
    """Build the tutorial model: loss modules after the named layers, targets from the images.

    ``*_scales``: {layer: factor·weight} as ranvis computes them (ω·α, µ·β). No truncation.
    """
    content_scales, style_scales = content_scales or {}, style_scales or {}
    model = nn.Sequential(Normalization()).to(device)
    out = NaiveModel(model, tv_weight=tv_weight)
    for name, layer in vgg19_layers(net):
        model.add_module(name, layer.to(device))
        if name in content_scales:
            target = model(content_img.to(device)).detach()
            loss = ContentLoss(target, content_scales[name])
            model.add_module(f"content_loss_{name}", loss)
            out.content_losses.append(loss)
        if name in style_scales:
            target = model(style_img.to(device)).detach()
            loss = StyleLoss(target, style_scales[name])
            model.add_module(f"style_loss_{name}", loss)
            out.style_losses.append(loss)
    return out


class Runner:
    """The tutorial loop, resumable: ``run(k)`` does exactly k more closure evaluations.

    LBFGS with its defaults (20 evaluations per ``step``), stepped until the budget is spent; a
    step that would overshoot is given a smaller ``max_iter``, so the optimizer state (and its
    curvature history) carries on into the next ``run``. ``on_eval(i, loss, seconds)``.
    """

    def __init__(self, naive: NaiveModel, x0: torch.Tensor, clamp: bool = True,
                 on_eval: Callable[[int, float, float], None] | None = None) -> None:
        self.naive, self.clamp, self.on_eval = naive, clamp, on_eval
        self.input_img = x0.detach().clone().requires_grad_(True)
        self.optimizer = torch.optim.LBFGS([self.input_img])
        self.max_iter = self.optimizer.defaults["max_iter"]
        self.losses: list[float] = []
        self.t0 = time.perf_counter()

    def closure(self) -> torch.Tensor:
        if self.clamp:
            with torch.no_grad():
                self.input_img.clamp_(0, 1)
        self.optimizer.zero_grad()
        loss = self.naive.loss(self.input_img)
        loss.backward()
        self.losses.append(loss.item())
        if self.on_eval is not None:
            self.on_eval(len(self.losses) - 1, self.losses[-1], time.perf_counter() - self.t0)
        return loss

    def run(self, k: int) -> list[float]:
        """k more evaluations; returns all losses so far."""
        budget = len(self.losses) + k
        while len(self.losses) < budget:
            # one step = max_iter evaluations without line search (fewer if it converged)
            left = budget - len(self.losses)
            self.optimizer.param_groups[0]["max_iter"] = min(self.max_iter, left)
            self.optimizer.step(self.closure)
        return self.losses


def run_lbfgs(naive: NaiveModel, x0: torch.Tensor, iters: int, clamp: bool = True,
              on_eval: Callable[[int, float, float], None] | None = None) -> list[float]:
    """The tutorial loop from ``x0`` for ``iters`` evaluations; the loss at each."""
    return Runner(naive, x0, clamp, on_eval).run(iters)
