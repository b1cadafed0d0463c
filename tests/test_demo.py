"""The demo gallery: every task runs, index.html references only files that exist and renders
in headless Chromium without console errors; the README's sheets are made from a gallery."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import check_page

from ranvis.cli import demo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """The whole gallery at 32 px, 2 iterations per item: (folder, index.html)."""
    out = tmp_path_factory.mktemp("gallery")
    return out, demo.run(out, size=32, iters=2, net="random", device="cpu", quiet=True)


def test_demo_writes_gallery_and_index(gallery):
    tmp_path, index = gallery
    one_each = [next(i for i in demo.gallery_items(2) if i.task == t)
                for t in ("invert", "texture", "style")]
    page = index.read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(refs) >= 3 * 4  # input(s), result, loss plot, run record per item
    for ref in refs:
        assert (tmp_path / ref).is_file(), ref
    for item in one_each:
        assert item.name in page
    assert "['" not in page and "=[" not in page  # settings as text, not Python reprs
    assert "metrics: none" not in page and "gram_error mean" in page
    assert page.count('class="plot"') == len(demo.gallery_items())


def test_demo_page_renders_in_headless_chromium(gallery, tmp_path):
    check_page(gallery[1], tmp_path)


def test_run_record_marks_accepted_steps(gallery):
    rec = json.loads((gallery[0] / "invert-pool1.json").read_text())
    acc = rec["accepted"]
    assert acc[0] == 0 and acc == sorted(set(acc)) and acc[-1] < len(rec["loss"])


def test_readme_sheets_from_a_gallery(gallery, tmp_path):
    script = ROOT / "scripts" / "readme_images.py"
    done = subprocess.run([sys.executable, str(script), str(gallery[0]), str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in tmp_path.glob("*.png")} == {"invert.png", "texture.png", "style.png"}
    bad = subprocess.run([sys.executable, str(script), str(tmp_path), str(tmp_path / "x")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_gallery_has_paper_twins_and_readable_settings():
    from ranvis.cli.demopage import readable

    names = [i.name for i in demo.gallery_items()]
    assert "invert-pool4-paper" in names and "style-chelsea-hubble-paper" in names
    twin = next(i for i in demo.gallery_items() if i.name == "invert-pool4-paper")
    assert dict(twin.options)["preset"] == "paper"
    assert all(i.iters == 3 for i in demo.gallery_items(3))
    assert readable("size", [128, 85]) == "128×85"
    assert readable("ratio", [1.0, 1.0, 0.1]) == "1:1:0.1"
    assert readable("layers", ["pool1"]) == "pool1"
    assert readable("color_match", True) == "yes"
    assert readable("priors", {"tv": 0.0, "alpha": 0.0}) == "tv 0; alpha 0"
