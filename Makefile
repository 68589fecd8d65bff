# nnglm: a neural network with no hidden layer is a GLM, shown run by run.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
CONFIG ?=
SET    ?=
OUT    ?=
JOBS   ?=
CLUSTER ?=
EXTRAS ?= test,dev,docs

RUNS   ?=
DIR    ?= experiments
MLFLOW ?=
EXPERIMENT ?= nnglm

.PHONY: help install browser postgres experiment validate runs compare export test test-fast test-full lint docs docs-tables bench clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

install: ## create .venv/ and install nnglm with its dependencies (EXTRAS=test,dev,docs,torch adds PyTorch, the third backend)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install -e '.[$(EXTRAS)]'

browser: ## optional: headless Chromium from the system's packages (apt-get, as root), for the test that opens report.html in a browser (CI runs it)
	@command -v chromium-headless-shell >/dev/null || command -v chromium >/dev/null || \
	  { command -v apt-get >/dev/null && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null 2>&1; }; }; } || \
	  echo "no headless Chromium (apt-get install chromium-headless-shell): the report.html browser test will be skipped"

postgres: ## optional: PostgreSQL from the system's packages (apt-get, as root), for the tests that read data.url from a real server, started and stopped by the test (CI runs them)
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null && { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; }; }; } || \
	  echo "no PostgreSQL (apt-get install postgresql): the data.url tests against a real server will be skipped"

experiment: ## run one config (or its sweep): make experiment CONFIG=configs/X.yaml [SET="train.epochs=5000 ..."] [OUT=dir] [JOBS=n | CLUSTER=tcp://host:8786]
	@test -n "$(CONFIG)" || { echo "usage: make experiment CONFIG=configs/X.yaml [SET=\"key=value ...\"]" >&2; exit 2; }
	$(BIN)/nnglm run $(CONFIG) $(addprefix --set ,$(SET)) $(if $(OUT),--out $(OUT)) $(if $(JOBS),--jobs $(JOBS)) $(if $(CLUSTER),--cluster $(CLUSTER))

validate: ## check a config without running it: make validate CONFIG=configs/X.yaml
	@test -n "$(CONFIG)" || { echo "usage: make validate CONFIG=configs/X.yaml" >&2; exit 2; }
	$(BIN)/nnglm validate $(CONFIG) $(addprefix --set ,$(SET))

runs: ## list the logged runs, newest first: make runs [DIR=experiments]
	$(BIN)/nnglm runs $(DIR)

compare: ## compare runs side by side: make compare RUNS="RUN1 RUN2" (run folders or ids, looked up in DIR)
	@test -n "$(RUNS)" || { echo "usage: make compare RUNS=\"RUN RUN ...\" (run folders or run ids) [DIR=experiments]" >&2; exit 2; }
	$(BIN)/nnglm compare $(RUNS) --dir $(DIR)

export: ## log runs to MLflow: make export RUNS="RUN1 RUN2" MLFLOW=sqlite:///mlflow.db [EXPERIMENT=nnglm] (run folders or ids, looked up in DIR)
	@{ test -n "$(RUNS)" && test -n "$(MLFLOW)"; } || { echo "usage: make export RUNS=\"RUN RUN ...\" MLFLOW=sqlite:///mlflow.db [EXPERIMENT=nnglm] [DIR=experiments]" >&2; exit 2; }
	$(BIN)/nnglm export $(RUNS) --mlflow $(MLFLOW) --experiment "$(EXPERIMENT)" --dir $(DIR)

test: ## run the test suite (small shapes; skips tests marked slow)
	$(BIN)/pytest -q

test-fast: ## the edit loop's tier: config, data, families, messages, the run log (no training backend is imported; under a minute)
	NNGLM_TEST_TIER=fast $(BIN)/pytest -q -m 'not slow and not runs'

lint: ## ruff (lint and formatting) and mypy (types)
	$(BIN)/ruff check nnglm tests benchmarks docs/hooks.py
	$(BIN)/ruff format --check nnglm tests benchmarks docs/hooks.py
	$(BIN)/mypy nnglm benchmarks

docs: ## build the documentation site into site/ (mkdocs, strict: a broken link or a stale reference fails); open site/index.html
	$(BIN)/python docs/hooks.py --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

docs-tables: ## write the generated tables (config keys, generators, families, links) into the pages from the code
	$(BIN)/python docs/hooks.py

test-full: ## run every test, the full-size experiments included
	$(BIN)/pytest -q -m ''

bench: ## measure nnglm against plain Keras fit, NumPy and statsmodels (ratios from one run; about 16 minutes; the million-row runs alone: python -m benchmarks.bench --large)
	$(BIN)/python -m benchmarks.bench --out bench-results

clean: ## remove caches (keeps .venv/ and experiments/)
	rm -rf .pytest_cache build site *.egg-info nnglm/__pycache__ tests/__pycache__
