"""Checks of a whole plan that need the architectures: named taps exist and fit the size, the
grid has at least one cell, and no studied network is the judge (study.judges)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ranvis.errors import InputError
from ranvis.nets import get_arch
from ranvis.study.taps import Target, targets

if TYPE_CHECKING:
    from ranvis.study.model import NetChoice, Plan, Task


def task_targets(plan: Plan, task: Task) -> dict[str, list[Target]]:
    """{net label: its Targets} for one task of the plan (InputError for a bad named tap)."""
    nets = {n.label: n for n in plan.nets}
    out = {}
    for label in task.nets:
        arch = get_arch(nets[label].arch)
        out[label] = targets(arch, task.kind, task.strides, task.taps, plan.size,
                             f"task {task.name!r} on {label}", plan.grow)
    return out


def _is_judge(net: NetChoice, seeds: list[int | None]) -> bool:
    """Whether ``net`` (with these seeds) is the judge network. σ does not matter: the judge's
    distance is scale-free (experiments.texture_quality), so a rescaled judge is the judge."""
    from ranvis.nets.spec import NetSpec
    from ranvis.objectives.judges import JUDGE_POOL, JUDGE_SEED

    judge = NetSpec.random(JUDGE_SEED, pool=JUDGE_POOL)
    if net.weights is not None:
        return False
    if net.spec is not None:
        return (net.spec.get("arch"), net.spec.get("pool"), net.spec.get("init"),
                net.spec.get("seeds")) == (judge.arch, judge.pool, judge.init, judge.seeds)
    return ((net.arch, net.pool, net.init) == (judge.arch, judge.pool, judge.init)
            and JUDGE_SEED in seeds)


def check_plan(plan: Plan) -> None:
    """InputError (one line) for a plan that cannot run as a whole (module doc)."""
    runnable, reasons = 0, []
    for task in plan.tasks:
        for label, tg in task_targets(plan, task).items():
            runnable += sum(t.runs for t in tg)
            reasons += [f"{label}: {t.reason}" for t in tg if not t.runs]
    if not runnable:
        why = "; ".join(reasons[:3]) or "no task has an architecture"
        raise InputError(f"the plan's grid has no cells ({why})")
    nets = {n.label: n for n in plan.nets}
    for task in plan.tasks:
        if task.kind in ("invert", "zerocost"):
            continue  # inversion is scored against the image itself, not by the judge
        for label in task.nets:
            seeds = [seed for seed, _start in plan.draws(task, nets[label])]
            if _is_judge(nets[label], seeds):
                raise InputError(f"{label} (with the plan's seeds) includes the judge network of "
                                 "texture and style scores (random VGG-19 seed 7, max pooling); "
                                 "leave seed 7 out so the judge stays independent")
