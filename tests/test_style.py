"""Style transfer (eq. 9): each option changes what it should; CLI and Figure 6 end to end.

Tiny images (32 px), few iterations and truncated layers (conv1_1, conv2_1 for style, conv2_2
for content) keep the whole file to seconds.
"""
import json

import pytest
import torch

from ranvis.cli.commands import main
from ranvis.errors import InputError
from ranvis.io.images import load, resize, rgb_to_yiq, sample, save
from ranvis.tasks import make_net, transfer_style
from ranvis.tasks import styleblocks as S

LAYERS = ["conv1_1", "conv2_1"]
KW = {"style_layers": LAYERS, "iters": 4, "device": "cpu", "seed": 3}


@pytest.fixture(scope="module")
def imgs():
    from ranvis.experiments.style_quality import image

    return (load("sample:chelsea", 32), resize(image("ihc"), 32), load("sample:gravel", 24))


def test_original_colors_keep_the_contents_chroma(imgs):
    content, style, _ = imgs
    plain = transfer_style(content, [style], **KW)
    kept = transfer_style(content, [style], original_colors=True, **KW)
    iq_c, iq_k = rgb_to_yiq(content)[:, 1:], rgb_to_yiq(kept.image)[:, 1:]
    iq_p = rgb_to_yiq(plain.image)[:, 1:]
    # chroma is the content's (up to clamping to [0, 1]); without the option it is not
    assert (iq_k - iq_c).abs().mean() < 0.01
    assert (iq_p - iq_c).abs().mean() > 5 * (iq_k - iq_c).abs().mean()
    # luminance is the transfer's: same run, same Y
    y_p, y_k = rgb_to_yiq(plain.image)[:, :1], rgb_to_yiq(kept.image)[:, :1]
    assert (y_p - y_k).abs().mean() < 0.01
    assert kept.record["settings"]["original_colors"] is True


def test_two_styles_weighted_1_0_equal_one_style(imgs):
    content, style, other = imgs
    one = transfer_style(content, [style], **KW)
    two = transfer_style(content, [style, other], style_weights=[1, 0], **KW)
    assert one.record["loss"] == two.record["loss"]
    assert torch.equal(one.image, two.image)
    blend = transfer_style(content, [style, other], style_weights=[1, 1], **KW)
    assert blend.record["loss"] != one.record["loss"]  # the weight of the second style matters


def test_blend_target_is_the_weighted_mean_of_grams(imgs):
    _, style, other = imgs
    net = make_net("random", device="cpu")
    a = S.style_targets(net, [style], [1.0], LAYERS)
    b = S.style_targets(net, [other], [1.0], LAYERS)
    ab = S.style_targets(net, [style, other], [3.0, 1.0], LAYERS)
    for n in LAYERS:
        torch.testing.assert_close(ab[n], 0.75 * a[n] + 0.25 * b[n])


def test_two_scales_give_the_requested_size_and_split_iterations(imgs):
    content, style, _ = imgs
    run = transfer_style(content, [style], scales=2, **{**KW, "iters": 6})
    assert run.image.shape == content.shape
    rec = run.record
    assert [s["size"] for s in rec["scales"]] == [[16, 10], [32, 21]]
    assert [s["iters"] for s in rec["scales"]] == [4, 2] == rec["settings"]["scale_iters"]
    assert rec["iterations"] == 6 and len(rec["loss"]) == 6
    assert all(len(v) == 6 for v in rec["terms"].values())


def test_split_iters_and_scale_sizes():
    assert S.split_iters(300, 1) == [300]
    assert S.split_iters(300, 3) == [173, 85, 42] and sum(S.split_iters(7, 3)) == 7
    assert S.scale_sizes(256, 170, 3) == [(64, 42), (128, 85), (256, 170)]
    with pytest.raises(InputError):
        S.split_iters(2, 3)


def test_schedule_splits_the_last_scale_when_style_comes_first():
    assert S.schedule((256, 170), 300, 3, 0.0) == (
        [(64, 42), (128, 85), (256, 170)], [173, 85, 42], [1.0, 1.0, 1.0])
    sizes, counts, alphas = S.schedule((64, 64), 9, 1, 0.25)
    assert sizes == [(64, 64), (64, 64)] and counts == [4, 5] and alphas == [0.25, 1.0]
    assert S.schedule((64, 64), 1, 1, 0.25) == ([(64, 64)], [1], [1.0])  # too few to split


