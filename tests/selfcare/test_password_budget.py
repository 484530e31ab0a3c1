"""R-SC-3 forgotten password with a budget: at most SELFCARE_PASSWORD_RESET_LIMIT requests per login, per email
address and per IP address in SELFCARE_PASSWORD_RESET_WINDOW_MINUTES, counted in the cache (Redis). Beyond it,
the page gives the SAME neutral answer (nothing tells an existing account from a missing one, or a throttled
request from a served one) and no email is sent."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from notifications.models import OutboxMessage
from partners.throttle import budget_take
from tests.factories.partners import SelfcareAccessFactory

pytestmark = pytest.mark.django_db

ANSWER = "Si un compte correspond à cet identifiant et à cette adresse e-mail"
LIMIT = 5


@pytest.fixture(autouse=True)
def _budget(settings):
    settings.SELFCARE_PASSWORD_RESET_LIMIT = LIMIT
    settings.SELFCARE_PASSWORD_RESET_WINDOW_MINUTES = 60


def _ask(selfcare, username, email, ip="198.51.100.7"):
    response = selfcare.post(
        "/mot-de-passe-oublie/", {"username": username, "email": email}, follow=True, REMOTE_ADDR=ip
    )
    assert response.status_code == 200
    return response


def _answer(response):
    return ([str(m) for m in response.context["messages"]], response.redirect_chain)


def _emails() -> int:
    return OutboxMessage.objects.filter(channel="email").count()


def test_R_SC_3_per_login_budget_then_same_answer_and_no_email(selfcare, access):
    answers = [
        _answer(_ask(selfcare, "flotte@boulangerie", "f@b.fr", ip=f"198.51.100.{i}")) for i in range(8)
    ]
    assert _emails() == LIMIT  # one per request within the budget, none beyond
    assert all(a == answers[0] for a in answers)
    assert ANSWER in answers[0][0][0]


def test_R_SC_3_per_ip_budget_across_logins(selfcare, partner, client_account):
    accesses = [
        SelfcareAccessFactory(client=client_account, user__username=f"u{i}@b", user__email=f"u{i}@b.fr")
        for i in range(LIMIT + 2)
    ]
    for a in accesses:
        _ask(selfcare, a.user.username, a.user.email, ip="203.0.113.9")
    assert _emails() == LIMIT
    # another address still gets its link
    _ask(selfcare, accesses[-1].user.username, accesses[-1].user.email, ip="203.0.113.10")
    assert _emails() == LIMIT + 1


def test_R_SC_3_per_email_budget_across_logins(selfcare, client_account):
    SelfcareAccessFactory(client=client_account, user__username="a@b", user__email="same@b.fr")
    for i in range(LIMIT):
        _ask(selfcare, f"unknown{i}@b", "same@b.fr", ip=f"192.0.2.{i}")  # spends the email's budget
    assert _emails() == 0
    _ask(selfcare, "a@b", "SAME@b.fr", ip="192.0.2.200")
    assert _emails() == 0


def test_R_SC_3_throttled_answer_equals_unknown_account_answer(selfcare, access):
    for i in range(LIMIT):
        _ask(selfcare, "flotte@boulangerie", "f@b.fr", ip=f"198.51.100.{i}")
    throttled = _ask(selfcare, "flotte@boulangerie", "f@b.fr", ip="198.51.100.50")
    unknown = _ask(selfcare, "nobody@nowhere", "n@n.fr", ip="198.51.100.51")
    assert _answer(throttled) == _answer(unknown)
    assert _emails() == LIMIT


def test_R_SC_3_budget_comes_back_after_the_window():
    """The counter lives in the cache with the window as its expiry (a real 1-second window here)."""
    key = "budget-window-test"
    assert [budget_take(key, limit=2, window_seconds=1) for _ in range(3)] == [True, True, False]
    time.sleep(1.3)
    assert budget_take(key, limit=2, window_seconds=1) is True


def test_R_SC_3_budget_counts_concurrent_requests_exactly():
    """Atomic counting (``incr``): 20 threads take 50 requests on one key; exactly ``limit`` get through."""
    key = "budget-concurrency-test"
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: budget_take(key, limit=7, window_seconds=60), range(50)))
    assert results.count(True) == 7
