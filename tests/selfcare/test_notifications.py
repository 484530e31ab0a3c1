"""R-SC-8 / R-ALR-4: each partner staff user chooses their notification emails (« Commande selfcare »,
« Alertes de consommation ») on « Paramètres › Notifications email »; a self-care action emails the staff who
opted in (nobody else, no fallback), and so do usage alerts."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from core.money import MB
from notifications.models import OutboxMessage
from notifications.partners import AUDIENCE_USAGE_ALERTS, partner_notify, selfcare_action_notify
from partners.models import PartnerMembership
from tests.factories.contracts import ContractFactory
from tests.factories.partners import MembershipFactory, UserFactory
from tests.usage.conftest import catalog, line, orange_file, orange_line, orange_name, paris  # noqa: F401
from usage.ingestion import ingest_bytes

pytestmark = pytest.mark.django_db

TEMPLATE = "notifications/email/partner_message"


@pytest.fixture
def staff(partner, other_partner):
    """Four staff users of the partner with different choices, and one of another partner."""
    return {
        "admin_all": MembershipFactory(partner=partner, user=UserFactory(email="admin@p.fr")),
        "staff_orders": MembershipFactory(
            partner=partner, role="staff", user=UserFactory(email="orders@p.fr"), notify_usage_alerts=False
        ),
        "staff_alerts": MembershipFactory(
            partner=partner, role="staff", user=UserFactory(email="alerts@p.fr"), notify_selfcare_orders=False
        ),
        "inactive": MembershipFactory(partner=partner, user=UserFactory(email="gone@p.fr", is_active=False)),
        "other": MembershipFactory(partner=other_partner, user=UserFactory(email="other@b.fr")),
    }


@pytest.fixture
def contract(client_account):
    return ContractFactory(order__client=client_account, user_name="Jeanne Martin", msisdn="0611223344")


def test_R_SC_8_selfcare_action_emails_exactly_the_staff_who_opted_in(staff, contract, access):
    messages = selfcare_action_notify(
        contract=contract, action_label="Suspension", order_number="BDC-2026-000001", actor_user=access.user
    )
    assert sorted(m.to for m in messages) == ["admin@p.fr", "orders@p.fr"]
    for m in messages:
        for text in (
            "Boulangerie Martin",
            "Jeanne Martin",
            "06 11 22 33 44",
            contract.number,
            "BDC-2026-000001",
        ):
            assert text in m.body_text and text in m.body_html, text
        assert "Suspension" in m.subject
    again = selfcare_action_notify(
        contract=contract, action_label="Suspension", order_number="BDC-2026-000001", actor_user=access.user
    )
    assert sorted(m.pk for m in again) == sorted(m.pk for m in messages)
    assert OutboxMessage.objects.count() == 2


def test_R_SC_8_nobody_opted_in_means_nobody_emailed(partner, contract, access, caplog):
    partner.notification_email = "ops@p.fr"
    partner.save()
    MembershipFactory(partner=partner, user=UserFactory(email="a@p.fr"), notify_selfcare_orders=False)
    assert (
        selfcare_action_notify(
            contract=contract, action_label="Recharge", order_number="BDC-1", actor_user=access.user
        )
        == []
    )
    assert not OutboxMessage.objects.exists()
    assert "no notification recipient" in caplog.text


def test_R_SC_8_partner_switch_off_sends_nothing(partner, staff, contract, access):
    partner.notify_selfcare_orders = False
    partner.save()
    assert (
        selfcare_action_notify(
            contract=contract, action_label="Recharge", order_number="BDC-2", actor_user=access.user
        )
        == []
    )


def test_R_ALR_4_alert_audience_is_the_staff_who_opted_in_to_alerts(partner, staff):
    messages = partner_notify(
        partner=partner,
        subject="Alerte",
        template=TEMPLATE,
        context={"title": "x"},
        dedup_key="a:1",
        audience=AUDIENCE_USAGE_ALERTS,
    )
    assert sorted(m.to for m in messages) == ["admin@p.fr", "alerts@p.fr"]


@time_machine.travel(paris(2026, 12, 15, 12, 0), tick=False)
def test_R_ALR_4_usage_alert_emails_only_staff_opted_in_to_alerts(partner, staff, line, settings):  # noqa: F811
    settings.PROVISIONING_WAKE_ON_ORDER = False
    c = line("OR-ILL-10G-B", msisdn="0612200005")
    at = paris(2026, 12, 15, 9, 0)
    ingest_bytes(
        name=orange_name(), data=orange_file(orange_line("0612200005", at, "DATA", ko=8500 * MB // 1000))
    )
    emails = OutboxMessage.objects.filter(channel="email")
    assert sorted(emails.values_list("to", flat=True)) == ["admin@p.fr", "alerts@p.fr"]
    assert all(c.number in m.body_text for m in emails)


# --- « Paramètres › Notifications email » ----------------------------------------------------------------


def _url() -> str:
    return reverse("backoffice:settings_notifications")


def test_R_SC_8_each_staff_user_sets_their_own_notifications(staff):
    web = Client()
    web.force_login(staff["staff_orders"].user)
    page = web.get(_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Commande selfcare" in html and "Alertes de consommation" in html
    assert "admin@p.fr" not in html  # a collaborator sees their own choices only
    response = web.post(_url(), {"notify_usage_alerts": "on"})
    assert response.status_code == 302
    me = PartnerMembership.objects.get(pk=staff["staff_orders"].pk)
    assert (me.notify_selfcare_orders, me.notify_usage_alerts) == (False, True)
    admin = PartnerMembership.objects.get(pk=staff["admin_all"].pk)
    assert (admin.notify_selfcare_orders, admin.notify_usage_alerts) == (True, True)


def test_R_SC_8_admins_see_everyones_notifications_of_their_partner_only(staff):
    web = Client()
    web.force_login(staff["admin_all"].user)
    html = web.get(_url()).content.decode()
    assert "orders@p.fr" in html and "alerts@p.fr" in html
    assert "other@b.fr" not in html
