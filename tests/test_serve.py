"""ranvis serve without a browser: the command shown is the command run, uploads are checked
before decoding and only inside the upload folder, the queue runs one job at a time in order,
Stop ends a run at its next evaluation with the best image so far."""
import json
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ranvis.cli.commands import build_parser
from ranvis.errors import InputError
from ranvis.serve.command import RunSpec, Source, argv, command_line
from ranvis.serve.execute import check_args, execute, new_job
from ranvis.serve.handlers import Handlers, status
from ranvis.serve.jobs import Job, JobQueue
from ranvis.serve.uploads import check_sample, check_upload, safe_name


def png_header_only(path: Path, w: int, h: int) -> Path:
    """A PNG whose header declares w x h and whose pixel data is cut short."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    z = zlib.compressobj()
    idat = z.compress(bytes(3 * w + 1)) + z.flush(zlib.Z_SYNC_FLUSH)  # one row, stream not ended
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat))
    return path


SPEC = RunSpec("style", (Source("my photo.jpg", "/srv/a/my photo.jpg"),
                         Source("sample:brick", "sample:brick")),
               size=64, iters=30, seed=3, style_weight=2.5, tv_weight=0.0,
               original_colors=True, init="content", scales=2, arch="resnet18", net_seed=7)


def test_command_parses_to_the_same_run_as_the_page():
    page = build_parser().parse_args(argv(SPEC, "/srv/a/out.png"))
    shown = build_parser().parse_args(argv(SPEC, "out.png", shown=True))
    assert (page.content, page.styles) == ("/srv/a/my photo.jpg", ["sample:brick"])
    assert (shown.content, shown.styles) == ("my photo.jpg", ["sample:brick"])
    for k in ("size", "iters", "seed", "style_weight", "content_weight", "tv_weight",
              "original_colors", "init", "scales", "arch", "net_seed", "preset"):
        assert getattr(page, k) == getattr(shown, k), k
    assert (page.size, page.iters, page.style_weight, page.tv_weight) == (64, 30, 2.5, 0.0)
    cmd = command_line(SPEC)
    assert cmd.startswith("ranvis style 'my photo.jpg' sample:brick --style-weight 2.5 ")
    assert cmd.endswith("-o out.png") and "--content-weight" not in cmd


def test_command_of_each_task():
    inv = RunSpec("invert", (Source("sample:coffee", "sample:coffee"),), layer="pool3")
    tex = RunSpec("texture", (Source("sample:gravel", "sample:gravel"),), out_size=(96, 48))
    assert command_line(inv) == ("ranvis invert sample:coffee --layer pool3 --size 96 "
                                 "--preset best -o out.png")
    assert "--out-size 96x48" in command_line(tex)
    assert build_parser().parse_args(argv(tex, "o.png")).out_size == (96, 48)


def test_bad_values_are_refused_by_the_cli_parser():
    with pytest.raises(InputError, match="--preset"):
        check_args(argv(RunSpec("invert", (Source("a", "a"),), preset="nope"), "o.png"),
                   build_parser)


def test_safe_names():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("-rf x.png") == "rf_x.png"
    assert safe_name("sample:brick") == "sample_brick"
    assert safe_name("...") == "image.png"


def test_uploads_are_checked_before_decoding(tmp_path):
    root = tmp_path / "up"
    root.mkdir()
    good = root / "ok.png"
    Image.new("RGB", (40, 30), "red").save(good)
    assert check_upload(good, root).width == 40
    with pytest.raises(InputError, match="5000x5000 pixels, 25 MP; this page takes"):
        check_upload(png_header_only(root / "big.png", 5000, 5000), root)
    with pytest.raises(InputError, match="is 400 MP; this page takes images up to 16.8 MP"):
        check_upload(png_header_only(root / "huge.png", 20000, 20000), root)
    (root / "bad.png").write_bytes(b"not an image at all")
    with pytest.raises(InputError, match="not an image"):
        check_upload(root / "bad.png", root)
    with pytest.raises(InputError, match="corrupt"):
        check_upload(png_header_only(root / "cut.png", 40, 30), root)
    with pytest.raises(InputError, match="MB"):
        check_upload(good, root, max_bytes=10)
    Image.new("RGB", (8, 8)).save(tmp_path / "outside.png")
    for p in (tmp_path / "outside.png", root / ".." / "outside.png", "/etc/hostname"):
        with pytest.raises(InputError, match="not an upload"):
            check_upload(p, root)
    (root / "link.png").symlink_to(tmp_path / "outside.png")
    with pytest.raises(InputError, match="not an upload"):
        check_upload(root / "link.png", root)


def test_samples_only_by_name():
    assert check_sample("chelsea") == check_sample("sample:chelsea") == "sample:chelsea"
    with pytest.raises(InputError):
        check_sample("/etc/passwd")


def _fake(job: Job) -> None:
    """Execute stand-in: 50 evaluations of 10 ms through the live callback."""
    from ranvis.serve.jobs import Live

    live = Live(job, lambda: 50)
    for i in range(50):
        time.sleep(0.01)
        live(type("Step", (), {"i": i, "loss": 1.0 / (i + 1), "image": None})())


def test_queue_runs_one_at_a_time_in_order_and_stops(tmp_path):
    order, running = [], threading.Event()

    def execute(job):
        order.append(job.argv[0])
        running.set()
        _fake(job)

    q = JobQueue(execute)
    jobs = [q.submit(Job([str(k)], "", tmp_path / str(k))) for k in range(3)]
    running.wait(5)
    assert q.place(jobs[1]) == (1, 2) and q.place(jobs[2]) == (2, 2)
    assert "place 2 of 2" in status(jobs[2], q)
    q.stop(jobs[2])  # waiting: cancelled at once
    assert jobs[2].state == "cancelled"
    q.stop(jobs[0])  # running: ends at its next evaluation
    deadline = time.monotonic() + 60  # generous: a loaded machine stretches every sleep
    while jobs[1].state != "done" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [j.state for j in jobs] == ["stopped", "done", "cancelled"]
    assert jobs[0].step < 50 and jobs[1].step == 50 and order == ["0", "1"]
    q.close()


def test_stop_keeps_the_best_image_and_says_so(tmp_path):
    """A real run (texture, 32 px) stopped from another thread after a few evaluations."""
    spec = RunSpec("texture", (Source("sample:gravel", "sample:gravel"),), size=32, iters=400)
    job = new_job(spec, tmp_path / "job")
    t = threading.Thread(target=execute, args=(job, build_parser))
    t.start()
    while job.step < 3 and t.is_alive():
        time.sleep(0.01)
    job.stop.set()
    t.join(60)
    assert 3 <= job.step < 400
    png, jpg, rec_path, loss = job.files
    assert png.is_file() and jpg.is_file() and loss.is_file()
    rec = json.loads(rec_path.read_text())
    assert rec["interrupted"] and rec["stopped_by"].startswith("the Stop button")
    assert rec["command"] == command_line(spec) and str(tmp_path) not in rec_path.read_text()
    assert rec["iterations"] == job.step


def test_handlers_refuse_with_a_sentence(tmp_path):
    q = JobQueue(lambda job: None)
    h = Handlers(q, tmp_path / "up", tmp_path / "jobs", build_parser)
    (tmp_path / "up").mkdir()
    form = {"task": "invert", "sample": "(my upload)", "upload": None, "preset": "best",
            "arch": "vgg19", "layer": "pool2", "size": 32, "iters": 5, "seed": 0,
            "net": "random", "net_seed": 0, "content_weight": 1, "style_weight": 1,
            "tv_weight": 1, "original_colors": False, "init": "", "scales": None,
            "padding": "", "optimizer": "lbfgs"}
    job_id, text = h.run(form)
    assert job_id is None and "choose a sample or upload" in text
    job_id, text = h.run({**form, "upload": "/etc/hostname"})
    assert job_id is None and "not an upload" in text
    job_id, text = h.run({**form, "sample": "chelsea"})
    assert job_id is not None and q.get(job_id).command.startswith("ranvis invert sample:")
    path, note = h.check(str(png_header_only(tmp_path / "up" / "huge.png", 20000, 20000)))
    assert path is None and "400 MP" in note
    q.close()


def test_a_watcher_ends_when_its_page_shows_a_newer_run(tmp_path):
    gate = threading.Event()
    q = JobQueue(lambda job: gate.wait(120))
    h = Handlers(q, tmp_path / "up", tmp_path / "jobs", build_parser)
    (tmp_path / "up").mkdir()
    form = {"task": "texture", "sample": "gravel", "upload": None, "preset": "best",
            "arch": "vgg19", "layer": "pool2", "size": 32, "iters": 5, "seed": 0,
            "net": "random", "net_seed": 0, "content_weight": 1, "style_weight": 1,
            "tv_weight": 1, "original_colors": False, "init": "", "scales": None,
            "padding": "", "optimizer": "lbfgs"}
    first, _ = h.run(form, "tab")
    deadline = time.monotonic() + 60  # the worker thread may start late on a loaded machine
    while q.get(first).state != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    updates = h.watch(first, "tab")
    assert next(updates)[0].startswith(("Running", "Waiting"))
    second, text = h.run(form, "tab")
    assert "place 1 of 1" in text
    assert list(updates) == []  # the first run's watcher stopped: the tab shows the second
    gate.set()
    q.close()
