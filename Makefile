# The README's two commands: `make demo` and `make test`. Everything else is a building block of those.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-core test-tryton bench clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,tryton,sandbox]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m ogone_core.demo

test: test-core test-tryton

test-core: $(VENV)/.installed
	$(PY) -m pytest -q tests

test-tryton: $(VENV)/.installed
	bash scripts/test-tryton sqlite
	bash scripts/test-tryton postgresql

bench: $(VENV)/.installed
	$(PY) bench/bench_signing.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