def test_too_many_scales_is_an_input_error(imgs):
    content, style, _ = imgs
    with pytest.raises(InputError, match="scales"):
        transfer_style(content, [style], scales=3, **{**KW, "style_layers": ["conv5_1"]})


def test_init_content_starts_at_the_content(imgs):
    content, style, _ = imgs
    run = transfer_style(content, [style], init="content", precision="fp32", preset="paper",
                         ratio=(3.0, 1.0, 0.3), **KW)
    net = make_net("random", device="cpu")
    ratio = tuple(run.record["settings"]["ratio"])
    objective, _ = S.style_objective(net, content, [style], [1.0], content_layer="conv2_2",
                                     style_layers=LAYERS, ratio=ratio)
    with torch.no_grad():
        expected, parts = objective(content)
    assert run.record["loss"][0] == pytest.approx(float(expected), rel=1e-5)
    assert run.record["terms"]["content"][0] == pytest.approx(0.0, abs=1e-6)
    noise_start = transfer_style(content, [style], preset="paper", **KW)
    assert noise_start.record["terms"]["content"][0] > 0


def test_tv_is_a_plain_sum_so_gamma_means_the_same_at_every_size():
    """γ·Σ(Δx)²: the per-pixel gradient of the TV term does not depend on the image size."""
    from ranvis.objectives.losses import total_variation

    g = torch.Generator().manual_seed(0)
    grads = []
    for side in (16, 64):
        x = torch.rand(1, 3, side, side, generator=g).requires_grad_(True)
        (grad,) = torch.autograd.grad(S.tv_weight(1.0, x) * total_variation(x), x)
        grads.append(float(grad.abs().mean()))
    assert grads[0] == pytest.approx(grads[1], rel=0.1)


def test_bad_style_arguments_are_input_errors(imgs):
    content, style, _ = imgs
    with pytest.raises(InputError):
        transfer_style(content, [style], style_weights=[1, 2], **KW)
    with pytest.raises(InputError):
        transfer_style(content, [style], style_weights=[0], **KW)
    with pytest.raises(InputError):
        transfer_style(content, [], **KW)
    with pytest.raises(InputError):
        transfer_style(content, [style], init="zeros", **KW)


def test_cli_style_end_to_end(tmp_path, imgs):
    _, style, _ = imgs
    save(style, tmp_path / "style.png")
    out = tmp_path / "out.png"
    rc = main(["style", "sample:chelsea", str(tmp_path / "style.png"), "sample:gravel",
               "--style-weights", "2,1", "--size", "32", "--iters", "4", "--scales", "2",
               "--style-layers", "conv1_1,conv2_1", "--ratio", "10:1:5", "--style-scale", "0.5",
               "--init", "content", "--original-colors", "--save-every", "2", "--device", "cpu",
               "--nets", "1", "-o", str(out)])
    assert rc == 0
    rec = json.loads(out.with_suffix(".json").read_text())
    assert load(out).shape == (1, 3, 21, 32)
    assert (tmp_path / "out-loss.png").stat().st_size > 0
    assert sorted(rec["terms"]) == ["content", "sw:conv1_1", "sw:conv2_1", "tv"]  # best: sw
    assert all(len(v) == 4 for v in rec["terms"].values())
    st = rec["settings"]
    assert st["ratio"] == [10, 1, 5] and st["style_weights"] == [2, 1] and st["scales"] == 2
    assert st["style_scale"] == 0.5 and st["original_colors"] and st["init"] == "content"
    assert rec["scales"][-1]["style_sizes"] == [[16, 16], [16, 16]]  # 0.5 × 32 px
    assert (tmp_path / "out-iter00002.png").exists() and (tmp_path / "out-iter00004.png").exists()
    assert 0 < rec["metrics"]["ssim_luminance"] <= 1


