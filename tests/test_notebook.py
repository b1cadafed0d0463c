"""The tutorial notebook examples/quickstart.ipynb runs end to end (issue 19), so it never rots.
nbclient, nbformat and ipykernel come with the dev extra: this test does not skip."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook with its outputs cleared"
    # kernel "python3" is ipykernel's, started with this interpreter (jupyter_client swaps a
    # kernelspec's "python" for sys.executable), so it imports this checkout's ranvis
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    texts = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("same network, same result: True" in t for t in texts)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= 4  # inversions, texture, style, rebuilt network
