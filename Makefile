# pacepred: `make help` lists the targets.
PYTHON ?= python3
# One stamp per interpreter (its environment's folder and version): another venv installs again.
STAMP := .make/installed-$(shell $(PYTHON) -c 'import hashlib, sys; print("%d.%d-%s" % (*sys.version_info[:2], hashlib.sha1(sys.prefix.encode()).hexdigest()[:10]))' 2>/dev/null)
ARGS ?=
# Checkpoint to evaluate: latest (the newest pre-training run's last.ckpt under logs/), a path, or null (random init).
CKPT ?= latest

.DEFAULT_GOAL := help
.PHONY: help install train test test-fast test-component sweep clean eval-retrieval eval-finetune eval-linear eval-knn proof ablations docs docs-serve results

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install -e '.[dev]'
	@mkdir -p $(dir $@) && touch $@

install: $(STAMP) ## Install pacepred and its test dependencies into $(PYTHON)'s environment

train: $(STAMP) ## Install if needed, then pre-train on the built-in default (generated videos, CPU); extra overrides: ARGS="..."
	$(PYTHON) -m pacepred.train $(ARGS)

test: $(STAMP) ## Install if needed, then run the whole test suite: tests/unit, tests/component, tests/integration
	$(PYTHON) -m pytest tests

test-fast: $(STAMP) ## The unit tier only (tests/unit: pure, about a minute): make test-component adds real clips and short trainings
	$(PYTHON) -m pytest tests/unit

test-component: $(STAMP) ## Unit and component tiers (real clips, short trainings; no integration tests)
	$(PYTHON) -m pytest tests/unit tests/component

sweep: $(STAMP) ## Sweep the number of paces (3, 4, 5) on the default data, one run directory per job
	$(PYTHON) -m pacepred.train -m pace=3,4,5 $(ARGS)

eval-retrieval: $(STAMP) ## Retrieval of CKPT (default: newest pre-training run; null: random init), protocols vcop and gap
	$(PYTHON) -m pacepred.eval task=retrieval ckpt=$(CKPT) $(ARGS)

eval-finetune: $(STAMP) ## Fine-tune the whole network from CKPT; clip- and video-level top-1 on 10 clips per test video
	$(PYTHON) -m pacepred.eval task=finetune ckpt=$(CKPT) $(ARGS)

eval-linear: $(STAMP) ## Linear probe on the frozen backbone of CKPT (cached gap features, L-BFGS)
	$(PYTHON) -m pacepred.eval task=linear ckpt=$(CKPT) $(ARGS)

eval-knn: $(STAMP) ## Weighted kNN (k=20, temperature 0.07) on the frozen backbone of CKPT
	$(PYTHON) -m pacepred.eval task=knn ckpt=$(CKPT) $(ARGS)

proof: $(STAMP) ## Evidence benchmark: random init vs pace vs pace+contrastive vs supervised, the protocol's seeds (experiments/proof), then the tables re-rendered; ARGS="--seeds 0 ..."
	$(PYTHON) experiments/proof/run.py $(ARGS)
	$(PYTHON) experiments/render.py

ablations: $(STAMP) ## The proof's ablations (pace count, boundary, jitter, contrastive temperature/weight); ARGS=<one name>
	PYTHON=$(PYTHON) bash experiments/proof/ablations.sh $(ARGS)

docs: $(STAMP) ## Build the documentation site into site/ (mkdocs, --strict: a broken link or reference fails)
	DISABLE_MKDOCS_2_WARNING=true NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict

docs-serve: $(STAMP) ## Serve the documentation on http://127.0.0.1:8000, rebuilt on every change
	DISABLE_MKDOCS_2_WARNING=true NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs serve

results: ## Rewrite the results sections of README.md and docs/ from the committed result files
	$(PYTHON) experiments/render.py

clean: ## Remove run outputs, generated data and caches
	rm -rf logs outputs multirun site .pytest_cache .make
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
