"""scripts/atlas_budget.py: τ at two budgets over the networks both studies scored."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ("timm:resnet18", "timm:resnet50", "timm:vgg11", "timm:efficientnet_b0")
FIELDS = ("status", "kind", "arch", "arch_name", "stride", "image", "net_seed", "psnr", "ssim")


def _script():
    spec = importlib.util.spec_from_file_location("atlas_budget",
                                                  ROOT / "scripts" / "atlas_budget.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _study(d: Path, psnr: list[float], extra: bool = False) -> Path:
    d.mkdir()
    with open(d / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        for arch, p in zip(ARCHS, psnr, strict=False):
            w.writerow({"status": "ok", "kind": "invert", "arch": arch, "arch_name": arch,
                        "stride": 4, "image": "calla", "net_seed": 0, "psnr": p, "ssim": p / 40})
            w.writerow({"status": "ok", "kind": "invert", "arch": arch, "arch_name": arch,
                        "stride": 4, "image": "city", "net_seed": 0, "psnr": 99, "ssim": 1})
        if extra:  # only in one study: left out of both
            w.writerow({"status": "pending", "kind": "invert", "arch": ARCHS[3],
                        "arch_name": ARCHS[3], "stride": 4, "image": "calla", "net_seed": 0,
                        "psnr": "", "ssim": ""})
    return d


def test_budget_table_ranks_the_same_networks(tmp_path: Path) -> None:
    mod = _script()
    low = _study(tmp_path / "a", [10.0, 11.0, 12.0])
    high = _study(tmp_path / "b", [12.0, 11.0, 10.0, 9.0], extra=True)
    lines = mod.table(low, high, "calla", 0)
    psnr = next(line for line in lines if line.startswith("| psnr s4 |"))
    cells = [c.strip() for c in psnr.split("|")[1:-1]]
    assert cells[1] == "3"  # efficientnet_b0 only in the 120-evaluation study: left out
    assert cells[6] == "-1.00"  # the two budgets order the three networks oppositely
    assert cells[7] == "11.00 → 11.00"
    assert mod.main([str(low), str(tmp_path / "none")]) == 2
