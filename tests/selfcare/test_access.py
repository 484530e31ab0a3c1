"""R-SC-1 « Configuration selfcare » from the back-office client page, and the single-use set-password link."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.errors import RuleViolation
from notifications.models import OutboxMessage
from notifications.services import outbox_flush
from partners.models import ClientAccount, SelfcareAccess, User
from partners.selfcare import selfcare_access_create
from tests.factories.partners import ClientAccountFactory, MembershipFactory, SelfcareAccessFactory

from .conftest import link_in, login

pytestmark = pytest.mark.django_db


def _page(client_account):
    return reverse("backoffice:client_selfcare", kwargs={"client_id": client_account.pk})


def test_R_SC_1_client_page_links_to_selfcare_configuration(staff_browser, client_account):
    page = staff_browser.get(reverse("backoffice:client_detail", kwargs={"client_id": client_account.pk}))
    assert _page(client_account) in page.content.decode()
    assert "Configuration selfcare" in page.content.decode()


def test_R_SC_1_page_shows_the_partner_selfcare_url(staff_browser, client_account, partner):
    page = staff_browser.get(_page(client_account))
    assert page.status_code == 200
    assert page.context["selfcare_url"] == "http://telcom-test.espaceclient.localhost/"
    assert "http://telcom-test.espaceclient.localhost/" in page.content.decode()


def test_R_SC_1_url_keeps_the_port_in_debug(staff_browser, client_account, settings):
    settings.DEBUG = True
    page = staff_browser.get(_page(client_account), HTTP_HOST="localhost:8000")
    assert page.context["selfcare_url"] == "http://telcom-test.espaceclient.localhost:8000/"


def test_R_SC_1_create_access_sends_a_link_never_a_password(staff_browser, client_account, partner):
    response = staff_browser.post(
        _page(client_account), {"action": "create", "email": "flotte@martin.fr", "username": "flotte@martin"}
    )
    assert response.status_code == 302
    access = SelfcareAccess.objects.get(client=client_account)
    assert (access.partner, access.user.username, access.user.email) == (
        partner,
        "flotte@martin",
        "flotte@martin.fr",
    )
    assert not access.user.has_usable_password()
    assert access.invitation_sent_at is not None
    message = OutboxMessage.objects.get(ref_type="partners.selfcareaccess", ref_id=str(access.pk))
    assert message.to == "flotte@martin.fr"
    assert "Telcom Test" in message.subject
    link = link_in(message)
    assert link.startswith("http://telcom-test.espaceclient.localhost/mot-de-passe/")
    assert "flotte@martin" in message.body_text and "Identifiant" in message.body_text
    assert "mot de passe :" not in message.body_text.lower()
    assert "<html" in message.body_html and "Bonjour" in message.body_html
    # the email really leaves through the outbox
    outbox_flush()
    assert [m.to for m in mail.outbox] == [["flotte@martin.fr"]]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "", "username": "flotte"}, "email", "Ce champ est obligatoire."),
        ({"email": "pas-un-email", "username": "flotte"}, "email", "Saisissez une adresse e-mail valide."),
        ({"email": "a@b.fr", "username": ""}, "username", "Ce champ est obligatoire."),
        ({"email": "a@b.fr", "username": "avec espace"}, "username", "L’identifiant ne peut contenir"),
        ({"email": "a@b.fr", "username": "DEJA-PRIS"}, "username", "Cet identifiant est déjà utilisé."),
    ],
)
def test_R_SC_1_invalid_access_shows_french_error_next_to_field_and_saves_nothing(
    staff_browser, client_account, data, field, message
):
    SelfcareAccessFactory(user__username="deja-pris")
    users_before = User.objects.count()
    response = staff_browser.post(_page(client_account), {"action": "create", **data})
    assert response.status_code == 422
    errors = response.context["access_form"].errors
    assert list(errors) == [field]
    assert errors[field][0].replace("'", "’").startswith(message.replace("'", "’"))
    assert f'id="field-{field}"' in response.content.decode()
    assert User.objects.count() == users_before
    assert not SelfcareAccess.objects.filter(client=client_account).exists()
    assert not OutboxMessage.objects.exists()


def test_R_SC_1_partner_staff_login_cannot_become_a_selfcare_user(client_account, partner):
    staff = MembershipFactory(partner=partner).user
    with pytest.raises(RuleViolation) as exc:
        selfcare_access_create(client=client_account, username=staff.username.upper(), email="x@y.fr")
    assert exc.value.field == "username"
    assert not SelfcareAccess.objects.exists()


def test_R_SC_1_a_client_may_have_several_selfcare_users(staff_browser, client_account):
    for n in (1, 2):
        staff_browser.post(
            _page(client_account), {"action": "create", "email": f"u{n}@m.fr", "username": f"u{n}@m"}
        )
    page = staff_browser.get(_page(client_account))
    assert sorted(a.user.username for a in page.context["accesses"]) == ["u1@m", "u2@m"]


def test_R_SC_1_esim_swap_option_is_stored_on_the_client(staff_browser, client_account):
    assert client_account.selfcare_esim_swap_allowed is False
    staff_browser.post(_page(client_account), {"action": "options", "esim_swap_allowed": "1"})
    assert ClientAccount.objects.get(pk=client_account.pk).selfcare_esim_swap_allowed is True
    staff_browser.post(_page(client_account), {"action": "options", "esim_swap_allowed": "0"})
    assert ClientAccount.objects.get(pk=client_account.pk).selfcare_esim_swap_allowed is False


def test_R_SC_1_edit_access_login_and_email(staff_browser, access, client_account):
    url = reverse(
        "backoffice:client_selfcare_access", kwargs={"client_id": client_account.pk, "access_id": access.pk}
    )
    SelfcareAccessFactory(user__username="pris")
    refused = staff_browser.post(url, {"email": "n@m.fr", "username": "pris"})
    assert refused.context["form"].errors == {"username": ["Cet identifiant est déjà utilisé."]}
    assert staff_browser.post(url, {"email": "n@m.fr", "username": "nouveau@m"}).status_code == 302
    access.user.refresh_from_db()
    assert (access.user.username, access.user.email) == ("nouveau@m", "n@m.fr")
    assert access.user.check_password("pw-test-123")  # the password is kept


def _send(staff_browser, access):
    url = reverse(
        "backoffice:client_selfcare_send", kwargs={"client_id": access.client_id, "access_id": access.pk}
    )
    assert staff_browser.post(url).status_code == 302
    return link_in(OutboxMessage.objects.filter(ref_id=str(access.pk)).latest("created_at"))


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_R_SC_1_regenerate_kills_the_old_password_and_the_link_sets_a_new_one_once(
    staff_browser, access, selfcare
):
    link = _send(staff_browser, access)
    access.user.refresh_from_db()
    assert not access.user.check_password("pw-test-123")  # regenerated: the old password no longer works
    page = selfcare.get(_path(link))
    assert page.status_code == 200 and "flotte@boulangerie" in page.content.decode()
    new = {"new_password1": "Pain-Complet-Au-Levain-7", "new_password2": "Pain-Complet-Au-Levain-7"}
    response = selfcare.post(_path(link), new)
    assert response.status_code == 302, response.context["form"].errors
    access.user.refresh_from_db()
    assert access.user.check_password("Pain-Complet-Au-Levain-7")
    # single use: the same link is now refused, for display and for a second password
    assert selfcare.get(_path(link)).status_code == 404
    again = selfcare.post(
        _path(link), {"new_password1": "Autre-Secret-Long-9", "new_password2": "Autre-Secret-Long-9"}
    )
    assert again.status_code == 404
    assert "n’est plus valide" in again.content.decode().replace("&#x27;", "’").replace("'", "’")
    access.user.refresh_from_db()
    assert access.user.check_password("Pain-Complet-Au-Levain-7")
    assert login(selfcare, "flotte@boulangerie", "Pain-Complet-Au-Levain-7").status_code == 302


def test_R_SC_1_a_new_link_kills_the_previous_one(staff_browser, access, selfcare):
    first = _send(staff_browser, access)
    second = _send(staff_browser, access)
    assert first != second
    assert selfcare.get(_path(first)).status_code == 404
    assert selfcare.get(_path(second)).status_code == 200


def test_R_SC_1_link_expires(staff_browser, access, selfcare, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        link = _send(staff_browser, access)
        traveller.shift(dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60))
        assert selfcare.get(_path(link)).status_code == 200
        traveller.shift(dt.timedelta(seconds=120))
        assert selfcare.get(_path(link)).status_code == 404


def test_R_SC_1_link_dies_after_a_password_change(staff_browser, access, selfcare):
    link = _send(staff_browser, access)
    access.user.set_password("Change-Ailleurs-123")
    access.user.save()
    assert selfcare.get(_path(link)).status_code == 404


def test_R_SC_1_weak_password_refused_in_french(staff_browser, access, selfcare):
    link = _send(staff_browser, access)
    response = selfcare.post(_path(link), {"new_password1": "123", "new_password2": "123"})
    assert response.status_code == 200
    assert "Ce mot de passe est trop court" in " ".join(response.context["form"].errors["new_password2"])
    assert selfcare.get(_path(link)).status_code == 200  # not used up


def test_R_SC_1_selfcare_page_of_another_partners_client_is_404(staff_browser, other_partner):
    foreign = SelfcareAccessFactory(client=ClientAccountFactory(partner=other_partner))
    kwargs = {"client_id": foreign.client_id}
    assert staff_browser.get(reverse("backoffice:client_selfcare", kwargs=kwargs)).status_code == 404
    kwargs["access_id"] = foreign.pk
    assert staff_browser.get(reverse("backoffice:client_selfcare_access", kwargs=kwargs)).status_code == 404
    assert staff_browser.post(reverse("backoffice:client_selfcare_send", kwargs=kwargs)).status_code == 404
    assert not OutboxMessage.objects.exists()
