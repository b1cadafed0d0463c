"""ranvis serve in a real headless browser (the system's Chromium, driven by Playwright): the
page loads with no request to any outside host, a 32 px run shows its picture changing and
downloads, Stop ends a run with its best image, a corrupt file and a 20,000 x 20,000 PNG get a
message while the server keeps serving, a reopened tab finds its run, and the server removes
its temporary folder when stopped. The server runs as `ranvis serve` in a subprocess whose
socket connections are audited (any to a non-loopback address is printed and fails the test)."""
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from browser import chromium
from PIL import Image

from ranvis.serve.page import ITERS

# Runs `ranvis serve` after installing an audit hook that reports outside connections.
SERVER = """
import sys
def hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo"):
        host = args[1][0] if event == "socket.connect" else args[0]
        if isinstance(host, bytes):
            host = host.decode()
        if host not in ("127.0.0.1", "::1", "localhost", None) and not str(host).startswith("/"):
            print(f"OUTSIDE {event} {host}", file=sys.stderr, flush=True)
sys.addaudithook(hook)
from ranvis.cli.commands import main
sys.exit(main(["serve", "--port", sys.argv[1]]))
"""
LOCAL = ("http://127.0.0.1", "data:", "blob:")


def huge_png(path: Path, side: int = 20000) -> Path:
    """A valid side x side 1-bit grayscale PNG (all black: about 60 kB on disk)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = bytes(1 + (side + 7) // 8)  # filter byte + packed bits
    body = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)
                     + chunk(b"IEND", b""))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, stderr lines, the server's TMPDIR, the process)."""
    browser = chromium()
    tmp = tmp_path_factory.mktemp("serve-tmp")
    port = _free_port()
    env = {**__import__("os").environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if "ranvis serve: open" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    assert ready.wait(90), "".join(lines)
    yield f"http://127.0.0.1:{port}/", lines, tmp, proc, browser
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    url, _, _, _, browser = server
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=browser, args=["--no-sandbox"])
        ctx = b.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        pg = ctx.new_page()
        pg.outside = []
        pg.on("request", lambda r: None if r.url.startswith(LOCAL) else pg.outside.append(r.url))
        pg.goto(url)
        pg.wait_for_selector("#run")
        yield pg
        ctx.close()
        b.close()


def _status(pg) -> str:
    return pg.locator("#status").inner_text()


def _wait_status(pg, *starts: str, timeout: float = 60) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = _status(pg)
        if text.startswith(starts):
            return text
        time.sleep(0.1)
    raise AssertionError(f"status stayed {text!r}")


def _link(pg, name: str):
    """The download link of file ``name`` (it shows the file's size)."""
    return pg.locator(f'#files a[download="{name}"]')


def _set_number(pg, key: str, value: int) -> None:
    box = pg.locator(f"#{key} input[type=number]").first
    box.fill(str(value))
    box.press("Tab")


def _run(pg, task: str, size: int, iters: int) -> None:
    radio = pg.locator("#task").get_by_label(task, exact=True)
    if not radio.is_checked():
        radio.check()  # the page then sets the task's default budget: wait for it
        budget = pg.locator("#iters input[type=number]").first
        end = time.monotonic() + 10
        while budget.input_value() != str(ITERS[task]) and time.monotonic() < end:
            time.sleep(0.05)
    _set_number(pg, "size", size)
    _set_number(pg, "iters", iters)
    pg.locator("#run").click()


def test_a_run_shows_its_picture_forming_and_downloads(page, tmp_path):
    pg = page
    _run(pg, "texture", 32, 60)
    seen = set()
    end = time.monotonic() + 60
    while not _status(pg).startswith(("Done", "Failed")) and time.monotonic() < end:
        img = pg.locator("#preview img")
        if img.count():
            seen.add(img.first.get_attribute("src"))
        time.sleep(0.05)
    assert _wait_status(pg, "Done").startswith("Done: 60 evaluations")
    assert len(seen) >= 2, seen  # the picture changed while it formed
    assert pg.locator("#command textarea").input_value() == (
        "ranvis texture sample:chelsea --size 32 --iters 60 --preset best -o out.png")
    with pg.expect_download() as got:
        _link(pg, "out.png").click()
    path = tmp_path / "out.png"
    got.value.save_as(path)
    with Image.open(path) as im:
        assert max(im.size) == 32


def test_stop_ends_a_run_with_its_best_image(page):
    pg = page
    _run(pg, "invert", 32, 5000)
    _wait_status(pg, "Running: evaluation")
    pg.locator("#stop").click()
    text = _wait_status(pg, "Stopped", timeout=30)
    assert "best image so far" in text and int(text.split()[2]) < 5000
    assert _link(pg, "out.png").count() == 1


def test_bad_uploads_get_a_message_and_the_server_keeps_serving(page, tmp_path):
    pg = page
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)
    upload = pg.locator("#source_upload input[type=file]")
    upload.set_input_files(str(bad))
    pg.wait_for_function("document.querySelector('#source_note').innerText.includes('Refused')")
    assert "corrupt.png" in pg.locator("#source_note").inner_text()
    upload.set_input_files(str(huge_png(tmp_path / "huge.png")))
    pg.wait_for_function("document.querySelector('#source_note').innerText.includes('huge')")
    note = pg.locator("#source_note").inner_text()
    assert "huge.png is 400 MP" in note and "resize it first" in note
    _run(pg, "texture", 32, 5)  # the refused uploads were dropped: the sample is used
    assert _wait_status(pg, "Done", "Failed").startswith("Done")


def test_a_reopened_tab_finds_its_run(page):
    pg2 = page.context.new_page()
    pg2.goto(page.url)
    assert _wait_status(pg2, "Done", timeout=20).startswith("Done: 5 evaluations")
    assert _link(pg2, "out.png").count() == 1
    pg2.close()


def test_no_outside_calls_and_a_clean_stop(page, server):
    _, lines, tmp, proc, _ = server
    assert page.outside == []
    assert not [line for line in lines if line.startswith("OUTSIDE")]
    assert any(p.name.startswith("ranvis-serve-") for p in tmp.iterdir())
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert not [p for p in tmp.iterdir() if p.name.startswith("ranvis-serve-")]
    assert not [line for line in lines if "Traceback" in line], "".join(lines)
