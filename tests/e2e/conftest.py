"""Real-browser fixtures (headless Debian Chromium driven by Playwright) for every e2e journey.

Reuse them in later journeys::

    pytestmark = pytest.mark.e2e

    def test_my_journey(logged_in_page, live_server, e2e_staff):
        page = logged_in_page
        page.goto(f"{live_server.url}/contrats/")

``e2e_staff`` is a partner admin (``.partner``, ``.user``, ``.password``); every test runs against
pytest-django's ``live_server`` with a transactional database. Tests are skipped only when
``/usr/bin/chromium`` is absent (``apt-get install -y chromium``; ``.ci/run`` installs it) — and fail instead
under ``CI``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from partners.models import Partner, PartnerMembership, User
from partners.services import partner_create, partner_staff_create

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000
E2E_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Every test of tests/e2e carries the ``e2e`` marker (``pytest -m e2e`` / ``-m "not e2e"``)."""
    for item in items:
        if E2E_DIR in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright_instance():
    if not CHROMIUM.exists():
        message = f"Debian chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # STYLE 28: under CI a browser test fails, it never skips quietly
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the test itself
    # (factories, assertions) are still synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):
    """A fresh browser context (no cookies) per test, French locale, base URL = the live server."""
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@dataclass(frozen=True)
class E2EStaff:
    partner: Partner
    user: User
    password: str


@pytest.fixture
def e2e_staff(transactional_db) -> E2EStaff:
    password = "Parcours-e2e-2026!"
    partner = partner_create(name="Telcom Parcours")
    user = partner_staff_create(
        partner=partner,
        username="marie@telcom-parcours",
        password=password,
        role=PartnerMembership.Role.ADMIN,
    )
    return E2EStaff(partner=partner, user=user, password=password)


def login(page, username: str, password: str) -> None:
    """Log in through the real login form and land on the back-office home page."""
    page.goto("/login/")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")
    page.get_by_role("button", name="Se déconnecter").wait_for()


@pytest.fixture
def logged_in_page(page, e2e_staff):
    login(page, e2e_staff.user.username, e2e_staff.password)
    return page
