"""Back-office "Paramètres" (R-BO-3): company, logo (self-care branding, R-SC-2), contacts and roles.

Admins change the settings, collaborators only read them (403 on every write); one partner never sees
another's staff."""

import html
import io
import os
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from partners.models import Partner, PartnerMembership, User
from partners.services import LOGO_MAX_BYTES, logo_fit
from tests.factories.partners import MembershipFactory, PartnerFactory

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "Ce fichier n'est pas une image acceptée : envoyez un PNG, un JPEG ou un WebP."


def _image(fmt="PNG", size=(300, 100), color=(200, 10, 10, 255), mode="RGBA") -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, size, color if mode == "RGBA" else color[:3])
    if fmt == "JPEG":
        image = image.convert("RGB")
    image.save(out, format=fmt)
    return out.getvalue()


def _upload(data: bytes, name="logo.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def admin(partner):
    return MembershipFactory(partner=partner, role=PartnerMembership.Role.ADMIN, user__username="chef").user


@pytest.fixture
def collaborator(partner):
    return MembershipFactory(partner=partner, role=PartnerMembership.Role.STAFF, user__username="collab").user


@pytest.fixture
def as_admin(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def as_collaborator(client, collaborator):
    client.force_login(collaborator)
    return client


# --- Mon entreprise ----------------------------------------------------------------------------------------


def test_R_BO_3_company_page_shows_selfcare_url_and_read_only_flags(as_admin, partner):
    Partner.objects.filter(pk=partner.pk).update(is_init_sys=True, is_rezocean=False)
    response = as_admin.get(reverse("backoffice:settings_company"))
    assert response.status_code == 200
    body = _text(response)
    assert f"http://{partner.slug}.espaceclient.localhost/" in body
    assert "Partenaire Init Sys" in body and "Partenaire Rezocean" in body
    form = response.context["form"]
    assert set(form.fields) == {"name", "notification_email", "notify_selfcare_orders"}  # flags not editable
    assert 'href="/parametres/"' in body  # the nav link


def test_R_BO_3_R_SC_2_admin_renames_company_slug_kept_and_selfcare_branded(as_admin, partner):
    slug = partner.slug
    response = as_admin.post(
        reverse("backoffice:settings_company_update"),
        {"name": "Telcom Nouvelle Ère", "notification_email": "alertes@telcom.fr", "is_init_sys": "on"},
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.name == "Telcom Nouvelle Ère"
    assert partner.slug == slug  # R-SC-2: existing client links keep working
    assert partner.notification_email == "alertes@telcom.fr"
    assert partner.notify_selfcare_orders is False  # unchecked box (R-SC-8)
    assert partner.is_init_sys is False  # a flag in the POST body is ignored: platform staff set it
    login_page = Client().get("/", HTTP_HOST=f"{slug}.espaceclient.localhost")
    assert login_page.status_code == 200
    assert "Espace client Telcom Nouvelle Ère" in _text(login_page)


def test_R_SC_8_admin_turns_selfcare_order_notification_on(as_admin, partner):
    Partner.objects.filter(pk=partner.pk).update(notify_selfcare_orders=False)
    as_admin.post(
        reverse("backoffice:settings_company_update"),
        {"name": partner.name, "notification_email": "", "notify_selfcare_orders": "on"},
    )
    partner.refresh_from_db()
    assert partner.notify_selfcare_orders is True
    assert partner.notification_email == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "   "}, "name", "Ce champ est obligatoire."),
        ({"name": "X", "notification_email": "pas-un-email"}, "notification_email", "Saisissez une adresse"),
    ],
)
def test_R_BO_3_company_refusals_in_french_nothing_saved(as_admin, partner, data, field, message):
    response = as_admin.post(reverse("backoffice:settings_company_update"), data)
    assert response.status_code == 422
    assert any(message in e for e in response.context["form"].errors[field])
    partner.refresh_from_db()
    assert partner.name == "Telcom Test"


# --- Mes fichiers et images (logo) -------------------------------------------------------------------------


