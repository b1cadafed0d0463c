"""What the three tasks share: the network choice, the run record, one optimization.

Each task (tasks.inversion, tasks.texture, tasks.transfer) is a short pipeline: check the
input against the architecture, decide the run's plan once (platform.plan.plan_run: device,
precision, threads, memory; the loop reads it and asks nothing more), build the network,
build the objective, run :func:`optimize_objective`, add metrics. Everything a call changes in
the process (CUDA backend flags, glibc's allocator) is scoped to the run or asked for by the
caller (``keep_freed``).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ranvis import _version
from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.nets import DEFAULT_ARCH, get_arch
from ranvis.nets.arch import Arch
from ranvis.nets.base import FrozenNet
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.objectives.terms import Ensemble, Objective
from ranvis.optim.loop import Result, Resume, Step, optimize
from ranvis.optim.stopping import Plateau
from ranvis.platform.heap import apply_policy, freed_memory_kept
from ranvis.platform.plan import MemoryPlan, RunPlan
from ranvis.tasks.stages import Stage, run_stages

NetArg = str | NetSpec | FrozenNet


@dataclass
class Run:
    image: torch.Tensor  # [1, 3, H, W] in [0, 1], on the CPU
    record: dict[str, Any]
    result: Result


def resolve_arch(net: NetArg = "random", arch: str | None = None) -> Arch:
    """The architecture a task runs: a spec's or a network's own, else ``arch`` (default the
    paper's VGG-19). InputError when ``arch`` names another than the given spec or network."""
    if isinstance(net, FrozenNet):
        own = net.arch.name
    elif isinstance(net, NetSpec):
        own = net.arch
    elif net == "random":
        own = None
    else:
        own = NetSpec.load(net).arch
    if own is not None and arch is not None and arch != own:
        raise InputError(f"--arch {arch} does not match the network given, which is a {own}; "
                         "leave --arch out or give a spec of that architecture")
    return get_arch(own or arch or DEFAULT_ARCH)


def make_net(net: NetArg = "random", *, arch: str | None = None, net_seed: int = 0,
             sigma: float = D.SIGMA, pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT,
             device: str | torch.device = "cpu", padding: str | None = None) -> FrozenNet:
    """'random' (seeded plain network of ``arch``, default VGG-19), 'stacked' (the shipped
    ranVGG), a spec path, a NetSpec, or a ready network (its float32 view: tasks choose the
    compute precision with ``precision``). ``padding``: the convolutions' padding ("zeros", the
    paper's, or "reflect"; NetSpec.padding), None: the spec's own; a ready network keeps its own.
    """
    if isinstance(net, FrozenNet):
        return net.as_dtype(torch.float32)
    if isinstance(net, NetSpec):
        spec = net
    elif net == "random":
        spec = NetSpec.random(net_seed, sigma=sigma, pool=pool,
                              arch=resolve_arch(net, arch).name, init=weight_init)
    else:
        spec = NetSpec.load(net)
    if padding is not None and padding != spec.padding:
        spec = replace(spec, padding=padding)
    return build_net(spec, device)


def make_nets(count: int, net: NetArg = "random", *, net_seed: int = 0,
              **kwargs: Any) -> list[FrozenNet]:
    """``count`` independent random draws (net seeds ``net_seed`` … ``net_seed + count − 1``) of
    a random network (keywords as :func:`make_net`); a given spec or network is one network, so
    ``count`` > 1 then raises InputError."""
    if count < 1:
        raise InputError(f"nets must be a positive integer, got {count}")
    if count > 1 and not (isinstance(net, str) and net == "random"):
        raise InputError(f"--nets {count} draws random networks; a given network or spec is "
                         "one network (use --nets 1)")
    return [make_net(net, net_seed=net_seed + k, **kwargs) for k in range(count)]


@dataclass(frozen=True)
class Loop:
    """How a task's optimization runs: ``iters`` evaluations of ``optimizer`` over variable
    ``param`` (optimize.optimize), reporting to ``callbacks``, continuing ``resume``;
    ``plan``: the platform decision made before the loop (platform.plan.RunPlan: device,
    precision, threads, the memory plan with its L-BFGS pairs and whether freed memory is
    kept; None: a CPU float32 plan with the defaults). ``stages``: coarse-to-fine stages
    (tasks.stages; they replace ``param``, and a resumed run continues with the last one);
    ``plateau``: stop once the loss is flat (stopping.Plateau); ``coarse_plateau``: the
    coarse stages' rule instead (tasks.stages.run_stages)."""

    iters: int = D.ITERS
    optimizer: str = "lbfgs"
    callbacks: Sequence[Callable[[Step], None]] = ()
    resume: Resume | None = None
    param: str = "pixel"
    plan: RunPlan | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    stages: tuple[Stage, ...] = ()
    plateau: Plateau | None = None
    coarse_plateau: Plateau | None = None


def _in_dtype(objective: Objective | Ensemble, plan: RunPlan | None) -> Any:
    """The objective whose layers compute in the plan's bulk precision (None: no such)."""
    if plan is None or plan.bulk is None:
        return None
    if isinstance(objective, Ensemble):
        return Ensemble([replace(m, net=m.net.as_dtype(plan.bulk)) for m in objective.members])
    return replace(objective, net=objective.net.as_dtype(plan.bulk))


def check_resume(loop: Loop, init: torch.Tensor) -> None:
    """InputError unless the loop's iterations are positive and its checkpoint fits ``init``."""
    if loop.iters < 1:
        raise InputError(f"iterations must be a positive integer, got {loop.iters}")
    if loop.resume is not None and loop.resume.image.shape != init.shape:
        got, want = loop.resume.image.shape[-2:][::-1], init.shape[-2:][::-1]
        raise InputError(f"the checkpoint's image is {got[0]}x{got[1]}, this run's is "
                         f"{want[0]}x{want[1]}; delete the checkpoint or use the same options")


def optimize_objective(task: str, objective: Objective, init: torch.Tensor, loop: Loop,
                       settings: dict[str, Any], factors: dict[str, float]
                       ) -> tuple[Result, dict[str, Any]]:
    """Run the optimization from ``init`` and make its run record (record.py)."""
    check_resume(loop, init)
    memory = loop.plan.memory if loop.plan is not None else MemoryPlan()
    apply_policy(memory.keep_freed, True)
    settings = {**settings, "freed_memory_kept": freed_memory_kept()}
    t0 = time.perf_counter()
    kwargs = {"optimizer": loop.optimizer, "callbacks": loop.callbacks, "memory": memory}
    if loop.stages and loop.resume is None:
        res = run_stages(objective, init, list(loop.stages), optimize_kwargs=kwargs,
                         plateau=loop.plateau, coarse_plateau=loop.coarse_plateau,
                         bulk_objective=_in_dtype(objective, loop.plan))
    else:
        param = loop.stages[-1].param if loop.stages else loop.param
        res = optimize(objective, init, loop.iters, resume=loop.resume, param=param,
                       plateau=loop.plateau, **kwargs)
    seconds = time.perf_counter() - t0
    n = len(res.losses)
    if loop.optimizer == "lbfgs":
        settings = {**settings, "lbfgs_history": memory.lbfgs_pairs(init.numel())}
    record = {
        "task": task, "version": _version.__version__, "settings": settings,
        "net": objective.net.spec.to_dict(), "factors": factors, "loss": res.losses,
        "accepted": res.accepted, "terms": res.terms, "iterations": n, "seconds": round(seconds, 3),
        "seconds_per_iteration": round(seconds / max(n, 1), 5), "interrupted": res.interrupted,
        "stopped": res.stopped, "faults": res.faults, "metrics": {},
        "resumed_from": len(loop.resume.losses) if loop.resume is not None else 0,
    }
    res.image = res.image.detach().cpu()
    return res, record


def net_settings(model: FrozenNet, net_seed: int, nets: int = 1) -> dict[str, Any]:
    """The run record's network settings (the full spec is the record's ``net``; with ``nets``
    draws, the first's, the others having net seeds ``net_seed + k``)."""
    return {"arch": model.arch.name, "net_seed": net_seed, "sigma": model.spec.sigma,
            "pool": model.spec.pool, "weight_init": model.spec.init,
            "padding": model.spec.padding, "nets": nets}
