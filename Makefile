# The two set-up commands (README): `make demo` and `make test`. Both create .venv on a fresh machine.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
PYTEST_ARGS ?=
STATIC := rcmedia/web/static
HLS_JS := $(STATIC)/vendor/hls.min.js
TUS_JS := $(STATIC)/vendor/tus.min.js
NPM_STAMP := $(STATIC)/node_modules/.rcmedia-npm-ci

.PHONY: demo test lint typecheck pytest serve bench clean venv player bench-origin bench-catalog bench-workers bench-edge

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is required (python3.11+ not found on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# hls.js for the player pages and tus-js-client for the upload desk come from npm at build time,
# pinned by package-lock.json; the pages never load them from a CDN (axe-core, a dev dependency, is
# read from node_modules by the browser tests). `npm ci` runs only when node_modules is missing or the lock changed.
# Without npm the build goes on and the pages say "player script not installed: run make".
$(NPM_STAMP): $(STATIC)/package.json $(STATIC)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		echo "npm ci in $(STATIC) (hls.js for the player pages)"; \
		cd $(STATIC) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.rcmedia-npm-ci; \
	else \
		echo "warning: npm (Node.js) not found: hls.js is not installed and the /watch pages cannot play in most browsers."; \
		echo "         Install Node.js and npm (Debian: apt-get install npm), then run make again."; \
	fi

$(HLS_JS): $(NPM_STAMP)
	@if [ -f $(STATIC)/node_modules/hls.js/dist/hls.min.js ]; then \
		mkdir -p $(@D) && \
		cp $(STATIC)/node_modules/hls.js/dist/hls.min.js $@ && \
		cp $(STATIC)/node_modules/hls.js/LICENSE $(@D)/hls.js.LICENSE.txt && \
		echo "installed $@ (hls.js $$(sed -n 's/^ *"version": "\(.*\)",*$$/\1/p' $(STATIC)/node_modules/hls.js/package.json | head -n1))"; \
	fi

$(TUS_JS): $(NPM_STAMP)
	@if [ -f $(STATIC)/node_modules/tus-js-client/dist/tus.min.js ]; then \
		mkdir -p $(@D) && \
		cp $(STATIC)/node_modules/tus-js-client/dist/tus.min.js $@ && \
		cp $(STATIC)/node_modules/tus-js-client/LICENSE $(@D)/tus-js-client.LICENSE.txt && \
		echo "installed $@"; \
	fi

player: $(HLS_JS) $(TUS_JS)

# The vendored scripts are order-only: brought up to date on every build without reinstalling the venv.
$(VENV)/.installed: pyproject.toml | $(BIN)/python $(HLS_JS) $(TUS_JS)
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python $(HLS_JS) $(TUS_JS)
	$(BIN)/python -m pip install --quiet -e '.[test,s3,postgres]'
	@touch $@ $(VENV)/.installed

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/rcmedia demo --host $(HOST) --port $(PORT)

serve: $(VENV)/.installed
	$(BIN)/rcmedia serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check rcmedia tests bench
	$(BIN)/ruff format --check rcmedia tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

pytest: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py

# Live playlists and segments against nginx (installs nginx and wrk with apt-get), and 1,000
# channels in one origin; a few minutes.
bench-origin: $(VENV)/.installed-test
	$(BIN)/python bench/origin.py

# A live playlist and a segment through the shipped nginx edge (deploy/nginx/) vs straight to the
# origin (installs nginx and wrk with apt-get); about a minute and a half.
bench-edge: $(VENV)/.installed-test
	$(BIN)/python bench/edge.py

# Catalog search at 20,000 courses on SQLite and PostgreSQL (127.0.0.1:5432); a few minutes.
bench-catalog: $(VENV)/.installed-test
	$(BIN)/python bench/catalog.py

# Ingest of 8 short files in-process vs 1 and 2 Celery workers (RabbitMQ at 127.0.0.1:5672); a few minutes.
bench-workers: $(VENV)/.installed-test
	$(BIN)/python bench/workers.py

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache $(STATIC)/node_modules $(STATIC)/vendor
