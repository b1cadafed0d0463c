"""Test helper: skip a test module when timm cannot be imported (the dev extra installs it, so
CI runs those modules; a venv without the ``timm`` extra skips them with one line)."""
from __future__ import annotations

import pytest

from ranvis.errors import InputError


def require_timm() -> None:
    """Import timm as ranvis does (offline, torchvision shim), or skip the calling module."""
    try:
        from ranvis.nets.timmlayout import import_timm

        import_timm()
    except InputError:
        pytest.skip("timm is not installed (pip install 'ranvis[timm]')", allow_module_level=True)