def test_R_BO_3_R_SC_2_admin_uploads_logo_shown_on_selfcare_login(as_admin, partner, settings):
    response = as_admin.post(
        reverse("backoffice:settings_logo_upload"), {"logo": _upload(_image(size=(300, 100)))}
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.logo.name.startswith(f"partners/logos/{partner.slug}-")
    with Image.open(partner.logo.path) as stored:
        assert stored.format == "PNG"
        assert stored.size == (120, 60)  # R-SC-2
        assert stored.getpixel((60, 30)) == (200, 10, 10, 255)  # the image, scaled to 120×40
        assert stored.getpixel((60, 2))[3] == 0  # transparent padding above and below
        assert stored.getpixel((60, 57))[3] == 0

    page = Client().get("/", HTTP_HOST=f"{partner.slug}.espaceclient.localhost")  # anonymous visitor
    assert page.status_code == 200
    body = page.content.decode()
    assert f'<img class="logo" src="{partner.logo.url}"' in body
    assert 'width="120" height="60"' in body

    settings_page = as_admin.get(reverse("backoffice:settings_files"))
    assert partner.logo.url in settings_page.content.decode()


@pytest.mark.parametrize(
    ("fmt", "size", "inside", "padding"),
    [
        ("JPEG", (60, 60), (60, 30), (5, 30)),  # square → 60×60 centred, padding left/right
        ("WEBP", (40, 20), (2, 2), None),  # small 2:1 → scaled up to fill 120×60
        ("PNG", (1200, 600), (0, 0), None),  # large 2:1 → scaled down to 120×60
    ],
)
def test_R_SC_2_logo_fit_keeps_aspect_ratio_into_120x60(fmt, size, inside, padding):
    data = logo_fit(io.BytesIO(_image(fmt, size=size, color=(10, 120, 10, 255))))
    with Image.open(io.BytesIO(data)) as out:
        assert out.size == (120, 60)
        assert out.getpixel(inside)[3] == 255
        r, g, b, _a = out.getpixel((60, 30))
        assert g > 100 and r < 40 and b < 40
        if padding:
            assert out.getpixel(padding)[3] == 0


def test_R_BO_3_replacing_logo_deletes_previous_file(
    as_admin, partner, settings, django_capture_on_commit_callbacks
):
    url = reverse("backoffice:settings_logo_upload")
    as_admin.post(url, {"logo": _upload(_image())})
    partner.refresh_from_db()
    first = Path(partner.logo.path)
    with django_capture_on_commit_callbacks(execute=True):
        as_admin.post(url, {"logo": _upload(_image("JPEG"), "logo.jpg", "image/jpeg")})
    partner.refresh_from_db()
    assert Path(partner.logo.path) != first
    assert not first.exists()  # deleted once the new logo is committed
    assert _media_files(settings) == [Path(partner.logo.path)]

    with django_capture_on_commit_callbacks(execute=True):
        as_admin.post(reverse("backoffice:settings_logo_remove"))
    partner.refresh_from_db()
    assert not partner.logo
    assert _media_files(settings) == []


def _big_png() -> bytes:
    noise = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    data = out.getvalue()
    assert len(data) > LOGO_MAX_BYTES
    return data


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "blue").save(out, format="GIF")
    return out.getvalue()


def _truncated_png() -> bytes:
    return _image(size=(300, 100))[:60]


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (lambda: b"Bonjour, je ne suis pas une image.\n", "logo.png", NOT_AN_IMAGE),
        (lambda: b"%PDF-1.4 fake", "logo.pdf", NOT_AN_IMAGE),
        (_gif, "logo.gif", NOT_AN_IMAGE),  # a real image, but not PNG/JPEG/WebP
        (_truncated_png, "logo.png", NOT_AN_IMAGE),
        (_big_png, "logo.png", "Le logo ne doit pas dépasser 1 Mo"),
    ],
    ids=["text", "pdf", "gif", "truncated", "too-big"],
)
def test_R_BO_3_R_SC_2_bad_logo_refused_in_french_nothing_saved(
    as_admin, partner, settings, make, name, message
):
    response = as_admin.post(reverse("backoffice:settings_logo_upload"), {"logo": _upload(make(), name)})
    assert response.status_code == 422
    errors = response.context["form"].errors["logo"]
    assert any(e.startswith(message) for e in errors), errors
    assert message in _text(response)
    partner.refresh_from_db()
    assert not partner.logo
    assert _media_files(settings) == []


