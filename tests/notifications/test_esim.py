"""eSIM delivery: the activation email with its QR code and the confirmation SMS (R-ORD-3, R-ORD-4, R-OPT-2)."""

import email
import email.policy
import re

import pytest
from django.core import mail

from core.errors import RuleViolation
from notifications import services
from notifications.models import OutboxMessage, SimulatedSms
from notifications.qr import qr_png
from notifications.rules import activation_code_build, activation_code_parse
from notifications.selectors import outbox_get_for_partner_or_404, outbox_list
from notifications.services import confirmation_code_generate, esim_delivery_enqueue, outbox_flush
from tests.notifications.conftest import (
    ACTIVATION,
    CONFIRMATION,
    CONTACT_MOBILE_E164,
    esim_kwargs,
)

pytestmark = pytest.mark.django_db


def _deliver(partner, **overrides):
    delivery = esim_delivery_enqueue(**esim_kwargs(partner, **overrides))
    outbox_flush()
    return delivery


def _mime(sent) -> email.message.EmailMessage:
    return email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)


def test_R_ORD_4_email_carries_the_activation_code_in_text_and_html(partner):
    _deliver(partner)

    (sent,) = mail.outbox
    assert sent.to == ["anne-charlotte.brout@example.fr"]
    assert sent.subject == "Activez votre eSIM"
    html = sent.alternatives[0][0]
    for body in (sent.body, html):
        assert ACTIVATION in body
        assert "smdp.orange-esim.example" in body and "FNGIN-AOPQD-ITV3J-O2WPK" in body
        assert "06 12 34 56 78" in body  # the line
        assert "07 87 56 17 25" in body  # where the SMS goes (R-ORD-3)
        assert "83243" in body


