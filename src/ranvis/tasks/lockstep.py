"""Lockstep batching: independent optimizations of one network whose network passes run as one
batch.

Each optimization runs unchanged in its own thread (its own torch.optim.LBFGS, its own
strong-Wolfe line searches, its own loss, cache, plateau and budget); only its network is a
:class:`BatchedNet`, a stand-in that hands every pass with gradient (a forward whose input
requires grad, and later the backward through it) to a shared :class:`Lockstep`. Once every
optimization still running has asked for its next pass, the last one to ask computes the round:
the pending forwards of one network and taps as one batch (``torch.cat`` of the inputs, rows in
the functions' order, so a rerun is bit for bit the same) and the pending backwards through one
such batch as one ``torch.autograd.grad``, each image's rows seeded by its own features'
gradients only: the images are independent, so each gets exactly its own input gradient. An
optimization that ends (budget, plateau, fault, error) leaves, and the others go on in smaller
batches. Passes without gradient (targets, metrics) go straight to the network (batching them
too gained nothing measurable).

Only one thread computes at a time: all hold one lock while they run and release it only while
they wait, so a group uses the cores a single optimization would. :func:`lockstep_heap` sets
the allocator such threads want (the caller's choice, as for platform.heap). Results equal the
one-at-a-time runs up to the float rounding of batched kernels (tests/test_lockstep.py: the same
evaluations and accepted steps, losses within 1e-3 after 10 evaluations; over many evaluations
L-BFGS carries a rounding difference along as it would any other, benchmarks/README.md
"Lockstep groups"). Networks with batch coupling (BatchNorm in training mode) would break this;
ranvis's have none (every norm is eval-mode or per-sample; tests/test_lockstep.py checks).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ranvis.nets.base import FrozenNet


def lockstep_heap() -> bool:
    """Set this process's allocator for lockstep threads (process-wide, for the process's life:
    the caller's choice, as platform.heap asks): freed memory kept and one malloc arena for all
    threads. Without it each thread's own arena was grown and trimmed again on every pass
    (platform.heap.one_arena). Returns whether both took effect (False off glibc)."""
    from ranvis.platform.heap import keep_freed_memory, one_arena

    return keep_freed_memory() & one_arena()


class LockstepClosed(RuntimeError):
    """Raised in an optimization's thread once its Lockstep.run was interrupted."""


@dataclass
class _Pass:
    """One batched forward: the batch input (a leaf requiring grad) and its features."""

    x: torch.Tensor
    feats: dict[str, torch.Tensor]


@dataclass(eq=False)
class _Request:
    """A thread's pending forward (``x``, ``layers``) or backward (``grads`` through ``index``
    of ``batch``); ``out``/``error`` once served."""

    net: FrozenNet
    layers: tuple[str, ...] = ()
    x: torch.Tensor | None = None
    who: int = 0  # the asking function's place in run()'s list: its row in a batch is by this
    batch: _Pass | None = None
    index: int = 0
    grads: dict[str, torch.Tensor | None] = field(default_factory=dict)
    out: Any = None
    error: BaseException | None = None
    done: bool = False
    cv: threading.Condition | None = None


class Lockstep:
    """Runs functions in lockstep threads and computes their networks' passes in batches
    (module doc). ``passes``/``images``: batched passes computed and the images they carried."""

    def __init__(self) -> None:
        # one lock, held by whichever thread computes; each request waits on its own condition
        # of it, and the last thread to ask computes the round: a round wakes each thread once
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)  # the caller of run(), till all are done
        self._active = 0
        self._waiting: list[_Request] = []
        self._closed = False
        self._who = threading.local()
        self.passes = 0
        self.images = 0

    def run(self, fns: Sequence[Callable[[], Any]]) -> list[Any]:
        """Call every function of ``fns`` in its own thread, their passes batched; returns each
        one's return value or the exception it raised, in order."""
        results: list[Any] = [None] * len(fns)
        with self._lock:
            self._active = len(fns)
            for i, fn in enumerate(fns):
                threading.Thread(target=self._body, args=(i, fn, results), daemon=True,
                                 name=f"lockstep-{i}").start()
            try:
                while self._active:
                    self._idle.wait()
            except BaseException:  # interrupted: every waiting or later request fails
                self._close()
                raise
        return results

    def _body(self, i: int, fn: Callable[[], Any], results: list[Any]) -> None:
        self._who.index = i
        with self._lock:
            try:
                results[i] = fn()
            except BaseException as e:  # noqa: BLE001 - the caller gets it as the result
                results[i] = e
            finally:
                self._active -= 1
                if self._waiting and len(self._waiting) >= self._active:
                    self._round()  # the others all wait: this thread computes their round
                if not self._active:
                    self._idle.notify()

    def _round(self) -> None:
        """Compute every waiting request (a failed batch fails each request in it) and wake
        their threads."""
        reqs, self._waiting = self._waiting, []
        try:
            self._compute(reqs)
        except Exception as e:
            for r in reqs:
                r.error = r.error or e
        for r in reqs:
            r.done = True
            if r.cv is not None:
                r.cv.notify()

    def _close(self) -> None:
        self._closed = True
        for r in self._waiting:
            r.error, r.done = LockstepClosed("the lockstep run was interrupted"), True
            if r.cv is not None:
                r.cv.notify()
        self._waiting = []

    def ask(self, req: _Request) -> Any:
        """Queue ``req``; the last running thread to ask computes the round, the others wait
        (releasing the lock) until it has. ``req``'s result."""
        if self._closed:
            raise LockstepClosed("the lockstep run was interrupted")
        req.who = getattr(self._who, "index", -1)
        if req.who < 0:
            raise RuntimeError("a BatchedNet pass with gradient runs only inside Lockstep.run")
        self._waiting.append(req)
        if len(self._waiting) >= self._active:
            self._round()
        else:
            req.cv = threading.Condition(self._lock)
            while not req.done:
                req.cv.wait()
        if req.error is not None:
            raise req.error
        return req.out

    def _compute(self, reqs: list[_Request]) -> None:
        forwards: dict[tuple, list[_Request]] = {}
        backwards: dict[int, list[_Request]] = {}
        for r in reqs:
            if r.batch is None:
                x = r.x
                key = (id(r.net), r.layers, tuple(x.shape[1:]), x.dtype, x.device)
                forwards.setdefault(key, []).append(r)
            else:
                backwards.setdefault(id(r.batch), []).append(r)
        for group in forwards.values():  # rows in a fixed order: the threads' wake-up order varies
            self._forward(sorted(group, key=lambda r: r.who))
        for group in backwards.values():
            _backward(group)

    def _forward(self, reqs: list[_Request]) -> None:
        x = torch.cat([r.x for r in reqs]) if len(reqs) > 1 else reqs[0].x
        self.passes += 1
        self.images += len(reqs)
        x.requires_grad_(True)
        with torch.enable_grad():
            feats = reqs[0].net(x, list(reqs[0].layers))
        batch = _Pass(x, feats)
        for k, r in enumerate(reqs):
            r.out = (batch, k, {t: f.detach()[k:k + 1] for t, f in feats.items()})


