# Every target creates and uses the local virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz realism lint bench packs n8n clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# n8n's packages (Sustainable Use License: never in this repository) fetched with npm into
# the user's cache at the pinned versions, so that the n8n tests run rather than skip.
# Node.js and npm come from Debian when they are missing and make runs as root.
n8n: $(STAMP)
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "make: Node.js or npm is missing; install them with 'sudo apt-get install nodejs npm'"; fi
	@$(BIN)/python -m harness.n8n.packages >/dev/null || [ $$? = 2 ]

demo: $(STAMP) n8n
	$(BIN)/python -m harness.demo .

test: $(STAMP) n8n
	$(BIN)/pytest

# The input fuzz tests at full length: 10,000 examples over the loader and every importer
# (tests/property/test_fuzz_inputs.py), and 1,250 mutated workspaces through the commands
# (test_workspace_mutations.py); `make test` runs a short, repeatable pass of them.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=1250 CONNECTOR_HARNESS_CACHE=off $(BIN)/pytest tests/property/test_fuzz_inputs.py \
	  tests/property/test_workspace_mutations.py -q

# The bundled packs judged against the vendors' SDKs and reference pages (tests/realism, also
# part of `make test`): this target runs that suite alone.
realism: $(STAMP)
	$(BIN)/pytest tests/realism -q

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
	$(BIN)/python bench/n8n.py
	$(BIN)/python bench/import_flow.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