def test_R_ORD_4_qr_code_is_an_inline_png_of_the_exact_activation_string(partner):
    _deliver(partner)

    (sent,) = mail.outbox
    message = _mime(sent)
    assert message.get_content_type() == "multipart/related"
    images = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    png = images[0].get_payload(decode=True)
    cid = images[0]["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in message.get_body(preferencelist=("html",)).get_content()
    # segno cannot decode: the PNG must be byte for byte the one generated from the whole string, LPA: included
    assert png == qr_png(ACTIVATION)
    assert png != qr_png(ACTIVATION.removeprefix("LPA:"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_R_ORD_3_confirmation_code_goes_by_sms_and_never_in_the_email(partner):
    delivery = _deliver(partner)

    (sent,) = mail.outbox
    raw = sent.message().as_bytes()
    assert CONFIRMATION.encode() not in raw
    mime = _mime(sent)
    for part in mime.walk():
        if part.get_content_maintype() == "text":
            assert CONFIRMATION not in part.get_content()
    assert CONFIRMATION not in ACTIVATION  # ID-LPA: never part of the activation code
    sms = SimulatedSms.objects.get()
    assert sms.to == CONTACT_MOBILE_E164
    assert re.search(r"\b\d{6}\b", sms.text).group() == CONFIRMATION
    assert "3 essais" in sms.text
    assert delivery.sms.to == CONTACT_MOBILE_E164
    assert {m.state for m in OutboxMessage.objects.all()} == {OutboxMessage.State.SENT}


def test_R_ORD_4_and_R_OPT_2_warnings_are_in_the_email(partner):
    _deliver(partner)

    (sent,) = mail.outbox
    html = sent.alternatives[0][0]
    for body in (sent.body, html.replace("&#x27;", "'")):
        # R-ORD-4: never delete an installed eSIM, it cannot be installed again; code locked after 3 wrong tries
        assert "ne devez supprimer votre eSIM" in body
        assert "ne peut pas être installée à nouveau" in body
        assert "désactivé après 3 essais erronés" in body
        # R-OPT-2: compatible handsets only, not Apple Watch / tablets / secondary devices, one phone only
        assert "téléphone compatible" in body
        assert "Apple Watch" in body and "tablettes" in body and "appareils secondaires" in body
        assert "nouvelle eSIM est nécessaire" in body


@pytest.mark.parametrize(
    "bad",
    [
        "1$smdp.example$ABC-123$$1",  # no LPA: prefix
        "LPA:1$smdp.example$abc-123$$1",  # lower-case matching id
        "LPA:2$smdp.example$ABC-123$$1",
        "LPA:1$smdp.example$ABC$123$$1",  # a $ inside a field
        "",
    ],
)
def test_R_ORD_4_invalid_activation_code_is_refused(partner, bad):
    with pytest.raises(RuleViolation) as exc:
        esim_delivery_enqueue(**esim_kwargs(partner, activation_code=bad))
    assert (exc.value.rule, exc.value.field) == ("R-ORD-4", "activation_code")
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize("bad", ["12345", "1234567", "12a456", ""])
def test_R_ORD_3_confirmation_code_must_be_6_digits(partner, bad):
    with pytest.raises(RuleViolation) as exc:
        esim_delivery_enqueue(**esim_kwargs(partner, confirmation_code=bad))
    assert (exc.value.rule, exc.value.field) == ("R-ORD-3", "confirmation_code")
    assert not OutboxMessage.objects.exists()


def test_R_ORD_4_confirmation_code_inside_the_activation_code_is_refused(partner):
    with pytest.raises(RuleViolation) as exc:
        esim_delivery_enqueue(
            **esim_kwargs(
                partner, activation_code="LPA:1$smdp.example$AB-123456-CD$$1", confirmation_code="123456"
            )
        )
    assert exc.value.rule == "R-ORD-4"


def test_R_ORD_3_invalid_contact_mobile_queues_nothing(partner):
    with pytest.raises(RuleViolation) as exc:
        esim_delivery_enqueue(**esim_kwargs(partner, to_mobile="0123"))
    assert exc.value.field == "to"
    assert not OutboxMessage.objects.exists()


def test_first_delivery_is_deduplicated_and_a_resend_is_sent_again(partner):
    """R-ORD-4: the partner can resend the eSIM details (Resources tab); a repeated first delivery is not."""
    key = "esim:83243:8933010000000000001"
    first = esim_delivery_enqueue(**esim_kwargs(partner), dedup_key=key)
    repeat = esim_delivery_enqueue(**esim_kwargs(partner), dedup_key=key)
    assert (repeat.email.pk, repeat.sms.pk) == (first.email.pk, first.sms.pk)

    esim_delivery_enqueue(**esim_kwargs(partner, to_email="autre@example.fr", to_mobile="0698765432"))
    outbox_flush()

    assert [m.to[0] for m in mail.outbox] == ["anne-charlotte.brout@example.fr", "autre@example.fr"]
    assert sorted(SimulatedSms.objects.values_list("to", flat=True)) == ["+33698765432", CONTACT_MOBILE_E164]


def test_deliveries_are_listed_by_contract_and_scoped_to_the_partner(partner, other_partner):
    """STYLE 26: another partner sees nothing and gets 404."""
    delivery = esim_delivery_enqueue(**esim_kwargs(partner))
    esim_delivery_enqueue(**esim_kwargs(other_partner, contract_ref=83243))
    esim_delivery_enqueue(**esim_kwargs(partner, contract_ref=99))

    mine = outbox_list(partner, ref=("contracts.contract", 83243))
    assert {m.pk for m in mine} == {delivery.email.pk, delivery.sms.pk}
    assert outbox_list(partner, ref=("contracts.contract", 83243), channel="sms").get().pk == delivery.sms.pk
    assert outbox_list(partner).count() == 4
    assert all(m.partner_id == other_partner.pk for m in outbox_list(other_partner))
    assert outbox_get_for_partner_or_404(partner, delivery.email.pk) == delivery.email
    from django.http import Http404

    with pytest.raises(Http404):
        outbox_get_for_partner_or_404(other_partner, delivery.email.pk)
    with pytest.raises(Http404):
        outbox_get_for_partner_or_404(partner, "abc")


def test_R_ORD_3_confirmation_code_generate_gives_6_digits():
    codes = {confirmation_code_generate() for _ in range(50)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes)
    assert len(codes) > 40  # drawn at random


def test_confirmation_code_generate_avoids_the_activation_code(monkeypatch):
    draws = iter([123456, 654321])
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: next(draws))
    assert confirmation_code_generate(avoid=["LPA:1$smdp.example$AB-123456$$1"]) == "654321"


def test_confirmation_code_generate_keeps_leading_zeros(monkeypatch):
    monkeypatch.setattr(services.secrets, "randbelow", lambda n: 42)
    assert confirmation_code_generate() == "000042"


@pytest.mark.parametrize(
    ("code", "smdp", "matching", "cc"),
    [
        (
            "LPA:1$rsp-0004.oberthur.net$FNGIN-AOPQD-ITV3J-O2WPK$$1",
            "rsp-0004.oberthur.net",
            "FNGIN-AOPQD-ITV3J-O2WPK",
            True,
        ),
        ("LPA:1$smdp.example$K2-1A2B3C", "smdp.example", "K2-1A2B3C", False),
        ("LPA:1$smdp.example:8443$ABC$1.3.6.1$1", "smdp.example:8443", "ABC", True),
    ],
)
def test_ID_LPA_activation_code_round_trip(code, smdp, matching, cc):
    parsed = activation_code_parse(code)
    assert (parsed.smdp_address, parsed.matching_id, parsed.confirmation_required) == (smdp, matching, cc)
    assert parsed.value == code


def test_ID_LPA_build_gives_the_seed_form():
    assert (
        activation_code_build(smdp_address="rsp-0004.oberthur.net", matching_id="QFSA0-UGXKF-Y00VV-IYPIK")
        == "LPA:1$rsp-0004.oberthur.net$QFSA0-UGXKF-Y00VV-IYPIK$$1"
    )
