# Two commands on a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Optional extra package index for torch, e.g. the CPU-only wheels on a Linux machine
# where PyPI's torch is a multi-GB CUDA build:
#   make demo TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
PIP_INDEX_ARGS := $(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL))

.PHONY: demo test test-fast lab lab-instructor release data bench clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found); set PYTHON=..."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(PIP_INDEX_ARGS) -e .
	touch $@

# Extra options for the demo, e.g. DEMO_ARGS="--notebook 01_rnn_fundamentals".
DEMO_ARGS ?=
demo: $(VENV)/.installed
	tools/ensure-sandbox
	$(PY) -m grader demo $(DEMO_ARGS)

test: $(VENV)/.installed
	tools/ensure-sandbox
	tools/ensure-postgres
	tools/ensure-browser
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

# JupyterLab with the course environment first on PATH (its terminal's `python` is the
# course's); --allow-root only when run as root. Students: Validate, no instructor tools.
# lab-instructor: nbgrader's formgrader on the grades in GRADES (default: the demo's class).
JUPYTER_ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root)
COURSE_BIN = $(CURDIR)/$(VENV)/bin
LAB_ENV = PATH="$(COURSE_BIN):$$PATH" COURSE_BIN="$(COURSE_BIN)"
LAB_TERMINAL = --ServerApp.terminado_settings="shell_command=bash --rcfile '$(CURDIR)/jupyter/terminal.bashrc' -i"
GRADES ?= build/demo/out
LAB_DIR ?= notebooks
LAB_ARGS ?=
lab: $(VENV)/.installed
	cd $(LAB_DIR) && $(LAB_ENV) JUPYTER_CONFIG_DIR="$(CURDIR)/jupyter/student" \
		"$(COURSE_BIN)/jupyter" lab $(JUPYTER_ROOT_FLAG) --ServerApp.root_dir=. $(LAB_TERMINAL) $(LAB_ARGS)

lab-instructor: $(VENV)/.installed
	@test -f $(GRADES)/gradebook.db || { echo "no grades in $(GRADES): run make demo, or set GRADES=DIR (python -m grader autograde ... --out DIR)"; exit 1; }
	cd $(GRADES) && $(LAB_ENV) JUPYTER_CONFIG_DIR="$(CURDIR)/jupyter/instructor" \
		"$(COURSE_BIN)/jupyter" lab $(JUPYTER_ROOT_FLAG) --ServerApp.root_dir=. $(LAB_TERMINAL) $(LAB_ARGS)

# FORCE=1 replaces notebooks edited since the last release (keeping a copy).
release: $(VENV)/.installed
	$(PY) -m grader release $(if $(FORCE),--force)

data: $(VENV)/.installed
	$(PY) data/build.py

bench: $(VENV)/.installed
	tools/ensure-sandbox
	$(PY) tools/bench_autograde.py
	$(PY) tools/bench_notebooks.py

clean:
	rm -rf build
