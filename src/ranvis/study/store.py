"""The cell store: ``DIR/cells/KEY/`` holds ``image.png``, ``record.json`` and, written last,
``cell.json`` (settings, scores, seconds, status, where it ran, and the SHA-256 of the other two
files). Every file is written to a temporary file and renamed, so a reader never sees half a
file, and a cell counts as stored only when ``cell.json`` parses, names its key and both files
match their recorded checksums. Anything else (a driver killed between files, a truncated or
edited image) is not stored, so the cell is computed again and its files replaced.

Failures go to ``DIR/failed/KEY.json`` (the error of each attempt); a failed cell is tried again
by the next run, and its failure file removed once it succeeds.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from ranvis.io.record import atomic_write, write_json

STORED, ABSENT, CORRUPT = "stored", "absent", "corrupt"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class CellStore:
    """The cells of one study directory (module doc). Only the driver writes here."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.cells = self.root / "cells"
        self.failed = self.root / "failed"

    def folder(self, key: str) -> Path:
        """``DIR/cells/KEY``: where the cell of ``key`` is (or would be) stored."""
        return self.cells / key

    def state(self, key: str) -> str:
        """STORED, ABSENT (nothing, or no cell.json yet) or CORRUPT (cell.json unreadable or a
        file that does not match its checksum)."""
        meta = self.folder(key) / "cell.json"
        if not meta.is_file():
            return ABSENT
        return STORED if self.load(key) is not None else CORRUPT

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored cell.json as a dict, or None unless the cell is wholly stored."""
        folder = self.folder(key)
        try:
            cell = json.loads((folder / "cell.json").read_text())
            if cell.get("key") != key or cell.get("status") != "ok":
                return None
            for name, sha in cell["files"].items():
                if _sha(folder / name) != sha:
                    return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return cell

    def write(self, key: str, settings: dict[str, Any], info: dict[str, Any],
              result: dict[str, Any], attempts: int) -> dict[str, Any]:
        """Store one computed cell (run_cell's result): image, record, then cell.json."""
        folder = self.folder(key)
        png = result["png"]
        atomic_write(folder / "image.png", lambda p: p.write_bytes(png))
        write_json(folder / "record.json", result["record"])
        cell = {"key": key, "status": "ok", "settings": settings, "info": info,
                "scores": result["scores"], "seconds": result["seconds"],
                "cpu_seconds": result.get("cpu_seconds"), "environment": result["environment"],
                "attempts": attempts,
                "stored_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "files": {n: _sha(folder / n) for n in ("image.png", "record.json")}}
        write_json(folder / "cell.json", cell)
        (self.failed / f"{key}.json").unlink(missing_ok=True)
        return cell

    def write_failure(self, key: str, settings: dict[str, Any], info: dict[str, Any],
                      errors: list[str]) -> dict[str, Any]:
        """Record a cell that failed every attempt (its errors, newest last)."""
        entry = {"key": key, "status": "failed", "settings": settings, "info": info,
                 "errors": errors, "attempts": len(errors),
                 "failed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        write_json(self.failed / f"{key}.json", entry)
        return entry

    def failure(self, key: str) -> dict[str, Any] | None:
        """The recorded failure of ``key``, if any (None if absent or unreadable)."""
        try:
            return json.loads((self.failed / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
