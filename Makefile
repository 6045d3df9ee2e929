# The one entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help env rabbitmq run token test unit faults lint deploy-check bench clean docs docs-check promtool alerts-check monitoring web web-test web-lint chromium screenshots

help:
	@echo "make run          start RabbitMQ (if needed) and all five services, say when ready; Ctrl-C stops them"
	@echo "make token        a development operator token: make -s token SITE=acme OPERATOR=ann [ROLE=admin]"
	@echo "make test         install the environment and run the whole suite on the real RabbitMQ"
	@echo "make faults       only the fault suite (its own RabbitMQ node; SIGKILLs, a broker restart)"
	@echo "make lint         ruff, mypy and import-linter (and the front end's typecheck)"
	@echo "make web          build the operator console and the visitor widget (npm ci && npm run build) if stale"
	@echo "make screenshots  retake docs/screenshots with the browser tests"
	@echo "make deploy-check render and validate the Kubernetes manifests, compose file and alert rules; the image's Python stages"
	@echo "make docs         regenerate docs/asyncapi.yaml and docs/schemas from the contracts"
	@echo "make monitoring   regenerate deploy/monitoring/prometheusrule.yaml from alerts.yaml"
	@echo "make bench        measure routing against the raw broker (results in bench/results/)"

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

env: $(UV)
	@$(UV) sync --frozen --quiet

rabbitmq:
	@bash scripts/ensure-rabbitmq.sh

# The operator console and the visitor widget (services/visitor-gateway/web), built into its
# dist/ when missing or older than any source, lock or config file; npm ci only when the lock
# changed since the last install.
WEB := services/visitor-gateway/web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/console $(WEB)/widget -type f 2>/dev/null) \
  $(WEB)/package.json $(WEB)/package-lock.json $(WEB)/tsconfig.json $(WEB)/vite.config.ts \
  $(WEB)/vite.widget.config.ts

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	@cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

$(WEB)/dist/widget.js: $(WEB)/node_modules/.package-lock.json $(WEB_SOURCES)
	@cd $(WEB) && npm run --silent build >/dev/null && echo "built the console and the widget in $(WEB)/dist"

web: $(WEB)/dist/widget.js

web-test: $(WEB)/node_modules/.package-lock.json
	@cd $(WEB) && npm test --silent

web-lint: $(WEB)/node_modules/.package-lock.json
	@cd $(WEB) && npm run --silent typecheck

# The README's screenshots, retaken by the browser tests (a plain test run leaves them alone).
screenshots: env rabbitmq web chromium
	@AMQP_URL=$$(bash scripts/test-vhost.sh) UPDATE_SCREENSHOTS=1 $(UV) run --frozen pytest tests/browser -q

# Debian's Chromium for the browser tests (Playwright's own download cannot work here).
chromium:
	@bash scripts/ensure-chromium.sh

# The venv's python, not `uv run`: nothing between the terminal and the runner, which stops
# the services on Ctrl-C or SIGTERM and exits 0 (make itself still ends by that signal).
run: env rabbitmq web
	@.venv/bin/python scripts/run.py

# A development operator token (HS256, the development secret): OP=$$(make -s token SITE=acme OPERATOR=ann)
# ROLE=admin: a site administrator's token (an operator who may also change the site's settings).
SITE ?= acme
OPERATOR ?= ann
ROLE ?= operator
token: env
	@.venv/bin/python -m visitor_gateway.tokens --site "$(SITE)" --operator "$(OPERATOR)" --role "$(ROLE)"

test: env rabbitmq promtool web web-test chromium
	@AMQP_URL=$$(bash scripts/test-vhost.sh) && echo "tests use $$AMQP_URL" && \
	  AMQP_URL=$$AMQP_URL $(UV) run --frozen pytest $(PYTEST_ARGS)

faults: env
	@FAULTS_RESULTS_DIR=tests/faults/results $(UV) run --frozen pytest tests/faults $(PYTEST_ARGS)

unit: env
	@$(UV) run --frozen pytest tests/unit $(PYTEST_ARGS)

lint: env web-lint
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared services tests scripts examples bench
	@$(UV) run --frozen lint-imports

deploy-check: env alerts-check
	@UV=$(UV) bash deploy/check.sh

docs: env
	@$(UV) run --frozen python scripts/gen_event_docs.py

docs-check: env
	@$(UV) run --frozen python scripts/gen_event_docs.py --check

# The PrometheusRule in deploy/monitoring, regenerated from alerts.yaml.
monitoring:
	@python3 scripts/gen_prometheusrule.py

promtool:
	@bash scripts/check-alerts.sh --install-only

alerts-check:
	@bash scripts/check-alerts.sh

bench: env rabbitmq
	@$(UV) run --frozen python -m bench

clean:
	rm -rf .venv .data .pytest_cache .mypy_cache .ruff_cache .hypothesis
