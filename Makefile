# Two commands for a newcomer:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test lint check bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Set up and serve on the embedded default (SQLite under ./data, in-process adapters, fake LLM).
run: $(BIN)/.installed
	$(BIN)/parley serve

## Set up and run the whole suite: lint, layers, types, then tests on SQLite and PostgreSQL/Redis.
## Tests run in parallel processes (pytest-xdist); each worker has its own databases and ports.
TEST_WORKERS ?= auto
test: $(BIN)/.installed lint
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
