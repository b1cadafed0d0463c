"""scripts/atlas_receptive.py: the receptive field against top-1 beside PSNR, same networks."""
from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

from timmtest import require_timm

require_timm()

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("status", "kind", "arch", "arch_name", "stride", "tap", "size", "psnr")


def _script():
    spec = importlib.util.spec_from_file_location("atlas_receptive",
                                                  ROOT / "scripts" / "atlas_receptive.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_receptive_rows_rank_the_traced_networks(tmp_path: Path) -> None:
    mod = _script()
    rows = [{"status": "ok", "kind": "invert", "arch": f"{a}-he", "arch_name": a, "stride": 4,
             "tap": "s4", "size": size, "psnr": p}
            for a, size, p in (("timm:test_resnet", 8, 12.0), ("timm:test_efficientnet", 8, 11.0),
                               ("timm:test_resnet", 8, 14.0), ("timm:resnet18", 16, 20.0))]
    with open(tmp_path / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    (tmp_path / "study.json").write_text(json.dumps({"plan": {"size": 8}}))
    assert mod.psnr_means(tmp_path, False)[4]["timm:test_resnet-he"][2] == 13.0
    assert "timm:resnet18-he" not in mod.psnr_means(tmp_path, False)[4]  # grown: left out
    assert "timm:resnet18-he" in mod.psnr_means(tmp_path, True)[4]
    row = [c.strip() for c in mod.table(tmp_path)[2].split("|")[1:-1]]
    assert row[0] == "receptive field s4" and row[1] == "2"
    assert mod.main([str(tmp_path / "none")]) == 2