def test_R_SC_2_decompression_bomb_refused_before_decoding():
    out = io.BytesIO()
    Image.new("1", (6000, 5000)).save(out, format="PNG")  # tiny file, 30 Mpx once decoded
    from core.errors import RuleViolation

    with pytest.raises(RuleViolation) as exc:
        logo_fit(io.BytesIO(out.getvalue()))
    assert exc.value.rule == "R-SC-2" and exc.value.field == "logo"
    assert "trop grande" in exc.value.message


def test_R_BO_3_bad_logo_keeps_existing_logo(as_admin, partner, settings):
    as_admin.post(reverse("backoffice:settings_logo_upload"), {"logo": _upload(_image())})
    partner.refresh_from_db()
    kept = partner.logo.name
    as_admin.post(reverse("backoffice:settings_logo_upload"), {"logo": _upload(b"nope", "x.png")})
    partner.refresh_from_db()
    assert partner.logo.name == kept
    assert len(_media_files(settings)) == 1


# --- Contacts ----------------------------------------------------------------------------------------------


def test_R_BO_3_contacts_lists_staff_with_roles(as_admin, partner, admin, collaborator):
    response = as_admin.get(reverse("backoffice:settings_contacts"))
    assert response.status_code == 200
    members = {m.user.username: m.role for m in response.context["members"]}
    assert members == {"chef": "admin", "collab": "staff"}


def test_R_BO_3_admin_adds_staff_with_generated_password(as_admin, partner):
    response = as_admin.post(
        reverse("backoffice:settings_contact_add"),
        {"username": "nouvelle", "email": "nouvelle@telcom.fr", "first_name": "Léa", "role": "staff"},
    )
    assert response.status_code == 200
    user = User.objects.get(username="nouvelle")
    assert user.membership.partner == partner and user.membership.role == "staff"
    password = response.context["created"][1]
    assert password and password in response.content.decode()  # shown once, in this response only
    assert authenticate(username="nouvelle", password=password) == user
    assert password not in str(as_admin.cookies)  # never in the messages cookie


def test_R_BO_3_admin_adds_admin_with_chosen_password(as_admin, partner):
    response = as_admin.post(
        reverse("backoffice:settings_contact_add"),
        {"username": "second", "email": "s@telcom.fr", "role": "admin", "password": "Tr3s-Long-Secret!"},
    )
    assert response.status_code == 200
    assert response.context["created"][1] is None
    user = authenticate(username="second", password="Tr3s-Long-Secret!")
    assert user is not None and user.membership.is_admin and user.membership.partner == partner


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "CHEF", "email": "x@telcom.fr"}, "username", "Cet identifiant est déjà utilisé."),
        ({"username": "a b", "email": "x@telcom.fr"}, "username", "L'identifiant ne peut contenir"),
        ({"username": "zoe", "email": "x@telcom.fr", "password": "123"}, "password", "Ce mot de passe est"),
        ({"username": "zoe", "email": ""}, "email", "Ce champ est obligatoire."),
    ],
)
def test_R_BO_3_add_staff_refusals_in_french_nothing_created(as_admin, partner, admin, data, field, message):
    before = User.objects.count()
    response = as_admin.post(reverse("backoffice:settings_contact_add"), {"role": "staff", **data})
    assert response.status_code == 422
    assert any(message in e for e in response.context["add_form"].errors[field])
    assert User.objects.count() == before


