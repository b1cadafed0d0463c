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
    assert "['" not in page and "=[" not in page  # settings as text, not Python reprs
    assert "metrics: none" not in page and "gram_error mean" in page
    assert page.count('class="plot"') == 3


def test_gallery_has_paper_twins_and_readable_settings():
    from ranvis.demopage import readable

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
