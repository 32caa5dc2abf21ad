# Two entry points: `make demo` (a b2n sweep on the built-in world) and `make test`.
# Both create .venv on first use; torch 2.13.0 is installed first when no torch is importable.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sept-installed

.PHONY: setup demo test test-long test-cluster lint

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) sweeps/b2n.py $(ARGS)

test: setup
	$(PY) -m pytest -q $(ARGS)

test-long: setup
	$(PY) -m pytest -q -m long $(ARGS)

# cluster/onprem.yaml for real: ray up, ray submit, ray down on two loopback machines (root; minutes)
test-cluster: setup
	$(PY) -m pytest -v -s -m cluster tests/cluster/test_launch.py $(ARGS)

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
