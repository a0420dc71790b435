# Every target creates and uses the local virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test realism lint bench packs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m harness.demo .

test: $(STAMP)
	$(BIN)/pytest

# The bundled packs judged against the vendors' SDKs and reference pages (tests/realism).
realism: $(STAMP)
	CONNECTOR_HARNESS_REALISM=1 $(BIN)/pytest tests/realism -q

lint: $(STAMP)
	$(BIN)/ruff check harness tests bench
	$(BIN)/ruff format --check harness tests bench
	$(BIN)/mypy

# Regenerate the bundled connector packs in harness/packs/ from vendor data (see docs/packs.md).
packs: $(STAMP)
	$(BIN)/python -m harness.importers.packs --vendor ../shared/data/vendor --output harness/packs

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/plugin.py
	$(BIN)/python bench/explore.py
	$(BIN)/python bench/transports.py
	$(BIN)/python bench/packs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
