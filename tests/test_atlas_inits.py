"""scripts/atlas_inits.py: τ per init over the networks every init scored."""
from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ("timm:resnet18", "timm:resnet50", "timm:vgg11")  # top-1 69.8, 80.4, 69.0 or so
FIELDS = ("status", "kind", "arch", "arch_name", "init", "stride", "image", "psnr", "ssim",
          "naswot", "log10_synflow")


def _script():
    spec = importlib.util.spec_from_file_location("atlas_inits",
                                                  ROOT / "scripts" / "atlas_inits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(arch: str, init: str, psnr: float, **kw: object) -> dict:
    return {"status": "ok", "kind": "invert", "arch": f"{arch}-{init}", "arch_name": arch,
            "init": init, "stride": 4, "image": "calla", "psnr": psnr, "ssim": psnr / 40, **kw}


def test_inits_ranked_on_the_same_networks(tmp_path: Path) -> None:
    mod = _script()
    rows = []
    for init, sign in (("he", 1), ("paper", -1), ("timm", 1)):
        rows += [_row(a, init, 10 + sign * k) for k, a in enumerate(ARCHS)]
        rows.append(_row(ARCHS[0], init, 99, image="city"))  # a second photograph: averaged
    rows.append(_row("timm:resnet101", "he", 30.0))  # only He scored it: left out
    rows.append({**_row(ARCHS[0], "he", 0), "status": "pending", "psnr": "", "ssim": ""})
    with open(tmp_path / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    m = mod.means(tmp_path / "results.csv")
    assert m[("invert psnr s4", "he")][ARCHS[0]] == (10 + 99) / 2
    lines = mod.table(tmp_path)
    by = {tuple(c.strip() for c in ln.split("|")[1:3]): [c.strip() for c in ln.split("|")[1:-1]]
          for ln in lines[2:]}
    assert by[("invert psnr s4", "he")][2] == "3"  # resnet101 (He only) left out
    assert by[("invert psnr s4", "paper")][6] != by[("invert psnr s4", "timm")][6]
    assert by[("invert psnr s4", "he")][6] == "+1.00"
    assert mod.main([str(tmp_path / "none")]) == 2
