# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PEERS_VENV := .venv-peers
BIN := $(VENV)/bin
PORT ?= 8000
export FLASK_APP := wsgi:app

.PHONY: run test lint format migrate soak bench bench-stats bench-peers compose-env stack stack-down stack-tools rush clean

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(BIN)/activate

## make run: install, migrate the SQLite default (or DATABASE_URL), serve on 127.0.0.1:$(PORT)
run: $(BIN)/activate
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) wsgi:app

## make test: install and run the suite (SQLite unless TEST_DATABASE_URL is set)
test: $(BIN)/activate
	$(BIN)/pytest

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/activate
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make migrate: generate a migration after a model change (review it before committing)
migrate: $(BIN)/activate
	APP_ENV=development $(BIN)/flask db migrate

## make soak: a bounded mixed workload on a multi-worker gunicorn, then a database audit
soak: $(BIN)/activate
	$(BIN)/python scripts/soak.py

## make compose-env: secrets for the local docker-compose stack (docker compose up --build)
compose-env: $(BIN)/activate
	$(BIN)/python scripts/compose_env.py .env.compose

## make stack: HAProxy → RUSH_INSTANCES gunicorns → PgBouncer (transaction mode) → the local
## PostgreSQL, and Redis, all in the background; returns once every part answers (scripts/stack.py)
STACK_TOOLS := haproxy pgbouncer redis-server
stack: $(BIN)/activate stack-tools
	$(BIN)/python scripts/stack.py up

stack-down:
	$(BIN)/python scripts/stack.py down

# Without Docker: install what is missing with apt-get as root, else say what is missing.
stack-tools:
	@missing=""; for tool in $(STACK_TOOLS); do \
	  PATH="$$PATH:/usr/sbin:/sbin" command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null || exit 1; \
	  else \
	    echo "make stack needs:$$missing (as root: apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

## make rush: virtual citizens through the stack's balancer (starting it when it is down): a ramp,
## faults, a database audit; out/rush/rush-report.json and rush-chart.png (RUSH_SECONDS, 120)
rush: $(BIN)/activate stack-tools
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python scripts/rush.py

## make bench: the benchmark (PostgreSQL at BENCH_DATABASE_URL, wrk; about 15 minutes), then
## bench-stats; fails when either misses a target
bench: $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	status=0; $(BIN)/python -m bench.run || status=1; \
	$(BIN)/python -m bench.stats || status=1; exit $$status

## make bench-stats: /stats with 1,000,000 doses given (BENCH_STATS_DATABASE_URL; ~6 minutes)
bench-stats: $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	$(BIN)/python -m bench.stats

## make bench-peers: our GET /users/me beside fastapi-users and Flask-Security-Too, interleaved
## (PostgreSQL, wrk; the peers in their own venv, $(PEERS_VENV); about 2 minutes)
bench-peers: $(BIN)/activate $(PEERS_VENV)/bin/activate
	$(BIN)/python -m bench.peers.run

$(PEERS_VENV)/bin/activate: requirements-peers.txt
	$(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-peers.txt
	touch $(PEERS_VENV)/bin/activate

clean:
	rm -rf $(VENV) $(PEERS_VENV) .pytest_cache
