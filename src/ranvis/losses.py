"""Pure loss functions. Shapes: features ``[B, C, h, w]`` (conv) or ``[B, D]`` (fc).

N_l = C (feature maps), M_l = h·w (positions per map), as in the paper §2.
"""
from __future__ import annotations

import torch


def _n_m(f: torch.Tensor) -> tuple[int, int]:
    return (f.shape[1], f.shape[2] * f.shape[3]) if f.dim() == 4 else (f.shape[1], 1)


def feature_loss(f: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. 1 without ω: 1/(2·N·M)·‖F − F0‖², summed over the batch. Scalar."""
    n, m = _n_m(f)
    return (f - target).pow(2).sum() / (2.0 * n * m)


class _Gram(torch.autograd.Function):
    """G = XᵀX for X ``[B, M, C]``, with a one-matmul backward: ∂L/∂X = X·(∂L/∂G + ∂L/∂Gᵀ).

    Speed only: autograd's backward of ``X.mT @ X`` runs one matmul per operand and adds them
    (measured ~3x the forward's cost on a CPU); this is the same gradient in one matmul.
    The backward is built from differentiable ops, so higher-order gradients still work.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.transpose(1, 2) @ x

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, g: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return x @ (g + g.transpose(1, 2))


def gram(f: torch.Tensor) -> torch.Tensor:
    """Gram matrix G = F Fᵀ of ``[B, C, h, w]`` features → ``[B, C, C]`` (paper §2).

    Works on the channels-last layout without a copy: X = ``[B, h·w, C]`` view, G = Xᵀ X.
    """
    b, c = f.shape[:2]
    x = f.permute(0, 2, 3, 1).reshape(b, -1, c)  # [B, M, C]
    return _Gram.apply(x)  # [B, C, C]


def gram_loss(g: torch.Tensor, target: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Eq. 6: 1/(4·N²·M²)·‖G − G0‖², for Gram matrices ``[B, N, N]`` of maps with M positions.

    When the synthesized image and the source differ in size, pass Gram matrices divided by their
    own M and m=1 (see objectives): identical to eq. 6 when the sizes agree.
    """
    return (g - target).pow(2).sum() / (4.0 * n * n * m * m)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Squared total variation (paper §2: squared differences of adjacent pixels), ``[B,C,H,W]``.

    Normalized per element: (Σ(Δx)² + Σ(Δy)²) / (B·C·H·W), so a weight γ means the same at
    every image size. A constant image has zero TV.
    """
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return (dx.pow(2).sum() + dy.pow(2).sum()) / x.numel()
