"""Production settings: DEBUG=0 with the documented variables passes ``check --deploy`` with no warning,
and a missing secret refuses to start (STYLE 22)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-1234567890",
    "ALLOWED_HOSTS": "backoffice.example.fr,.espaceclient.example.fr",
    "BACKOFFICE_HOST": "backoffice.example.fr",
    "SELFCARE_DOMAIN": "example.fr",
    "DATABASE_URL": "sqlite:////tmp/alphalink-deploy-check.db",
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
