# Treaty Watch: `make run` runs the platform, `make test` runs every check. Needs only python3 (3.11).
SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: install run test lint typecheck pytest clean

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.installed: $(UV) uv.lock pyproject.toml libs/common/pyproject.toml services/*/pyproject.toml tools/cli/pyproject.toml
	$(UV) sync --frozen --python python3
	touch $@

install: .venv/.installed ## Install the workspace and its dev tools into .venv

run: install ## The whole platform on the embedded default, loaded with the seed
	$(PY) -m treatywatch.cli.main run

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy libs/common/src services/ingest/src services/registry/src services/notify/src tools/cli/src tests

pytest: install
	$(PY) -m pytest

test: lint typecheck pytest ## ruff, mypy and every test

clean:
	rm -rf .venv $(TOOLS) test-output
