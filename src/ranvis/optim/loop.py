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
The loop is :func:`optimize`; the evaluation (:class:`Evaluation`), its cache
(:class:`EvalCache`), the best so far (:class:`BestSoFar`) and the fault handling
(:class:`FaultGuard`) are small named pieces; the variables are ranvis.optim.params.
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

from ranvis.optim.evalcache import CACHE, BestSoFar, EvalCache
from ranvis.optim.params import Param, make_param
from ranvis.optim.stopping import Plateau
from ranvis.platform.plan import MemoryPlan

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
    # completed | converged (no step left) | plateau (stopping.Plateau) | interrupted |
    # numerical fault
    stopped: str = "completed"
    last: torch.Tensor | None = None  # the last point evaluated, unclamped ([1, 3, H, W])
    # the evaluations (0-based indices into ``losses``) the optimizer's iterate rested on: the
    # start and each accepted step; every other evaluation was a line-search trial
    accepted: list[int] = field(default_factory=list)


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
    accepted: list[int] = field(default_factory=list)


def _make_optimizer(name: str, x: torch.Tensor, lr: float | None,
                    memory: MemoryPlan) -> torch.optim.Optimizer:
    if name == "lbfgs":
        # one direction per step(); the line search may evaluate several points (the closure
        # counts them and stops the run at its budget). Tolerances 0: losses here can be tiny.
        return torch.optim.LBFGS([x], lr=lr or 1.0, max_iter=1, max_eval=10**9,
                                 history_size=memory.lbfgs_pairs(x.numel()),
                                 tolerance_grad=0.0, tolerance_change=0.0,
                                 line_search_fn="strong_wolfe")
    if name == "adam":
        return torch.optim.Adam([x], lr=lr or 0.02)
    raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {name!r}")


class _Budget(Exception):
    """Raised by the closure when the run's evaluation budget is spent (ends the step)."""


class _Fault(Exception):
    """Raised by the closure at a non-finite loss or gradient (ends the step)."""


class FaultGuard:
    """Counts non-finite evaluations; says whether to restart (recording why) or stop."""

    def __init__(self, max_faults: int) -> None:
        self.max_faults, self.count = max_faults, 0

    def stop(self, i: int, res: Result) -> bool:
        """Record fault at iteration ``i`` in ``res``; True when the run must stop."""
        self.count += 1
        if self.count > self.max_faults:
            res.faults.append(f"iteration {i}: non-finite loss or gradient, fault "
                              f"{self.count}; stopped, keeping the best finite image")
            res.stopped = "numerical fault"
            return True
        res.faults.append(f"iteration {i}: non-finite loss or gradient; "
                          "restored the last finite image and restarted the optimizer")
        return False


class Evaluation:
    """The closure L-BFGS and Adam call: one objective evaluation = one iteration. Serves
    repeated points from the cache, stops at the budget, refuses non-finite values (restore
    point: ``last_good``), records the loss history and calls the callbacks."""

    def __init__(self, objective: ObjectiveFn, *, par: Param,
                 z: torch.Tensor, start: torch.Tensor, iters: int, res: Result,
                 best: BestSoFar) -> None:
        self.objective, self.par, self.z, self.iters = objective, par, z, iters
        self.res, self.best = res, best
        self.opt: torch.optim.Optimizer | None = None
        self.cache = EvalCache(0)
        self.callbacks: Sequence[Callable[[Step], None]] = ()
        self.last_good = start.detach().clone()
        self.i = len(res.losses)
        self.at_iterate = True  # the next call evaluates the optimizer's iterate (a step's first)

    def __call__(self) -> torch.Tensor:
        z = self.z
        at_iterate, self.at_iterate = self.at_iterate, False
        hit = self.cache.lookup(z)
        if hit is not None:  # the point a line search ended on: already evaluated
            z.grad = hit[1].clone()
            if at_iterate:
                self.accept(hit[2])
            return hit[0]
        if self.i >= self.iters:
            raise _Budget
        self.opt.zero_grad(set_to_none=False)
        x = self.par.to_image(z)
        total, parts = self.objective(x)
        total.backward()
        loss = float(total.detach())
        if not (math.isfinite(loss) and bool(torch.isfinite(z.grad).all())):
            raise _Fault
        self.last_good = x.detach().clone()  # restore point: finite loss and gradient here
        image = self.last_good.clamp(0, 1)
        self.best.offer(image, loss)
        step = self._record(loss, {k: float(v.detach()) for k, v in parts.items()}, image)
        self.cache.store(z, total, z.grad, step.i)
        if at_iterate:
            self.accept(step.i)
        for cb in self.callbacks:
            cb(step)
        return total

    def accept(self, index: int) -> None:
        """Mark evaluation ``index`` as one the iterate rested on (Result.accepted)."""
        acc = self.res.accepted
        if index >= 0 and (not acc or acc[-1] < index):
            acc.append(index)

    def _record(self, loss: float, terms: dict[str, float], image: torch.Tensor) -> Step:
        res = self.res
        res.last = self.last_good  # before the loss: a run that counts an evaluation has its point
        res.losses.append(loss)
        for k, v in terms.items():
            res.terms.setdefault(k, []).append(v)
        step = Step(self.i, loss, terms, image, self.last_good)
        self.i += 1
        return step


