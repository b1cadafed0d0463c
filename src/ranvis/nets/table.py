"""``ranvis layers``: an architecture's taps as a text table."""
from __future__ import annotations

from ranvis.nets.arch import Arch, ReceptiveFieldUnknown


def receptive_cell(arch: Arch, name: str, why: list[str]) -> str:
    """Tap ``name``'s receptive field as the table shows it: "N px", "whole input" (a vector
    tap), "-" (a spatial tap after global pooling), or "?" with the reason appended to ``why``
    (once: the taps of one failed trace share it)."""
    try:
        rf = arch.receptive_field(name)
    except ReceptiveFieldUnknown as e:
        if str(e) not in why:
            why.append(str(e))
        return "?"
    return f"{rf} px" if rf else ("-" if arch.tap(name).spatial else "whole input")


def tap_table(arch: Arch, every: bool = False) -> str:
    """One line per tap (the readable list, or ``every`` node): name, channels, stride,
    receptive field and the smallest square input it needs; a line of why for any receptive
    field shown as "?"; then the presets."""
    names = [t.name for t in arch.nodes()] if every else list(arch.default_taps())
    rows = [("layer", "channels", "stride", "receptive field", "min input")]
    why: list[str] = []
    for n in names:
        t = arch.tap(n)
        rows.append((n, str(t.channels), str(t.stride) if t.stride else "-",
                     receptive_cell(arch, n, why), f"{t.min_input} px"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"{arch.name}: {arch.description}"]
    if arch.fixed_input:
        lines.append(f"vector layers (fc) need a {arch.fixed_input}x{arch.fixed_input} input")
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if why:
        lines.append(f"receptive field ?: {'; '.join(why)}")
    p = arch.presets
    lines += ["", f"presets ({p.source}):",
              f"  content {p.content}; style {','.join(p.style)}; texture {','.join(p.texture)}",
              f"  inversion optimizes pixels up to {p.fourier_after}, Fourier coefficients deeper"]
    if not every and len(arch.nodes()) > len(names):
        lines.append(f"  ({len(arch.nodes())} nodes in all: --all lists every one; any is a "
                     "valid layer)")
    return "\n".join(lines)
