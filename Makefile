# AlphaLink platform — two commands: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/alphalink
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run rundirs test install migrate demo lint format e2e clean

rundirs:
	@mkdir -p run/celery/queue run/celery/processed run/mail

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_catalog
	$(PY) manage.py load_demo

# Embedded defaults: SQLite, kombu's filesystem broker (messages are files under run/celery/), a local SMTP
# sink (Maildir run/mail/, read at /dev/boite-mail/). Override any of them with the variables of the README.
run: export CELERY_BROKER_URL ?= filesystem://
run: export EMAIL_URL ?= smtp://127.0.0.1:1025
run: rundirs demo
	@$(PY) manage.py demo_info --port $(PORT)
	@echo "  Boîte mail locale  http://localhost:$(PORT)/dev/boite-mail/  (SMTP 127.0.0.1:1025, Maildir run/mail/)"
	@echo "  Workers            celery worker + beat (journaux : run/worker.log, run/beat.log)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) -m notifications.devmail --host 127.0.0.1 --port 1025 --dir run/mail & \
	  $(PY) -m celery -A alphalink worker --loglevel=INFO --concurrency=2 > run/worker.log 2>&1 & \
	  $(PY) -m celery -A alphalink beat --loglevel=INFO --schedule=run/celerybeat-schedule > run/beat.log 2>&1 & \
	  $(PY) manage.py runserver 0.0.0.0:$(PORT)

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest -q $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles run
