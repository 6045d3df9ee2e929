# The one entry point for people and CI. Every target installs what it needs.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PYTEST_ARGS ?=

.PHONY: help env run test unit integration lint deploy-check bench clean

help:
	@echo "make run          start RabbitMQ (if needed) and all five services; Ctrl-C stops them"
	@echo "make test         install the environment and run the whole suite on the real RabbitMQ"
	@echo "make lint         ruff, mypy and import-linter"
	@echo "make deploy-check render and validate the Kubernetes manifests and compose file"

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

env: $(UV)
	@$(UV) sync --frozen --quiet

rabbitmq:
	@bash scripts/ensure-rabbitmq.sh

run: env rabbitmq
	@$(UV) run --frozen python scripts/run.py

test: env rabbitmq
	@AMQP_URL=$$(bash scripts/test-vhost.sh) && echo "tests use $$AMQP_URL" && \
	  AMQP_URL=$$AMQP_URL $(UV) run --frozen pytest $(PYTEST_ARGS)

unit: env
	@$(UV) run --frozen pytest tests/unit $(PYTEST_ARGS)

lint: env
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy shared services tests
	@$(UV) run --frozen lint-imports

deploy-check:
	@bash deploy/check.sh

clean:
	rm -rf .venv .data .pytest_cache .mypy_cache .ruff_cache .hypothesis
