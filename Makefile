# Two commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_WORLD := data/world-medium
DEMO_SEED := 42

.PHONY: demo test install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip "setuptools<81" wheel

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/creditml generate --out $(DEMO_WORLD) --scale medium --seed $(DEMO_SEED)
	$(BIN)/creditml validate $(DEMO_WORLD)/dataset.yaml
	$(BIN)/creditml validate configs/datasets/home_credit.yaml

test: install-dev
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data mlruns reports
