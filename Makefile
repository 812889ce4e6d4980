# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
export CI
VENV   ?= .venv
BIN    := $(VENV)/bin
O2C    := $(BIN)/o2c
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck pytest strategies-check sdl diagrams bench clean venv

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: venv
	$(O2C) db upgrade
	$(O2C) demo --if-empty
	O2C_DEMO_KEY=1 O2C_SMTP_URL=file:data/mail O2C_LETTER_DIR=data/letters $(O2C) serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m schema.export --check

sdl: venv
	$(BIN)/python -m schema.export

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest

strategies-check: venv
	$(O2C) strategies check strategies
	$(O2C) strategies test strategies

test: lint typecheck strategies-check pytest

diagrams: venv
	$(BIN)/python -m states.diagram_doc > docs/state-machines.md

clean:
	rm -rf $(VENV) data/*.sqlite*
