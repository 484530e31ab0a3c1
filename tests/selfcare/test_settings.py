"""Self-care « Mon compte » (issue 8, item 7): the client's logo (the partner logo's checks, R-SC-2), its contact
details (checked like the back-office client form, R-BO-1) and the fleet manager's password — all through HTTP
on the partner's self-care host, always the caller's own client."""

import html
import io
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image

from notifications.models import OutboxMessage
from partners.models import ClientAccount, User
from partners.services import LOGO_SIZE
from tests.factories.partners import ClientAccountFactory, MembershipFactory, SelfcareAccessFactory

from .conftest import PASSWORD, login

pytestmark = pytest.mark.django_db

URL = "/compte/"
HOME = "/parc/"
NOT_AN_IMAGE = "Ce fichier n'est pas une image acceptée : envoyez un PNG, un JPEG ou un WebP."
NEW_PASSWORD = "Tartine-Beurree-Du-Soir-42"


def _image(fmt="PNG", size=(300, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if fmt == "PNG" else "RGB", size, (10, 120, 200)).save(out, format=fmt)
    return out.getvalue()


def _upload(data: bytes, name="logo.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _contact(**overrides) -> dict:
    data = {
        "section": "contact",
        "first_name": "Paul",
        "last_name": "Martin",
        "email": "compta@boulangerie.fr",
        "mobile": "06 12 34 56 78",
        "landline": "01 23 45 67 89",
        "address": "3 rue du Four",
        "postal_code": "75006",
        "city": "Paris",
    }
    return {**data, **overrides}


def _password(old=PASSWORD, new=NEW_PASSWORD, confirm=None) -> dict:
    return {"section": "password", "old_password": old, "new_password1": new, "new_password2": confirm or new}


@pytest.fixture
def manager(selfcare, access):
    """The client's fleet manager, logged in on the partner's host."""
    assert login(selfcare, access.user.username).status_code == 302
    return selfcare


def _contact_values(client: ClientAccount) -> dict:
    client.refresh_from_db()
    return {f: getattr(client, f) for f in ("first_name", "last_name", "email", "mobile", "landline", "city")}


# --- the page ------------------------------------------------------------------------------------------------


def test_account_page_linked_from_header_with_the_clients_own_values(manager, client_account):
    home = manager.get(HOME, follow=True)
    assert f'href="{URL}"' in home.content.decode()
    response = manager.get(URL)
    assert response.status_code == 200
    body = _text(response)
    assert "Mon compte" in body and "Cliquez pour importer votre logo client" in body
    assert client_account.company_name in body and client_account.siret in body
    assert response.context["contact_form"].initial["email"] == client_account.email
    assert 'name="csrfmiddlewaretoken"' in body


def test_anonymous_caller_is_sent_to_the_login_page(selfcare, client_account):
    response = selfcare.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/?next=")
    response = selfcare.post(URL, _contact(email="pirate@x.fr"))
    assert response.status_code == 302 and response["Location"].startswith("/?next=")
    assert _contact_values(client_account)["email"] != "pirate@x.fr"


def test_csrf_is_enforced(selfcare, access, client_account):
    from django.conf import settings
    from django.test import Client

    browser = Client(enforce_csrf_checks=True, HTTP_HOST=selfcare.defaults["HTTP_HOST"])
    browser.get("/")
    token = browser.cookies[settings.SELFCARE_CSRF_COOKIE_NAME].value
    data = {"username": access.user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert browser.post("/", data).status_code == 302
    assert browser.get(URL).status_code == 200
    assert browser.post(URL, _contact(email="sans-jeton@x.fr")).status_code == 403
    assert _contact_values(client_account)["email"] != "sans-jeton@x.fr"


def test_unknown_section_is_a_bad_request(manager):
    assert manager.post(URL, {"section": "siret", "siret": "1"}).status_code == 400


# --- the client's logo (R-SC-2's checks) -----------------------------------------------------------------------


def test_R_SC_2_client_logo_accepted_fitted_and_shown_in_the_header(
    manager, client_account, partner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(
            URL, {"section": "logo", "logo": _upload(_image("JPEG"), "l.jpg", "image/jpeg")}
        )
    assert response.status_code == 302 and response["Location"] == URL
    client_account.refresh_from_db()
    assert client_account.logo and client_account.logo.name.startswith("clients/logos/")
    with Image.open(client_account.logo.path) as stored:
        assert stored.format == "PNG" and stored.size == LOGO_SIZE
    partner.refresh_from_db()
    assert not partner.logo  # the partner's own logo is untouched
    settings_page = manager.get(URL)
    assert "Votre logo est enregistré." in _text(settings_page)
    for body in (settings_page.content.decode(), manager.get(HOME).content.decode()):
        assert f'class="client-logo" src="{client_account.logo.url}"' in body  # the self-care header


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"Bonjour, je ne suis pas une image.\n", "logo.png", NOT_AN_IMAGE),
        (b"%PDF-1.4 fake", "logo.pdf", NOT_AN_IMAGE),
        (_image()[:60], "logo.png", NOT_AN_IMAGE),
        (b"", "vide.png", None),
    ],
    ids=["text", "pdf", "truncated", "empty"],
)
def test_R_SC_2_bad_client_logo_refused_in_french_nothing_saved(
    manager, client_account, settings, data, name, message
):
    response = manager.post(URL, {"section": "logo", "logo": _upload(data, name)})
    assert response.status_code == 422
    errors = response.context["logo_form"].errors["logo"]
    assert errors and (message is None or message in errors), errors
    assert errors[0] in _text(response)
    client_account.refresh_from_db()
    assert not client_account.logo
    assert _media_files(settings) == []


def test_R_SC_2_too_big_client_logo_refused_with_the_partner_logo_limit(manager, client_account, settings):
    import os

    noise = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(noise, format="PNG")
    response = manager.post(URL, {"section": "logo", "logo": _upload(noise.getvalue())})
    assert response.status_code == 422
    assert "Le logo ne doit pas dépasser 1 Mo" in _text(response)
    client_account.refresh_from_db()
    assert not client_account.logo and _media_files(settings) == []


def test_R_SC_2_replacing_client_logo_deletes_previous_file_and_a_bad_one_keeps_it(
    manager, client_account, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(URL, {"section": "logo", "logo": _upload(_image())})
    client_account.refresh_from_db()
    first = Path(client_account.logo.path)
    assert first.exists()

    with django_capture_on_commit_callbacks(execute=True):
        manager.post(URL, {"section": "logo", "logo": _upload(_image("WEBP"), "l.webp", "image/webp")})
    client_account.refresh_from_db()
    second = Path(client_account.logo.path)
    assert second != first and not first.exists()
    assert _media_files(settings) == [second]

    with django_capture_on_commit_callbacks(execute=True):
        refused = manager.post(URL, {"section": "logo", "logo": _upload(b"nope", "x.png")})
    assert refused.status_code == 422
    client_account.refresh_from_db()
    assert Path(client_account.logo.path) == second and _media_files(settings) == [second]

    with django_capture_on_commit_callbacks(execute=True):
        assert manager.post(URL, {"section": "logo_remove"}).status_code == 302
    client_account.refresh_from_db()
    assert not client_account.logo and _media_files(settings) == []
    assert 'class="client-logo"' not in manager.get(URL).content.decode()


# --- contact details (validated like the back-office client form) --------------------------------------------


def test_contact_details_saved_and_seen_by_the_partners_staff(manager, client_account, partner):
    response = manager.post(URL, _contact())
    assert response.status_code == 302
    client_account.refresh_from_db()
    assert _contact_values(client_account) == {
        "first_name": "Paul",
        "last_name": "Martin",
        "email": "compta@boulangerie.fr",
        "mobile": "+33612345678",  # stored in E.164 like the back-office does
        "landline": "+33123456789",
        "city": "Paris",
    }
    assert "Vos coordonnées sont enregistrées." in _text(manager.get(URL))
    staff = manager.__class__()
    staff.force_login(MembershipFactory(partner=partner).user)
    page = staff.get(reverse("backoffice:client_edit", args=[client_account.pk]))
    assert page.status_code == 200
    assert page.context["form"].initial["email"] == "compta@boulangerie.fr"
    assert page.context["form"].initial["mobile"] == "06 12 34 56 78"


def test_contact_details_cannot_change_the_billed_identity(manager, client_account):
    before = (client_account.company_name, client_account.siret, client_account.account_type)
    manager.post(URL, _contact(company_name="Pirate SAS", siret="1", account_type="public", country="BE"))
    client_account.refresh_from_db()
    assert (client_account.company_name, client_account.siret, client_account.account_type) == before
    assert client_account.country == "FR"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "pas-une-adresse", "Saisissez une adresse e-mail valide."),
        ("email", "", "Ce champ est obligatoire."),
        ("mobile", "01 23 45 67 89", "Ce numéro n'est pas un numéro de mobile (06 ou 07 en France)."),
        ("landline", "12", "Ce numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78)."),
        ("postal_code", "7500", "Un code postal français comporte 5 chiffres."),
    ],
)
def test_invalid_contact_details_refused_in_french_nothing_half_saved(
    manager, client_account, field, value, message
):
    before = _contact_values(client_account)
    response = manager.post(URL, _contact(**{field: value}))
    assert response.status_code == 422
    assert message in response.context["contact_form"].errors[field]
    assert message in _text(response)
    assert _contact_values(client_account) == before  # not even the valid fields of the same form


