"""Production settings: DEBUG=0 with the documented variables passes ``check --deploy`` with no warning,
and a missing secret or database refuses to start (STYLE 22). PostgreSQL is the only engine; with DEBUG=1 and
no DATABASE_URL it is the embedded server of ``make run``."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from alphalink import embedded_db

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-1234567890",
    "ALLOWED_HOSTS": "backoffice.example.fr,.espaceclient.example.fr",
    "BACKOFFICE_HOST": "backoffice.example.fr",
    "SELFCARE_DOMAIN": "example.fr",
    "DATABASE_URL": "postgres://alphalink@db.example.fr:5432/alphalink",  # check --deploy does not connect
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # The test process's own variables (DJANGO_ALLOW_ASYNC_UNSAFE set by the browser tests, the test
    # database URL…) are not production's.
    dropped = {*PRODUCTION_ENV, "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"}
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_in_production_refuses_to_start():
    env = {**PRODUCTION_ENV}
    del env["SECRET_KEY"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_missing_database_url_in_production_refuses_to_start():
    env = {**PRODUCTION_ENV}
    del env["DATABASE_URL"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_database_is_postgresql_only():
    result = _manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/alphalink.db"})
    assert result.returncode != 0
    assert "PostgreSQL is the only engine" in result.stderr


def test_development_default_is_the_embedded_postgresql_of_make_run():
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'], sep='|')"
    result = _manage("shell", "-c", code, env={"DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    engine, host, name = result.stdout.splitlines()[-1].split("|")  # after shell's "N objects imported"
    assert engine == "django.db.backends.postgresql"
    assert name == "alphalink"
    # postgres://postgres@:5432/alphalink?host=<its Unix socket directory, run/pgdata/ unless that is too long>
    assert host == parse_qs(urlsplit(embedded_db.database_url()).query)["host"][0]
