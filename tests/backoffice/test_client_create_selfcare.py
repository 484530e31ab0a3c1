"""R-SC-1 « Ouvrir l'accès selfcare » when the partner's staff create a client (R-BO-1): the optional email and
login create the self-care user and send the set-password email through the same services as « Configuration
selfcare » — in one transaction: a bad self-care field refuses the whole form with a French message next to it,
and nothing is saved (no client, no user, no access, no email)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from core.errors import RuleViolation
from notifications.models import OutboxMessage
from partners.models import ClientAccount, SelfcareAccess, User
from partners.selfcare import client_create_with_selfcare
from tests.factories.partners import MembershipFactory, SelfcareAccessFactory, make_siret

pytestmark = pytest.mark.django_db

URL = "/clients/nouveau/"


def _form_data(**overrides):
    data = {
        "account_type": "pro_vat",
        "company_name": "Boulangerie Dupain",
        "siret": make_siret(4242),
        "email": "compta@dupain.fr",
        "country": "FR",
        "selfcare_email": "flotte@dupain.fr",
        "selfcare_username": "flotte@dupain",
    }
    data.update(overrides)
    return data


def _nothing_saved(users_before: int) -> None:
    assert not ClientAccount.objects.exists()
    assert not SelfcareAccess.objects.exists()
    assert User.objects.count() == users_before
    assert not OutboxMessage.objects.exists()


def test_R_SC_1_create_client_with_selfcare_access_sends_the_invitation(staff_client, partner):
    response = staff_client.post(URL, _form_data(selfcare_esim_swap_allowed="on"), follow=True)
    assert response.status_code == 200
    client = ClientAccount.objects.get(partner=partner)
    access = SelfcareAccess.objects.select_related("user").get(client=client)
    assert access.partner_id == partner.pk
    assert (access.user.username, access.user.email) == ("flotte@dupain", "flotte@dupain.fr")
    assert not access.user.has_usable_password()  # the client chooses it through the link
    assert access.invitation_sent_at is not None
    assert client.selfcare_esim_swap_allowed is True
    message = OutboxMessage.objects.get()
    assert message.to == "flotte@dupain.fr"
    links = re.findall(r"https?://[^\s\"<]+/mot-de-passe/[^\s\"<]+/", message.body_text)
    assert links and f"{partner.slug}.espaceclient." in links[0]
    messages = [str(m) for m in response.context["messages"]]
    assert "Le client « Boulangerie Dupain » a été créé." in messages
    assert any("flotte@dupain" in m and "flotte@dupain.fr" in m for m in messages)


def test_R_SC_1_selfcare_block_is_optional(staff_client, partner):
    data = _form_data(selfcare_email="", selfcare_username="")
    assert staff_client.post(URL, data).status_code == 302
    client = ClientAccount.objects.get(partner=partner)
    assert client.selfcare_esim_swap_allowed is False
    assert not SelfcareAccess.objects.exists() and not OutboxMessage.objects.exists()


def test_R_SC_1_create_page_offers_the_block_and_edit_page_does_not(staff_client, partner):
    html = staff_client.get(URL).content.decode()
    assert "Ouvrir l'accès selfcare" in html
    for name in ("selfcare_email", "selfcare_username", "selfcare_esim_swap_allowed"):
        assert f'name="{name}"' in html
    client = ClientAccount.objects.create(
        partner=partner, company_name="X", siret=make_siret(5), email="x@x.fr"
    )
    edit = staff_client.get(
        reverse("backoffice:client_edit", kwargs={"client_id": client.pk})
    ).content.decode()
    assert "Ouvrir l'accès selfcare" not in edit


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"selfcare_username": ""}, "selfcare_username", "L'identifiant selfcare est obligatoire."),
        ({"selfcare_email": ""}, "selfcare_email", "L'adresse e-mail est obligatoire."),
        ({"selfcare_email": "pas-un-email"}, "selfcare_email", "Saisissez une adresse e-mail valide."),
        ({"selfcare_username": "taken@login"}, "selfcare_username", "Cet identifiant est déjà utilisé."),
        ({"selfcare_username": "TAKEN@login"}, "selfcare_username", "Cet identifiant est déjà utilisé."),
        ({"selfcare_username": "staff-login"}, "selfcare_username", "Cet identifiant est déjà utilisé."),
        (
            {"selfcare_username": "avec espace"},
            "selfcare_username",
            "L'identifiant ne peut contenir que des lettres, des chiffres et les caractères @ . + - _.",
        ),
    ],
    ids=[
        "login missing",
        "email missing",
        "email invalid",
        "login taken",
        "login taken (case)",
        "staff login",
        "login characters",
    ],
)
def test_R_SC_1_bad_selfcare_field_refuses_the_whole_form(staff_client, partner, overrides, field, message):
    SelfcareAccessFactory(user__username="taken@login")
    MembershipFactory(partner=partner, user__username="staff-login")
    clients_before = set(ClientAccount.objects.values_list("pk", flat=True))
    users_before = User.objects.count()
    OutboxMessage.objects.all().delete()
    response = staff_client.post(URL, _form_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    body = response.content.decode()
    field_html = body[body.index(f'id="field-{field}"') :]
    assert message.replace("'", "&#x27;") in field_html[: field_html.index("</div>")]
    assert 'value="Boulangerie Dupain"' in body  # the input is kept
    assert set(ClientAccount.objects.values_list("pk", flat=True)) == clients_before  # no new client
    assert User.objects.count() == users_before
    assert not OutboxMessage.objects.exists()


def test_R_SC_1_client_refusal_creates_no_selfcare_user(staff_client):
    users_before = User.objects.count()
    response = staff_client.post(URL, _form_data(siret="1234"))
    assert response.context["form"].errors == {"siret": ["Le SIRET doit comporter exactement 14 chiffres."]}
    _nothing_saved(users_before)


def test_R_SC_1_a_failure_while_sending_the_invitation_rolls_everything_back(partner, monkeypatch):
    """The email is the last step: if it fails, the client and the self-care user created before are undone."""
    import partners.selfcare as selfcare_services

    def broken(**kwargs):
        raise RuleViolation("panne", rule="R-SC-1")

    monkeypatch.setattr(selfcare_services, "_send_link", broken)
    users_before = User.objects.count()
    with pytest.raises(RuleViolation):
        client_create_with_selfcare(
            partner=partner,
            client_data={"company_name": "Boulangerie Dupain", "siret": make_siret(4242), "email": "c@d.fr"},
            selfcare_email="flotte@dupain.fr",
            selfcare_username="flotte@dupain",
            selfcare_root_url="http://telcom-test.espaceclient.localhost",
        )
    _nothing_saved(users_before)
