# Two commands on a fresh machine: `make demo` (install + run the embedded default) and
# `make test` (install + run the tests). Everything lives in ./.venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: install demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/trajforge run configs/demo.yaml

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .

test-all: install
	$(BIN)/pytest -q -m ''

bench: install
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/pipeline.py

clean:
	rm -rf $(VENV) trajforge-data .pytest_cache
