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
    budget of 1000 evaluations (850 at pool5), a coarse level ending once its loss is flat
    (issue 29: :func:`invert_recipe`). Measured (VGG-19, 128 px centre crops of two photographs not in
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
  * ``best``: the style terms match the *distribution* of the features at every style tap,
    not their Gram matrix: the sliced Wasserstein distance (objectives.styleloss "sw", Heitz et
    al. 2021: the features projected on C seeded random directions, sorted, compared with the
    style's sorted projections). The content photo's colours are first matched to the style's
    in YIQ (color.match_colors_yiq: luminance by mean and std, which keeps its light and dark
    in order, chroma by covariance); with high-pass noise that tops its finest band energy up
    to the style's (stylefit.style_energy_std; none where the photo has as much) it is the
    start, and with the style's own finest band (s − G_σ(s), σ = 2 px at 128 px) laid over it
    at a seeded offset it is the content target (styleblocks.content_target,
    stylefit.style_detail); µ_l are measured at that start (each style term's mean input gradient is 1
    where the optimization begins, weighting.start_factors); the content tap is one scale
    deeper (VGG: conv3_1; others: :func:`deep_content_tap`); reflect padding (VGG); α:β:γ =
    1:1:1 with α scaled by the style's contrast (weighting.content_factor: 0.09 / σ_Y², clamped
    to 3–200) and γ by its smoothness (weighting.tv_factor: 0.2 · Var(style) / TV(style),
    clamped to 0.1–10), TV counting only where the image is rougher than the style
    (losses.tv_excess at the style's own TV, so the style's grain is not smoothed away); one
    network; the run stops when 10 evaluations have lowered the loss by less than 1 %
    (stopping.Plateau(10, 0.01)); two scales from 512 px; each tap's sort on
    at most 16384 positions (styleloss.SW_POSITIONS: all of them up to 128 px).
    Why (issue 28, benchmarks/README.md "Style losses"): the Gram matrix of a random network
    is dominated by the channels' means, i.e. by colour, so once the colours matched the old
    recipe (Gram, RGB colour match, 3:1:1) stopped with the style's texture absent: a star
    field's stars and a weave's waves did not arrive (texture-energy score 1.96 on calla + star
    field, where 1 is "no texture moved"). Of the losses measured alone (α = 3, RGB match), the
    sliced Wasserstein distance moved the most texture on calla + star field (0.76 against 1.01
    covariance + mean, 1.18 histogram, 1.31 mean + std, 1.98 Gram, 2.59 Gram of softmax
    features; on city + milky way covariance + mean did better, 0.23 against 0.54, with the
    layout lost by both, correlation 0.42 and 0.33). It asks for more than colour, so a dark
    style's layout needs a large α (the correlation on calla + star field 0.62, 0.69, 0.75,
    0.82 at α = 3, 10, 30, 100, and the texture score improves with it: 0.78, 0.48, 0.23,
    0.20), but α = 100 kept the leopard's spots out of grey + leopard (Gram ratio 0.43); with α
    from the style's contrast, 0.21. On 16 held-out pairs: layout kept on 16 (≥ 0.81), texture
    at least halfway on 14, Gram target met on 13, all three on 11. The RGB colour match alone already broke the layout on 3 of 18 held-out pairs
    (a blue web pattern, rain: correlation 0.59–0.78 before any optimization; YIQ: ≥ 0.957 on
    all 18). The pale, low-contrast styles (rain, marble) stayed smoother than the style
    (texture 0.74, 0.63) from a start with white noise of std 0.1; from the energy-matched
    high-pass start, 0.45 and 0.43 (benchmarks/README.md "Issue 28, round 2").
    The style's detail in the content target (issue 28, item 3; benchmarks/README.md "The
    lattice"): against a flat photo region the content term (stride 4) penalizes the low
    frequencies of any texture, so the style terms put their variance at the highest ones
    left: a regular dot lattice over flat areas (experiments.grid.lattice 0.27–0.35, the
    style's own 0.02–0.07) and no stars. Lower α removed it but lost the layout (kite + star
    field: α × 0.1 lattice 0.08, correlation 0.755), as did a deeper content tap (calla + star
    field 0.69); the start, the TV weight, two networks and a blurred content view did not
    remove it. With the style's detail in the target the lattice fell on all 6 pairs that had
    one and stars arrive as points, at a small cost in layout correlation (20 held-out pairs).
    Time: the sort costs (at 256 px 1.97x the Gram's time per evaluation with every position,
    1.55x with 16384), and the old plateau (0.1 % over 40 evaluations) waited ~100 evaluations
    after the scores had stopped moving (at 20–30 evaluations, 128 and 256 px); the 1 %/10 stop
    ends there.
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
    # end a coarse level on a flat loss (stopping.Plateau, tasks.inversion.LEVEL_PLATEAU)
    level_plateau: bool = False
    # evaluations per coarse level with the default budget (None: tasks.stages.COARSE_SHARE of
    # it); the full-size stage gets the rest. A budget the caller gives keeps the shares.
    coarse_iters: int | None = None


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
    content_factor: bool = False  # α × weighting.content_factor (the style's contrast)
    content_detail: float = 0.0  # σ px at 128 px: the content target gains the style's fine
    # band (tasks.styleblocks.content_target, tasks.stylefit.style_detail)
    tv_allowance: float = 0.0  # > 0: TV counts only beyond this × the style's own TV
    # (losses.tv_excess; 0: all of it, eq. 9)
    plateau_window: int = 40  # with ``plateau``: stopping.Plateau(window, rel_tol)
    plateau_tol: float = 1e-3


