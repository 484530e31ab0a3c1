# ruff: noqa: F811  (fixtures imported from test_actions)
"""R-SC-6 / STYLE 33: every self-care action page carries a hidden request key. A POST without it (a page
from a cache, a stripped form) is refused with 422 and nothing is ordered — and the client sees why, in French,
on top of the form (the field itself is hidden), on a plain form post the browser renders as it is."""

from __future__ import annotations

import re
from html import unescape

import pytest

from contracts.models import OperatorRequest
from core.money import GB
from selfcare.models import SelfcareOrder

from .test_actions import _settings, _url, catalog, line, web  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

MESSAGE = "Votre demande n'a pas pu être vérifiée : la page a expiré ou a été envoyée incomplète."


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("suspendre", {}),
        ("recharge", {"volume_bytes": GB}),
        ("utilisateur", {"user_name": "Paul Durand"}),
        ("suspendre", {"request_key": ""}),
        ("suspendre", {"request_key": "x" * 65}),
    ],
    ids=["suspend", "topup", "rename", "empty key", "key too long"],
)
def test_R_SC_6_missing_request_key_is_422_with_a_visible_french_message(web, line, action, data):
    response = web.post(_url(line, action), data)
    assert response.status_code == 422
    html = unescape(response.content.decode())
    alert = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    assert alert is not None and MESSAGE in alert.group(1)
    assert "Rien n'a été commandé" in alert.group(1)
    # the re-rendered page carries a fresh key, so confirming again works
    assert re.search(r'name="request_key" value="[0-9a-f]{32}"', html)
    assert not OperatorRequest.objects.filter(contract=line).exists()
    assert not SelfcareOrder.objects.exists()


def test_R_SC_6_action_form_is_a_plain_post_so_a_422_page_is_shown(web, line):
    """htmx 2 does not swap 4xx answers unless configured: the action form must not be an htmx form, so the
    browser renders the 422 page with its message."""
    html = web.get(_url(line, "suspendre")).content.decode()
    form = re.search(r"<form method=\"post\" action=\"[^\"]*/suspendre/\"[^>]*>", html)
    assert form is not None
    assert "hx-" not in form.group(0)
    assert "hx-boost" not in html


def test_R_SC_6_confirming_again_with_the_fresh_key_orders_once(web, line):
    refused = unescape(web.post(_url(line, "suspendre"), {}).content.decode())
    key = re.search(r'name="request_key" value="([0-9a-f]{32})"', refused).group(1)
    assert web.post(_url(line, "suspendre"), {"request_key": key}).status_code == 302
    assert SelfcareOrder.objects.count() == 1
