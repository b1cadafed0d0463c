# Two commands do all set-up: `make demo` and `make test`. Both create .venv if missing.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint clean report readme-images readme-figure browser serve

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	$(PY) -m ranvis.nets._tvhook  # `import timm` / `import torchvision` work in the venv
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ranvis demo -o gallery

# The local web page (ranvis serve): http://127.0.0.1:7860/, Ctrl-C stops it.
serve: $(STAMP)
	$(VENV)/bin/ranvis serve

# The README's pictures (docs/img/*.png): contact sheets of a fresh `make demo` gallery.
readme-images: demo
	$(PY) scripts/readme_images.py gallery docs/img

# The README's pool1-pool5 figure (issue 17/29): 4 scikit-image photographs at 128 px, paper and
# best at each preset's own budget; resumable (results.json), hours of one CPU core
# (benchmarks/README.md, "The README figure"); one thread.
PHOTOS ?= chelsea,coffee,astronaut,rocket
readme-figure: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m ranvis.experiments.deep_inversion --photos $(PHOTOS) \
		--layers pool1,pool2,pool3,pool4,pool5 --size 128 --out out/readme-figure \
		--figure docs/img/invert-layers.png

# Headless Chromium for the page-render tests: Debian's package, installed where this runs as
# root with apt-get; elsewhere those tests skip and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	  echo "note: Chromium not installed: the page-render tests will skip"

report: $(STAMP)
	$(VENV)/bin/ranvis reproduce --quick -o report

test: $(STAMP) browser
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(PY) -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts

clean:
	rm -rf $(VENV) gallery report build *.egg-info
