"""Open a page in headless Chromium (when installed; `make test` installs Debian's package where
it can): a screenshot, and a DOM dump in which every <img> must carry data-loaded="1" (the
pages' script sets it once the image decoded) and the console stays empty (no script error, no
console message: Chromium logs each as an INFO:CONSOLE line on stderr)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The Chromium binary, or skip the calling test with the reason."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None and Path("/usr/bin/chromium").exists():
        browser = "/usr/bin/chromium"
    if browser is None:
        pytest.skip("no headless browser: install Chromium (apt-get install chromium) to check "
                    "that the page renders")
    return browser


def check_page(index: Path, tmp: Path) -> None:
    """Every <img> of ``index`` is displayed by headless Chromium, and a screenshot is taken."""
    browser = chromium()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", "--window-size=1280,3000"]
    url = index.resolve().as_uri()
    shot = tmp / "shot.png"
    subprocess.run([*flags, f"--user-data-dir={tmp / 'p1'}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.stat().st_size > 10_000
    run = subprocess.run([*flags, f"--user-data-dir={tmp / 'p2'}", "--enable-logging=stderr",
                          "--v=0", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, check=False)
    dom = run.stdout
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    imgs = re.findall(r"<img [^>]*>", dom)
    expected = re.findall(r"<img ", index.read_text())
    assert len(imgs) == len(expected) > 0
    assert all('data-loaded="1"' in tag for tag in imgs), [t for t in imgs if 'loaded="1"' not in t]
