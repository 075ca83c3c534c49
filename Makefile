# Two commands matter: `make demo` (the main job) and `make test` (the whole suite).
# Both create the virtualenv on first use, so they work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean hub check-wheel

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,release]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

# The suite runs on every core (PYTEST_WORKERS=0 runs it in this one process); idle workers take
# tests queued for busy ones. Every test can run beside any other.
PYTEST_WORKERS ?= logical
test: $(STAMP) lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15

# mypy reads its targets from pyproject.toml: the package strictly, the tests more loosely.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache output .meltano

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The Meltano Hub definition, generated from the tap's settings (rerun after changing a setting).
hub: $(STAMP)
	$(BIN)/python scripts/hub_definition.py

# Build the sdist and wheel, install the wheel in a fresh virtualenv and run the tap from it.
check-wheel: $(STAMP)
	$(BIN)/python scripts/check_wheel.py
