"""What the inversion figures (1–2, 3 and 4) share: the networks compared, the photos, crops,
stats, and a per-process memo of inversions (a run asked for again in the same report is not
recomputed; Figure 3, which once shared Figures 1–2's runs this way, now runs its cells through
the study runner, ranvis.study, which stores them).

Networks, one row each, in the paper's order: the stacked ranVGG (``NetSpec.load("stacked")``),
a plain random VGG-19 (``NetSpec.random(seed)``) and, when weights are given, the trained VGG-19.
A network that cannot be run keeps its row with a one-line note saying why.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranvis.errors import InputError
from ranvis.io.images import center_square, sample
from ranvis.nets.base import FrozenNet as Net
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.nets.trained import load_trained
from ranvis.tasks import Run, invert

#: (photo, size, layer, network key, iterations, noise seed, device) -> the run. Inversion is
#: deterministic given these (same machine and thread count), so a run asked for twice in a
#: report is computed once.
_INVERSIONS: dict[tuple[Any, ...], Run] = {}

#: scikit-image photographs (bundled, no download), in the order figures use them.
PHOTOS = ("chelsea", "coffee", "astronaut", "rocket", "motorcycle", "camera")
NO_STACKED = "not run: the stacked ranVGG spec (data/stacked.json) is not in this build"
NO_TRAINED = "not run: no weights given"


@dataclass
class NetRow:
    """One compared network: ``net`` is None when it was not run, and ``note`` says why."""

    name: str
    net: Net | None
    note: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    preset: str = "paper"  # ranvis.presets: "best" inverts on net seeds info["net_seed"] + k


def network_rows(trained: str | Path | Net | None, device: str, plain_seed: int = 0
                 ) -> list[NetRow]:
    """[stacked, plain random, trained] rows. ``trained``: a torchvision VGG-19 state-dict path
    (loaded with ``nets.trained.load_trained``, never downloaded), a ready trained Net, or None."""
    try:
        spec = NetSpec.load("stacked")
        stacked = NetRow("stacked ranVGG", build(spec, device), info={"spec": spec.to_dict()})
    except (InputError, FileNotFoundError):
        stacked = NetRow("stacked ranVGG", None, NO_STACKED)
    plain_spec = NetSpec.random(plain_seed)
    plain = NetRow("plain random VGG", build(plain_spec, device),
                   info={"net_seed": plain_seed, "sigma": plain_spec.sigma,
                         "pool": plain_spec.pool})
    if trained is None:
        tr = NetRow("trained VGG", None, NO_TRAINED)
    else:
        net = trained if isinstance(trained, Net) else load_trained(trained, device)
        source = "a ready Net" if isinstance(trained, Net) else str(trained)
        tr = NetRow("trained VGG", net, info={"weights": source, "pool": net.spec.pool})
    return [stacked, plain, tr]


def build(spec: NetSpec, device: str) -> Net:
    """The network a spec describes, of its own architecture."""

    return build_net(spec, device)


def stacked_reference(rows: list[NetRow]) -> str | None:
    """The sample name the stacked net was selected on (so figures need not judge it there)."""
    spec = rows[0].info.get("spec", {})
    ref = spec.get("info", {}).get("settings", {}).get("reference")
    return ref.removeprefix("sample:") if isinstance(ref, str) else None


def choose_photos(n: int, exclude: str | None) -> list[str]:
    """The first ``n`` of :data:`PHOTOS`, skipping the stacked net's reference image."""
    names = [p for p in PHOTOS if p != exclude]
    if not 1 <= n <= len(names):
        raise InputError(f"number of photos must be 1..{len(names)}, got {n}")
    return names[:n]


def photo(name: str, side: int) -> torch.Tensor:
    """Bundled sample ``name`` as a centre-cropped ``side``-px square, [1, 3, side, side]."""
    return center_square(sample(name), side)


def mean_spread(values: list[float]) -> dict[str, float]:
    """{"mean", "std", "min", "max", "n"} of finite values (inf PSNR of an exact copy is left out
    of mean/std and counted in "n_inf")."""
    a = np.asarray(values, dtype=np.float64)
    fin = a[np.isfinite(a)]
    out = {"n": int(a.size), "n_inf": int(a.size - fin.size)}
    if fin.size:
        out.update(mean=float(fin.mean()), std=float(fin.std()), min=float(fin.min()),
                   max=float(fin.max()))
    return out


def _net_key(net: Net) -> Any:
    """Random nets are identified by their spec (seeds, σ, pooling); trained ones by identity."""
    if net.trained:
        return ("trained", id(net))
    spec = net.spec
    return (spec.arch, spec.sigma, spec.pool, tuple(sorted(spec.seeds.items())))


def invert_photo(name: str, size: int, layer: str, net: Net, iters: int | None, seed: int,
                 device: str, preset: str = "paper") -> Run:
    """``invert(photo(name, size), layer, ...)`` with ``preset`` (the paper's figures: "paper",
    eq. 1 over pixels from white noise on ``net``; "best": the default recipe on ``net``'s
    random draws, net seeds s, s+1, … of a plain random ``net`` of seed s), memoized for this
    process. ``iters`` None: the preset's own budget."""
    key = (name, size, layer, _net_key(net), iters, seed, str(device), preset)
    if key not in _INVERSIONS:
        target = net
        if preset == "best":
            target, base = "random", min(net.spec.seeds.values()) // 1000
        _INVERSIONS[key] = invert(photo(name, size), layer, net=target, iters=iters, seed=seed,
                                  device=device, preset=preset,
                                  **({"net_seed": base} if preset == "best" else {}))
    return _INVERSIONS[key]


def clear_inversions() -> None:
    """Forget the memoized inversions (``reproduce`` calls it once the figures that share them
    are done, so their images do not stay in memory)."""
    _INVERSIONS.clear()
