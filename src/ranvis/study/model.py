"""The values a study plan holds (:class:`Plan`, :class:`Task`, :class:`NetChoice`), apart from
how a plan is read (study.plan), checked (study.check) and how its networks are named
(study.netchoice), so that all three can use them without importing one another."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ranvis import defaults as D
from ranvis.study.fields import ImageRef


@dataclass(frozen=True)
class NetChoice:
    """One studied network configuration. Random: ``arch`` with ``pool``, ``init``, ``sigma``,
    drawn once per seed. Fixed: ``spec`` (a NetSpec as a dict: the stacked ranVGG, a build-net
    file or an inline table) or trained ``weights`` (a local torchvision state dict; its
    ``weights_sha256`` keys the cells); seeds do not apply to a fixed network."""

    label: str
    arch: str
    pool: str = D.POOL
    init: str = D.WEIGHT_INIT
    sigma: float = D.SIGMA
    spec: dict[str, Any] | None = None
    weights: str | None = None
    weights_sha256: str | None = None

    @property
    def random(self) -> bool:
        """A random network drawn per seed (not a fixed spec or trained weights)."""
        return self.spec is None and self.weights is None


@dataclass(frozen=True)
class Task:
    """One task of the plan over its images (and styles) and its networks (labels); ``seeds``
    and ``starts`` override the study's when given (:meth:`Plan.draws`)."""

    kind: str
    name: str
    images: tuple[ImageRef, ...]
    nets: tuple[str, ...]
    strides: tuple[int, ...] = ()
    taps: tuple[str, ...] = ()
    styles: tuple[ImageRef, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] | None = None
    starts: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Plan:
    """A whole study. ``seeds``: network draws; ``starts``: noise starts (None: start = seed);
    ``grow``: a tap that needs more than ``size`` px runs at the size it needs (study.taps)
    instead of having no cell."""

    name: str
    size: int
    iters: int
    seeds: tuple[int, ...]
    starts: tuple[int, ...] | None
    nets: tuple[NetChoice, ...]
    tasks: tuple[Task, ...]
    source: str = ""
    grow: bool = False

    def draws(self, task: Task, net: NetChoice) -> list[tuple[int | None, int]]:
        """(net_seed, start) pairs of ``task`` on ``net``: seeds × starts, a start defaulting to
        its seed; a fixed network has no net seed, so its starts are the starts, or the seeds."""
        seeds = task.seeds or self.seeds
        starts = task.starts or (self.starts if task.seeds is None else None)
        if not net.random:
            return [(None, s) for s in (starts or seeds)]
        return [(seed, start) for seed in seeds for start in (starts or (seed,))]
