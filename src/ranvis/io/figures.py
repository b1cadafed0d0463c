"""matplotlib figures written the way every ranvis page and report needs them: the Agg backend
(no display), PNG, atomically."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> None:
    """Write a matplotlib figure as PNG atomically and close it."""
    from ranvis.io.record import atomic_write

    atomic_write(path, lambda p: fig.savefig(p, format="png"))
    pyplot().close(fig)
