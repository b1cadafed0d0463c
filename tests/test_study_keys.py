"""Cell keys leave options at None out, and scripts/rekey_cells.py moves a study stored under
the earlier rule so that it resumes (the store finds every cell again, nothing recomputed)."""
from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from ranvis import _version
from ranvis.study.cells import KEY_CHARS, cell_key
from ranvis.study.store import STORED, CellStore

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = {"task": "invert", "net": {"arch": "vgg11", "net_seed": 0}, "taps": ["s4"],
            "image": "ab", "size": 32, "iters": 3, "start": 0,
            "options": {"preset": "best", "factors": None}}


def _old_key(settings: dict) -> str:
    """The key rule before options at None were left out: every option hashed."""
    text = json.dumps({"ranvis": _version.__version__, **settings}, sort_keys=True,
                      separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]


def _rekey_module():
    spec = importlib.util.spec_from_file_location("rekey_cells",
                                                  ROOT / "scripts" / "rekey_cells.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_none_options_leave_the_key_alone() -> None:
    key = cell_key(SETTINGS)
    newer = {**SETTINGS, "options": {**SETTINGS["options"], "level_plateau": None}}
    assert cell_key(newer) == key  # an option added later at its None default
    set_one = {**SETTINGS, "options": {**SETTINGS["options"], "factors": "fixed"}}
    assert cell_key(set_one) != key
    assert cell_key({**SETTINGS, "options": {"preset": "best"}}) == key
    assert cell_key({**SETTINGS, "options": {"preset": "paper"}}) != key


def test_rekey_moves_an_old_study_so_it_resumes(tmp_path: Path) -> None:
    store = CellStore(tmp_path)
    old = _old_key(SETTINGS)
    assert old != cell_key(SETTINGS)
    result = {"png": b"png", "record": {"a": 1}, "scores": {"psnr": 9.0}, "seconds": 1.0,
              "environment": {}}
    store.write(old, SETTINGS, {"arch": "vgg11"}, result, 1)
    same = {**SETTINGS, "task": "texture"}
    store.write(cell_key(same), same, {"arch": "vgg11"}, result, 1)
    rekey = _rekey_module()
    assert rekey.rekey(tmp_path, dry_run=True) == {"same": 1, "moved": 1, "clash": 0,
                                                   "unreadable": 0}
    assert store.state(cell_key(SETTINGS)) != STORED
    assert rekey.main([str(tmp_path)]) == 0
    assert store.state(cell_key(SETTINGS)) == STORED and store.state(old) != STORED
    assert store.load(cell_key(SETTINGS))["scores"] == {"psnr": 9.0}
    assert rekey.rekey(tmp_path)["moved"] == 0
    assert rekey.main([str(tmp_path / "none")]) == 2
