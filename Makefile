# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
export CI
VENV   ?= .venv
BIN    := $(VENV)/bin
O2C    := $(BIN)/o2c
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint typecheck pytest strategies-check sdl diagrams bench clean venv lock graphiql-assets

venv: $(VENV)/.installed

# Installs exactly what requirements-dev.lock pins (hashes checked), then the project itself.
# After changing dependencies in pyproject.toml: `make lock` (tests/unit/test_lockfile.py checks).
$(VENV)/.installed: requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Regenerates both lockfiles from pyproject.toml: requirements.lock (runtime, the image) and
# requirements-dev.lock (runtime + dev + otel, for `make test` and CI). No index URL is written.
LOCK_TOOLS := .venv-lock
COMPILE    := $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
              --no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock:
	test -x $(LOCK_TOOLS)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_TOOLS) && $(LOCK_TOOLS)/bin/pip install --quiet 'pip-tools==7.6.2')
	$(COMPILE) -o requirements.lock pyproject.toml
	$(COMPILE) --extra dev --extra otel -c requirements.lock -o requirements-dev.lock pyproject.toml

run: venv
	$(O2C) db upgrade
	$(O2C) demo --if-empty
# today's cycle at once, not at 06:00: its messages are there at any hour (exactly once per date)
	$(O2C) cycle
	O2C_DEMO_KEY=1 O2C_SMTP_URL=file:data/mail O2C_LETTER_DIR=data/letters $(O2C) serve --host $(HOST) --port $(PORT)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m schema.export --check
	$(BIN)/python -m engine.journal.asyncapi --check

sdl: venv
	$(BIN)/python -m schema.export
	$(BIN)/python -m engine.journal.asyncapi

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
	rm -rf $(VENV) $(LOCK_TOOLS) data/*.sqlite*

# GraphiQL is served by the service itself (works offline). Refresh the checked-in assets from npm:
GRAPHIQL_PACKAGES := graphiql@3.8.3 react@18.2.0 react-dom@18.2.0
graphiql-assets:
	rm -rf build/graphiql && mkdir -p build/graphiql
	cd build/graphiql && npm pack --silent $(GRAPHIQL_PACKAGES) >/dev/null && for f in *.tgz; do mkdir -p $${f%.tgz} && tar xzf $$f -C $${f%.tgz}; done
	cp build/graphiql/graphiql-3.8.3/package/graphiql.min.js build/graphiql/graphiql-3.8.3/package/graphiql.min.css \
	   build/graphiql/react-18.2.0/package/umd/react.production.min.js \
	   build/graphiql/react-dom-18.2.0/package/umd/react-dom.production.min.js api/graphiql/static/
	cp build/graphiql/graphiql-3.8.3/package/LICENSE api/graphiql/static/LICENSE.graphiql
	cp build/graphiql/react-18.2.0/package/LICENSE api/graphiql/static/LICENSE.react
	echo "$(GRAPHIQL_PACKAGES)" > api/graphiql/static/VERSIONS
