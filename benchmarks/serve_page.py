"""`ranvis serve` from the page: how long the page's default run (the demo's first style item:
chelsea in the style of hubble_deep_field, 96 px, 80 evaluations, preset best) takes from the
Run click to "Done", and how many different intermediate pictures the page showed, against the
same run as the `ranvis style` command (wall time of the process, and the run record's own
seconds), interleaved. Then screenshots of the page after a run at 1280x800 and 390x844.

    PYTHONPATH=src OMP_NUM_THREADS=1 python benchmarks/serve_page.py --rounds 3 --shots docs/img

Needs Chromium (make browser) and the dev extra (Gradio, Playwright).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CMD = ["style", "sample:chelsea", "sample:hubble_deep_field", "--size", "96", "--iters", "80",
       "--preset", "best"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "ranvis", "serve", "--port", str(port)],
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "ranvis serve: open" in line:
            return proc
    raise SystemExit("the server did not start")


def page_run(pg) -> tuple[float, int, str]:
    """Click Run with the page's defaults; (seconds to Done, pictures seen, final status)."""
    seen: set[str] = set()
    t0 = time.perf_counter()
    pg.locator("#run").click()
    while True:
        img = pg.locator("#preview img")
        if img.count():
            seen.add(img.first.get_attribute("src") or "")
        text = pg.locator("#status").inner_text()
        if text.startswith(("Done", "Failed", "Stopped")):
            return time.perf_counter() - t0, len(seen - {""}), text
        time.sleep(0.05)


def cli_run(out: Path) -> tuple[float, float]:
    """(wall seconds of `ranvis style ...`, the record's optimization seconds)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ranvis", *CMD, "-o", str(out)], check=True,
                   capture_output=True)
    wall = time.perf_counter() - t0
    return wall, json.loads(out.with_suffix(".json").read_text())["seconds"]


def shots(pg, out: Path) -> None:
    """1280x800 of the page; 390x844 of its form and of its result (phone width)."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    pg.set_viewport_size({"width": 1280, "height": 800})
    pg.evaluate("window.scrollTo(0, 0)")
    pg.screenshot(path=str(out / "serve-desktop.png"))
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.evaluate("window.scrollTo(0, 0)")
    pg.screenshot(path=str(out / "serve-phone-form.png"))
    pg.evaluate("document.querySelector('#status').scrollIntoView({block: 'start'})")
    pg.screenshot(path=str(out / "serve-phone-result.png"))
    for name in ("serve-desktop.png", "serve-phone-form.png", "serve-phone-result.png"):
        p = out / name
        with Image.open(p) as im:
            small = im.convert("RGB").quantize(128)
        small.save(p, optimize=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shots", type=Path, default=None, help="write the screenshots here")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port, tmp = _port(), Path(tempfile.mkdtemp())
    server = start_server(port)
    rows = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=a.chromium, args=["--no-sandbox"])
            pg = b.new_page(viewport={"width": 1280, "height": 800})
            pg.goto(f"http://127.0.0.1:{port}/")
            pg.wait_for_selector("#run")
            for k in range(a.rounds):
                page_s, pictures, status = page_run(pg)
                wall, rec_s = cli_run(tmp / f"cli{k}.png")
                rows.append((k, page_s, pictures, wall, rec_s, status))
                print(f"round {k}: page {page_s:.1f} s, {pictures} pictures ({status}); "
                      f"command {wall:.1f} s wall, {rec_s:.1f} s in the loop", flush=True)
            if a.shots:
                shots(pg, a.shots)
            b.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("| round | page: Run to Done (s) | pictures shown | `ranvis style` wall (s) | "
          "its loop (s) |\n|---|---|---|---|---|")
    for k, page_s, pictures, wall, rec_s, _ in rows:
        print(f"| {k} | {page_s:.1f} | {pictures} | {wall:.1f} | {rec_s:.1f} |")


if __name__ == "__main__":
    main()
