"""`ranvis serve` from the page: how long the page's default run (the demo's first style item:
chelsea in the style of hubble_deep_field, 96 px, 80 evaluations, preset best) takes from the
Run click to "Done", and how many different intermediate pictures the page showed, against the
same run as the `ranvis style` command (wall time of the process, and the run record's own
seconds) and as `ranvis demo` runs that item (its per-item time), interleaved, with the CPU
seconds of each (the machine is shared: wall times follow its load, CPU seconds much less). Then screenshots of the page after a run at 1280x800 and 390x844.

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def cli_run(out: Path) -> tuple[float, float, float]:
    """(wall seconds of `ranvis style ...`, the record's optimization seconds, CPU seconds)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ranvis", *CMD, "-o", str(out)], check=True,
                   capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, json.loads(out.with_suffix(".json").read_text())["seconds"], cpu


DEMO_ITEM = """
import time
t, c = time.perf_counter(), time.process_time()
from ranvis.cli import demo
item = next(i for i in demo.gallery_items() if i.name == "style-chelsea-hubble")
demo._run_item(item, 96, "random", "auto", [])
print(time.perf_counter() - t, time.process_time() - c)
"""


def demo_item() -> tuple[float, float]:
    """(wall, CPU seconds) of the demo's item style-chelsea-hubble as `ranvis demo` runs it,
    in a fresh process, its imports included (the demo's per-item time after start-up)."""
    out = subprocess.run([sys.executable, "-c", DEMO_ITEM], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[-2]), float(out[-1])


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
                cpu0 = cpu_seconds(server.pid)
                page_s, pictures, status = page_run(pg)
                page_cpu = cpu_seconds(server.pid) - cpu0
                wall, rec_s, cli_cpu = cli_run(tmp / f"cli{k}.png")
                demo_s, demo_cpu = demo_item()
                rows.append((k, page_s, page_cpu, pictures, wall, rec_s, cli_cpu, demo_s,
                             demo_cpu))
                print(f"round {k}: page {page_s:.1f} s ({page_cpu:.1f} CPU s), {pictures} "
                      f"pictures ({status}); command {wall:.1f} s wall ({cli_cpu:.1f} CPU s), "
                      f"{rec_s:.1f} s in the loop; demo item {demo_s:.1f} s ({demo_cpu:.1f} CPU "
                      "s)", flush=True)
            if a.shots:
                shots(pg, a.shots)
            b.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("| round | page: Run to Done (s) | server CPU (s) | pictures shown | "
          "`ranvis style` wall (s) | its CPU (s) | its loop (s) | demo item wall (s) | "
          "its CPU (s) |\n|---|---|---|---|---|---|---|---|---|")
    for k, page_s, page_cpu, pictures, wall, rec_s, cli_cpu, demo_s, demo_cpu in rows:
        print(f"| {k} | {page_s:.1f} | {page_cpu:.1f} | {pictures} | {wall:.1f} | {cli_cpu:.1f} "
              f"| {rec_s:.1f} | {demo_s:.1f} | {demo_cpu:.1f} |")


if __name__ == "__main__":
    main()
