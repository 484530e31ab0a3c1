"""Production settings: DEBUG=0 with the documented variables passes ``check --deploy`` with no warning,
and a missing secret or database refuses to start (STYLE 22). PostgreSQL is the only engine; with DEBUG=1 and
no DATABASE_URL it is the embedded server of ``make run``."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from alphalink import embedded_db

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-1234567890",
    "ALLOWED_HOSTS": "backoffice.example.fr,.espaceclient.example.fr",
    "BACKOFFICE_HOST": "backoffice.example.fr",
    "SELFCARE_DOMAIN": "example.fr",
    "DATABASE_URL": "postgres://alphalink@db.example.fr:5432/alphalink",  # check --deploy does not connect
    "REDIS_URL": "redis://redis.example.fr:6379/0",  # nor does it reach the broker
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # The test process's own variables (DJANGO_ALLOW_ASYNC_UNSAFE set by the browser tests, the test
    # database URL…) are not production's.
    dropped = {
        *PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "CELERY_BROKER_URL",
        "CELERY_TASK_ALWAYS_EAGER",
    }
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


def _show(*names: str, env: dict) -> list[str]:
    code = f"from django.conf import settings; print(*(getattr(settings, n) for n in {names!r}), sep='|')"
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()[-1].split("|")


def test_debug_is_off_unless_set():
    env = {**PRODUCTION_ENV}
    del env["DEBUG"]
    assert _show("DEBUG", env=env) == ["False"]


def test_missing_broker_in_production_refuses_to_start():
    env = {**PRODUCTION_ENV}
    del env["REDIS_URL"]
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "CELERY_BROKER_URL or REDIS_URL must be set when DEBUG=0" in result.stderr


def test_production_broker_is_the_one_given_and_tasks_are_never_eager():
    broker, eager = _show("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", env=PRODUCTION_ENV)
    assert (broker, eager) == ("redis://redis.example.fr:6379/0", "False")


def test_memory_broker_in_production_refuses_to_start():
    result = _manage("check", env={**PRODUCTION_ENV, "CELERY_BROKER_URL": "memory://"})
    assert result.returncode != 0
    assert "CELERY_BROKER_URL" in result.stderr and "memory://" in result.stderr


def test_eager_tasks_in_production_refuse_to_start():
    result = _manage("check", env={**PRODUCTION_ENV, "CELERY_TASK_ALWAYS_EAGER": "1"})
    assert result.returncode != 0
    assert "CELERY_TASK_ALWAYS_EAGER" in result.stderr


@pytest.mark.parametrize(
    "key",
    [
        "change-me-to-a-long-random-string",  # the placeholder of .env.example
        "change-me-" + "x" * 60,  # a placeholder made long
        "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnop",  # the DEBUG=1 key
        "django-insecure-" + "k" * 50,  # startproject's
        "short-but-random-Zq8",  # under 50 characters
        "ab" * 30,  # too few distinct characters
    ],
)
def test_placeholder_short_or_known_secret_key_refuses_to_start(key):
    result = _manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in result.stderr


def _env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as django-environ reads the ``.env`` file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def test_env_example_as_shipped_passes_check_deploy_once_its_secret_key_is_replaced():
    """``.env.example`` is used exactly as shipped, every line of it, with one documented exception: its
    SECRET_KEY is a placeholder that must refuse to start (a deployment must never run on a key published in
    the repository), so the test first proves that, then replaces that one value by a generated key — the one
    step the README asks of whoever deploys — and requires ``check --deploy`` to report no issue at all."""
    shipped = _env_file(ROOT / ".env.example")
    assert "DEBUG" not in shipped or shipped["DEBUG"] == "0"  # production is the default

    refused = _manage("check", env=shipped)
    assert refused.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY" in refused.stderr

    deployed = {**shipped, "SECRET_KEY": secrets.token_urlsafe(50)}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=deployed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_setting_the_code_reads_is_declared_once_in_settings_py():
    """No hidden setting: a name read from ``django.conf.settings`` (``settings.X`` or ``getattr(settings, "X",
    default)``) is declared in alphalink/settings.py, with its variable and default, or is one of Django's."""
    import re

    from django.conf import global_settings

    from alphalink import settings as declared

    read = re.compile(r'getattr\(\s*settings,\s*"([A-Z][A-Z0-9_]+)"|\bsettings\.([A-Z][A-Z0-9_]+)')
    names = {
        name
        for folder in ROOT.iterdir()
        if folder.is_dir() and (folder / "__init__.py").exists() and folder.name != "tests"
        for path in folder.rglob("*.py")
        for match in read.finditer(path.read_text())
        for name in match.groups()
        if name
    }
    assert {"PROVISIONING_WAKE_ON_ORDER", "SIMULATOR_SEED", "DEV_MAILDIR"} <= names
    hidden = sorted(n for n in names if not hasattr(declared, n) and not hasattr(global_settings, n))
    assert hidden == []
    source = (ROOT / "alphalink" / "settings.py").read_text()
    declared_twice = [n for n in names if len(re.findall(rf"^{n} = ", source, re.M)) > 1]
    assert declared_twice == []


def test_make_run_serves_on_the_loopback_address_only():
    """Issue 10 item 7: the demo logins and the local mailbox are not for the network. ``make -n`` prints the
    recipe without running it."""
    result = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "manage.py runserver 127.0.0.1:8000" in result.stdout
    assert "0.0.0.0" not in result.stdout
    assert "notifications.devmail --host 127.0.0.1" in result.stdout
