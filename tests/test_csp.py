"""Content-Security-Policy (issue 10 item 4): every page answers with a policy that allows no inline script or
style, and no template served to a browser carries inline code the policy would block (the browser tests check
that the pages still work: tests/e2e, no ``securitypolicyviolation``)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories.partners import MembershipFactory, PartnerFactory, SelfcareAccessFactory

ROOT = Path(__file__).resolve().parent.parent

# Templates never served to a browser under the site's policy: the invoice is printed to PDF by WeasyPrint, and
# emails are read by mail clients, which ignore <style> blocks in many cases (the dev mailbox shows them in a
# sandboxed frame with its own policy: notifications/dev_views.py).
NOT_SERVED = ("billing/invoice.html", "notifications/email/")

INLINE = {
    "inline <script> block": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline event handler": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def _served_templates() -> list[Path]:
    folders = [ROOT / "templates", *ROOT.glob("*/templates")]
    return [
        path
        for folder in folders
        for path in folder.rglob("*.html")
        if ".venv" not in path.parts and not any(part in path.as_posix() for part in NOT_SERVED)
    ]


def test_no_served_template_carries_inline_script_or_style():
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in _served_templates()
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert _served_templates(), "no template found"
    assert found == []


def _policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d for d in (part.strip() for part in header.split(";")) if d}


def _assert_strict(response):
    policy = _policy(response)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert policy["default-src"] == "default-src 'self'"
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert policy["object-src"] == "object-src 'none'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["form-action"] == "form-action 'self'"


@pytest.mark.django_db
def test_back_office_pages_have_a_strict_policy(client):
    _assert_strict(client.get("/login/"))
    client.force_login(MembershipFactory(partner=PartnerFactory()).user)
    _assert_strict(client.get("/"))


@pytest.mark.django_db
def test_self_care_pages_have_a_strict_policy():
    access = SelfcareAccessFactory(client__partner=PartnerFactory(slug="csp-test"))
    browser = Client(HTTP_HOST="csp-test.espaceclient.localhost")
    _assert_strict(browser.get("/"))
    browser.force_login(access.user)
    response = browser.get("/")
    assert response.status_code == 200
    _assert_strict(response)


@pytest.mark.django_db
def test_api_answers_have_the_policy_too(client):
    _assert_strict(client.get("/api/v1/orders"))


def test_htmx_does_not_inject_its_indicator_style():
    """htmx 2 adds a <style> element for its indicators unless told not to: the pages tell it (meta
    htmx-config) and ship those rules in static/css/app.css."""
    base = (ROOT / "templates" / "base.html").read_text()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in base
    css = (ROOT / "static" / "css" / "app.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request .htmx-indicator" in css


def test_csp_middleware_is_installed():
    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE
