# pacepred: `make help` lists the targets.
PYTHON ?= python3
STAMP := .make/installed-$(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install train test test-fast sweep clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install -e '.[dev]'
	@mkdir -p $(dir $@) && touch $@

install: $(STAMP) ## Install pacepred and its test dependencies into $(PYTHON)'s environment

train: $(STAMP) ## Install if needed, then pre-train on the built-in default (generated videos, CPU); extra overrides: ARGS="..."
	$(PYTHON) -m pacepred.train $(ARGS)

test: $(STAMP) ## Install if needed, then run the whole test suite (integration tests included)
	$(PYTHON) -m pytest tests

test-fast: $(STAMP) ## Unit, component and config tests only (skips tests marked slow)
	$(PYTHON) -m pytest tests -m "not slow"

sweep: $(STAMP) ## Sweep the number of paces (3, 4, 5) on the default data, one run directory per job
	$(PYTHON) -m pacepred.train -m pace=3,4,5 $(ARGS)

clean: ## Remove run outputs, generated data and caches
	rm -rf logs outputs multirun .pytest_cache .make
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
