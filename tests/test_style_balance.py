"""issue 28's pieces of the best style recipe: YIQ colour match, α from the style's contrast,
start perturbations, the lowpassed content view, the style's detail in the content target."""
from __future__ import annotations

import pytest
import torch

from ranvis.experiments.style_pairs import blurred_luminance, layout_amplitude, layout_corr
from ranvis.objectives.color import match_colors, match_colors_yiq
from ranvis.objectives.metrics import band_energies
from ranvis.objectives.terms import lowpass
from ranvis.objectives.weighting import (
    CONTENT_FACTOR_BOUNDS,
    content_factor,
    luminance_spread,
)
from ranvis.optim.starts import perturb_start
from ranvis.tasks.styleblocks import content_target
from ranvis.tasks.stylefit import style_detail, style_energy_std, tile


def _photo() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    ramp = torch.linspace(0, 1, 32)
    x = torch.stack([ramp.view(1, 32).expand(32, 32), ramp.view(32, 1).expand(32, 32),
                     torch.rand(32, 32, generator=g) * 0.2])
    return x[None]


def test_yiq_match_keeps_the_layout_where_rgb_may_not() -> None:
    # a blue pattern whose contrast is mostly chroma (blue against purple), as blueweb
    g = torch.Generator().manual_seed(1)
    t = torch.rand(16, 16, generator=g)
    blue = torch.stack([0.2 + 0.3 * t, 0.25 + 0.02 * t, 0.7 - 0.1 * t])[None]
    photo = _photo()
    y = match_colors_yiq(photo, blue)
    assert layout_corr(y, photo) > 0.95 > layout_corr(match_colors(photo, blue), photo)
    assert y.shape == photo.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    # the colours moved towards the reference's mean
    assert abs(float(y.mean((2, 3))[0, 2] - blue.mean((2, 3))[0, 2])) < abs(
        float(photo.mean((2, 3))[0, 2] - blue.mean((2, 3))[0, 2]))


def test_content_factor_is_large_for_faint_styles_and_small_for_contrasted_ones() -> None:
    lo, hi = CONTENT_FACTOR_BOUNDS
    faint = 0.05 + 0.02 * torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    checker = ((torch.arange(16).view(1, 1, 1, 16) + torch.arange(16).view(1, 1, 16, 1)) % 2)
    assert content_factor(faint) == hi and content_factor(torch.full((1, 3, 8, 8), 0.3)) == hi
    assert content_factor(checker.float().expand(1, 3, 16, 16)) == lo
    mid = 0.5 + 0.1 * (checker.float().expand(1, 3, 16, 16) - 0.5) * 2  # σ_Y = 0.1
    assert content_factor(mid) == pytest.approx(0.09 / 0.01, rel=0.02)


def test_a_few_bright_points_on_black_do_not_set_the_content_factor() -> None:
    """A star field (1 % of the pixels white) has a luminance std of ~0.1, but its median
    spread is 0: the factor is the upper bound, as for a flat style; a two-level pattern half
    and half keeps its std (the averaged median), so it stays contrasted."""
    g = torch.Generator().manual_seed(0)
    stars = (torch.rand(1, 1, 64, 64, generator=g) < 0.01).float().expand(1, 3, 64, 64) * 0.9
    assert float(stars[0, 0].std()) > 0.05
    assert luminance_spread(stars) == 0.0
    assert content_factor(stars) == CONTENT_FACTOR_BOUNDS[1]
    halves = torch.zeros(1, 3, 8, 8)
    halves[..., 4:] = 1.0
    assert luminance_spread(halves) == pytest.approx(float(halves[0, 0].std()), rel=1e-6)


@pytest.mark.parametrize("kind", ["noise", "hf", "lowpass"])
def test_start_perturbations_are_seeded_and_sized(kind: str) -> None:
    x = _photo()
    a, b = perturb_start(x, kind, 0.1, 3), perturb_start(x, kind, 0.1, 3)
    assert torch.equal(a, b) and not torch.equal(a, perturb_start(x, kind, 0.1, 4))
    if kind == "hf":
        assert float((a - x).std()) == pytest.approx(0.1, rel=1e-3)