def test_cli_style_rejects_bad_input(tmp_path, capsys):
    base = ["style", "sample:chelsea", "sample:gravel", "--size", "32", "--iters", "2",
            "-o", str(tmp_path / "o.png")]
    assert main([*base, "--ratio", "1:2"]) == 2
    assert main([*base, "--style-weights", "1,1"]) == 2
    assert main([*base, "--scales", "4"]) == 2  # 2 iterations for 4 scales
    assert main([*base[:-4], "--iters", "8", "--scales", "4", *base[-2:]]) == 2  # 4 px coarsest
    err = capsys.readouterr().err.replace("\r", "\n")  # tqdm's bar may share the line
    errors = [x[x.index("ranvis: error:"):] for x in err.splitlines() if "ranvis: error:" in x]
    assert len(errors) == 4
    assert "coarsest image 4x3" in errors[-1]


def test_cli_ratio_paper_is_the_papers(tmp_path):
    from ranvis import defaults as D
    from ranvis.cli.args import ratio3

    assert ratio3("paper") == D.PAPER_RATIO == (100.0, 1.0, 1000.0)


def test_fig6_and_quality_run_at_a_tiny_size(tmp_path):
    from ranvis.experiments import fig6, style_quality

    kw = {"size": 32, "iters": 2, "device": "cpu", "style_layers": LAYERS}
    res = fig6.run(tmp_path, contents=["chelsea"], styles=["ihc", "brick"], **kw)
    assert res["figures"] == ["fig6.png", "fig6-paper.png"]
    assert all((tmp_path / f).stat().st_size > 0 for f in res["figures"])
    assert set(res["numbers"]) == {"best", "paper"}
    assert set(res["numbers"]["paper"]) == {"chelsea/ihc", "chelsea/brick"}
    assert res["settings"]["presets"]["paper"]["ratio"] == [100.0, 1.0, 1000.0]
    assert all(v["ratio"] == [100.0, 1.0, 1000.0] for v in res["numbers"]["paper"].values())
    best = [v["ratio"] for v in res["numbers"]["best"].values()]  # α, γ set from each style
    assert all(3.0 <= a <= 200.0 and b == 1.0 and 0.1 <= g <= 10.0 for a, b, g in best)
    assert json.dumps(res)  # JSON-able
    q = style_quality.run(tmp_path, contents=["camera"], styles=["retina"], **kw)
    row = q["numbers"]["rows"][0]
    assert 0 < row["d_content"] and -1 <= row["ssim"] <= 1 and row["ssim_style"] < 1
    assert (tmp_path / "style_quality.png").exists()


def test_fig6_footer_prints_the_ratio_each_pair_used():
    from ranvis.experiments.fig6 import ratio_text

    assert ratio_text([[100, 1, 1000], [100, 1, 1000]]) == "100:1:1000"
    assert ratio_text([[3, 1, 0.5], [42.5, 1, 2]]) == "3-42.5:1:0.5-2 (set per pair from the style)"


def test_judge_distance_is_zero_for_the_style_itself_and_scale_free():
    from ranvis.objectives.judges import gram_distance, judge_net, luminance_ssim

    judge = judge_net()
    s = load("sample:gravel", 32)
    assert gram_distance(judge, s, s) == pytest.approx(0.0, abs=1e-6)
    assert luminance_ssim(s, s) == pytest.approx(1.0)
    c = load("sample:chelsea", 32)
    assert gram_distance(judge, c, s) > 0.1


def test_style_terms_keep_falling_past_evaluation_20():
    """Stall regression (issue 18): the cat + star field used to stop moving after ~20
    evaluations with every style term within ~1.5x of its start. With the default preset the
    style terms fall by far more, and the run either keeps improving past evaluation 20 or says
    it stopped on a plateau."""
    c, s = resize(sample("chelsea"), 48), resize(sample("hubble_deep_field"), 48)
    run = transfer_style(c, [s], iters=60, device="cpu")
    loss, terms = run.record["loss"], run.record["terms"]
    style = [sum(v[i] for k, v in terms.items() if k.split(":")[-1].startswith("conv"))
             for i in (0, -1)]
    # the sliced Wasserstein terms of best (issue 28) fell 422 → 65 here with α from the
    # style's std; with α from its robust spread (200 for the Hubble field: the layout keeps
    # more weight) 360 → 122. The stall kept every term within ~1.5x (a ratio above 0.67); the
    # Gram terms of the old best fell by more than 20x, mostly colour
    assert style[1] < 0.5 * style[0]
    assert loss[-1] < loss[20] or run.record["stopped"] == "plateau"
    # the paper's recipe (eq. 8 at the zero representation, 100:1:1000, noise start) is the
    # stall this guards against: its style terms barely move
    paper = transfer_style(c, [s], iters=30, device="cpu", preset="paper")
    pt = paper.record["terms"]
    assert sum(v[-1] for k, v in pt.items() if k.startswith("conv")) > 0.5 * sum(
        v[0] for k, v in pt.items() if k.startswith("conv"))


