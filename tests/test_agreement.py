"""Rank agreement (study.agreement) and the trained table's join (study.trained)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ranvis.study.agreement import agreement, kendall_tau, spearman_rho, statistics
from ranvis.study.trained import join, parse_table, top1_table


def test_tau_and_rho_match_scipy_with_ties() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    s = rng.integers(0, 6, 25).astype(float)
    a = s + rng.integers(0, 4, 25)
    assert kendall_tau(s, a) == pytest.approx(stats.kendalltau(s, a).statistic)
    assert spearman_rho(s, a) == pytest.approx(stats.spearmanr(s, a).statistic)


def test_within_and_across_family_by_hand() -> None:
    # pairs (0,1) and (2,3) are within a family: one concordant, one discordant -> tau 0;
    # the 4 pairs across families are all concordant -> 1; overall (5 - 1) / 6.
    st = statistics(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 4, 3]),
                    np.array(["A", "A", "B", "B"]))
    assert st["kendall_within"] == 0
    assert st["kendall_across"] == 1
    assert st["kendall"] == pytest.approx(4 / 6)
    assert st["spearman"] == pytest.approx(0.8)  # 1 - 6·2 / (4·15)
    assert st["spearman_across"] == pytest.approx(1)  # family means (1.5, 3.5) against (1.5, 3.5)


def test_bootstrap_is_seeded_and_brackets_the_value() -> None:
    rng = np.random.default_rng(0)
    pts = [{"score": float(v), "top1": float(v + rng.normal()), "family": "ABC"[i % 3]}
           for i, v in enumerate(rng.normal(size=30))]
    a, b = agreement(pts, boot=200), agreement(pts, boot=200)
    assert a == b and a["n"] == 30 and a["families"] == 3
    for key in ("kendall", "spearman"):
        assert a[key]["lo"] <= a[key]["value"] <= a[key]["hi"]
    assert a["kendall"]["lo"] > 0  # a strong positive relation is found


def test_join_reports_missing_architectures() -> None:
    table = parse_table("# header\narch,family,top1,tag,img_size,source\n"
                        "a,F,70.0,x,224,timm\nb,G,75.0,y,224,timm\n")
    j = join({"a-avg": ("a", 1.0), "b-avg": ("b", math.nan), "c-avg": ("c", 2.0),
              "c-max": ("c", 3.0)}, table)
    assert [p["label"] for p in j.points] == ["a-avg"]  # b has no finite score
    assert j.missing == ["c"] and j.unscored == ["b-avg"]


def test_shipped_table_has_both_sources_and_no_larger_data() -> None:
    t = top1_table()
    assert t["vgg19"].source == "torchvision" and t["vgg19"].top1 == pytest.approx(72.376)
    assert t["timm:resnet50"].source == "timm"
    assert not [r.tag for r in t.values() if any(w in r.tag for w in ("in22k", "in21k",
                                                                      "in12k", "dist"))]
