"""The optimization loop: one iteration = one objective evaluation, reporting by callbacks.

L-BFGS runs torch.optim.LBFGS with a strong-Wolfe line search, one optimizer step per loop
turn, curvature history kept across steps; every objective evaluation (line-search trials
included) is one iteration, so ``iters`` is exactly the evaluation budget. A step re-evaluates
the point the previous step's line search ended on: that evaluation is served from a small
cache (same point, bit for bit), so no evaluation is paid twice. Departure, measured: without a
line search (lr 1, the usual way of writing it) an early step often overshoots (loss ×300 to
×10^8) and the curvature pairs it leaves can stall the run for good: a 256 px style transfer
(astronaut/coffee, 100 evaluations) stayed at 1.39e5 from 1.48e5; with the line search it reached
4358, and on three other pairs it matched or beat the no-line-search loss at 25, 50 and 100
evaluations. The image is kept in [0, 1] by projection after each Adam step; L-BFGS is *not*
projected (measured: projecting after every step breaks its curvature pairs, pool2 inversion
fell from 30 dB to 7 dB), it runs unconstrained and every image it hands out (callbacks, result)
is clamped to [0, 1]. The clamped image can match the features less well than the loss says at
deep layers (reproduce's Figure 4 shows both); a smooth range penalty was tried and lowered PSNR.
A non-finite loss or gradient never reaches the result: the loop restores the last finite image,
restarts the optimizer from it, and stops after repeated faults. Ctrl-C returns the best so far.
``param="fourier"`` optimizes the image's Fourier coefficients scaled by 1/|f|^0.5 instead of its
pixels (a preconditioner: same objective, same optimum, but low frequencies, which carry most of
the image, move faster). See :class:`FourierParam` for what it gained.
A run can continue from a checkpoint (:class:`Resume`): iterations are counted in total, the
image and the loss history carry over, the optimizer's own state (L-BFGS curvature pairs, Adam
moments) starts afresh.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ranvis.memory import lbfgs_pairs

ObjectiveFn = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass(frozen=True)
class Step:
    """What a callback sees after iteration ``i`` (0-based): the loss at ``image`` (detached).

    ``image`` is clamped to [0, 1]; ``x`` is the point itself, which L-BFGS (unprojected) may
    have taken slightly out of range: a checkpoint keeps ``x`` so a continued run starts there.
    """

    i: int
    loss: float
    terms: dict[str, float]
    image: torch.Tensor
    x: torch.Tensor | None = None


@dataclass
class Result:
    image: torch.Tensor  # [1, 3, H, W], the lowest-loss image evaluated, in [0, 1]
    losses: list[float]
    terms: dict[str, list[float]]
    interrupted: bool = False
    faults: list[str] = field(default_factory=list)  # what went non-finite, and what was done
    stopped: str = "completed"  # completed | converged (no step left) | interrupted | numerical fault
    last: torch.Tensor | None = None  # the last point evaluated, unclamped ([1, 3, H, W])


@dataclass
class Resume:
    """Where an earlier, interrupted run of the same task stopped (see checkpoint.py).

    ``image``: the last image evaluated, [1, 3, H, W] (the continuation starts there);
    ``losses``/``terms``: its history, one entry per iteration done; ``best_image``/``best_loss``:
    the lowest-loss image so far (the result unless the continuation does better).
    """

    image: torch.Tensor
    losses: list[float]
    terms: dict[str, list[float]]
    best_image: torch.Tensor
    best_loss: float


class PixelParam:
    """The paper's variable: the pixels themselves."""

    name = "pixel"

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        return z

    def from_image(self, x: torch.Tensor) -> torch.Tensor:
        return x


class FourierParam:
    """x = 0.5 + irfft2(ẑ · s), s(f) = max(|f|·max(H, W), 1)^(-alpha), ẑ a real view of complex
    coefficients ``[1, 3, H, W//2+1, 2]``. A change of variables only: the objective and its
    minimizers are those of pixel space. Measured (pool3 inversion, 128 px, 300 L-BFGS
    iterations, random VGG seed 0): astronaut 17.5 → 19.6 dB, coffee 20.4 → 23.0 dB with
    alpha = 0.5; alpha = 1 gained less (astronaut 18.8 dB).
    """

    name = "fourier"

    def __init__(self, height: int, width: int, device: torch.device, alpha: float = 0.5) -> None:
        fy = torch.fft.fftfreq(height, device=device).view(-1, 1)
        fx = torch.fft.rfftfreq(width, device=device).view(1, -1)
        f = (fx.pow(2) + fy.pow(2)).sqrt() * max(height, width)
        self.scale = f.clamp_min(1.0).pow(-alpha)  # [H, W//2+1], 1 at the lowest frequencies
        self.size = (height, width)

    def to_image(self, z: torch.Tensor) -> torch.Tensor:
        coeffs = torch.view_as_complex(z) * self.scale
        return 0.5 + torch.fft.irfft2(coeffs, s=self.size, norm="ortho")

    def from_image(self, x: torch.Tensor) -> torch.Tensor:
        coeffs = torch.fft.rfft2(x - 0.5, norm="ortho") / self.scale
        return torch.view_as_real(coeffs).contiguous()


def make_param(name: str, x: torch.Tensor) -> PixelParam | FourierParam:
    """'pixel' (the paper) or 'fourier' (preconditioned) for images shaped like ``x``."""
    if name == "pixel":
        return PixelParam()
    if name == "fourier":
        return FourierParam(x.shape[-2], x.shape[-1], x.device)
    raise ValueError(f"param must be 'pixel' or 'fourier', got {name!r}")


