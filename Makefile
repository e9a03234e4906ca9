# ecqm — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := constraints.txt
PYTEST_ARGS ?= -n 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-fast up lint bench constraints system-packages clean

# The environment: created when missing, reinstalled only when the inputs change.
$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "ecqm needs Python 3.11, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) pip setuptools wheel
	PIP_CONSTRAINT=$(CURDIR)/$(CONSTRAINTS) $(BIN)/python -m pip install --quiet --constraint $(CONSTRAINTS) --editable '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ecqm demo

test: $(STAMP) system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The fast set: everything but the slow end-to-end tests.
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow"

up: $(STAMP)
	$(BIN)/ecqm up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every stage at 1,000, 10,000 and 100,000 products into bench/results.json and
# docs/benchmarks.md. BENCH_ARGS=--components: the per-component ones.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

system-packages:
	@scripts/ensure-system-packages

# Re-resolve every dependency from setup.cfg and pin the result. Review the diff.
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	build/constraints-venv/bin/python -m pip install --quiet '.[test]'
	{ echo "# Every installed version, pinned. Regenerate with: make constraints"; \
	  build/constraints-venv/bin/python -m pip freeze --all --exclude ecqm | LC_ALL=C sort -f; } > $(CONSTRAINTS)
	rm -rf build/constraints-venv

clean:
	rm -rf $(VENV) build *.egg-info
