"""eSIM delivery hooked into the contract flow (``contracts.esim``): sent when the operator confirms the creation
(R-OPT-2 profile allocated at once, R-ORD-3 email + SMS), exactly once, resent from the Resources tab (R-ORD-4),
the confirmation code locked after 3 wrong tries and an installed eSIM never reused (simulated by the operator).

The clock travels with time-machine; the operator is the Orange simulator behind the real dispatcher."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from contracts import esim, outcomes
from contracts.models import Contract, ContractEvent, EsimActivation, OperatorRequest
from contracts.services import LineSpec, order_place
from core.errors import RuleViolation
from core.operator_kinds import RequestKind
from inventory.models import EsimProfile, SimCard
from notifications import services as notification_services
from notifications.models import OutboxMessage, SimulatedSms
from notifications.services import outbox_flush
from provisioning import services as provisioning
from provisioning.errors import OperatorRefusal
from provisioning.models import SimulatedEsimProfile, SimulatedOperatorRequest
from provisioning.simulators.orange import OrangeSimulator
from tests.factories.contracts import offer

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
SATURDAY_21H = datetime(2027, 3, 13, 21, tzinfo=PARIS)
MONDAY_9H = datetime(2027, 3, 15, 9, tzinfo=PARIS)
MONDAY_10H = datetime(2027, 3, 15, 10, tzinfo=PARIS)
CONTACT_EMAIL = "anne.brout@example.fr"
CONTACT_MOBILE = "0787561725"
CONTACT_MOBILE_E164 = "+33787561725"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch, settings):
    monkeypatch.setattr(notification_services, "_wake_sender", lambda: None)
    settings.PROVISIONING_WAKE_ON_ORDER = False
    settings.SIMULATOR_LATENCY_SECONDS = 0
    settings.SIMULATOR_FAILURE_RATE = 0.0
    settings.SMS_GATEWAY = "notifications.sms.SimulatedSmsGateway"
    settings.SMS_SIMULATOR_DOWN = False


def order_esim(partner, client_account, *, mobile: str = CONTACT_MOBILE) -> Contract:
    order = order_place(
        partner=partner,
        client=client_account,
        created_by=None,
        offer=offer("OR-ILL-10G-B"),
        quantity=1,
        lines=[
            LineSpec(
                user_name="Anne Brout", sim_type="esim", contact_email=CONTACT_EMAIL, contact_mobile=mobile
            )
        ],
    )
    return order.contracts.get()


def esim_outbox(contract: Contract):
    return OutboxMessage.objects.filter(ref_type="contracts.contract", ref_id=str(contract.pk))


@pytest.fixture
def live_esim(time_machine, catalog, partner, client_account, orange_stock):
    """An eSIM line ordered on Saturday 21:00 and created by Orange on Monday 09:00 (R-PRV-2)."""
    time_machine.move_to(SATURDAY_21H, tick=False)
    contract = order_esim(partner, client_account)
    provisioning.dispatch_due_requests()
    time_machine.move_to(MONDAY_9H, tick=False)
    provisioning.dispatch_due_requests()
    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    return contract


# --------------------------------------------------------------------------------------------------------
# When: allocated at order (R-OPT-2), sent when the operator confirms the creation (R-ORD-3)
# --------------------------------------------------------------------------------------------------------


def test_R_OPT_2_profile_allocated_at_order_but_nothing_sent_before_the_operator_creates_it(
    time_machine, client, catalog, partner, staff, client_account, orange_stock
):
    time_machine.move_to(SATURDAY_21H, tick=False)
    contract = order_esim(partner, client_account)
    provisioning.dispatch_due_requests()  # planned for Monday 09:00 (R-PRV-2)

    contract.refresh_from_db()
    assert contract.esim is not None and contract.esim.state == EsimProfile.State.ALLOCATED
    assert contract.state == Contract.State.PENDING
    assert not esim_outbox(contract).exists()
    with pytest.raises(RuleViolation) as early:
        esim.contract_esim_resend(contract=contract, email=CONTACT_EMAIL, mobile=CONTACT_MOBILE, actor=staff)
    assert early.value.rule == "R-ORD-4" and early.value.field == "esim"
    # the Resources tab already shows the profile, and says when the details go out
    client.force_login(staff)
    page = client.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "ressources"})
    )
    body = page.content.decode()
    assert contract.esim.activation_code in body
    assert "partent dès que l" in body and "opérateur a créé le profil" in body
    assert reverse("backoffice:contract_esim_resend", kwargs={"contract_id": contract.pk}) not in body


def test_R_ORD_3_email_and_sms_sent_when_the_operator_confirms_the_creation(live_esim):
    contract = live_esim
    profile = contract.esim
    activation = EsimActivation.objects.get(esim=profile)
    operator_profile = SimulatedEsimProfile.objects.get(iccid=profile.iccid)

    # the codes the operator checks are the ones the platform sends
    assert activation.confirmed_at == MONDAY_9H
    assert activation.activation_code == profile.activation_code == operator_profile.activation_code
    assert f"${profile.matching_id}$" in activation.activation_code
    assert activation.activation_code == f"LPA:1${profile.smdp_address}${profile.matching_id}$$1"
    assert activation.confirmation_code == operator_profile.confirmation_code
    assert len(activation.confirmation_code) == 6 and activation.confirmation_code.isdigit()

    email_row = esim_outbox(contract).get(channel=OutboxMessage.Channel.EMAIL)
    sms_row = esim_outbox(contract).get(channel=OutboxMessage.Channel.SMS)
    assert email_row.to == CONTACT_EMAIL and sms_row.to == CONTACT_MOBILE_E164
    assert email_row.dedup_key == f"esim:{contract.pk}:{profile.iccid}:email"
    # R-ORD-4: the activation code (and its QR code) in the email, never the confirmation code
    assert (
        activation.activation_code in email_row.body_text
        and activation.activation_code in email_row.body_html
    )
    code = activation.confirmation_code
    assert (
        code not in email_row.body_text and code not in email_row.body_html and code not in email_row.subject
    )
    assert email_row.attachments.get().mimetype == "image/png"
    assert code in sms_row.body_text
    event = contract.events.get(
        kind=ContractEvent.Kind.RESOURCE, message__startswith="Informations eSIM envoyées"
    )
    assert CONTACT_EMAIL in event.message and event.data["rule"] == "R-ORD-3"

    outbox_flush()
    (sent,) = mail.outbox
    assert sent.to == [CONTACT_EMAIL] and sent.subject == "Activez votre eSIM"
    assert sent.alternatives and sent.alternatives[0][1] == "text/html"  # HTML + text
    assert code not in sent.body
    sms = SimulatedSms.objects.get(to=CONTACT_MOBILE_E164)
    assert code in sms.text


def test_R_ORD_3_a_retried_confirmation_or_delivery_never_sends_twice(live_esim):
    contract = live_esim
    request = contract.operator_requests.get(kind=RequestKind.CREATE_LINE_ESIM)
    events = contract.events.count()

    outcomes.operator_request_completed(request_id=request.pk, result=request.result)  # delivered twice
    esim.esim_operator_confirmed(request=request, contract=contract, result=request.result)
    esim.esim_delivery_for_contract(contract)

    assert esim_outbox(contract).count() == 2
    assert contract.events.count() == events


def test_R_ORD_3_missing_contact_is_noted_and_never_undoes_the_activation(
    time_machine, catalog, partner, client_account, orange_stock
):
    time_machine.move_to(MONDAY_9H, tick=False)
    contract = order_esim(partner, client_account)
    Contract.objects.filter(pk=contract.pk).update(contact_email="")

    provisioning.dispatch_due_requests()

    contract.refresh_from_db()
    assert contract.state == Contract.State.ACTIVE
    assert not esim_outbox(contract).exists()
    note = contract.events.get(
        kind=ContractEvent.Kind.NOTE, message__startswith="Informations eSIM non envoyées"
    )
    assert note.data["rule"] == "R-ORD-3"


# --------------------------------------------------------------------------------------------------------
# Resend from the Resources tab (R-ORD-4)
# --------------------------------------------------------------------------------------------------------


def test_R_ORD_4_resend_always_sends_again_with_a_new_history_line(live_esim, staff):
    contract = live_esim
    code = EsimActivation.objects.get(esim=contract.esim).confirmation_code

    esim.contract_esim_resend(contract=contract, email="it@client.fr", mobile="06 11 22 33 44", actor=staff)
    esim.contract_esim_resend(contract=contract, email="it@client.fr", mobile="06 11 22 33 44", actor=staff)

    rows = esim_outbox(contract)
    assert rows.count() == 6
    assert rows.filter(to="it@client.fr").count() == 2 and rows.filter(to="+33611223344").count() == 2
    assert all(code in r.body_text for r in rows.filter(channel="sms"))
    resent = contract.events.filter(
        kind=ContractEvent.Kind.RESOURCE, message__startswith="Informations eSIM renvoyées"
    )
    assert resent.count() == 2
    assert {e.actor for e in resent} == {staff} and resent.first().data["rule"] == "R-ORD-4"


@pytest.mark.parametrize(
    ("email", "mobile", "field", "rule"),
    [
        ("", "0611223344", "email", "R-ORD-4"),
        ("pas-un-mail", "0611223344", "email", "R-ORD-4"),
        ("it@client.fr", "", "mobile", "R-ORD-4"),
        ("it@client.fr", "0123", "mobile", "R-ORD-4"),
        ("it@client.fr", "LINE", "mobile", "R-ORD-3"),  # the line's own number cannot receive its code
    ],
)
def test_R_ORD_4_resend_refusals_are_french_and_name_the_field(live_esim, staff, email, mobile, field, rule):
    contract = live_esim
    if mobile == "LINE":
        mobile = contract.msisdn
    before = esim_outbox(contract).count()

    with pytest.raises(RuleViolation) as refused:
        esim.contract_esim_resend(contract=contract, email=email, mobile=mobile, actor=staff)

    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert refused.value.message[0].isupper() and " " in refused.value.message
    assert esim_outbox(contract).count() == before


def test_R_ORD_4_resend_page_posts_then_shows_deliveries(live_esim, client, staff):
    contract = live_esim
    client.force_login(staff)
    url = reverse("backoffice:contract_esim_resend", kwargs={"contract_id": contract.pk})

    tab = client.get(
        reverse("backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "ressources"})
    )
    body = tab.content.decode()
    activation = EsimActivation.objects.get(esim=contract.esim)
    assert url in body and "Renvoyer les informations" in body
    assert activation.confirmation_code in body  # seed: "Le code de confirmation : 829878"
    assert "data:image/png;base64," in body and CONTACT_EMAIL in body
    assert len(tab.context["esim_deliveries"]) == 2

    bad = client.post(url, {"email": "nope", "mobile": "0611223344"})
    assert bad.status_code == 422 and "Adresse e-mail invalide" in bad.content.decode()

    ok = client.post(url, {"email": "it@client.fr", "mobile": "0611223344"})
    assert ok.status_code == 302
    assert ok["Location"] == reverse(
        "backoffice:contract_tab", kwargs={"contract_id": contract.pk, "tab": "ressources"}
    )
    assert esim_outbox(contract).filter(to="it@client.fr").exists()
    shown = client.get(ok["Location"]).content.decode()
    assert "it@client.fr" in shown and "+33611223344" in shown


def test_R_ORD_4_resend_of_a_terminated_line_is_refused(live_esim, staff):
    Contract.objects.filter(pk=live_esim.pk).update(state=Contract.State.TERMINATED)
    with pytest.raises(RuleViolation) as refused:
        esim.contract_esim_resend(contract=live_esim, email=CONTACT_EMAIL, mobile="0611223344", actor=staff)
    assert refused.value.rule == "R-CON-6"


# --------------------------------------------------------------------------------------------------------
# The handset's download at the operator: 3 wrong tries lock, an installed eSIM is never reused (R-ORD-4)
# --------------------------------------------------------------------------------------------------------


def test_R_ORD_4_three_wrong_tries_lock_the_code_even_for_the_right_one(live_esim):
    profile = live_esim.esim
    right = EsimActivation.objects.get(esim=profile).confirmation_code
    wrong = "000000" if right != "000000" else "111111"
    operator = OrangeSimulator()

    first = operator.esim_confirm(profile.iccid, wrong)
    second = operator.esim_confirm(profile.matching_id, wrong)
    third = operator.esim_confirm(profile.activation_code, wrong)
    after = operator.esim_confirm(profile.iccid, right)

    assert (first.status, first.tries_left) == ("wrong_code", 2)
    assert (second.status, second.tries_left) == ("wrong_code", 1)
    assert third.status == "locked" and "3 essais erronés" in third.message
    assert after.status == "locked" and not after.ok
    row = SimulatedEsimProfile.objects.get(iccid=profile.iccid)
    assert row.failed_attempts == 3 and row.locked_at is not None and row.installed_at is None


def test_R_ORD_4_right_code_installs_once_and_never_again(live_esim):
    profile = live_esim.esim
    right = EsimActivation.objects.get(esim=profile).confirmation_code
    operator = OrangeSimulator()

    assert (
        operator.esim_confirm(profile.iccid, "999999" if right != "999999" else "888888").status
        == "wrong_code"
    )
    installed = operator.esim_confirm(profile.iccid, right)
    again = operator.esim_confirm(profile.iccid, right)  # another phone, or deleted and re-scanned

    assert installed.ok and installed.installed_at == MONDAY_9H
    assert again.status == "already_installed" and "ne peut pas être installée à nouveau" in again.message
    assert SimulatedEsimProfile.objects.get(iccid=profile.iccid).installed_at == MONDAY_9H


def test_R_OPT_2_installed_esim_is_never_reused_by_the_operator(live_esim):
    profile = live_esim.esim
    operator = OrangeSimulator()
    operator.esim_confirm(profile.iccid, EsimActivation.objects.get(esim=profile).confirmation_code)
    base = {"offer_code": "OR-ILL-10G-B", "range": "illimite", "esim": True}

    with pytest.raises(OperatorRefusal) as same_iccid:
        operator.submit(
            RequestKind.CREATE_LINE_ESIM, key=uuid.uuid4().hex, payload={**base, "iccid": profile.iccid}
        )
    assert same_iccid.value.code == "iccid_used"

    ticket = operator.submit(
        RequestKind.CREATE_LINE_ESIM,
        key=uuid.uuid4().hex,
        payload={**base, "matching_id": profile.matching_id},
    )
    status = operator.request_status(ticket.reference)
    assert (
        status.state == "failed"
        and not status.retryable
        and "une eSIM ne s'installe qu'une fois" in status.error
    )
    assert SimulatedEsimProfile.objects.filter(matching_id=profile.matching_id).count() == 1


def test_R_OPT_2_sim_swap_away_from_an_installed_esim_retires_it(
    time_machine, live_esim, staff, orange_stock
):
    from contracts import lifecycle

    contract = live_esim
    profile = contract.esim
    operator = OrangeSimulator()
    assert operator.esim_confirm(profile.iccid, EsimActivation.objects.get(esim=profile).confirmation_code).ok
    time_machine.move_to(MONDAY_10H, tick=False)
    new_sim = SimCard.objects.filter(
        partner=contract.partner, network="orange", state=SimCard.State.IN_STOCK
    ).first()

    lifecycle.contract_sim_swap(contract=contract, actor=staff, iccid=new_sim.iccid)
    provisioning.dispatch_due_requests()

    contract.refresh_from_db()
    profile.refresh_from_db()
    assert contract.sim_id == new_sim.pk and contract.esim_id is None
    assert profile.state == EsimProfile.State.RETIRED  # never handed out again (inventory)
    assert operator.esim_confirm(profile.iccid, "123456").status == "retired"  # nor at the operator
    assert SimulatedEsimProfile.objects.get(iccid=profile.iccid).retired_at == MONDAY_10H


def test_R_ORD_4_swap_to_esim_sends_the_new_profile_when_the_operator_confirms(
    time_machine, catalog, partner, staff, client_account, orange_stock
):
    from contracts import lifecycle

    time_machine.move_to(MONDAY_10H, tick=False)
    order = order_place(
        partner=partner,
        client=client_account,
        created_by=None,
        offer=offer("OR-ILL-10G-B"),
        quantity=1,
        lines=[LineSpec(user_name="SIM physique")],
    )
    provisioning.dispatch_due_requests()
    contract = order.contracts.get()
    assert contract.state == Contract.State.ACTIVE and not esim_outbox(contract).exists()

    lifecycle.contract_sim_swap(
        contract=contract, actor=staff, esim=True, contact_email="new@client.fr", contact_mobile="0611223344"
    )
    provisioning.dispatch_due_requests()

    contract.refresh_from_db()
    assert contract.esim is not None
    operator_profile = SimulatedEsimProfile.objects.get(iccid=contract.esim.iccid)
    activation = EsimActivation.objects.get(esim=contract.esim)
    assert activation.confirmation_code == operator_profile.confirmation_code
    assert activation.activation_code == contract.esim.activation_code
    sms = esim_outbox(contract).get(channel="sms")
    assert sms.to == "+33611223344" and activation.confirmation_code in sms.body_text
    assert esim_outbox(contract).get(channel="email").to == "new@client.fr"


def test_R_ORD_4_operator_uses_the_confirmation_code_the_platform_drew(
    time_machine, catalog, partner, client_account
):
    from django.db import transaction

    from inventory import services as inventory
    from tests.factories.contracts import ContractFactory

    time_machine.move_to(MONDAY_10H, tick=False)
    contract = ContractFactory(order__client=client_account, order__offer=offer("OR-ILL-10G-B"))
    with transaction.atomic():
        (profile,) = inventory.esim_allocate(partner=partner, count=1, client=client_account)
        fields = esim.esim_request_fields(contract=contract, profile=profile)
    assert fields["confirmation_code"] == EsimActivation.objects.get(esim=profile).confirmation_code
    assert EsimActivation.objects.get(esim=profile).confirmed_at is None  # not the operator's word yet

    operator = OrangeSimulator()
    ticket = operator.submit(
        RequestKind.CREATE_LINE_ESIM,
        key=uuid.uuid4().hex,
        payload={"offer_code": "OR-ILL-10G-B", "range": "illimite", **fields},
    )
    result = operator.request_status(ticket.reference).result
    assert result["confirmation_code"] == fields["confirmation_code"]
    assert result["activation_code"] == profile.activation_code
    assert SimulatedOperatorRequest.objects.get(reference=ticket.reference).status == "completed"


def test_simulate_esim_download_command_plays_the_handset(live_esim):
    profile = live_esim.esim
    right = EsimActivation.objects.get(esim=profile).confirmation_code
    out = io.StringIO()

    call_command("simulate_esim_download", profile.iccid, stdout=out)
    call_command("simulate_esim_download", profile.iccid, right, stdout=out)
    call_command("simulate_esim_download", profile.iccid, stdout=out)

    lines = out.getvalue().splitlines()
    assert "3 essai(s) restant(s)" in lines[0]
    assert lines[1].startswith("[installed]")
    assert "installé le" in lines[2]


def test_R_ORD_3_resources_reads_are_partner_scoped(live_esim):
    from tests.factories.partners import PartnerFactory

    other = PartnerFactory()
    assert esim.contract_esim_activation(live_esim.partner, live_esim) is not None
    assert esim.contract_esim_activation(other, live_esim) is None
    assert list(esim.contract_esim_deliveries(other, live_esim)) == []
    assert OperatorRequest.objects.filter(contract=live_esim).exists()
