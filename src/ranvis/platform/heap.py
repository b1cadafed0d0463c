"""Whether glibc keeps freed memory for reuse: a process-wide allocator setting that only the
caller may choose (the ``ranvis`` command does: tasks take ``keep_freed=True`` from it).

Each evaluation frees and re-allocates the same large activation tensors. By default glibc serves
blocks over 32 MB with mmap and unmaps them when freed, so every iteration faults in fresh zeroed
pages. Measured at 1024 px (style transfer, 2 cores): 1.6 M minor page faults and ~3.5 s of
kernel time per evaluation, 9.3–10.2 s per evaluation, against 1 fault and 7.2–8.1 s with
:func:`keep_freed_memory`; at 256 px the blocks are small enough to be reused anyway. The cost:
the process keeps its peak memory until it exits (a one-run command reaches that peak anyway).
"""
from __future__ import annotations

_kept = False


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse: no mmap for large blocks, no trimming.
    Returns False (and does nothing) where the C library is not glibc."""
    import ctypes
    import ctypes.util

    global _kept
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # glibc's malloc.h
    # a trim threshold of -1 is SIZE_MAX inside glibc: never give the heap's top back
    _kept = _kept or (bool(mallopt(m_mmap_max, 0)) and bool(mallopt(m_trim_threshold, -1)))
    return _kept


def one_arena() -> bool:
    """Make glibc's malloc serve every thread from the main arena (``M_ARENA_MAX`` 1) instead of
    giving each new thread its own: for lockstep groups (tasks.lockstep), whose threads compute
    one at a time, so they never contend for it, and whose own arenas were each grown and
    trimmed again (measured, 6 × 64 px inversion cells of ResNet-18 in lockstep: ~14,000 minor
    page faults without this and :func:`keep_freed_memory`, ~100 with both). Returns False (and
    does nothing) where the C library is not glibc."""
    import ctypes
    import ctypes.util

    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    m_arena_max = -8  # glibc's malloc.h
    return bool(mallopt(m_arena_max, 1))


def freed_memory_kept() -> bool:
    """Whether :func:`keep_freed_memory` is in effect in this process (run records say so: it
    changes time per iteration and peak memory at large sizes)."""
    return _kept


def apply_policy(keep: bool, fits: bool) -> bool:
    """Call :func:`keep_freed_memory` when the caller asked for it (``keep``) and the run
    ``fits`` with the kept heap (memory.keeping_freed_fits: a 2048 px style transfer with lean
    layers peaked at 18.3 GB with freed memory kept, 8.9 GB without, and ran 32.3 against 50.8 s
    per iteration). Returns whether freed memory is now kept."""
    return keep_freed_memory() if keep and fits else False
