"""build-net's resume cache: the layers chosen so far, beside the output, keyed by every
argument and the reference's pixels (stacking.py)."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import torch


def digest(refs: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the reference images (the cache key holds it)."""
    h = hashlib.sha256()
    for key in sorted(refs):
        h.update(key.encode())
        h.update(refs[key].contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_path(out: str | Path) -> Path:
    """``NET.json`` → ``NET.ranvis-cache.json`` beside it."""
    out = Path(out)
    return out.with_name(out.stem + ".ranvis-cache.json")


def load_cache(path: Path, key: dict[str, Any]) -> list[dict[str, Any]]:
    """The layers a build with this ``key`` already chose, or [] (with a message) if none."""
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        print(f"ranvis: {path} is unreadable; ignoring it and starting afresh", file=sys.stderr)
        return []
    if not isinstance(data, dict) or data.get("key") != key:
        print(f"ranvis: {path} was made with other arguments; ignoring it and starting afresh "
              "(it will be replaced)", file=sys.stderr)
        return []
    done = data.get("layers", [])
    print(f"ranvis: resuming from {path}: {len(done)} layer(s) already chosen", file=sys.stderr)
    return done
