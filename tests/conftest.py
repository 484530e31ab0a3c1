import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """One test database per pytest process (``test_<name>_<pid>``): several test runs on one machine (a
    developer's run next to another's, or next to CI) never destroy each other's database."""
    import os

    from django.conf import settings

    db = settings.DATABASES["default"]
    db.setdefault("TEST", {})
    db["TEST"]["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _axes_off(settings):
    """django-axes needs the request in every ``authenticate()`` call (``client.login()`` and some service
    tests do not pass it): off by default, on in the lockout tests (tests/selfcare/test_lockout.py)."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _cache_key_space(settings):
    """Each test gets its own cache key space: the Redis database is shared by concurrent runs, and request
    budgets (partners/throttle.py, R-SC-3) must not leak from one test into another."""
    import uuid

    default = {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    settings.CACHES = {**settings.CACHES, "default": default}
