"""Benchmark cases: one task at one size, built both ways (ranvis and the naive reference).

Tasks (paper §3, ranvis defaults, taps from the architecture's presets; VGG-19's shown):
``inversion`` (the deepest ``invert`` preset: pool5), ``texture`` (conv1_1..conv4_1)
and ``style`` (content conv2_2 + style conv1_1..conv5_1 + TV, ratio defaults.RATIO,
TV weighted as ``transfer_style`` weights it: γ·Σ(Δx)², style.tv_weight; until 2026-11-27 the
cases used γ·mean(Δx)², a different objective, so the time-to-quality bar was not ranvis's).
Images are bundled samples resized to SIZE x SIZE. The ranvis objective is assembled from the
same public pieces ``ranvis.tasks`` uses (layer_factors, gram_terms, Term, Objective); the naive
model is fed the same factors. ``full_history()`` pre-fills every L-BFGS curvature history to its
full length, so both optimizers are timed and measured in their steady state.
"""
from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from ranvis import defaults as D
from ranvis.io.images import sample
from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet as Net
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.objectives.terms import Objective, Term
from ranvis.objectives.weighting import layer_factors
from ranvis.optim.loop import optimize
from ranvis.platform.plan import MemoryPlan
from ranvis.tasks import gram_terms, noise
from ranvis.tasks.styleblocks import tv_weight