PAPER_RATIO = (100.0, 1.0, 1000.0)  # α:β:γ, §3, as printed
BEST_RATIO = (1.0, 1.0, 1.0)  # α then × weighting.content_factor: 3–200


def check_preset(name: str) -> str:
    """``name`` if it is a preset, else ValueError naming them (the CLI offers choices)."""
    if name not in PRESETS:
        from ranvis.errors import InputError

        raise InputError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return name


def invert_recipe(preset: str, deep: bool, stride: int | None = None) -> InvertRecipe:
    """The inversion recipe of ``preset``; ``deep``: the deepest tap lies beyond the
    architecture's ``fourier_after`` (VGG-19: deeper than pool2); ``stride``: that tap's
    (input pixels per position; None: not spatial, or not known).

    ``best``'s budget beyond ``fourier_after`` (issue 29; benchmarks/README.md "Where `best`'s
    evaluations help", VGG-19, 128 px, held-out photographs, PSNR after every evaluation):
    * four draws at every deep tap: two lost 3.9 dB at pool3 (path: 32.6 against 36.5 dB), one
      6.7 dB;
    * the level plateau on: it ends a coarse level whose loss gained < 0.1 % in 40 evaluations
      (pool3: the 8² and 16² levels after 68–96 of their 150, 12.5–14 % fewer evaluations,
      −0.03 dB on path, +0.12 dB on kite); at pool5 no level went flat (pool4: not measured);
    * at stride 32 (VGG: pool5) 250 evaluations at full size instead of 400, so 850 in all
      (0.85x the cost): the full-size stage's last 150 gained 0.24 dB / SSIM 0.016 on path
      and 0.20 dB on kite (where SSIM fell 0.006 over them); at 200 path's SSIM fell 0.02 short
      of today's, so 250. At pool3 the last 100 still gained 1.5 dB: shallower taps keep 400.
    """
    if check_preset(preset) == "paper":
        return InvertRecipe()
    if not deep:
        return InvertRecipe(param="auto")
    if stride is not None and stride >= 32:
        return InvertRecipe(nets=4, levels=5, param="fourier", noise_std=0.01, iters=850,
                            level_plateau=True, coarse_iters=150)
    return InvertRecipe(nets=4, levels=5, param="fourier", noise_std=0.01, iters=1000,
                        level_plateau=True)


def style_recipe(preset: str) -> StyleRecipe:
    """The style-transfer recipe of ``preset`` (module doc)."""
    if check_preset(preset) == "paper":
        return StyleRecipe(PAPER_RATIO, "noise", "zero", False, False, 1, "zeros", False, 0.0)
    return StyleRecipe(BEST_RATIO, "content", "start", True, True, 1, "reflect", True, "style",
                       tv_factor=True, style_loss="sw", start="hf", color_space="yiq",
                       content_factor=True, plateau_window=10, plateau_tol=0.01,
                       content_detail=2.0, tv_allowance=1.0)


def style_summary(preset: str) -> str:
    """One line naming what ``preset`` does in a style transfer (demo captions, help), made
    from the recipe itself so that it cannot drift from it."""
    r = style_recipe(preset)
    ratio = ":".join(f"{v:g}" for v in r.ratio)
    content = "the colour-matched content" if r.color_match else "the content"
    start = {"noise": "white noise", "content": content, "style": "the style"}.get(r.init, r.init)
    parts = [f"style loss {r.style_loss}",
             f"ratio {ratio}" + (" (TV scaled by the style's smoothness)" if r.tv_factor else "")
             + (", TV beyond the style's own" if r.tv_allowance else ""),
             f"from {start}",
             "content one scale deeper" if r.deep_content else "the paper's content tap",
             f"{r.nets} network{'s' if r.nets > 1 else ''}"]
    if r.content_detail:
        parts.insert(3, "the style's fine detail in the content target")
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