def test_style_energy_std_gives_the_start_the_styles_fine_energy() -> None:
    x = _photo()
    style = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2)) * 0.3 + 0.3
    std = style_energy_std(x, style, "hf", 0)
    start = perturb_start(x, "hf", std, 0)
    assert band_energies(start)[0] == pytest.approx(band_energies(style)[0], rel=0.15)
    assert style_energy_std(style, x, "hf", 0) == 0.0  # already more than the target


def test_style_detail_is_the_styles_fine_band_tiled_at_a_seeded_offset() -> None:
    """A 20 px tile's detail over a 48x40 canvas: the tile's own s − G_σ(s), repeated (so the
    canvas is periodic with the tile's period), the offset set by the seed; zero for a flat
    style; the content target adds it and clamps, and is the content itself at detail 0."""
    style = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(3))
    d = style_detail(style, 40, 48, 1.5, seed=0)
    assert d.shape == (1, 3, 40, 48)
    assert torch.allclose(d[..., :20, :], d[..., 20:40, :]) and torch.allclose(d[..., :28],
                                                                               d[..., 20:48])
    band = tile(style - lowpass(style, 1.5), 40, 40)  # the band itself, cut from the corner
    assert any(torch.allclose(d[..., :20, :20], band[..., i:i + 20, j:j + 20])
               for i in range(20) for j in range(20))
    assert torch.equal(d, style_detail(style, 40, 48, 1.5, seed=0))
    assert not torch.equal(d, style_detail(style, 40, 48, 1.5, seed=1))
    assert float(style_detail(torch.full((1, 3, 20, 20), 0.3), 40, 48, 1.5, 0).abs().max()) < 1e-6
    content = torch.full((1, 3, 40, 48), 0.5)
    assert content_target(content, [style], [1.0], 0.0, 0) is content
    t = content_target(content, [style], [1.0], 1.5 * 128 / 48, 0)
    assert torch.allclose(t, (content + d).clamp(0, 1))


def test_lowpass_keeps_the_mean_and_removes_the_finest_detail() -> None:
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    y = lowpass(x, 1.0)
    assert y.shape == x.shape and float(y.mean()) == pytest.approx(float(x.mean()), abs=0.01)
    assert band_energies(y)[0] < 0.5 * band_energies(x)[0]


def test_a_style_term_matched_at_the_start_takes_its_fallback_factor() -> None:
    from ranvis.errors import DegenerateGradientError
    from ranvis.nets.spec import NetSpec
    from ranvis.nets.vgg import Net
    from ranvis.objectives.weighting import start_factors
    from ranvis.tasks.styleblocks import style_objective

    x = _photo()  # the photo as its own style, started without noise: sw is 0 there, flat
    obj, _ = style_objective(Net(NetSpec.random(0)), x, [x], [1.0], content_layer="conv2_1",
                             style_layers=["conv1_1", "conv2_1"], ratio=(1, 1, 1),
                             style_loss="sw")
    with pytest.raises(DegenerateGradientError):
        start_factors(obj, x, "style")
    fallback = {t.name: t.factor for t in obj.terms}
    got = start_factors(obj, x, "style", fallback)
    assert got == {n: fallback[n] for n in ("sw:conv1_1", "sw:conv2_1")}


def test_layout_amplitude_sees_the_contrast_that_the_correlation_does_not() -> None:
    """layout_amplitude: the photo's own blurred-luminance std for the photo, half of it for the
    photo at half contrast (whose correlation stays 1), about 0 for an unrelated image."""
    photo = _photo()
    own = float(blurred_luminance(photo, max(photo.shape[-2:]) / 64).std())
    faint = 0.3 + 0.5 * (photo - photo.mean())  # in [0, 1]
    assert layout_amplitude(photo, photo) == pytest.approx(own, rel=1e-6)
    assert layout_corr(faint, photo) == pytest.approx(1.0, abs=1e-6)
    assert layout_amplitude(faint, photo) == pytest.approx(own / 2, rel=1e-3)
    other = torch.rand(photo.shape, generator=torch.Generator().manual_seed(5))
    assert abs(layout_amplitude(other, photo)) < 0.2 * own
