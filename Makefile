# The two commands at the top of README: `make demo` and `make test`.
# Both create .venv on first use (python3 -m venv), install torch, then this
# package with its test extras. On a GPU cluster, install your CUDA torch
# first: the torch step is skipped when a torch is already importable.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
DEMO_DATA := data/demo/ambiguous_demo_3d.pkl
DEMO_CONFIG ?= configs/demo/ctrgcn_sfhead_demo.py
DEMO_WORK_DIR ?= work_dirs/demo
PYTEST_ARGS ?=

.PHONY: install demo test clean-demo

install: $(VENV)/.installed

$(VENV)/.installed: setup.py requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install $(TORCH_SPEC)
	$(PIP) install -c requirements/constraints.txt -e '.[test,tools,pose]'
	$(PIP) install -c requirements/constraints.txt 'setuptools>=77,<81'
	touch $@

$(DEMO_DATA): data_prep/make_demo.py | install
	$(PY) data_prep/make_demo.py --out $(DEMO_DATA) --seed 0

demo: install $(DEMO_DATA)
	$(PY) tools/run_demo.py --config $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)

# two workers (the machines have 2 cores); a test file stays on one worker
# so its session fixtures (trained checkpoints) are built once
test: install
	$(PY) -m pytest tests -n 2 --dist loadfile $(PYTEST_ARGS)

clean-demo:
	rm -rf $(DEMO_WORK_DIR) $(DEMO_DATA)