def test_tv_factor_is_strong_for_smooth_styles_and_weak_for_grainy_ones():
    """weighting.tv_factor: reference·Var/TV of the style, clamped; smooth → large, grainy →
    small, whatever the contrast."""
    from ranvis.objectives.weighting import TV_FACTOR_BOUNDS, TV_REFERENCE, tv_factor

    ramp = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    gravel = resize(sample("gravel"), 64)
    assert tv_factor(torch.full((1, 3, 16, 16), 0.5)) == TV_FACTOR_BOUNDS[1]  # constant: no TV
    assert tv_factor(ramp) == TV_FACTOR_BOUNDS[1] and tv_factor(gravel) < 1
    checker = (torch.arange(16).view(1, 1, 1, 16) + torch.arange(16).view(1, 1, 16, 1)) % 2
    assert tv_factor(checker.float().expand(1, 3, 16, 16)) == TV_FACTOR_BOUNDS[0]
    ihc = resize(sample("immunohistochemistry"), 64)  # inside the bounds
    tv = float(((ihc[..., 1:] - ihc[..., :-1]) ** 2).sum()
               + ((ihc[..., 1:, :] - ihc[..., :-1, :]) ** 2).sum()) / ihc.numel()
    var = float(ihc.double().var(dim=(-2, -1)).mean())
    assert tv_factor(ihc) == pytest.approx(TV_REFERENCE * var / tv, rel=1e-5)
    faint = 0.5 + 0.1 * (ihc - 0.5)  # the same picture at a tenth of the contrast
    assert tv_factor(faint) == pytest.approx(tv_factor(ihc), rel=1e-4)


def test_best_style_scales_tv_by_the_styles_smoothness(imgs):
    """The record's "tv" factor is tv_factor of the style at the run's scale; the objective's TV
    weight is γ·numel·factor (a smooth style gets a stronger TV than a grainy one)."""
    from ranvis.objectives.weighting import tv_factor

    c = resize(sample("chelsea"), 32)
    ramp = torch.stack(torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(1, 0, 32),
                                      indexing="ij") + (torch.full((32, 32), 0.3),))[None]
    styles = {"gravel": resize(sample("gravel"), 32), "ramp": ramp}
    runs = {n: transfer_style(c, [s], iters=2, device="cpu") for n, s in styles.items()}
    got = {n: r.record["factors"]["tv"] for n, r in runs.items()}
    assert got["gravel"] == pytest.approx(tv_factor(styles["gravel"]))
    assert got["ramp"] > 5 * got["gravel"]
    assert all(r.record["settings"]["tv_factor"] for r in runs.values())


def test_best_style_counts_tv_only_beyond_the_styles_own(imgs, monkeypatch):
    """best: the objective allows the main style's own TV (losses.tv_excess), recorded as
    settings.tv_allowance; paper keeps eq. 9's plain TV (allowance 0, level 0)."""
    from ranvis.objectives.losses import total_variation
    from ranvis.objectives.terms import Ensemble
    from ranvis.tasks import transfer

    made: list[Ensemble] = []
    monkeypatch.setattr(transfer, "Ensemble", lambda m: made.append(Ensemble(m)) or made[-1])
    c, s = resize(sample("chelsea"), 32), resize(sample("gravel"), 32)
    best = transfer_style(c, [s], iters=2, scales=1, device="cpu")
    assert best.record["settings"]["tv_allowance"] == 1.0
    assert made[-1].members[0].tv_level == pytest.approx(float(total_variation(s)), rel=1e-5)
    paper = transfer_style(c, [s], preset="paper", iters=2, device="cpu")
    assert paper.record["settings"]["tv_allowance"] == 0.0
    assert made[-1].members[0].tv_level == 0.0
