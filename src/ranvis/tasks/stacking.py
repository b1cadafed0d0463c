"""The stacked random network (the paper's ranVGG): a greedy, layer-wise choice among seeded
random weights (paper §2), for any architecture of the registry.

Paper §2, "To stabilize the reconstruction quality…": starting from conv1_1 and going forward,
keep the earlier layers fixed, draw several candidate weight sets for layer l, reconstruct a
reference image from layer l's *rectified* representation, keep the candidate that reconstructs
best. Here:

* **Seeds.** Candidate k of the weighted layer at position i of ``Arch.weighted()`` (forward
  order; VGG-19: conv1_1 is 0, fc8 is 18) has the seed :func:`candidate_seed` = 10⁹ + 100000·seed + 1000·i + k, so
  ``--seed`` picks disjoint families of networks, every candidate is regenerated from its integer
  alone, and no candidate shares a stream with a plain ``NetSpec.random(s)`` (seeds 1000·s + i).
  Layers that are not searched (fc6–fc8 with ``layers="conv"``, or beyond ``upto``) get k = 0.
* **Representation.** ``Arch.representation(l)``: VGG's layer l's ReLU output (conv1_1 →
  relu1_1, fc6 → relu6; fc8 has no ReLU, so its raw output); other architectures' the layer's own
  output node (a rule that needs no knowledge of which activation follows).
* **Reconstruction.** :func:`ranvis.tasks.invert` (eq. 1–4, L-BFGS) from the seeded white noise
  ``tasks.noise(seed)``, the same start for every candidate of a layer.
* **Score (departure from the paper's "smallest loss").** The pixel RMSE ‖x − x0‖₂/√(3HW) between
  the reconstruction and the reference. Feature losses of different draws live in different
  feature spaces, so the paper's loss is not comparable across candidates; the normalized
  feature error ‖F(x)−F(x0)‖²/‖F(x0)‖² (recorded for every candidate too) is, but it measures
  how well the optimizer matched the features, not how much of the image they pin down, and it
  is undefined for a draw whose features vanish. Pixel error lives in the one space all
  candidates share, is what Figure 3 measures, and is scale-free (images are in [0, 1]).
  Measured (``benchmarks/stacking_selector.py``, 64 px, 100 iterations, reference chelsea, 5
  draws per layer, scored on held-out astronaut + coffee): after reconstruction the normalized
  feature error is ~3e-4 for *every* draw at conv3_4…conv5_4 while the pixel RMSE is 0.07–0.36,
  i.e. the features are matched almost exactly and the error that is left lives in what the
  features do not determine, which only a pixel measure sees. The pixel pick was the held-out
  best at conv3_4 and conv5_4 and 2 % above it at conv4_4 (summed held-out RMSE regret over
  conv2_2/3_4/4_4/5_4: 0.006 pixel vs 0.010 feature). Both gains are small: the draws' held-out
  RMSE differs by 1–2 % at a layer.
* **Ties.** Candidates within ``TIE_RMSE`` of the lowest score count as equal; the lowest k wins.
* **fc layers** of an architecture with a fixed input (VGG: 256×256, paper §3): with
  ``layers="all"`` the conv layers are searched on the reference resized to ``size`` (longer
  side) and fc6–fc8 on its central square resized to 256×256. Other architectures search every
  layer on the reference at ``size``. ``layers="conv"`` searches only the layers whose
  representation is spatial.

Resume: after each layer the choices so far go to ``NET.ranvis-cache.json`` beside the output,
keyed by every argument and the reference's pixels; a rerun with the same arguments continues
from there, a cache made with other arguments is ignored (with a message) and replaced.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from ranvis import _version
from ranvis import defaults as D
from ranvis.errors import DegenerateGradientError, InputError
from ranvis.io.images import center_square, load, resize
from ranvis.io.record import write_json
from ranvis.nets import get_arch
from ranvis.nets.arch import Arch
from ranvis.nets.base import FrozenNet
from ranvis.nets.build import build_net
from ranvis.nets.draw import draw
from ranvis.nets.spec import NetSpec
from ranvis.objectives.metrics import l2_distance
from ranvis.platform.device import resolve_device
from ranvis.platform.threads import check_threads, thread_scope
from ranvis.tasks import invert
from ranvis.tasks.buildcache import cache_path, digest, load_cache

ALGORITHM = 2  # bump when the search changes in a way that changes its choices (invalidates caches)
SEED_OFFSET = 10**9  # keeps candidates apart from NetSpec.random(s) for s < 10**6
MAX_CANDIDATES = 1000  # the seed scheme leaves 1000 seeds per layer
# Scores closer than this to the lowest are a tie, won by the lowest k: 1/40 of an 8-bit grey
# level, far below what an image shows, far above rounding noise. conv1_1 and conv1_2 invert every
# draw to RMSE ~1e-8, so without it their pick would be decided by the last bits of the
# arithmetic and change with the CPU or BLAS; with it the choice is stable across machines.
TIE_RMSE = 1e-4
SELECTOR_NOTE = ("score = pixel RMSE of the reconstruction from the layer's rectified "
                 "representation; chosen over the normalized feature error (stacking.py docstring)")

# (layer name, candidate index k, seed) -> (weight, bias); the default draws N(0, σ) from the seed.
WeightsFn = Callable[[str, int, int], tuple[torch.Tensor, torch.Tensor]]
# Called after each layer is chosen with (layer name, its record); an exception stops the build.
LayerHook = Callable[[str, dict[str, Any]], None]


def candidate_seed(seed: int, position: int, k: int) -> int:
    """Seed of candidate ``k`` for the weighted layer at ``position`` in Arch.weighted()."""
    return SEED_OFFSET + 100_000 * seed + 1000 * position + k


def conv_layers(arch: Arch) -> list[str]:
    """The weighted layers whose representation is spatial ([B, C, h, w]), in forward order."""
    return [n for n in arch.weighted() if arch.tap(arch.representation(n)).spatial]


@dataclass(frozen=True)
class BuildSettings:
    """Everything that determines a build's result (the resume cache is keyed by it)."""

    reference: str
    candidates: int = D.STACK_CANDIDATES
    size: int = D.STACK_SIZE
    iters: int = D.STACK_ITERS
    layers: str = D.STACK_LAYERS  # "all" | "conv"
    seed: int = 0
    sigma: float = D.SIGMA
    pool: str = D.POOL
    upto: str | None = None  # stop the search after this weighted layer (cheap builds, tests)
    arch: str = D.ARCH
    init: str = D.WEIGHT_INIT

    def searched(self) -> list[str]:
        """The weighted layers searched, in forward order. Raises InputError for bad settings."""
        if self.layers not in ("all", "conv"):
            raise InputError(f"layers must be all or conv, got {self.layers!r}")
        if not 1 <= self.candidates <= MAX_CANDIDATES:
            raise InputError(f"candidates must be 1..{MAX_CANDIDATES}, got {self.candidates}")
        if self.iters < 1:
            raise InputError(f"iterations must be a positive integer, got {self.iters}")
        if self.seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed}")
        arch = get_arch(self.arch)
        names = arch.weighted() if self.layers == "all" else conv_layers(arch)
        if self.upto is not None:
            if self.upto not in names:
                raise InputError(f"upto must be one of the searched layers "
                                 f"({', '.join(names)}), got {self.upto!r}")
            names = names[: names.index(self.upto) + 1]
        return list(names)