def lbfgs_history(numel: int, wanted: int | None = None) -> int:
    """Curvature pairs L-BFGS keeps for a variable of ``numel`` float32 values: ``wanted``
    (default D.LBFGS_HISTORY), capped so the pairs (2 vectors each) fit in
    D.LBFGS_HISTORY_BYTES, never below D.LBFGS_HISTORY_MIN (or ``wanted`` if smaller). 100 up to
    1337² RGB pixels; 42 at 2048². (memory.lbfgs_pairs, which the memory estimate uses without
    importing torch.)"""
    return lbfgs_pairs(numel, wanted)


def _make_optimizer(name: str, x: torch.Tensor, lr: float | None,
                    history: int | None = None) -> torch.optim.Optimizer:
    if name == "lbfgs":
        # one direction per step(); the line search may evaluate several points (the closure
        # counts them and stops the run at its budget). Tolerances 0: losses here can be tiny.
        return torch.optim.LBFGS([x], lr=lr or 1.0, max_iter=1, max_eval=10**9,
                                 history_size=lbfgs_history(x.numel(), history),
                                 tolerance_grad=0.0, tolerance_change=0.0,
                                 line_search_fn="strong_wolfe")
    if name == "adam":
        return torch.optim.Adam([x], lr=lr or 0.02)
    raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {name!r}")


class _Budget(Exception):
    """Raised by the closure when the run's evaluation budget is spent (ends the step)."""


class _Fault(Exception):
    """Raised by the closure at a non-finite loss or gradient (ends the step)."""


CACHE = 4  # evaluations remembered: enough for the point a line search ends on


def optimize(objective: ObjectiveFn, x0: torch.Tensor, iters: int, optimizer: str = "lbfgs",
             lr: float | None = None, callbacks: Sequence[Callable[[Step], None]] = (),
             max_faults: int = 3, resume: Resume | None = None, param: str = "pixel",
             history: int | None = None) -> Result:
    """Minimize ``objective(x)`` over the image x ∈ [0, 1]^{1×3×H×W}, starting at ``x0``.

    Runs ``iters`` objective evaluations in total (with ``resume``: the iterations it already
    holds count, and the run continues from its image; ``x0`` is then ignored). Returns the
    lowest-loss image evaluated. A non-finite loss or gradient is not counted as an iteration:
    the image goes back to the last point whose loss and gradient were finite and the optimizer
    restarts; after more than ``max_faults`` such faults the run stops (``stopped``).
    ``history``: L-BFGS curvature pairs (default D.LBFGS_HISTORY; :func:`lbfgs_history`).
    """
    start = x0 if resume is None else resume.image.to(x0.device, x0.dtype)
    par = make_param(param, start)
    z = par.from_image(start.detach()).clone().requires_grad_(True)  # the optimized variable
    opt = _make_optimizer(optimizer, z, lr, history)
    best, best_loss = start.detach().clone().clamp_(0, 1), math.inf
    res = Result(best, [], {})
    if resume is not None:
        best, best_loss = resume.best_image.to(x0.device, x0.dtype), resume.best_loss
        res.losses = list(resume.losses)
        res.terms = {k: list(v) for k, v in resume.terms.items()}
    last_good = start.detach().clone()
    cache: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []  # (z, loss, grad)
    i = len(res.losses)

    def closure() -> torch.Tensor:
        nonlocal i, best, best_loss, last_good
        for cz, closs, cgrad in cache:  # the point a line search ended on: already evaluated
            if torch.equal(cz, z):
                z.grad = cgrad.clone()
                return closs
        if i >= iters:
            raise _Budget
        opt.zero_grad(set_to_none=False)
        x = par.to_image(z)
        total, parts = objective(x)
        total.backward()
        loss = float(total.detach())
        if not (math.isfinite(loss) and bool(torch.isfinite(z.grad).all())):
            raise _Fault
        # Restore point: where this finite loss and gradient were evaluated.
        last_good = x.detach().clone()
        image = last_good.clamp(0, 1)
        if loss < best_loss:
            best, best_loss = image, loss
        terms = {k: float(v.detach()) for k, v in parts.items()}
        res.last = last_good  # before the loss: a run that counts an evaluation has its point
        res.losses.append(loss)
        for k, v in terms.items():
            res.terms.setdefault(k, []).append(v)
        step = Step(i, loss, terms, image, last_good)
        i += 1
        if optimizer == "lbfgs":
            cache.append((z.detach().clone(), total.detach(), z.grad.detach().clone()))
            del cache[:-CACHE]
        for cb in callbacks:
            cb(step)
        return total

    faults = 0
    try:
        while i < iters:
            before = i
            try:
                opt.step(closure)
            except _Budget:
                break
            except _Fault:
                faults += 1
                if faults > max_faults:
                    res.faults.append(f"iteration {i}: non-finite loss or gradient, fault "
                                      f"{faults}; stopped, keeping the best finite image")
                    res.stopped = "numerical fault"
                    break
                res.faults.append(f"iteration {i}: non-finite loss or gradient; "
                                  "restored the last finite image and restarted the optimizer")
                with torch.no_grad():
                    z.copy_(par.from_image(last_good))
                cache.clear()
                opt = _make_optimizer(optimizer, z, lr, history)
                continue
            if i == before:  # a step that evaluated nothing new: L-BFGS has converged exactly
                res.stopped = "converged"
                break
            if optimizer == "adam":  # projected Adam: back into [0, 1] after each step
                with torch.no_grad():
                    z.copy_(par.from_image(par.to_image(z).clamp(0, 1)))
    except KeyboardInterrupt:
        res.interrupted, res.stopped = True, "interrupted"
    res.image = best
    return res
