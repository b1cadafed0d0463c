"""Pure loss functions. Shapes: features ``[B, C, h, w]`` (conv) or ``[B, D]`` (fc).

N_l = C (feature maps), M_l = h·w (positions per map), as in the paper §2.
``feature_loss``, ``gram`` and ``gram_loss`` write the equations as they read (and support
higher-order gradients); ``feature_distance`` and ``gram_distance`` are the same terms fused into
one autograd node each, what objectives.Term runs on every evaluation (first-order only).
"""
from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable


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


def _flat(t: torch.Tensor) -> torch.Tensor:
    """``t`` as one vector in memory order: a view for contiguous and channels-last tensors."""
    if t.is_contiguous():
        return t.view(-1)
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).reshape(-1)
    return t.reshape(-1)


#: elements per partial dot product in :func:`_sqnorm`
_DOT_CHUNK = 1 << 20


def _sqnorm(v: torch.Tensor) -> torch.Tensor:
    """‖v‖² of a vector, accurate for any length: partial dot products of ``_DOT_CHUNK``
    elements added in float64 (one ``torch.dot`` up to that length, bit for bit).

    Why: one BLAS dot over tens of millions of float32 elements accumulates a rounding error
    of 1e-4–1e-3 of the sum (67 M elements, as in VGG's conv1_1 at 1024 px or the multi-scale
    net at 256 px, whose content term came out 8.6e-4 low), more than the loss differences an
    L-BFGS line search compares; chunks of 2^20 keep it near 1e-6 at the same speed
    (benchmarks/README.md, "Loss sums over large feature maps")."""
    if v.numel() <= _DOT_CHUNK:
        return torch.dot(v, v)
    parts = torch.stack([torch.dot(c, c) for c in v.split(_DOT_CHUNK)])
    return parts.double().sum().to(v.dtype)


class _FeatureDistance(torch.autograd.Function):
    """c·‖F − F0‖² in one pass; backward 2c·(F − F0)·grad, reusing the saved difference."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, f: torch.Tensor, target: torch.Tensor,
                c: float) -> torch.Tensor:
        d = f - target
        ctx.save_for_backward(d)
        ctx.c, ctx.shape = c, f.shape
        v = _flat(d)
        return c * _sqnorm(v)

    @staticmethod
    @once_differentiable
    def backward(ctx: torch.autograd.function.FunctionCtx,
                 grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (d,) = ctx.saved_tensors
        g = d * (2.0 * ctx.c * grad)  # not in place: a retained graph may run backward again
        if g.shape != ctx.shape:  # a target with more images than f
            g = g.sum_to_size(ctx.shape)
        return g, None, None


class _GramDistance(torch.autograd.Function):
    """c·‖XᵀX/M − T‖² for X ``[B, M, C]``; backward (2c/M)·X·(R + Rᵀ)·grad, R = XᵀX/M − T.

    One batched matmul each way, nothing else of X's size: R is kept from the forward pass.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor, target: torch.Tensor,
                c: float) -> torch.Tensor:
        m = x.shape[1]
        r = torch.bmm(x.transpose(1, 2), x).div_(m) - target
        ctx.save_for_backward(x, r)
        ctx.k = 2.0 * c / m
        v = r.view(-1)
        return c * _sqnorm(v)

    @staticmethod
    @once_differentiable
    def backward(ctx: torch.autograd.function.FunctionCtx,
                 grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        x, r = ctx.saved_tensors
        if r.shape[0] != x.shape[0]:  # several targets for one image: their gradients add
            r = r.sum(0, keepdim=True)
        s = (r + r.transpose(1, 2)).mul_(ctx.k * grad)
        return torch.bmm(x, s), None, None


def feature_distance(f: torch.Tensor, target: torch.Tensor, c: float) -> torch.Tensor:
    """c·‖F − F0‖² (summed over the batch), fused: eq. 1's term is ``c = ω/(2·N·M)``.

    ``f``: features [B, C, h, w] or [B, D]; ``target``: broadcastable to ``f``. Equal to
    ``c·2·N·M·feature_loss(f, target)`` (tests) but one pass over F forward and one back, where
    the unfused expression takes five. First-order only (objectives need no more).
    """
    return _FeatureDistance.apply(f, target, c)


def gram_distance(f: torch.Tensor, target: torch.Tensor, c: float) -> torch.Tensor:
    """c·‖G(F)/M − T‖² for features ``[B, C, h, w]`` and a target ``[B or 1, C, C]``, fused.

    Eq. 6 is ``c = µ/(4·N²)`` with T = G(F0)/M (objectives.Term). Same value and gradient as
    ``gram_loss(gram(f) / M, target, N, 1)`` times ``4·N²·c``, with one matmul forward and one
    backward and no elementwise pass over F. First-order only (objectives need no more).
    """
    b, ch = f.shape[:2]
    x = f.permute(0, 2, 3, 1).reshape(b, -1, ch)  # a view in the channels-last layout
    return _GramDistance.apply(x, target, c)


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Squared total variation (paper §2: squared differences of adjacent pixels), ``[B,C,H,W]``.

    Normalized per element: (Σ(Δx)² + Σ(Δy)²) / (B·C·H·W), so a weight γ means the same at
    every image size. A constant image has zero TV.
    """
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return (dx.pow(2).sum() + dy.pow(2).sum()) / x.numel()


def tv_excess(x: torch.Tensor, level: float) -> torch.Tensor:
    """The TV prior with an allowance: max(0, total_variation(x) − ``level``), ``[B,C,H,W]``.

    ``level`` 0 is :func:`total_variation` itself. Style transfer's ``best`` sets it to the
    style's own TV (at each scale), so the prior removes speckle beyond the style's grain and
    leaves the grain itself alone: where the image is no rougher than the style it costs
    nothing, above it the gradient is total_variation's.
    """
    return torch.relu(total_variation(x) - level)


def tv_norm(x: torch.Tensor, beta: float = 2.0) -> torch.Tensor:
    """Mahendran & Vedaldi's total-variation prior R_TV^β(x) = Σ_ij ((Δx)² + (Δy)²)^(β/2),
    summed over channels and positions of ``[B, C, H, W]`` (forward differences; the last row
    and column have none). β = 2 is the plain sum of squared differences (their value for
    inversion); β < 2 needs a small ε inside the root, added here (1e-8) so the gradient is finite
    on flat regions. A plain sum: its gradient per pixel does not depend on the image size, like
    the factor-normalized feature terms'. A constant image has zero TV. (The objectives' TV term
    is ``total_variation`` × numel, the same sum for β = 2 up to the last row and column; this
    function is the general β for API users.)
    """
    dx = x[..., :-1, 1:] - x[..., :-1, :-1]
    dy = x[..., 1:, :-1] - x[..., :-1, :-1]
    sq = dx.pow(2) + dy.pow(2)
    return sq.sum() if beta == 2.0 else (sq + 1e-8).pow(beta / 2.0).sum()


def alpha_norm(x: torch.Tensor, alpha: float = 6.0) -> torch.Tensor:
    """Mahendran & Vedaldi's α-norm prior, here a soft box around [0, 1]: Σ |2(x − ½)|^α over
    ``[B, C, H, W]``. Each pixel costs at most 1 inside the range and grows fast beyond it
    (α = 6, their value), so it keeps an unprojected optimizer (L-BFGS) near the displayable range.
    """
    return (2.0 * (x - 0.5)).abs().pow(alpha).sum()
