"""``ranvis layers``: an architecture's taps as a text table."""
from __future__ import annotations

from ranvis.nets.arch import Arch


def tap_table(arch: Arch, every: bool = False) -> str:
    """One line per tap (the readable list, or ``every`` node): name, channels, stride,
    receptive field and the smallest square input it needs; then the presets."""
    names = [t.name for t in arch.nodes()] if every else list(arch.default_taps())
    rows = [("layer", "channels", "stride", "receptive field", "min input")]
    for n in names:
        t = arch.tap(n)
        rows.append((n, str(t.channels), str(t.stride) if t.stride else "-",
                     f"{t.receptive_field} px" if t.receptive_field else
                     ("-" if t.spatial else "whole input"),
                     f"{t.min_input} px"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"{arch.name}: {arch.description}"]
    if arch.fixed_input:
        lines.append(f"vector layers (fc) need a {arch.fixed_input}x{arch.fixed_input} input")
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    p = arch.presets
    lines += ["", f"presets ({p.source}):",
              f"  content {p.content}; style {','.join(p.style)}; texture {','.join(p.texture)}",
              f"  inversion optimizes pixels up to {p.fourier_after}, Fourier coefficients deeper"]
    if not every and len(arch.nodes()) > len(names):
        lines.append(f"  ({len(arch.nodes())} nodes in all: --all lists every one; any is a "
                     "valid layer)")
    return "\n".join(lines)