# --- the fleet manager's password ------------------------------------------------------------------------------


def test_wrong_current_password_refused(manager, access):
    response = manager.post(URL, _password(old="pas-le-bon"))
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in response.context["password_form"].errors["old_password"]
    access.user.refresh_from_db()
    assert access.user.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm"),
    [("court", None), ("123456789012", None), (NEW_PASSWORD, "Autre-Chose-Du-Tout-99")],
    ids=["too-short", "numeric", "mismatch"],
)
def test_weak_or_mismatched_new_password_refused_in_french(manager, access, new, confirm):
    response = manager.post(URL, _password(new=new, confirm=confirm))
    assert response.status_code == 422
    errors = response.context["password_form"].errors
    assert errors.get("new_password2") or errors.get("new_password1")
    assert "passe" in " ".join(errors.get("new_password2", []) + errors.get("new_password1", []))  # French
    access.user.refresh_from_db()
    assert access.user.check_password(PASSWORD)


def test_password_change_keeps_session_old_fails_new_works_and_links_die(manager, access, partner):
    user = access.user
    other_session = manager.__class__(HTTP_HOST=manager.defaults["HTTP_HOST"])
    assert login(other_session, user.username).status_code == 302
    user.refresh_from_db()  # the token covers last_login: make it after the last login
    link = f"/mot-de-passe/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"
    assert manager.get(link).status_code == 200  # an outstanding set-password link, before the change

    response = manager.post(URL, _password())
    assert response.status_code == 302 and response["Location"] == URL
    assert "Votre mot de passe est modifié." in _text(manager.get(URL))  # this session is kept
    assert manager.get(HOME).status_code == 200

    assert other_session.get(URL).status_code == 302  # the user's other sessions end
    assert manager.get(link).status_code == 404  # the link died with the old password
    fresh = manager.__class__(HTTP_HOST=manager.defaults["HTTP_HOST"])
    assert login(fresh, user.username, PASSWORD).status_code == 200  # refused: the form again
    assert login(fresh, user.username, NEW_PASSWORD).status_code == 302
    assert not OutboxMessage.objects.exists()  # nobody is notified of a settings change


