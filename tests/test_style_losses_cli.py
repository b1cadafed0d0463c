"""--style-loss through the CLI (style and texture) at 32 px, and how a style image is fitted."""
from __future__ import annotations

import json

import pytest
import torch

from ranvis.cli import commands as cli
from ranvis.tasks.stylefit import fit_style, fitted_size, is_tile, seam_ratio, tile

LOSSES = ["gram", "sw", "meanstd", "cov+mean", "hist", "gram-softmax"]


@pytest.mark.parametrize("loss", LOSSES)
def test_style_loss_runs_through_the_cli_and_is_recorded(tmp_path, capsys, loss: str) -> None:
    out = tmp_path / "s.png"
    code = cli.main(["style", "sample:astronaut", "sample:coffee", "--style-loss", loss,
                     "--size", "32", "--iters", "2", "--device", "cpu", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["settings"]["style_loss"] == loss
    kinds = loss.split("+")
    names = [k for k in rec["factors"] if k.startswith("style:")]
    assert len(names) == 5 * len(kinds)  # one term (and one µ_l) per style layer and loss
    assert all(0 < rec["factors"][k] < float("inf") for k in names)


def test_texture_takes_a_style_loss_and_paper_stays_the_gram(tmp_path, capsys) -> None:
    out = tmp_path / "t.png"
    assert cli.main(["texture", "sample:gravel", "--style-loss", "sw", "--size", "32",
                     "--iters", "2", "--device", "cpu", "-o", str(out)]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["style_loss"] == "sw"
    out = tmp_path / "p.png"
    assert cli.main(["style", "sample:astronaut", "sample:coffee", "--preset", "paper",
                     "--size", "32", "--iters", "2", "--device", "cpu", "-o", str(out)]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["style_loss"] == "gram"


def test_an_unknown_style_loss_is_one_line_and_exit_2(capsys) -> None:
    assert cli.main(["style", "sample:astronaut", "sample:coffee", "--style-loss", "gramm"]) == 2
    err = capsys.readouterr().err
    assert "gramm" in err and len(err.strip().splitlines()) == 1


def test_a_small_seamless_pattern_is_tiled_at_its_scale_a_picture_resized() -> None:
    g = torch.Generator().manual_seed(0)
    pattern = torch.rand(1, 3, 8, 8, generator=g)  # white noise: its wrap-around is seamless
    assert is_tile(pattern)
    fitted = fit_style(pattern, 20, 12)
    assert fitted.shape[-2:] == (12, 20) and torch.equal(fitted[..., 8:12, 8:16], pattern[..., :4, :])
    assert torch.equal(tile(pattern, 16, 16)[..., 8:, 8:], pattern)
    ramp = torch.linspace(0, 1, 8).view(1, 1, 1, 8).expand(1, 3, 8, 8)  # left ≠ right border
    assert seam_ratio(ramp) > 10 and fit_style(ramp, 20, 12).shape[-2:] == (20, 20)
    big = torch.rand(1, 3, 40, 30, generator=g)
    assert fit_style(big, 20, 12).shape[-2:] == (20, 15)
    for img in (pattern, ramp, big):  # the CLI checks memory with this before fitting
        assert fitted_size(img, 20, 12) == tuple(fit_style(img, 20, 12).shape[-2:])
