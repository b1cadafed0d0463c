"""The paper's defaults, in one torch-free place (the CLI reads them without importing torch).

Every constant names its source in the paper; departures say so.
"""

SIGMA = 0.015  # §2: weights ~ N(0, σ), biases 0
POOL = "avg"  # §2: average pooling, after Gatys et al.
ITERS = 300  # our default; the paper does not state its iteration count for Figures 1-2
WEIGHT_INIT = "paper"  # §2: N(0, σ) for every weight; "he" draws N(0, sqrt(2/fan_in)) (nets.draw)
ARCH = "vgg19"  # §2: the paper's network; every architecture of ranvis.nets may be chosen
# The taps each task reads by default (the paper's: texture conv1_1..conv4_1, style conv1_1..
# conv5_1, content conv2_2) are each architecture's presets: ranvis.nets.catalog.
# α:β:γ of eq. 9 as the benchmarks run it (the speed tables' style case; the task's own default
# comes from ranvis.presets: best 3:1:1 with µ_l at the start, paper 100:1:1000). It was the
# default before the presets, with µ_l at the zero representation. DEPARTURE from §3's 100:1:1000 (kept as PAPER_RATIO, CLI --ratio paper):
# with ω, µ_l normalizing every term's input gradient (eq. 4, 8), α:β = 100:1 keeps the content
# (measured: luminance SSIM 0.86-0.996 to the content, judge Gram distance to the style no lower
# than the content's), under every reading of the normalization we tried (experiments/
# style_readings.py: |mean| instead of mean|.|, µ_l at the content, factors of the real terms at the
# noise start). 3:1 is where the content stays recognisable and the style shows. γ multiplies the
# plain sum Σ(Δx)² (styleblocks.py): its per-pixel gradient is size-independent like the normalized
# terms'; γ/α = 0.1 removes most of the start's speckle, γ/α >= 0.3 already blurs the content,
# so the paper's γ/α = 10 blurs it away (and a per-pixel-mean TV at γ = 1000 does nothing).
RATIO = (3.0, 1.0, 0.3)
NOISE_STD = 0.1  # our choice: white-noise start N(0.5, 0.1²) per pixel, clamped to [0, 1]
SIZE = 256  # our default longer side for inputs (the paper's fc-layer size, §3)
TEXTURE_SIZE = 128  # our default longer side for texture sources
DEMO_SIZE = 96  # our choice: `ranvis demo`'s inputs, sized for ~3 min on an idle 2-core CPU (demo.py)
CHECKPOINT_EVERY = 25  # our choice: iterations between --checkpoint saves (a few seconds of work)
MIN_IMAGE_SIDE = 8  # our choice: a smaller input (e.g. 1x1) holds no structure to reconstruct
# The inversion variable (pixels, the paper's, or Fourier coefficients) is each preset's choice:
# ranvis.presets, tasks.inversion.auto_param.
# The precision the network computes in: "auto" = float32 for every task; "bf16" (opt-in) is about
# twice as fast per iteration on CPUs with AMX / AVX512-BF16 and on GPUs, but ends a little above
# float32's optimum (device.resolve_precision has the measurements). Targets,
# factors and metrics are float32 either way, and every loss is summed in float32.
PRECISION = "auto"
# L-BFGS curvature pairs kept (torch.optim.LBFGS history_size): 100, as torch's default and the
# Lua neural-style's, but at most LBFGS_HISTORY_BYTES of them (each pair is two image-sized
# float32 vectors): at 2048 px a full history alone would take 10 GB. Square RGB images keep
# 100 pairs up to 1337 px, 2048 px keeps 42 (platform.plan.MemoryPlan.lbfgs_pairs).
LBFGS_HISTORY = 100
# Style transfer keeps fewer (benchmarks/history.py, 300 evaluations from noise): at 128 px on 4
# content/style pairs, 20 pairs ended within 0.04 % of 100 pairs' loss (lower on 1 of 4), at
# 256 px on 2 pairs within 0.06 %; likely the content term keeps it well conditioned (the loss
# after 100 evaluations is already within 0.35 % of its value after 300). Texture and inversion
# need the long history: with 40 pairs 6 of 7 runs ended 7-33 % higher (one texture 4 % lower),
# with 20 pairs all 7 ended 6-62 % higher (3 textures; pool3, pool4 of 2 photos). The two-loop
# reads every pair twice per step: at 256 px 100 pairs took 25-40 ms a step on a 2-core CPU (20
# pairs: a fifth of the reads), and at 1024 px 100 pairs are 2.5 GB of memory, 20 pairs 0.5 GB.
STYLE_LBFGS_HISTORY = 20
LBFGS_HISTORY_MIN = 10
LBFGS_HISTORY_BYTES = 4 * 2**30
# Above this many input pixels a float32 VGG keeps 1-byte masks, not activations (nets.vgg.Net
# ``lean``, whose docstring has the measurements).
LEAN_PIXELS = 1024 * 1024

# build-net (stacking.py): the greedy stacked ranVGG, paper §2 (which gives no numbers for it).
# Our choices, from `benchmarks/stacking_selector.py` (64 px, reference chelsea, held out
# astronaut + coffee, conv2_2/3_4/4_4/5_4, 5 draws each; numbers in stacking.py's docstring):
# the draws' held-out pixel RMSE differs by only 1-2 % (coefficient of variation) at conv3_4 and
# deeper, so best-of-K gains little; K = 5 (the cost target) already gets the expected
# best-of-5 (about 1.16 std below the mean), K = 10 would double the time for ~0.4 std more.
STACK_CANDIDATES = 5
# 64 px: the deepest conv maps are still 4x4 (relu5_4) and a conv-only build stays in minutes.
STACK_SIZE = 64
# the candidate ranked first after 25 and 50 iterations was the one ranked first after 100 at
# every layer where the draws differ (conv3_4, conv4_4, conv5_4); only at conv2_2, where every
# draw inverts to RMSE ~0.001, did the pick change. 50 halves the cost of 100.
STACK_ITERS = 50
STACK_LAYERS = "all"  # conv layers at STACK_SIZE, then fc6-fc8 at 256x256 (paper §3)
STACK_REFERENCE = "sample:chelsea"  # the shipped net's reference: an animal photo, as the paper's monkey
PAPER_RATIO = (100.0, 1.0, 1000.0)  # α:β:γ, §3, exactly as printed (CLI: --ratio paper)

# Style losses (styleloss.py; issue 28). "gram" is eq. 5, the paper's and the texture default;
# the others compare feature distributions: sliced Wasserstein (Heitz et al. 2021), per-channel
# mean and std (Li et al. 2017), covariance and mean (centred Gram), feature histograms
# (Risser et al. 2017); any of them "-softmax" (Wang et al. 2021), "a+b" for a term of each.
STYLE_LOSS_ATOMS = ("gram", "sw", "meanstd", "cov", "mean", "hist")
#: what bf16 measured against float32 per evaluation (a 128 px VGG-19 forward and backward 2.1x,
#: four draws to pool5 3x on this project's AMX CPU; benchmarks/README.md): one phrase for the
#: help and the README
BF16_SPEEDUP = "2–3x"