def _seed(f: torch.Tensor, given: dict[int, torch.Tensor]) -> torch.Tensor:
    """The gradient to seed batch output ``f`` with: row k from ``given[k]``, zeros elsewhere."""
    if len(given) == f.shape[0]:
        return torch.cat([given[k] for k in range(f.shape[0])])
    seed = torch.zeros_like(f)
    for k, g in given.items():
        seed[k:k + 1] = g
    return seed


def _backward(reqs: list[_Request]) -> None:
    """One backward through ``reqs``' common batch, each image's rows seeded by its own
    features' gradients (the others' rows by zeros)."""
    batch = reqs[0].batch
    outs, seeds = [], []
    for t, f in batch.feats.items():
        given = {r.index: r.grads[t] for r in reqs if r.grads.get(t) is not None}
        if given:
            outs.append(f)
            seeds.append(_seed(f, given))
    if not outs:
        for r in reqs:
            r.out = torch.zeros_like(batch.x[r.index:r.index + 1])
        return
    (gx,) = torch.autograd.grad(outs, batch.x, seeds, retain_graph=True)
    for r in reqs:
        r.out = gx[r.index:r.index + 1]


class _Bridge(torch.autograd.Function):
    """Features served by a batch, joined to the thread's own graph at its input: the backward
    hands their gradients to the Lockstep and returns the input's."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, ticket: tuple, *feats: torch.Tensor) -> Any:
        ctx.ticket = ticket
        ctx.set_materialize_grads(False)  # an unused tap's gradient stays None: not passed back
        return tuple(f.clone() for f in feats)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor | None) -> Any:
        lockstep, net, batch, index, names = ctx.ticket
        req = _Request(net, batch=batch, index=index, grads=dict(zip(names, grads, strict=True)))
        gx = lockstep.ask(req)
        return (gx, None, *([None] * len(grads)))


class BatchedNet(FrozenNet):
    """``net`` with its passes with gradient served by ``lockstep`` (module doc); everything
    else (spec, arch, passes without gradient, weights) is ``net``'s own."""

    def __init__(self, net: FrozenNet, lockstep: Lockstep) -> None:
        super().__init__(net.spec, net.device, net.channels_last, net.dtype)
        object.__setattr__(self, "_net", net)
        object.__setattr__(self, "_lockstep", lockstep)
        self.trained = net.trained

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(object.__getattribute__(self, "_net"), name)

    def as_dtype(self, dtype: torch.dtype) -> FrozenNet:
        """The same stand-in over ``net.as_dtype(dtype)``."""
        inner = self._net.as_dtype(dtype)
        return self if inner is self._net else BatchedNet(inner, self._lockstep)

    def uses_lean(self, height: int, width: int) -> bool:
        return self._net.uses_lean(height, width)

    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        return self._net.layer_weights(name)

    def forward(self, x: torch.Tensor, layers: list[str] | str) -> dict[str, torch.Tensor]:
        """``net(x, layers)``; with gradient (x requires grad), computed in the next batch and
        its gradient in that batch's backward (measured: batching the passes without gradient
        too, the targets' and the metrics', gained nothing measurable)."""
        if not (torch.is_grad_enabled() and x.requires_grad):
            return self._net(x, layers)
        taps = tuple(self.arch.check_taps(layers))
        req = _Request(self._net, layers=taps, x=x.detach())
        batch, index, feats = self._lockstep.ask(req)
        names = list(feats)
        out = _Bridge.apply(x, (self._lockstep, self._net, batch, index, names),
                            *feats.values())
        return dict(zip(names, out, strict=True))
