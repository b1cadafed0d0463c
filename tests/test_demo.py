"""The demo gallery: every task runs and index.html references only files that exist."""
import re

from ranvis import demo


def test_demo_writes_gallery_and_index(tmp_path, monkeypatch):
    items = demo.gallery_items(1)
    one_each = [next(i for i in items if i.task == t) for t in ("invert", "texture", "style")]
    monkeypatch.setattr(demo, "gallery_items", lambda iters: one_each)
    index = demo.run(tmp_path, size=32, iters=1, net="random", device="cpu", quiet=True)
    page = index.read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert len(refs) >= 3 * 4  # input(s), result, loss plot, run record per item
    for ref in refs:
        assert (tmp_path / ref).is_file(), ref
    for item in one_each:
        assert item.name in page
