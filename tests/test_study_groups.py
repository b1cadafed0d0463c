"""Lockstep groups in a study (``ranvis study --batch N``, study.groups, study.rungroup): a grouped
study stores the same cells as an ungrouped one (same keys, scores within float tolerance, same
evaluations); a cell that fails in a group is retried alone; a group interrupted before it comes
back stores none of its cells and corrupts nothing, and the next run computes only those."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from timmtest import require_timm

from ranvis.cli.commands import main
from ranvis.study import load_plan
from ranvis.study.cells import Cell, expand
from ranvis.study.groups import group_cells, unpack
from ranvis.study.store import ABSENT, STORED, CellStore

require_timm()

PLAN = """
[study]
size = 32
iters = 8
seeds = [0]
images = ["sample:astronaut", "sample:coffee", "sample:chelsea"]

[[arch]]
name = ["timm:test_resnet", "timm:test_efficientnet"]
init = "he"

[[task]]
kind = "invert"
strides = [4, 8]
options = { preset = "best" }

[[task]]
kind = "zerocost"
archs = ["timm:test_resnet-avg-he"]
"""


def _plan(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(PLAN)
    return folder / "plan.toml"


def _cells(out: Path) -> dict[str, dict]:
    return {p.name: json.loads((p / "cell.json").read_text())
            for p in (out / "cells").iterdir()}


def test_group_cells_by_everything_but_the_photograph() -> None:
    def cell(key: str, seed: int, tap: str, image: str, task: str = "invert") -> Cell:
        return Cell(key, {"task": task, "net": {"net_seed": seed}, "taps": [tap],
                          "image": image}, {})

    cells = [cell("a", 0, "s4", "x"), cell("b", 0, "s8", "x"), cell("c", 0, "s4", "y"),
             cell("d", 1, "s4", "x"), cell("e", 0, "s4", "z"), cell("f", 0, "s8", "y"),
             cell("z", 0, "s4", "x", "zerocost"), cell("g", 0, "s4", "w")]
    keys = [[c.key for c in g] for g in group_cells(cells, 2)]
    assert keys == [["a", "c"], ["b", "f"], ["d"], ["e", "g"], ["z"]]
    assert [[c.key for c in g] for g in group_cells(cells, 1)] == [[c.key] for c in cells]
    with pytest.raises(ValueError):
        group_cells(cells, 0)
    result = {"group": [{"key": "c", "error": "boom"}, {"key": "a", "scores": {}}]}
    assert [(c.key, r is not None, e) for c, r, e in unpack(cells[:3:2], result, None)] == [
        ("a", True, None), ("c", False, "boom")]
    assert [e for _c, _r, e in unpack(cells[:3:2], None, "died")] == ["died", "died"]


def test_grouped_study_stores_the_same_cells(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    alone, grouped = tmp_path / "alone", tmp_path / "grouped"
    assert main(["study", str(plan), "-o", str(alone), "--inline", "--no-progress"]) == 0
    assert main(["study", str(plan), "-o", str(grouped), "--workers", "1", "--no-progress",
                 "--batch", "3"]) == 0
    a, g = _cells(alone), _cells(grouped)
    assert set(a) == set(g) and len(a) == 2 * 2 * 3 + 1
    for key, cell in a.items():
        other = g[key]
        assert other["settings"] == cell["settings"]
        zerocost = cell["settings"]["task"] == "zerocost"
        assert other["environment"].get("group") == (None if zerocost else 3)
        for name, value in cell["scores"].items():
            assert other["scores"][name] == pytest.approx(value, rel=1e-3, abs=1e-3), name
        ra = json.loads((alone / "cells" / key / "record.json").read_text())
        rg = json.loads((grouped / "cells" / key / "record.json").read_text())
        if not zerocost:
            assert rg["iterations"] == ra["iterations"] and rg["accepted"] == ra["accepted"]
    runs = json.loads((grouped / "study.json").read_text())["runs"]
    assert runs[-1]["batch"] == 3 and runs[-1]["computed"] == len(a)


def test_a_cell_failing_in_a_group_is_retried_alone(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ranvis.study import rungroup

    grid = expand(load_plan(_plan(tmp_path)))
    victim = grid.cells[0]
    real = rungroup._run_task

    def flaky(job: dict, device: str, net: object) -> object:
        if job["key"] == victim.key:
            raise RuntimeError("lost in the group")
        return real(job, device, net)

    monkeypatch.setattr(rungroup, "_run_task", flaky)
    out = tmp_path / "out"
    assert main(["study", str(tmp_path / "plan.toml"), "-o", str(out), "--inline",
                 "--no-progress", "--batch", "3"]) == 0
    cells = _cells(out)
    assert len(cells) == len(grid.cells)
    assert cells[victim.key]["attempts"] == 2 and "group" not in cells[victim.key]["environment"]
    assert all(c["attempts"] == 1 for k, c in cells.items() if k != victim.key)


def test_interrupted_group_stores_none_of_its_cells(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ranvis.study import rungroup

    plan = _plan(tmp_path)
    grid = expand(load_plan(plan))
    real = rungroup._run_task
    seen: list[str] = []

    def interrupted(job: dict, device: str, net: object) -> object:
        seen.append(job["key"])
        if len(seen) > 3:  # the second group: Ctrl-C in one of its cells
            raise KeyboardInterrupt
        return real(job, device, net)

    monkeypatch.setattr(rungroup, "_run_task", interrupted)
    out = tmp_path / "out"
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress",
                 "--batch", "3"]) == 130  # Ctrl-C: what is stored stays, the rest waits
    store = CellStore(out)
    states = {c.key: store.state(c.key) for c in grid.cells}
    assert sorted(states[k] for k in seen[:3]) == [STORED] * 3
    assert all(states[k] == ABSENT for k in seen[3:])
    assert set(states.values()) == {STORED, ABSENT}  # nothing half-written
    stored = {k: (out / "cells" / k / "cell.json").read_bytes() for k, v in states.items()
              if v == STORED}
    monkeypatch.setattr(rungroup, "_run_task", real)
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress",
                 "--batch", "3"]) == 0
    assert all(store.state(c.key) == STORED for c in grid.cells)
    assert all((out / "cells" / k / "cell.json").read_bytes() == v for k, v in stored.items())
    runs = json.loads((out / "study.json").read_text())["runs"]
    assert runs[-1]["computed"] == len(grid.cells) - 3
