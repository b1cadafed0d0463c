"""The two recipes every task offers: ``paper`` (what He, Wang & Hopcroft did) and ``best``
(what measured best here, the default). Torch-free, so the CLI reads them without torch.

A preset fills in whatever the caller leaves as ``None``; every explicit option wins, and the run
record's ``settings`` says which preset ran and every value it chose.

Inversion (eq. 1–4):
  * ``paper``: eq. 1 alone, one random network, pixels, from white noise, L-BFGS.
  * ``best``: the same for taps up to the architecture's ``fourier_after`` (VGG: pool2, stride
    4), where pixel-space L-BFGS already converges (pool1 ≥ 45 dB, pool2 ≥ 33 dB). Deeper, the
    image matches the features of ``nets`` = 4 independent draws of the same architecture at
    once (4x the cost of an evaluation), optimized coarse-to-fine: the variable is the image at
    1/16, 1/8, 1/4, 1/2 of its side, bilinearly upsampled, then the full image in the
    preconditioned Fourier basis (tasks.stages), from white noise of std 0.01, with a default
    budget of 1000 evaluations. Measured (VGG-19, 128 px centre crops of two photographs not in
    this repository, benchmarks/README.md "Deep inversion"): pool5 12.7 dB / SSIM 0.08 with the
    previous default (one net, Fourier, noise 0.1, 1000 evaluations) → 22.9 / 0.73 and 16.9 /
    0.46 at 400 evaluations, 19.7 / 0.61 on the harder photo at 1000; neither ingredient alone
    does it (4 draws without coarse-to-fine 11.6 dB, coarse-to-fine with one draw 16.3 / 11.1
    dB). Reflect padding, TV and the α-norm were measured and left out (benchmarks/README.md).
Style transfer (eq. 9):
  * ``paper``: α:β:γ = 100:1:1000, content conv2_2, µ_l at the zero representation (eq. 8),
    white-noise start, zero padding, one network. It returns the photo blurred (TV as the plain
    sum outweighs the rest). Six other readings of eq. 9 were measured on held-out pairs (issue
    28, item 4; benchmarks/README.md "The paper's eq. 9": TV as a per-pixel mean, factors at the
    start, the style image as the start, α:β read the other way round); none shows the style as
    Figure 6 does (100:1 keeps the photo, sharp or with a dotted overlay; 1:100 loses it), so
    the recipe stays as printed.
  * ``best``: the content photo's colours are first matched to the style's (mean and
    covariance in RGB, color.match_colors), which is the content target and, with noise of std
    0.1, the start; µ_l are measured at that start (each style term's mean input gradient is
    1 where the optimization begins, weighting.start_factors, instead of at the zero
    representation); the content tap is one scale deeper (VGG: conv3_1; others:
    :func:`deep_content_tap`); reflect padding (VGG); α:β:γ = 3:1:1 with γ scaled by the
    style's smoothness (weighting.tv_factor: 0.2 · Var(style) / TV(style), clamped to 0.1–10);
    one network; the run stops when the loss has stopped improving (stopping.Plateau); two
    scales from 512 px. The TV factor removes the high-frequency speckle that the earlier
    1:1:0.1 left on smooth styles, which an independent judge counted against the style (worst
    of 11 held-out pairs 0.525 → 0.325, storm + kokkini 0.468 → 0.218), without erasing a
    grainy style's own grain (astronaut + gravel 0.283 with a fixed γ = 3, 0.066 with the
    factor); α = 3 keeps the layout against it (correlation ≥ 0.80 on 23 of 23 pairs). Two
    draws measured no better than one (worst of 7 pairs 0.316 / 0.708 against 0.315 / 0.744)
    at twice the time.
    Why, with numbers (the stall of the previous default and what each change did):
    benchmarks/README.md, "Style transfer".
Texture synthesis (eq. 5–8):
  * ``paper``: zero padding, white noise around grey 0.5.
  * ``best``: circular padding (every convolution wraps around: the canvas is a torus, so no
    position is a border and the result tiles) and white noise around the source's mean colour.
    Why (issue 28, item 5; benchmarks/README.md "Stationary textures"): with zero or reflect
    padding the positions near a border have features of their own, so the Gram matrices carry
    where the border is, and the optimizer used it: dark sparse textures came out with the
    texture crowded along the border and an empty middle (star field: centre/border fine-texture
    ratio 0.28 with reflect, 0.66 with zeros, 0.96 circular; experiments.stationarity). Starting
    a dark texture at grey made it worse: darkening the whole canvas drove regions far below 0,
    where the clamped image is black and empty (82 % of the centre's pixels out of range without
    conv4_1, reflect); starting at the source's mean colour halved that (ratio 0.28 → 0.65 with
    reflect). Reflect padding (the previous ``best``) was chosen against zero padding's border
    strips and is kept selectable (``padding="reflect"``).
"""
from __future__ import annotations

from dataclasses import dataclass

PRESETS = ("best", "paper")
DEFAULT = "best"


