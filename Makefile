# kb: two commands do all the set-up.
#   make run   install into .venv, prepare the database and content, serve on 127.0.0.1:5000
#              (make run PORT=8123 HOST=...: mailed and exported links then use that address too)
#   make test  install the test tools and run every test, on SQLite and on PostgreSQL
#   make serve serve in production with gunicorn (gunicorn.conf.py: KB_BIND, WEB_CONCURRENCY, ...)
#   make load  the load benchmark: Locust against gunicorn on both databases (docs/performance.md "Load")

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` starts in demo mode (sample accounts, one per role, no passwords) unless
# DEMO=0 is given. Demo mode refuses to start when KB_ENV=production.
DEMO ?= 1
export FLASK_APP := kb
run: export KB_DEMO = $(DEMO)
# `flask run` listens where these say, and kb builds SITE_URL (the address in mailed and
# exported links) from them unless SITE_URL is set.
export FLASK_RUN_HOST := $(HOST)
export FLASK_RUN_PORT := $(PORT)

.PHONY: run serve test test-sqlite test-postgresql lint load import assets clean

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

# The NHS.UK styles compiled for kb: no remote web font, icons served by kb.
static/build/nhsuk.css: static/scss/nhsuk.scss node_modules/.package-lock.json
	node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps $< $@

# Every file pages link to, copied under a name carrying a hash of its content, with gzip and
# brotli twins (kb.assets); a started kb makes any that are missing itself.
assets: .make-runtime.stamp node_modules/.package-lock.json static/build/nhsuk.css
	@$(BIN)/python -m kb.assets > /dev/null

# A broken content file is reported with its path and line; the good files still load and
# the site still starts, so one typo never locks a newcomer out.
import: .make-runtime.stamp assets
	@$(BIN)/flask content import || echo "Some content files have problems (listed above); every other file was loaded."

run: import
	@if [ "$(DEMO)" = "1" ]; then $(BIN)/flask users demo; fi
	@echo ""
	@echo "kb is starting: open http://$(HOST):$(PORT) in your browser (Ctrl+C to stop)."
	@if [ "$(DEMO)" = "1" ]; then \
	  echo "Demo mode: choose a sample account (member, panel member, moderator, admin) on http://$(HOST):$(PORT)/login"; \
	  echo "For real accounts run 'make run DEMO=0' and create the first admin with:"; \
	else \
	  echo "To sign in, create the first admin (it prints a one-time link to set the password):"; \
	fi
	@echo "  $(BIN)/flask users create-admin you@example.org"
	@echo ""
	$(BIN)/flask run

# Production: several workers, JSON logs with request ids, /healthz and /readyz (docs/deployment.md).
serve: .make-runtime.stamp assets
	$(BIN)/gunicorn --config gunicorn.conf.py

# The suite runs on both databases: SQLite (every test) and a throwaway PostgreSQL server
# started by the tests themselves (every test but the Chromium ones, which check pages and
# their accessibility, not the database; see README "PostgreSQL"). The two passes run side
# by side, one a core; the PostgreSQL pass's report is printed once both have finished.
test: .make-dev.stamp assets
	$(BIN)/ruff check .
	$(BIN)/mypy kb
	@KB_TEST_DATABASE=postgresql $(BIN)/pytest -p no:cacheprovider -m "not browser" > .test-postgresql.log 2>&1 & \
	postgresql_pass=$$!; \
	echo "SQLite pass (the PostgreSQL pass runs alongside; its report follows):"; \
	$(BIN)/pytest -p no:cacheprovider; sqlite_status=$$?; \
	wait $$postgresql_pass; postgresql_status=$$?; \
	echo ""; echo "PostgreSQL pass:"; cat .test-postgresql.log; \
	echo ""; echo "SQLite pass exit $$sqlite_status, PostgreSQL pass exit $$postgresql_status"; \
	test $$sqlite_status -eq 0 && test $$postgresql_status -eq 0

test-sqlite: .make-dev.stamp assets
	$(BIN)/pytest

test-postgresql: .make-dev.stamp assets
	KB_TEST_DATABASE=postgresql $(BIN)/pytest -m "not browser"

# Load benchmark (benchmarks/load/run.py, docs/performance.md "Load"): six runs of 50 members for
# 60 s each; LOAD_ARGS narrows it, e.g. make load LOAD_ARGS="--config postgresql-postgresql --workers 4".
.make-load.stamp: requirements-load.txt .make-dev.stamp
	$(BIN)/pip install --quiet -r requirements-load.txt
	touch $@

load: .make-load.stamp assets
	$(BIN)/python benchmarks/load/run.py $(LOAD_ARGS)

lint: .make-dev.stamp
	$(BIN)/ruff check .
	$(BIN)/mypy kb

clean:
	rm -rf $(VENV) node_modules static/build .make-*.stamp .pytest_cache .ruff_cache .mypy_cache
