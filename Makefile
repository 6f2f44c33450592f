# make demo : set up (first time) and run the main job, `atomtomo demo`
# make test : set up (first time) and run the test suite under a virtual X server
# make test-fast : the same without the tests marked slow (~1100 tests; 76 s wall on an idle 2-core machine)
# make lint : ruff check, mypy on core/ and io/, and the public-API docstring check
# make test-under-load : the GUI tests with two CPU burners beside them (ROUNDS=5 for five)
VENV ?= .venv
PY := $(VENV)/bin/python
# napari's canvas needs a real X server: pytest-xvfb starts one. Never use the
# offscreen Qt platform (it crashes napari's OpenGL canvas; ../shared/STACK.md).
TEST_ENV := env -u QT_QPA_PLATFORM -u PYTHONDONTWRITEBYTECODE

.PHONY: setup demo test test-fast lint test-under-load bench docs-screenshots clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/constraints.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

demo: setup
	$(VENV)/bin/atomtomo demo --out demo-out --force

test: setup
	$(TEST_ENV) $(PY) -m pytest

test-fast: setup
	$(TEST_ENV) $(PY) -m pytest -m "not slow"

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(TEST_ENV) $(PY) -m pytest -q tests/test_docstrings.py

test-under-load: setup
	bash scripts/test_under_load.sh

bench: setup
	$(PY) -m pip install -q -e ".[benchmarks]"
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf build dist *.egg-info demo-out .pytest_cache
