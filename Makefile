# microbuy: `make run` and `make test` each do all the set-up they need, then their job.
# A second run reuses what the first built (.tools/uv, .venv, the migrated database).

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml .python-version | cksum | cut -d' ' -f1)

# uv puts the environment in .venv and installs exactly what uv.lock says.
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy
# Compile the installed packages' bytecode once, at install. Where PYTHONDONTWRITEBYTECODE is set
# (this machine kind sets it) nothing is ever cached otherwise, and every Rasa process compiled
# about 7,000 modules again on start: importing Rasa took 27 s instead of 10 s.
export UV_COMPILE_BYTECODE := 1
# And the project's own modules and pytest's rewritten test files are cached in __pycache__ too
# (an empty value is unset): otherwise every test process, CLI run and Rasa process compiled them
# again, about 9 s per test process.
export PYTHONDONTWRITEBYTECODE :=
# Rasa sends usage data and error reports to its servers unless told not to.
export RASA_TELEMETRY_ENABLED := false
# Python 3.10 comes from the machine when it has one (pyenv here); uv fetches it otherwise.
export UV_PYTHON_PREFERENCE := system

# Test processes: each runs whole groups of tests (--dist loadgroup): a file, or every file that
# shares one running Rasa or Slack product, which then starts once per run (tests/conftest.py).
# Three on the project's 2-core machine: many tests wait on Rasa
# and the stand-in rather than compute: pytest took 6 min 5 s with three, 7 min 36 s with two
# (5 min 44 s with four; bench/README.md).
TEST_WORKERS ?= 3
# Whole groups per process, longest first (tests/conftest.py orders them by tests/file_seconds.json;
# xdist would otherwise reorder them by their number of tests).
PYTEST_PARALLEL = $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

.PHONY: help setup run examples lint test collect test-clock test-seconds nlu-eval model bench first-message-bench check-policies services browser clean

help:
	@echo "make run       set up, then start the whole product (stand-in Slack, bot, Rasa) and print"
	@echo "               the URL to open; with SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or"
	@echo "               SLACK_SIGNING_SECRET) set, connects to that Slack workspace. Ctrl-C stops it"
	@echo "make examples  set up, then evaluate the example requests (policies/examples)"
	@echo "make lint      set up, then ruff, mypy and the layer contracts (pyproject.toml)"
	@echo "make test      set up, then lint and run every test (TEST_WORKERS=3 processes)"
	@echo "make test-clock  set up, then the tests marked clock at 01:30 UTC and at 23:30 in Toronto"
	@echo "               (faketime; about 4 minutes)"
	@echo "make test-seconds  the tests as make test runs them, recording each file's seconds in"
	@echo "               tests/file_seconds.json (make test hands out the longest files first)"
	@echo "make nlu-eval  set up, then the NLU cross-validation (intent and entity F1; about 2 minutes)"
	@echo "make bench     set up, then run the benchmarks (bench/README.md; about 20 minutes) and"
	@echo "               write bench/results/"
	@echo "make first-message-bench  set up, then send each first message of bench/first_messages.yml"
	@echo "               to the dialogue and measure what it kept (issue 16; about 2 minutes);"
	@echo "               writes bench/results/first_message.json"
	@echo "make setup     only set up (.venv from uv.lock, database migrated)"
	@echo "make clean     remove .venv, .tools, .run and the local SQLite database"

$(UV):
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)/"
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): $(UV) pyproject.toml uv.lock .python-version
	@echo "==> installing the locked dependencies into $(VENV)/"
	$(UV) sync --locked
	rm -f $(VENV)/.synced-*
	touch $@

setup: $(STAMP)
	$(BIN)/microbuy db upgrade
	$(BIN)/microbuy policy check

# Migrates, trains the dialogue model if it changed, starts every process and waits until each is
# healthy (microbuy/up.py); logs in .run/logs/.
run: setup
	$(BIN)/microbuy up

examples: setup
	$(BIN)/microbuy examples

services:
	@.ci/services

# Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@.ci/browser

# The dialogue model, trained only when its data changed: before the tests, so that the test
# processes find it rather than train it side by side.
model: $(STAMP)
	$(BIN)/microbuy train

# Ruff and mypy, configured in pyproject.toml (mypy's cache in .mypy_cache: about 10 s the first
# time, 1 s after), then the layer contracts (import-linter) once it is installed.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	@if [ -x $(BIN)/lint-imports ]; then $(BIN)/lint-imports; fi

# The checks, the services, the model and one collection of the tests side by side (training uses
# one core, mypy and the collection the other; about 20 s saved on a fresh clone), each one's
# output kept together; then the tests, whose processes find the test files already rewritten.
test: $(STAMP)
	@$(MAKE) --no-print-directory --output-sync=target -j 4 lint services browser model collect
	$(PYTEST_PARALLEL)

# pytest's assertion rewriting of every test file (and the project's bytecode), cached in
# __pycache__ once rather than in each test process.
collect: $(STAMP)
	@out=$$($(BIN)/pytest --collect-only -q -p no:cacheprovider 2>&1) || { echo "$$out" | tail -40; exit 1; }

# The tests whose results could depend on the hour (marker clock, tests/conftest.py), run with the
# clock at the two hours where the UTC date and the pack's date differ: 01:30 UTC (still
# yesterday in Toronto) and 23:30 in Toronto, with the machine's zone Toronto too (already
# tomorrow in UTC). The clock advances from there; the monotonic clock is left alone (waits on
# it under libfaketime hang).
CLOCK_RUN := FAKETIME_DONT_FAKE_MONOTONIC=1
test-clock: $(STAMP) services
	@.ci/faketime
	$(CLOCK_RUN) faketime "$$(date -u +%F) 01:30:00" $(PYTEST_PARALLEL) -m clock
	TZ=America/Toronto $(CLOCK_RUN) faketime "$$(TZ=America/Toronto date +%F) 23:30:00" \
		$(PYTEST_PARALLEL) -m clock

# Every test, as make test runs them, writing each file's seconds to tests/file_seconds.json (the
# order make test hands files out in); commit it when the suite has changed much.
test-seconds: $(STAMP) services browser model
	$(PYTEST_PARALLEL) --record-file-seconds tests/file_seconds.json

# Three trainings on held-out folds: its own run, so the tests never wait on it (CI runs both).
nlu-eval: $(STAMP) model
	$(BIN)/pytest -m nlu_eval tests/dialogues/test_rasa_project.py

# The rules engine, the dialogue through Rasa's webhook, then the whole stack through Slack's
# protocol (50 requesters; bench/results/slack_load.json and latency_vs_concurrency.png).
bench: setup services
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/dialogue.py
	$(BIN)/python bench/slack_load.py

# The first message (issue 16): each hand-written opening of bench/first_messages.yml through Rasa's
# webhook with the real action server; how many start a purchase and keep what they said.
first-message-bench: setup services
	$(BIN)/python bench/first_message.py --json bench/results/first_message.json

clean:
	rm -rf $(VENV) $(TOOLS) .run microbuy.db microbuy.db-wal microbuy.db-shm
