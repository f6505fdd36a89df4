# Set-up and everyday commands. `make demo` and `make test` work on a fresh machine with Python 3.11.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV_VERSION := 0.13.9
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
DEMO_HOME ?= .datadsn/demo

# `make test` runs the whole suite, then the portal's again on PostgreSQL (as root).
.PHONY: demo test lint typecheck system-deps bench norm feries clean

$(UV):
	python3 -m pip install --quiet --target .tools/lib "uv==$(UV_VERSION)"
	mkdir -p .tools/bin && ln -sf ../lib/bin/uv .tools/bin/uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python python3
	touch $@

# The demo chain: simulate -> ingest -> consolidate -> accuracy -> public release of the
# indicators (publications/<last month>), then the portal with its seeded
# requests, and a flow from the gallery delivering the last month to the approved habilitation H1.
DEMO_ENV := DATADSN_HOME=$(DEMO_HOME) DATADSN_DEBUG=1
DEMO_LAST_MONTH := 2024-12

demo: .venv/.synced
	.venv/bin/datadsn demo --home $(DEMO_HOME) --months 2023-01..$(DEMO_LAST_MONTH)
	$(DEMO_ENV) .venv/bin/datadsn portal-demo
	$(DEMO_ENV) .venv/bin/datadsn flow new --template effectifs-embauches-region \
	  --habilitation H1 --out $(DEMO_HOME)/flux-h1.yaml
	$(DEMO_ENV) .venv/bin/datadsn flow run $(DEMO_HOME)/flux-h1.yaml --month $(DEMO_LAST_MONTH) \
	  -w $(DEMO_HOME)/warehouse
	@echo "Portail : $(DEMO_ENV) .venv/bin/datadsn serve --dev, puis http://127.0.0.1:8000/"

lint: .venv/.synced
	.venv/bin/ruff check src tests
	.venv/bin/ruff format --check src tests

typecheck: .venv/.synced
	.venv/bin/mypy

# Browser tests drive Debian's chromium (no browser download is possible here); the Spark engine's
# tests (marker spark) need a Java 17 runtime, Debian's headless one; as root, the image test builds
# the container image from Debian's packages (podman, buildah, debootstrap: no Docker Hub here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium manque : sudo apt-get install chromium" >&2; exit 1; fi; }
	@[ -n "$$JAVA_HOME" ] || ls -d /usr/lib/jvm/java-17-openjdk-* >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	  else echo "Java 17 manque : sudo apt-get install openjdk-17-jre-headless" >&2; exit 1; fi; }
	@command -v podman >/dev/null 2>&1 && command -v buildah >/dev/null 2>&1 \
	  && command -v debootstrap >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap >/dev/null; }

test: lint typecheck system-deps
	.venv/bin/pytest -q -n 2 --dist loadgroup
	scripts/test-postgres.sh

bench: .venv/.synced
	.venv/bin/datadsn bench ingest

norm: .venv/.synced
	.venv/bin/datadsn norm generate ../shared/corpus/neodes_spec/*.xlsx

# The public holidays shipped with the consolidation, from the holidays package.
feries: .venv/.synced
	$(PY) -m datadsn.quality.calendar

clean:
	rm -rf .venv .tools .datadsn
