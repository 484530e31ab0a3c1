"""The deployable stack (issue 10 item 9): /healthz, docker-compose.yml, the Caddyfiles, persistent database
connections with health checks, and ``holidays`` pinned exactly."""

import re
import tomllib
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.db import connection

from tests.factories.partners import PartnerFactory

ROOT = Path(__file__).resolve().parent.parent


# /healthz ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_is_200_json_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_is_503_json_when_the_database_check_fails(client):
    with mock.patch.object(connection, "ensure_connection", side_effect=OSError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OSError"}


@pytest.mark.django_db
def test_healthz_answers_on_any_host_over_plain_http_with_production_security(client, settings):
    """The container health check calls it as localhost:8000 over HTTP: no ALLOWED_HOSTS refusal, no HTTPS
    redirect, no self-care routing."""
    settings.ALLOWED_HOSTS = ["backoffice.example.fr"]
    settings.SECURE_SSL_REDIRECT = True
    for host in ("127.0.0.1:8000", "web:8000", "nobody.espaceclient.localhost"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, host


@pytest.mark.django_db
def test_tls_ask_allows_the_backoffice_host_and_existing_partners_only(client, settings):
    settings.BACKOFFICE_HOST = "backoffice.example.fr"
    settings.SELFCARE_DOMAIN = "example.fr"
    partner = PartnerFactory()

    def ask(domain):
        return client.get("/healthz/tls", {"domain": domain}, HTTP_HOST="web:8000").status_code

    assert ask("backoffice.example.fr") == 200
    assert ask(f"{partner.slug}.espaceclient.example.fr") == 200
    assert ask("unknown-partner.espaceclient.example.fr") == 404
    assert ask("espaceclient.example.fr") == 404
    assert ask(f"a.{partner.slug}.espaceclient.example.fr") == 404
    assert ask("evil.example.com") == 404
    assert ask("") == 404


def test_other_methods_on_healthz_go_through_the_normal_stack(client):
    assert client.post("/healthz").status_code != 200


# docker-compose.yml and Caddy ---------------------------------------------------------------------------------


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_declares_the_stack_with_health_checks():
    services = _compose()["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "proxy", "migrate"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis", "proxy"):
        assert "test" in services[name].get("healthcheck", {}), name
    assert "healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert services[name]["environment"]["BEHIND_PROXY"] == "1", name
        assert services[name]["environment"]["DEBUG"] == "0", name
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "gunicorn" in services["web"]["command"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_compose_shares_static_and_media_with_the_proxy_and_mounts_its_files():
    compose = _compose()
    services = compose["services"]
    web_volumes = services["web"]["volumes"]
    proxy_volumes = services["proxy"]["volumes"]
    assert "static:/app/staticfiles" in web_volumes and "media:/app/media" in web_volumes
    assert "static:/srv/static:ro" in proxy_volumes and "media:/srv/media:ro" in proxy_volumes
    assert "collectstatic" in " ".join(services["migrate"]["command"])
    for volume in proxy_volumes + services["postgres"]["volumes"]:
        source = volume.split(":", 1)[0]
        if source.startswith("./"):
            assert (ROOT / source).is_file(), source
        else:
            assert source in compose["volumes"], source


def test_caddyfiles_serve_both_hosts_static_and_media():
    for name in ("Caddyfile", "Caddyfile.local"):
        text = (ROOT / "deploy" / name).read_text()
        assert "{$BACKOFFICE_HOST}" in text, name
        assert "*.espaceclient.{$SELFCARE_DOMAIN}" in text, name
        assert "reverse_proxy web:8000" in text, name
        assert "/srv/static" in text and "/srv/media" in text, name
    assert "ask http://web:8000/healthz/tls" in (ROOT / "deploy" / "Caddyfile").read_text()
    assert "http://{$BACKOFFICE_HOST}" in (ROOT / "deploy" / "Caddyfile.local").read_text()


def test_env_example_declares_what_the_caddyfile_reads():
    env_example = (ROOT / ".env.example").read_text()
    read = set(re.findall(r"\{\$([A-Z_]+)", (ROOT / "deploy" / "Caddyfile").read_text()))
    for name in read:
        assert re.search(rf"^{name}=.+", env_example, re.M), name


# Settings and dependencies --------------------------------------------------------------------------------------


def test_persistent_connections_are_health_checked(settings):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    source = (ROOT / "alphalink" / "settings.py").read_text()
    assert 'env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)' in source


def test_holidays_is_pinned_exactly():
    """An upgrade of ``holidays`` may move a public holiday, hence the business days of portability (J+3)."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in dependencies if re.match(r"holidays\b", d)]
    assert len(pins) == 1
    assert re.fullmatch(r"holidays==\d+(\.\d+)+", pins[0].replace(" ", ""))
