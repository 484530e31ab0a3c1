"""Content-Security-Policy in a real browser (issue 10 item 4): the back-office and the self-care pages load,
run htmx and show their styles with no ``securitypolicyviolation`` and no CSP console error."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login
from tests.factories.partners import ClientAccountFactory, SelfcareAccessFactory

pytestmark = pytest.mark.e2e

# Registered before any page script: every violation the browser reports, whatever the page does next.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
});
"""


def _watch(page) -> list[str]:
    console = []
    page.context.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda m: (
            console.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None
        ),
    )
    return console


def _violations(page, console: list[str]) -> list[str]:
    return [*page.evaluate("window.__cspViolations"), *console]


def test_back_office_pages_report_no_csp_violation(page, e2e_staff):
    console = _watch(page)
    login(page, e2e_staff.user.username, e2e_staff.password)
    response = page.goto("/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    for path in ("/", "/clients/", "/clients/nouveau/", "/contrats/", "/commandes/nouvelle/", "/stock/"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert _violations(page, console) == [], path
    # htmx ran (it reads its config from the meta tag; no inline indicator style was injected)
    assert page.evaluate("window.htmx && htmx.config.includeIndicatorStyles") is False
    assert page.locator("style").count() == 0


def test_self_care_pages_report_no_csp_violation(page, live_server, e2e_staff):
    access = SelfcareAccessFactory(
        client=ClientAccountFactory(partner=e2e_staff.partner), user__username="flotte@csp"
    )
    access.user.set_password("Flotte-csp-2026!")
    access.user.save()
    port = urlsplit(live_server.url).port
    root = f"http://{e2e_staff.partner.slug}.espaceclient.localhost:{port}"
    console = _watch(page)

    response = page.goto(f"{root}/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert _violations(page, console) == []
    page.get_by_label("Identifiant selfcare").fill("flotte@csp")
    page.get_by_label("Mot de passe").fill("Flotte-csp-2026!")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon parc")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert _violations(page, console) == []
    assert page.locator("style").count() == 0
