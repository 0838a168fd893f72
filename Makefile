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

DEMO_TRIALS ?= 20

# the demo validates the real Home Credit sample when CREDITML_SAMPLES (default ../shared/data) holds it
demo: install
	$(BIN)/creditml demo --world $(DEMO_WORLD) --seed $(DEMO_SEED) --trials $(DEMO_TRIALS)

# the browser the report tests render in (Debian's chromium; CI runs as root)
/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

# pdftotext reads the workbench's exported review PDF back in its test
/usr/bin/pdftotext:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null

test: install-dev /usr/bin/chromium /usr/bin/pdftotext
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data mlruns reports