def _load_naive():  # loaded by path: benchmarks/ is not a package
    if "ranvis_bench_naive" in sys.modules:
        return sys.modules["ranvis_bench_naive"]
    spec = importlib.util.spec_from_file_location("ranvis_bench_naive",
                                                  Path(__file__).with_name("naive.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


naive = _load_naive()
#: the clock every timing here reads: wall time by default; bench.py --clock cpu sets process CPU
#: time (robust to other processes on a shared machine when torch runs one thread)
clock = time.perf_counter
TASKS = ("inversion", "texture", "style")


@dataclass
class Case:
    task: str
    size: int
    net: Net
    objective: Objective
    naive: object  # naive.NaiveModel, or None
    x0: torch.Tensor  # the seeded noise start, [1, 3, size, size]
    naive_args: dict  # naive.build's keyword arguments (with the ranvis factors)
    history: int | None = None  # L-BFGS pairs ranvis's task keeps (None: D.LBFGS_HISTORY)

    @property
    def deepest(self) -> str:
        return self.objective.layers[-1]


def images(size: int, content: str = "astronaut", style: str = "coffee",
           device: str | torch.device = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    return (sample(content, (size, size)).to(device), sample(style, (size, size)).to(device))


def build(task: str, size: int, device: str | torch.device = "cpu", seed: int = 0,
          content: str = "astronaut", style: str = "coffee", with_naive: bool = True,
          dtype: torch.dtype = torch.float32, arch: str = "vgg19") -> Case:
    """Build ``task`` at ``size`` px on ``device``: ranvis objective, naive model, noise start.

    ``dtype``: what ranvis's layers compute in (targets and factors are float32 either way, as in
    ranvis.tasks); the naive reference is float32, the usual way. ``arch``: the random network's
    architecture (its presets give the taps); the naive reference exists for VGG-19 only."""
    a = get_arch(arch)
    net = build_net(NetSpec.random(0, arch=arch), device)
    with_naive = with_naive and arch == "vgg19"
    xc, xs = images(size, content, style, device)
    cs: dict[str, float] = {}
    ss: dict[str, float] = {}
    tv = 0.0
    if task == "inversion":
        inv = a.presets.invert[-1]
        layers = [inv]
        omega = layer_factors(net, xc, layers, "content")
        with torch.no_grad():
            target = net(xc, layers)[inv]
        terms = [Term(inv, inv, "content", target, omega[inv])]
        cs = dict(omega)
        xs = None
    elif task == "texture":
        layers = list(a.presets.texture)
        mu = layer_factors(net, xs, layers, "gram")
        terms = gram_terms(net, [xs], layers, [1.0], mu)
        ss = dict(mu)
        xc = None
    elif task == "style":
        alpha, beta, gamma = D.RATIO
        tv = tv_weight(gamma, xc)  # γ·Σ(Δx)², as ranvis.tasks.transfer_style applies it
        cl, sl = a.presets.content, list(a.presets.style)
        omega = layer_factors(net, xc, [cl], "content")
        mu = layer_factors(net, xs, sl, "gram")
        with torch.no_grad():
            fc = net(xc, [cl])[cl]
        terms = [Term("content", cl, "content", fc, omega[cl], alpha)]
        terms += gram_terms(net, [xs], sl, [1.0], mu, beta)
        cs = {cl: omega[cl] * alpha}
        ss = {n: mu[n] * beta for n in sl}
    else:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    objective = Objective(net.as_dtype(dtype), terms, tv_weight=tv)
    args = {"net": net, "content_img": xc, "content_scales": cs, "style_img": xs,
            "style_scales": ss, "tv_weight": tv, "device": device}
    nv = naive.build(**args) if with_naive else None
    history = D.STYLE_LBFGS_HISTORY if task == "style" else None  # as ranvis.tasks runs it
    return Case(task, size, net, objective, nv, noise(size, size, seed, device), args, history)


def _pad_history(opt: torch.optim.Optimizer, args: object, kwargs: object) -> None:
    if not isinstance(opt, torch.optim.LBFGS):
        return
    st = opt.state[opt._params[0]]
    dirs = st.get("old_dirs")
    if dirs:
        while len(dirs) < opt.defaults["history_size"]:
            dirs.append(dirs[-1].clone())
            st["old_stps"].append(st["old_stps"][-1].clone())
            st["ro"].append(st["ro"][-1])


@contextlib.contextmanager
def full_history() -> Iterator[None]:
    """While active, every L-BFGS step starts with a full curvature history (copies of its last
    pair): the memory and two-loop cost of a long run from its second iteration on."""
    handle = register_optimizer_step_pre_hook(_pad_history)
    try:
        yield
    finally:
        handle.remove()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_ranvis(case: Case, k: int, objective: object = None, optimize_fn: object = None,
                fill: bool = True) -> float:
    """Seconds per iteration (= per objective evaluation) of ``ranvis.optim.loop`` over k steady-state
    evaluations, median of the intervals between callbacks. Timing starts once 3 L-BFGS steps
    are done (with ``fill``, the history is then padded to its full length: a line-search step
    can take several evaluations, so counting evaluations alone is not enough).
    ``objective`` / ``optimize_fn`` replace the case's (compare_revs.py times another revision);
    ``fill=False`` leaves the L-BFGS history as it is."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    stamps: list[float] = []
    steps = [0]
    dev = case.x0.device

    def count(opt: object, args: object, kwargs: object) -> None:
        steps[0] += 1

    def cb(step: object) -> None:
        sync(dev)
        if steps[0] >= 3:
            stamps.append(clock())
        if len(stamps) > k:
            raise KeyboardInterrupt  # optimize() ends the run cleanly on it

    handle = register_optimizer_step_post_hook(count)
    try:
        with full_history() if fill else contextlib.nullcontext():
            kw = {} if optimize_fn else {"memory": MemoryPlan(  # another revision's default
                history=case.history or D.LBFGS_HISTORY)}
            (optimize_fn or optimize)(objective or case.objective, case.x0, k + 200,
                                      callbacks=[cb], **kw)
    finally:
        handle.remove()
    return _median([b - a for a, b in zip(stamps, stamps[1:], strict=False)])


def time_paired(case: Case, k: int) -> tuple[list[float], list[float]]:
    """ranvis and the floor, one evaluation each, alternating: (ranvis seconds per evaluation,
    floor seconds) for k steady-state evaluations, each floor run right after its evaluation.

    As :func:`time_ranvis` (timing starts once 3 L-BFGS steps are done, history padded), but
    the callback runs one :func:`floor_pass` after every evaluation and the next
    interval starts after it: the two are never more than one evaluation apart, so a machine
    whose speed drifts over seconds affects both alike."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    dev = case.x0.device
    xf = case.x0.detach().clone().requires_grad_(True)
    steps, last = [0], [None]
    evals: list[float] = []
    floors: list[float] = []

    def count(opt: object, args: object, kwargs: object) -> None:
        steps[0] += 1

    def cb(step: object) -> None:
        sync(dev)
        now = clock()
        if steps[0] < 3:
            return
        if last[0] is None:
            floor_pass(case, xf)  # warm-up
        else:
            evals.append(now - last[0])
            floors.append(floor_pass(case, xf))
            if len(evals) == k:
                raise KeyboardInterrupt  # optimize() ends the run cleanly on it
        last[0] = clock()

    handle = register_optimizer_step_post_hook(count)
    try:
        with full_history():
            optimize(case.objective, case.x0, k + 200, callbacks=[cb], memory=MemoryPlan(
                history=case.history or D.LBFGS_HISTORY))
    finally:
        handle.remove()
    return evals, floors


def time_naive(runner: object, k: int) -> float:
    """Seconds per evaluation of the tutorial loop over k evaluations (the runner carries on)."""
    stamps: list[float] = []
    dev = runner.input_img.device

    def on_eval(i: int, loss: float, seconds: float) -> None:
        sync(dev)
        stamps.append(clock())

    runner.on_eval = on_eval
    with full_history():
        runner.run(k + 1)
    return _median([b - a for a, b in zip(stamps, stamps[1:], strict=False)])


def floor_pass(case: Case, x: torch.Tensor) -> float:
    """Seconds of one forward + backward of the bare truncated network to ``x`` (a leaf that
    requires grad; its grad is cleared), frozen weights, in the objective's precision."""
    sync(x.device)
    t = clock()
    f = case.objective.net(x, [case.deepest])[case.deepest]
    f.backward(torch.ones_like(f))
    sync(x.device)
    x.grad = None
    return clock() - t


def time_floor(case: Case, k: int) -> float:
    """Seconds per :func:`floor_pass`, median of k after one warm-up."""
    x = case.x0.detach().clone().requires_grad_(True)
    return _median([floor_pass(case, x) for _ in range(k + 1)][1:])


def load() -> str:
    """The 1, 5 and 15 minute load averages (the CPU is shared: absolute times depend on it)."""
    p = Path("/proc/loadavg")
    return " ".join(p.read_text().split()[:3]) if p.exists() else "n/a"


def _median(v: list[float]) -> float:
    s = sorted(v)
    n = len(s)
    return (s[n // 2] + s[(n - 1) // 2]) / 2 if n else float("nan")