def _start(x0: torch.Tensor, resume: Resume | None) -> tuple[torch.Tensor, Result, BestSoFar]:
    """The start point, the result so far and the best so far (fresh, or from ``resume``)."""
    start = x0 if resume is None else resume.image.to(x0.device, x0.dtype)
    best = BestSoFar(start.detach().clone().clamp_(0, 1))
    res = Result(best.image, [], {})
    if resume is not None:
        best = BestSoFar(resume.best_image.to(x0.device, x0.dtype), resume.best_loss)
        res.losses = list(resume.losses)
        res.terms = {k: list(v) for k, v in resume.terms.items()}
        res.accepted = list(resume.accepted)
    return start, res, best


def _accept(ev: Evaluation, z: torch.Tensor, adam: bool) -> None:
    """After a completed step: mark the evaluation the iterate now rests on (Adam: the last;
    L-BFGS: the line search's chosen point, when the cache still holds it)."""
    hit = None if adam else ev.cache.lookup(z)
    if adam or hit is not None:
        ev.accept(ev.i - 1 if adam else hit[2])


def _restart(ev: Evaluation, z: torch.Tensor, par: Param,
             fresh: Callable[[], torch.optim.Optimizer]) -> None:
    """After a fault: the variable back at the last point whose loss and gradient were finite,
    the cache emptied, a fresh optimizer (its curvature history was built on the fault)."""
    with torch.no_grad():
        z.copy_(par.from_image(ev.last_good))
    ev.cache.clear()
    ev.opt = fresh()


def _project(z: torch.Tensor, par: Param) -> None:
    """The variable moved to the image clamped into [0, 1] (projected Adam)."""
    with torch.no_grad():
        z.copy_(par.from_image(par.to_image(z).clamp(0, 1)))


def optimize(objective: ObjectiveFn, x0: torch.Tensor, iters: int, *, optimizer: str = "lbfgs",
             lr: float | None = None, callbacks: Sequence[Callable[[Step], None]] = (),
             max_faults: int = 3, resume: Resume | None = None, param: str | Param = "pixel",
             memory: MemoryPlan | None = None, plateau: Plateau | None = None) -> Result:
    """Minimize ``objective(x)`` over the image x ∈ [0, 1]^{1×3×H×W}, starting at ``x0``.

    Runs ``iters`` objective evaluations in total (with ``resume``: the iterations it already
    holds count, and the run continues from its image; ``x0`` is then ignored). Returns the
    lowest-loss image evaluated. A non-finite loss or gradient is not counted as an iteration:
    the image goes back to the last point whose loss and gradient were finite and the optimizer
    restarts; after more than ``max_faults`` such faults the run stops (``stopped``).
    ``memory``: the run's memory plan (platform.plan.MemoryPlan, decided before the loop): the
    loop reads from it how many L-BFGS curvature pairs to keep for its variable.
    ``param``: the variable (params.make_param: a name or a variable object). ``plateau``: stop
    early, ``stopped="plateau"``, once the loss has stopped improving (stopping.Plateau).
    """
    start, res, best = _start(x0, resume)
    par = make_param(param, start)
    z = par.from_image(start.detach()).clone().requires_grad_(True)  # the optimized variable
    ev = Evaluation(objective, par=par, z=z, start=start, iters=iters, res=res, best=best)
    def fresh() -> torch.optim.Optimizer:
        return _make_optimizer(optimizer, z, lr, memory or MemoryPlan())

    ev.opt, ev.callbacks = fresh(), callbacks
    ev.cache, guard = EvalCache(CACHE if optimizer == "lbfgs" else 0), FaultGuard(max_faults)
    try:
        while ev.i < iters:
            before, ev.at_iterate = ev.i, True
            try:
                ev.opt.step(ev)
            except _Budget:
                break
            except _Fault:
                if guard.stop(ev.i, res):
                    break
                _restart(ev, z, par, fresh)
                continue
            if ev.i == before:  # a step that evaluated nothing new: L-BFGS has converged exactly
                res.stopped = "converged"
                break
            _accept(ev, z, optimizer == "adam")
            if plateau is not None and plateau.flat(res.losses):
                res.stopped = "plateau"
                break
            if optimizer == "adam":  # projected Adam: back into [0, 1] after each step
                _project(z, par)
    except KeyboardInterrupt:
        res.interrupted, res.stopped = True, "interrupted"
    res.image = best.image
    return res