def test_R_BO_3_admin_changes_role(as_admin, collaborator):
    membership = collaborator.membership
    response = as_admin.post(
        reverse("backoffice:settings_contact_role"), {"member": membership.pk, "role": "admin"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_R_BO_3_last_admin_cannot_be_demoted(as_admin, admin, collaborator):
    response = as_admin.post(
        reverse("backoffice:settings_contact_role"), {"member": admin.membership.pk, "role": "staff"}
    )
    assert response.status_code == 422
    assert "Votre société doit garder au moins un administrateur." in _text(response)
    admin.membership.refresh_from_db()
    assert admin.membership.role == "admin"


# --- collaborators read, admins write ----------------------------------------------------------------------


def test_R_BO_3_collaborator_reads_settings_without_forms(as_collaborator, partner):
    for name in ("settings_company", "settings_files", "settings_contacts"):
        response = as_collaborator.get(reverse(f"backoffice:{name}"))
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="read-only-note"' in body
        assert '<form method="post" action="/parametres/' not in body
    assert partner.name in as_collaborator.get(reverse("backoffice:settings_company")).content.decode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("settings_company_update", {"name": "Piraté", "notify_selfcare_orders": ""}),
        ("settings_logo_upload", {"logo": "file"}),
        ("settings_logo_remove", {}),
        ("settings_contact_add", {"username": "intrus", "email": "i@x.fr", "role": "admin"}),
        ("settings_contact_role", {"member": "self", "role": "admin"}),
    ],
)
def test_R_BO_3_collaborator_gets_403_on_every_write(
    as_collaborator, partner, collaborator, settings, name, data
):
    if data.get("logo") == "file":
        data = {"logo": _upload(_image())}
    if data.get("member") == "self":
        data = {"member": collaborator.membership.pk, "role": "admin"}
    response = as_collaborator.post(reverse(f"backoffice:{name}"), data)
    assert response.status_code == 403
    partner.refresh_from_db()
    collaborator.membership.refresh_from_db()
    assert partner.name == "Telcom Test" and not partner.logo
    assert collaborator.membership.role == "staff"
    assert not User.objects.filter(username="intrus").exists()
    assert _media_files(settings) == []


# --- tenancy -----------------------------------------------------------------------------------------------


def test_R_BO_3_partner_a_never_sees_partner_b_staff(as_admin, partner, admin):
    other = PartnerFactory(name="Concurrent B")
    theirs = MembershipFactory(partner=other, role="staff", user__username="espion-b", user__email="b@b.fr")
    for name in ("settings_company", "settings_files", "settings_contacts"):
        body = as_admin.get(reverse(f"backoffice:{name}")).content.decode()
        assert "espion-b" not in body and "b@b.fr" not in body and "Concurrent B" not in body
    members = as_admin.get(reverse("backoffice:settings_contacts")).context["members"]
    assert {m.partner_id for m in members} == {partner.pk}
    assert theirs.pk not in {m.pk for m in members}


def test_R_BO_3_role_change_of_partner_b_member_is_404(as_admin, partner):
    other = PartnerFactory(name="Concurrent B")
    theirs = MembershipFactory(partner=other, role="staff")
    response = as_admin.post(
        reverse("backoffice:settings_contact_role"), {"member": theirs.pk, "role": "admin"}
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == "staff"


def test_R_BO_3_writes_land_in_own_partner_only(as_admin, partner, settings):
    other = PartnerFactory(name="Concurrent B")
    as_admin.post(reverse("backoffice:settings_company_update"), {"name": "A renommé"})
    as_admin.post(reverse("backoffice:settings_logo_upload"), {"logo": _upload(_image())})
    as_admin.post(
        reverse("backoffice:settings_contact_add"), {"username": "n1", "email": "n1@a.fr", "role": "staff"}
    )
    other.refresh_from_db()
    assert other.name == "Concurrent B" and not other.logo
    assert User.objects.get(username="n1").membership.partner == partner
    assert Partner.objects.get(pk=partner.pk).name == "A renommé"


def test_R_BO_3_user_without_partner_gets_403(client):
    lonely = User.objects.create_user(username="seul", password="x-pw-123456")
    client.force_login(lonely)
    assert client.get(reverse("backoffice:settings_company")).status_code == 403
    assert client.post(reverse("backoffice:settings_company_update"), {"name": "X"}).status_code == 403
