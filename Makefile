# The two commands of the README: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app app

.PHONY: run test test-sqlite test-postgres install install-test lint migrate demo outbox worker chaos fuzz clean

# The venv gets what running needs (requirements.txt) whenever that file changes ...
$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# ... and what testing adds (requirements-test.txt: pytest, hypothesis, playwright, ruff, mypy) when either changes.
$(VENV)/.installed-test: $(VENV)/.installed requirements.txt requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: embedded Redis (unless REDIS_URL is set), schema, demo data, worker and web server.
run: install
	$(PY) -m hotline.cli.launcher

## make test: the whole suite on SQLite; again on PostgreSQL when DATABASE_URL points at one.
test: install-test test-sqlite test-postgres

## make lint: ruff on the whole tree, mypy on the packages pyproject.toml lists (CI runs it before make test).
lint: install-test
	$(PY) -m ruff check .
	$(PY) -m mypy

test-sqlite: install-test
	HOTLINE_TEST_DATABASE_URL=sqlite:// $(PY) -m pytest -q

test-postgres: install-test
	@case "$${HOTLINE_TEST_DATABASE_URL:-$$DATABASE_URL}" in \
	  postgres*) echo "== again on PostgreSQL =="; \
	    HOTLINE_TEST_DATABASE_URL="$${HOTLINE_TEST_DATABASE_URL:-$$DATABASE_URL}" $(PY) -m pytest -q ;; \
	  *) echo "(DATABASE_URL is not PostgreSQL: PostgreSQL run skipped)";; \
	esac

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) load-demo

outbox: install
	$(FLASK) outbox

worker: install
	$(PY) worker.py

## make chaos: a few hundred signed calls and SMS under worker kills, Redis restarts and provider faults;
## PROVIDER=aliyun sends the SMS through the Alibaba Cloud fake (replies and receipts by its push).
PROVIDER ?= twilio
chaos: install
	$(PY) -m chaos.run --provider $(PROVIDER)

## make fuzz: every webhook and the CSV import with over 10,000 generated inputs each (slow; not in CI).
fuzz: install-test
	HYPOTHESIS_PROFILE=fuzz HOTLINE_TEST_DATABASE_URL=sqlite:// $(PY) -m pytest -q -m fuzz -p no:randomly

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## make bench: side-by-side benchmarks (webhooks, dispatch, matching, SMS cost, call time) -> bench/RESULTS.md.
## Real PostgreSQL (database hotline_bench) and Redis (db 11) when they answer, else the embedded defaults.
.PHONY: bench bench-smoke
bench: install-test
	$(PY) -m bench.run

## make bench-smoke: the same benchmarks at tiny sizes for CI; fails only if a benchmark crashes.
bench-smoke: install-test
	$(PY) -m bench.run --smoke

## make profile: where a webhook's time goes (py-spy on the gunicorn workers at 1, 16 and 128 calls).
## PostgreSQL database hotline_speed and Redis db 13, so it can run beside `make bench`.
.PHONY: profile
profile: install-test
	$(PY) -m bench.profile_webhooks
