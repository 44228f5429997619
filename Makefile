# vae-genomics. Every target bootstraps the virtualenv it needs (.venv, or .venv-gpu with GPU=1).
#   make train [SECTION=name] [CONFIG=configs/example.yaml] [ARGS="--epochs 50"]
#   make sweep [SECTION=name] [ARGS="--betas 0.1,0.3,1 --jobs 2"]
#   make train-all [PROFILE=local|slurm] [CONFIG=...] [REGION=1] [ARGS="-n"]   every section via Snakemake (workflow/)
#   make sample-region [REGION=contig:start-end | SECTIONS=a,b,c] [N=1000] [ARGS="--joint chain"]   one VCF across sections
#   make chromosome-data [LENGTH_MB=20] [SAMPLES=2502]   simulate the chromosome scenario into data/chromosome/ (msprime)
#   make test | make lint | make report SECTION=name | make report (index of all sections) | make sections
SHELL := /bin/bash
PYTHON ?= python3
GPU ?= 0
TF_EXTRA := $(if $(filter 1,$(GPU)),gpu,cpu)
VENV ?= $(if $(filter 1,$(GPU)),.venv-gpu,.venv)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(TF_EXTRA)
CONFIG ?= configs/example.yaml
SECTION ?=
RUN ?=
ARGS ?=
PYTEST_ARGS ?=
PROFILE ?= local
RUN_NAME ?= default
REGION ?=
SECTIONS ?=
N ?= 1000
LENGTH_MB ?= 20
SAMPLES ?= 2502

.PHONY: install train train-all sample-region report sweep sections cache test test-fast lint format example-data chromosome-data bench clean help

help:  ## the usage lines at the top of this file
	@sed -n 's/^#   \(make .*\)/\1/p' Makefile

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,workflow,$(TF_EXTRA)]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)  ## create the virtualenv and install the package

train: $(STAMP)  ## train one section (SECTION=..., default: the config's default section)
	$(BIN)/vae-genomics train --config $(CONFIG) $(if $(SECTION),--section $(SECTION)) $(ARGS)

# A dry run (ARGS="-n") only plans: it installs nothing and uses whichever environment has snakemake.
DRY_RUN := $(filter -n --dry-run --dryrun,$(ARGS))
PLAN_BIN := $(firstword $(foreach v,$(VENV) .venv .venv-gpu,$(if $(wildcard $(v)/bin/snakemake),$(v)/bin)))
TRAIN_ALL_BIN := $(if $(DRY_RUN),$(PLAN_BIN),$(BIN))

train-all: $(if $(DRY_RUN),,$(STAMP))  ## every section with Snakemake: PROFILE=local (this machine) or slurm; re-running resumes
	@test -n "$(TRAIN_ALL_BIN)" || { echo "no environment with snakemake yet: run make install first" >&2; exit 2; }
	$(TRAIN_ALL_BIN)/snakemake -s workflow/Snakefile --profile workflow/profiles/$(PROFILE) \
	  --config vae_config=$(CONFIG) run_name=$(RUN_NAME) $(if $(GPU:0=),gpu=1) $(if $(REGION),region=$(REGION)) $(ARGS)

sample-region: $(STAMP)  ## sample trained sections as one region: REGION=contig:start-end, SECTIONS=a,b,c, or neither (every trained section)
	$(BIN)/vae-genomics sample --runs runs $(if $(REGION),--region $(REGION)) $(if $(SECTIONS),--sections $(SECTIONS)) --n $(N) $(ARGS)

report: $(STAMP)  ## re-draw a report: RUN=runs/<section>/<run> or SECTION=<name> (latest run); neither: runs/index.html across sections
	$(BIN)/vae-genomics report $(if $(or $(RUN),$(SECTION)),$(or $(RUN),runs/$(SECTION)),--index runs --config $(CONFIG))

sweep: $(STAMP)  ## KL-weight sweep of one section; writes the recommendation to configs/sections/<SECTION>.yaml
	$(BIN)/vae-genomics sweep --config $(CONFIG) $(if $(SECTION),--section $(SECTION)) $(ARGS)

sections: $(STAMP)  ## list the sections of the configured VCF
	$(BIN)/vae-genomics sections --config $(CONFIG) $(ARGS)

cache: $(STAMP)  ## convert the config's data.vcf once into data.cache (or ARGS="VCF --out DIR")
	$(BIN)/vae-genomics cache --config $(CONFIG) $(ARGS)

# Tests run on every core (pytest-xdist), a test file per worker so that a module's trained models
# are built once; TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
TEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: $(STAMP)  ## the whole test suite
	$(BIN)/python -m pytest -q $(TEST_PARALLEL) $(PYTEST_ARGS)

test-fast: $(STAMP)  ## tests without the slow end-to-end ones
	$(BIN)/python -m pytest -q $(TEST_PARALLEL) -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

example-data: $(STAMP)  ## regenerate data/example/ with msprime (needs the sim extra)
	$(BIN)/python -m pip install --quiet -e '.[sim]'
	$(BIN)/python scripts/simulate_example.py --out-dir data/example

chromosome-data: $(STAMP)  ## simulate data/chromosome/ (OOA model, hotspot map, BED sections, config); skipped when up to date
	$(BIN)/python -m pip install --quiet -e '.[sim]'
	$(BIN)/python scripts/simulate_chromosome.py --out-dir data/chromosome --length-mb $(LENGTH_MB) --samples $(SAMPLES)

bench: $(STAMP)  ## benchmarks/run_all.py: every benchmarks/bench_*.py, tables for BENCHMARKS.md (needs the sim extra)
	$(BIN)/python -m pip install --quiet -e '.[sim]'
	$(BIN)/python benchmarks/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) .venv-gpu .pytest_cache .ruff_cache *.egg-info
