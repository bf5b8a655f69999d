# kb: two commands do all the set-up.
#   make run   install into .venv, prepare the database and content, serve on 127.0.0.1:5000
#   make test  install the test tools and run every test

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := kb

.PHONY: run test lint import check-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

.make-runtime.stamp: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

.make-dev.stamp: requirements-dev.txt requirements.txt .make-runtime.stamp
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

import: .make-runtime.stamp node_modules/.package-lock.json
	$(BIN)/flask content import

run: import
	@echo ""
	@echo "kb is starting: open http://$(HOST):$(PORT) in your browser (Ctrl+C to stop)."
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: .make-dev.stamp node_modules/.package-lock.json
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: .make-dev.stamp
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules .make-*.stamp .pytest_cache .ruff_cache
