"""Layers of a frozen network, with backward passes that compute the input's gradient only.

Every task here differentiates with respect to the *image*; the weights never change. PyTorch's
own conv, ReLU and average-pool backward passes keep what a weight gradient or a general
backward needs: ``conv2d`` saves its input, ``relu`` its output and ``avg_pool2d`` its input,
one float copy of every activation until the backward pass. With frozen weights the input's
gradient needs none of them:

* conv (3x3, stride 1, padding 1): ∂L/∂x = conv_transpose2d(∂L/∂y, W, padding=1): weights only;
* ReLU: ∂L/∂x = ∂L/∂y · [x > 0]: a boolean mask, 1 byte per element instead of 4 (or 2 in bf16);
* 2x2 average pool: ∂L/∂x = nearest-upsampled ∂L/∂y / 4 (zero on an odd trailing row/column,
  which the pool drops): shapes only.

So a forward pass keeps one byte per activation (plus the features the losses hold), a quarter
of what autograd keeps. nets.vgg.Net uses these layers for float32 inputs above
defaults.LEAN_PIXELS (``lean``; nets.vgg.Net's docstring has the measurements: less memory,
but boolean masks cost more time than ReLU's own backward on a CPU, so small inputs keep
PyTorch's layers). Gradients agree with
autograd's to float rounding (tests/test_frozen.py).
Each backward is built from differentiable operations, so higher-order gradients still work.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd.function import FunctionCtx


class _Conv3x3(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, w: torch.Tensor,
                b: torch.Tensor, padding: int) -> torch.Tensor:
        ctx.save_for_backward(w)  # the weights are kept anyway; nothing per image is saved
        ctx.padding = padding
        return F.conv2d(x, w, b, padding=padding)

    @staticmethod
    def backward(ctx: FunctionCtx, g: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        (w,) = ctx.saved_tensors
        return F.conv_transpose2d(g, w, padding=ctx.padding), None, None, None


class _ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x > 0)
        return F.relu(x)

    @staticmethod
    def backward(ctx: FunctionCtx, g: torch.Tensor) -> torch.Tensor:
        (mask,) = ctx.saved_tensors
        return g * mask  # measured faster than torch.where(mask, g, 0) on a CPU


class _AvgPool2(torch.autograd.Function):
    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        ctx.odd = (x.shape[-2] % 2, x.shape[-1] % 2)
        return F.avg_pool2d(x, 2)

    @staticmethod
    def backward(ctx: FunctionCtx, g: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(g * 0.25, scale_factor=2.0, mode="nearest")
        odd_h, odd_w = ctx.odd
        return F.pad(up, (0, odd_w, 0, odd_h)) if odd_h or odd_w else up


def conv3x3(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, padding: int = 1) -> torch.Tensor:
    """``F.conv2d(x, w, b, padding=padding)`` for frozen ``w``, ``b`` ([C_out, C_in, 3, 3],
    [C_out]); x: [B, C_in, H, W] → [B, C_out, H + 2p − 2, W + 2p − 2]. No gradient reaches ``w``
    or ``b``. ``padding=0`` serves inputs padded beforehand (nets.vgg's reflect padding)."""
    return _Conv3x3.apply(x, w, b, padding)


def relu(x: torch.Tensor) -> torch.Tensor:
    """``F.relu(x)`` that keeps a boolean mask, not its output, for the backward pass."""
    return _ReLU.apply(x)


def avg_pool2(x: torch.Tensor) -> torch.Tensor:
    """``F.avg_pool2d(x, 2)`` that keeps only its input's shape for the backward pass."""
    return _AvgPool2.apply(x)
