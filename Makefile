# The README's two commands: `make demo` and `make test`. Everything else is a building block of those.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-core test-tryton test-topology load stack browser doc bench bench-quick clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,tryton,sandbox]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m ogone_core.demo
	$(PY) -m trytond_payment_ogone.demo

test: browser doc test-core test-tryton test-topology bench-quick

# Headless Chromium and its driver for tests/test_browser.py: installed with apt-get when they are missing and
# this is root on a Debian-like system; otherwise one line says so and the browser tests skip.
browser:
	@if command -v "$${CHROMIUM:-chromium}" >/dev/null 2>&1 && command -v "$${CHROMEDRIVER:-chromedriver}" >/dev/null 2>&1; then \
	  :; \
	elif [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: chromium/chromedriver missing and not installable here (needs root and apt-get); browser tests will skip (install: apt-get install chromium chromium-driver)"; \
	elif out=$$( (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) 2>&1); then \
	  echo "browser: installed chromium and chromium-driver"; \
	else \
	  echo "browser: apt-get install chromium chromium-driver failed ($$(printf '%s\n' "$$out" | tail -n 1)); browser tests will skip"; \
	fi

test-core: $(VENV)/.installed browser
	$(PY) -m pytest -q tests

test-tryton: $(VENV)/.installed
	bash scripts/test-tryton sqlite
	bash scripts/test-tryton postgresql

# The production topology on this machine (PostgreSQL, gunicorn, trytond-worker, trytond-cron, ogone-sandbox)
# until Ctrl-C: doc/tryton/production.rst
stack: $(VENV)/.installed
	$(PY) -m topology

# The load tests run at a fifth of their size here (OGONE_LOAD_SCALE) to keep the suite near 10 minutes on
# 2 cores; -rP shows the figures they print. `make load` runs them at full size: bench/README.md
test-topology: $(VENV)/.installed
	OGONE_LOAD_SCALE=$${OGONE_LOAD_SCALE:-0.2} $(PY) -m pytest -q -rP topology/tests

load: $(VENV)/.installed
	OGONE_LOAD_SCALE=1 $(PY) -m pytest -q -s topology/tests/test_storm.py topology/tests/test_checkouts.py \
	  topology/tests/test_group.py

# The Sphinx documentation in build/doc; a warning (a broken reference, say) fails the build
doc: $(VENV)/.installed
	$(PY) -m sphinx -W --keep-going -q -b html doc build/doc

bench: $(VENV)/.installed
	$(PY) bench/bench_signing.py
	$(PY) bench/bench_ncresponse.py
	$(PY) bench/bench_feedback_verify.py
	$(PY) bench/bench_feedback.py
	$(PY) bench/bench_group.py
	$(PY) bench/bench_log_guard.py

# A few requests of each kind through gunicorn and PostgreSQL: the bench still works and its requests do what
# they should (nothing is timed)
bench-quick: $(VENV)/.installed
	$(PY) bench/bench_feedback.py --quick
	$(PY) bench/bench_group.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
