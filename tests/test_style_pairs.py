"""The per-pair style report (experiments/style_pairs): scores, results and the captioned sheet."""
from __future__ import annotations

import json
import sys

import pytest
from PIL import Image

from ranvis.experiments import style_pairs


def test_pair_report_writes_scores_results_and_sheet(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["style_pairs", "--pairs", "chelsea:hubble,camera:grass",
                                      "--size", "32", "--iters", "3", "--out", str(tmp_path)])
    style_pairs.main()
    scores = json.loads((tmp_path / "pairs-best.json").read_text())
    assert [(r["content"], r["style"]) for r in scores] == [("chelsea", "hubble"),
                                                           ("camera", "grass")]
    for r in scores:
        assert -1 <= r["corr"] <= 1 and r["ratio"] > 0 and 1 <= r["evaluations"] <= 3
        assert r["floor"] >= 0
        assert Image.open(tmp_path / f"best-{r['content']}-{r['style']}.png").width == 32
    sheet = Image.open(tmp_path / "sheet-best.png")
    assert sheet.width > sheet.height  # two pairs side by side, one row


@pytest.mark.parametrize("name", ["quick", "samples"])
def test_pair_sets_name_loadable_pictures(name: str) -> None:
    pairs = style_pairs.PAIR_SETS[name].split(",")
    assert len(pairs) == (5 if name == "quick" else 12) and len(set(pairs)) == len(pairs)
    for pair in pairs:
        for image in pair.split(":"):
            assert style_pairs.find_image(image, None, 16).shape[-3:-2] == (3,)


def test_arrangement_floor_is_zero_for_a_symmetric_style_and_positive_otherwise() -> None:
    import torch

    from ranvis.objectives.judges import judge_net

    judge, content = judge_net(), torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    flat = torch.full((1, 3, 32, 32), 0.4)
    ramp = torch.linspace(0, 1, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32).contiguous()
    assert style_pairs.arrangement_floor(judge, content, flat) == pytest.approx(0.0, abs=1e-9)
    assert style_pairs.arrangement_floor(judge, content, ramp) > 1e-3
