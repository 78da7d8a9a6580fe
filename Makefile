# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Optional extra package index for torch, e.g. the CPU-only wheels on a Linux machine
# where PyPI's torch is a multi-GB CUDA build:
#   make demo TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
PIP_INDEX_ARGS := $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL))

.PHONY: demo test test-fast lab release data bench clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PIP_INDEX_ARGS) -e .
	touch $@

demo: $(VENV)/.installed
	tools/ensure-sandbox
	$(PY) -m grader demo

test: $(VENV)/.installed
	tools/ensure-sandbox
	tools/ensure-postgres
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab notebooks/

release: $(VENV)/.installed
	$(PY) -m grader release

data: $(VENV)/.installed
	$(PY) data/build.py

bench: $(VENV)/.installed
	tools/ensure-sandbox
	$(PY) tools/bench_autograde.py
	$(PY) tools/bench_notebooks.py

clean:
	rm -rf build