def draw_weights(arch: Arch, init: str, sigma: float) -> WeightsFn:
    """The default candidates: weights drawn from the seed (nets.draw.draw), zero bias."""
    def draw_one(name: str, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        shape = arch.weight_shape(name)
        return draw(seed, shape, init, sigma), torch.zeros(shape[0])
    return draw_one


def _fixed(arch: Arch, name: str) -> bool:
    """Whether weighted layer ``name`` is judged at the architecture's fixed input size."""
    return arch.needs_fixed_input([arch.representation(name)])


def references(s: BuildSettings, names: list[str]) -> dict[str, torch.Tensor]:
    """{"conv": reference at ``size``, "fc": its central square at the architecture's fixed
    input size (VGG's fc6–fc8: 256×256), if such a layer is searched}."""
    arch = get_arch(s.arch)
    img = load(s.reference)
    conv = resize(img, s.size)
    spatial = [arch.representation(n) for n in names if not _fixed(arch, n)]
    if spatial:
        arch.check_input_size(conv.shape[-2], conv.shape[-1], spatial)
    refs = {"conv": conv}
    if any(_fixed(arch, n) for n in names):
        refs["fc"] = center_square(img, arch.fixed_input)
    return refs


def score_candidate(net: FrozenNet, rep: str, ref: torch.Tensor, iters: int, seed: int,
                    bar: Any = None) -> dict[str, Any]:
    """Reconstruct ``ref`` from ``net``'s ``rep`` features; {"score": pixel RMSE, "psnr", ...}.

    A degenerate draw (no input gradient, e.g. all-zero weights) scores +inf with its reason.
    """
    t0 = time.perf_counter()
    cbs = [lambda _step: bar.update(1)] if bar is not None else []
    try:
        run = invert(ref, rep, net=net, iters=iters, seed=seed, device=str(net.device),
                     callbacks=cbs, preset="paper", param="auto")  # as measured (D.STACK_*)
    except DegenerateGradientError as e:  # weighting.layer_factors: no usable input gradient
        return {"score": math.inf, "error": str(e), "seconds": round(time.perf_counter() - t0, 3)}
    if run.record["interrupted"]:  # optimize() turns Ctrl-C into an early return: pass it on
        raise KeyboardInterrupt
    rmse = l2_distance(run.image, ref) / math.sqrt(ref.numel())
    m = run.record["metrics"]
    return {"score": rmse if math.isfinite(rmse) else math.inf, "psnr": m["psnr"],
            "feature_error": m["feature_error"][rep], "seconds": round(time.perf_counter() - t0, 3)}


def search_layer(net: FrozenNet, name: str, ref: torch.Tensor, s: BuildSettings, weights: WeightsFn,
                 progress: bool = True) -> dict[str, Any]:
    """Try ``s.candidates`` draws for layer ``name`` on ``net`` (earlier layers fixed), install the
    lowest-score one, and return the layer's record (every candidate's seed and score)."""
    from tqdm import tqdm

    weighted = net.arch.weighted()
    pos = weighted.index(name)
    rep = net.arch.representation(name)
    t0 = time.perf_counter()
    cands: list[dict[str, Any]] = []
    with tqdm(total=s.candidates * s.iters, desc=f"{name} ({pos + 1}/{len(weighted)})",
              unit="it", disable=not progress, dynamic_ncols=True, leave=True) as bar:
        for k in range(s.candidates):
            seed_k = candidate_seed(s.seed, pos, k)
            net.set_weights(name, *weights(name, k, seed_k))
            c = {"k": k, "seed": seed_k, **score_candidate(net, rep, ref, s.iters, s.seed, bar)}
            cands.append(c)
            bar.set_postfix_str(f"best {min(x['score'] for x in cands):.4g}", refresh=False)
    low = min(c["score"] for c in cands)
    if not math.isfinite(low):
        raise InputError(f"every candidate for {name} failed ({cands[0].get('error')}); "
                         "try another --seed or reference image")
    best = next(k for k, c in enumerate(cands) if c["score"] <= low + TIE_RMSE)
    net.set_weights(name, *weights(name, best, cands[best]["seed"]))
    return {"layer": name, "representation": rep, "chosen": best, "seed": cands[best]["seed"],
            "candidates": cands, "seconds": round(time.perf_counter() - t0, 3)}


def build(settings: BuildSettings, out: str | Path | None = None, *, device: str = "cpu",
          weights: WeightsFn | None = None, on_layer: LayerHook | None = None,
          progress: bool = True, command: str | None = None,
          threads: int | None = None) -> NetSpec:
    """Run the greedy search; return the stacked NetSpec (and write it to ``out`` if given).
    ``threads``: CPU threads for the build, given back afterwards (None: torch's current
    setting; platform.threads).

    ``weights`` replaces the candidate draw (tests plant bad candidates with it); ``on_layer`` is
    called after each chosen layer (an exception there leaves a resumable cache). With ``out``,
    an unfinished build resumes from ``cache_path(out)`` when the settings are the same.
    """
    s = settings
    names = s.searched()
    if s.pool not in ("avg", "max"):
        raise InputError(f"pool must be avg or max, got {s.pool!r}")
    arch = get_arch(s.arch)
    refs = references(s, names)
    weights = weights or draw_weights(arch, s.init, s.sigma)
    key = {"algorithm": ALGORITHM, "settings": asdict(s), "reference_sha256": digest(refs)}
    seeds = {n: candidate_seed(s.seed, i, 0) for i, n in enumerate(arch.weighted())}
    dev = resolve_device(device)
    net = build_net(NetSpec(dict(seeds), s.sigma, s.pool, s.arch, init=s.init), dev)
    cpath = cache_path(out) if out is not None else None
    done = load_cache(cpath, key) if cpath is not None else []
    for rec in done:  # re-install the layers already chosen
        net.set_weights(rec["layer"], *weights(rec["layer"], rec["chosen"], rec["seed"]))
    t0 = time.perf_counter()
    with thread_scope(check_threads(threads)) as used:
        for name in names[len(done):]:
            ref = refs["fc" if _fixed(arch, name) else "conv"]
            done.append(search_layer(net, name, ref, s, weights, progress))
            if cpath is not None:
                write_json(cpath, {"key": key, "layers": done})
            if on_layer is not None:
                on_layer(name, done[-1])
    seeds.update({rec["layer"]: rec["seed"] for rec in done})
    spec = NetSpec(seeds, s.sigma, s.pool, s.arch, init=s.init)
    spec.info = _info(s, key, done, build_net(spec, dev), command, time.perf_counter() - t0)
    spec.info["threads"] = used
    if out is not None:
        spec.save(out)
        cpath.unlink(missing_ok=True)
    return spec


def _info(s: BuildSettings, key: dict[str, Any], done: list[dict[str, Any]], net: FrozenNet,
          command: str | None, seconds: float) -> dict[str, Any]:
    last = done[-1]["layer"]  # weights up to the last conv searched, and up to fc8 if searched
    convs = conv_layers(net.arch)
    upto = dict.fromkeys([last if last in convs else convs[-1], last])
    checksum = {n: net.checksum(n) for n in upto}
    return {
        "built_by": command or "ranvis.tasks.stacking.build", "ranvis": _version.__version__,
        "algorithm": ALGORITHM, "settings": asdict(s),
        "reference_sha256": key["reference_sha256"],
        "seed_scheme": "candidate k of WEIGHTED[i] has seed 10**9 + 100000*seed + 1000*i + k; "
                       "layers not searched use k = 0",
        "selector": SELECTOR_NOTE, "tie_rmse": TIE_RMSE,
        "searched": [rec["layer"] for rec in done],
        "layers": {rec["layer"]: {k: v for k, v in rec.items() if k != "layer"} for rec in done},
        "seconds": round(sum(rec["seconds"] for rec in done), 3),
        "seconds_this_run": round(seconds, 3),
        "checksum": checksum,
    }
