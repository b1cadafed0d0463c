"""Re-key a study's stored cells under the current key rule (study/cells.py: cell_key).

    python scripts/rekey_cells.py STUDY_DIR [--dry-run]

Each stored cell's key is recomputed from the settings its cell.json holds; a cell whose key
changed is moved to its new folder and its cell.json names the new key. Nothing is computed
and no result changes: only where the cell is found. Used once when the key rule began to
leave options at None out (so that a task option added later with a None default keeps the
cells stored before it): a study stored before that rule resumes instead of starting over.
A cell whose new folder already holds a stored cell is left where it is, and counted.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ranvis.io.record import write_json
from ranvis.study.cells import cell_key


def rekey(study: Path, dry_run: bool = False) -> dict[str, int]:
    """Move every stored cell of ``study`` whose key changed; returns counts by outcome
    ("same", "moved", "clash", "unreadable")."""
    counts = {"same": 0, "moved": 0, "clash": 0, "unreadable": 0}
    cells = study / "cells"
    for folder in sorted(p for p in cells.iterdir() if p.is_dir()) if cells.is_dir() else []:
        try:
            cell = json.loads((folder / "cell.json").read_text())
            new = cell_key(cell["settings"])
        except (OSError, ValueError, KeyError, TypeError):
            counts["unreadable"] += 1
            continue
        if new == folder.name and cell.get("key") == new:
            counts["same"] += 1
        elif (cells / new).exists():
            counts["clash"] += 1
        else:
            counts["moved"] += 1
            if not dry_run:
                _move(folder, cells / new, {**cell, "key": new})
    return counts


def _move(folder: Path, target: Path, cell: dict) -> None:
    """Rename ``folder`` to ``target``, then rewrite its cell.json atomically (interrupted in
    between, the store sees a key mismatch and computes the cell again: nothing is lost)."""
    folder.rename(target)
    write_json(target / "cell.json", cell)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("study", type=Path)
    ap.add_argument("--dry-run", action="store_true", help="count, move nothing")
    a = ap.parse_args(argv)
    if not (a.study / "cells").is_dir():
        print(f"rekey_cells: {a.study} has no cells/ folder", file=sys.stderr)
        return 2
    print(" ".join(f"{k}={v}" for k, v in rekey(a.study, a.dry_run).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
