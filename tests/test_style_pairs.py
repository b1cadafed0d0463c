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