# --- isolation: another client of the same partner -------------------------------------------------------------


def test_another_client_of_the_same_partner_neither_sees_nor_changes_these_settings(
    selfcare, access, client_account, partner, settings, django_capture_on_commit_callbacks
):
    neighbour = ClientAccountFactory(partner=partner, company_name="Fromagerie Voisine")
    other = SelfcareAccessFactory(client=neighbour, user__username="flotte@fromagerie")
    assert login(selfcare, other.user.username).status_code == 302
    before = _contact_values(client_account)

    page = _text(selfcare.get(URL))
    assert "Fromagerie Voisine" in page
    assert client_account.company_name not in page and client_account.email not in page

    with django_capture_on_commit_callbacks(execute=True):
        selfcare.post(URL, _contact(email="voisin@fromagerie.fr"))
        selfcare.post(URL, {"section": "logo", "logo": _upload(_image())})
        selfcare.post(URL, _password())
    assert _contact_values(client_account) == before
    client_account.refresh_from_db()
    assert not client_account.logo
    assert User.objects.get(pk=access.user_id).check_password(PASSWORD)
    neighbour.refresh_from_db()
    assert neighbour.email == "voisin@fromagerie.fr" and neighbour.logo  # each changed its own only
    other.user.refresh_from_db()
    assert other.user.check_password(NEW_PASSWORD)