@dataclass(frozen=True)
class InvertRecipe:
    """How an inversion runs: ``nets`` draws matched at once, ``levels`` coarse-to-fine levels
    (1: none), the full-size variable ``param`` ("auto": tasks.inversion.auto_param), the start
    noise's std, the evaluation budget. Both presets keep zero padding for inversion (reflect
    padding gave no consistent gain at pool5: benchmarks/README.md)."""

    nets: int = 1
    levels: int = 1
    param: str = "pixel"
    noise_std: float = 0.1
    iters: int = 300  # the default budget (defaults.ITERS) when the caller gives none
    # end a coarse level on a flat loss (stopping.Plateau): offered, not chosen; not yet
    # measured against the full shares on held-out photographs (benchmarks/README.md)
    level_plateau: bool = False


@dataclass(frozen=True)
class StyleRecipe:
    """How a style transfer runs (module doc)."""

    ratio: tuple[float, float, float]
    init: str
    factors: str  # "zero" (eq. 8 as written) | "start" (measured at the start image)
    color_match: bool
    deep_content: bool
    nets: int
    padding: str
    plateau: bool
    start_noise: float | str  # std of the noise added to an image start; "style": matched
    # to the style's fine-texture energy (starts.style_energy_std)
    tv_factor: bool = False  # γ scaled by the style's smoothness (weighting.tv_factor)
    style_loss: str = "gram"  # E_l: styleloss kinds, "a+b" for several (eq. 5: "gram")
    start: str = "noise"  # how start_noise perturbs an image start (starts.perturb_start)
    style_first: float = 0.0  # > 0: the last scale's first half runs with α × this
    color_space: str = "rgb"  # color_match in "rgb" (color.match_colors) or "yiq" (_yiq)
    content_blur: float = 0.0  # σ px at 128 px: the content term sees the image lowpassed


PAPER_RATIO = (100.0, 1.0, 1000.0)  # α:β:γ, §3, as printed
BEST_RATIO = (100.0, 1.0, 1.0)


def check_preset(name: str) -> str:
    """``name`` if it is a preset, else ValueError naming them (the CLI offers choices)."""
    if name not in PRESETS:
        from ranvis.errors import InputError

        raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return name


def invert_recipe(preset: str, deep: bool) -> InvertRecipe:
    """The inversion recipe of ``preset``; ``deep``: the deepest tap lies beyond the
    architecture's ``fourier_after`` (VGG-19: deeper than pool2)."""
    if check_preset(preset) == "paper":
        return InvertRecipe()
    if not deep:
        return InvertRecipe(param="auto")
    return InvertRecipe(nets=4, levels=5, param="fourier", noise_std=0.01, iters=1000)


def style_recipe(preset: str) -> StyleRecipe:
    """The style-transfer recipe of ``preset`` (module doc)."""
    if check_preset(preset) == "paper":
        return StyleRecipe(PAPER_RATIO, "noise", "zero", False, False, 1, "zeros", False, 0.0)
    return StyleRecipe(BEST_RATIO, "content", "start", True, True, 1, "reflect", True, 0.1,
                       tv_factor=True, style_loss="sw", color_space="yiq")


def style_summary(preset: str) -> str:
    """One line naming what ``preset`` does in a style transfer (demo captions, help), made
    from the recipe itself so that it cannot drift from it."""
    r = style_recipe(preset)
    ratio = ":".join(f"{v:g}" for v in r.ratio)
    content = "the colour-matched content" if r.color_match else "the content"
    start = {"noise": "white noise", "content": content, "style": "the style"}.get(r.init, r.init)
    parts = [f"style loss {r.style_loss}",
             f"ratio {ratio}" + (" (TV scaled by the style's smoothness)" if r.tv_factor else ""),
             f"from {start}",
             "content one scale deeper" if r.deep_content else "the paper's content tap",
             f"{r.nets} network{'s' if r.nets > 1 else ''}"]
    return ", ".join(parts)


def deep_content_tap(content: str, style: tuple[str, ...], strides: dict[str, int]) -> str:
    """The ``best`` preset's content tap: the first style tap at twice the stride of the
    architecture's content preset (VGG: conv2_2 → conv3_1), else the content preset itself.
    Measured on VGG-19 only; other architectures follow by analogy. ``strides``: {tap: stride}."""
    want = 2 * strides[content]
    return next((t for t in style if strides[t] == want), content)


def style_scales(preset: str, side: int) -> int:
    """Coarse-to-fine scales of a style transfer whose longer side is ``side``: ``best`` runs
    two from 512 px and three from 1024 px (each half the next), ``paper`` one."""
    if check_preset(preset) == "paper":
        return 1
    return 1 + (side >= 512) + (side >= 1024)


def texture_start(preset: str) -> str:
    """Where texture synthesis's white noise is centred under ``preset``: "grey" (0.5) or
    "mean" (the source's mean colour)."""
    return "grey" if check_preset(preset) == "paper" else "mean"


def texture_padding(preset: str) -> str:
    """The network padding texture synthesis uses under ``preset``."""
    return "zeros" if check_preset(preset) == "paper" else "circular"
