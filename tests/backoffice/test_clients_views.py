"""Back-office client pages (R-BO-1): list + search + pagination, create, detail, edit, API token page."""

import pytest
from django.urls import reverse

from backoffice.clients_views import CLIENT_DETAIL_SECTIONS, PAGE_SIZE, ClientSection
from partners.models import ApiToken, ClientAccount
from partners.services import api_token_hash
from tests.factories.partners import ClientAccountFactory, SiteFactory, make_siret

pytestmark = pytest.mark.django_db

BAD_SIRET_MESSAGE = "Ce SIRET n&#x27;est pas valide : la clé de contrôle ne correspond pas."


def _form_data(**overrides):
    data = {
        "account_type": "pro_vat",
        "company_name": "Boulangerie Dupain",
        "siret": make_siret(4242),
        "last_name": "Dupain",
        "first_name": "Jeanne",
        "email": "jeanne@dupain.fr",
        "mobile": "06 12 34 56 78",
        "landline": "01 45 67 89 10",
        "address": "3 rue du Four",
        "postal_code": "75006",
        "city": "Paris",
        "country": "FR",
    }
    data.update(overrides)
    return data


def _bad_siret():
    good = make_siret(77)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


# --- list, search, pagination ---------------------------------------------------------------------------


def test_R_BO_1_list_shows_only_own_clients(staff_client, partner):
    ClientAccountFactory(partner=partner, company_name="Mon Client SARL")
    ClientAccountFactory(company_name="Client Du Voisin")  # another partner
    response = staff_client.get(reverse("backoffice:client_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mon Client SARL" in body
    assert "Client Du Voisin" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("boulang", "Boulangerie Martin"),  # company name, case-insensitive
        ("73282932", "Boulangerie Martin"),  # SIRET prefix
        ("732 829 32", "Boulangerie Martin"),  # SIRET typed with spaces
        ("leroy", "Transports Leroy"),  # last name
        ("Paulin", "Transports Leroy"),  # first name
        ("flotte@", "Transports Leroy"),  # email
    ],
)
def test_R_BO_1_list_search(staff_client, partner, query, expected):
    ClientAccountFactory(
        partner=partner,
        company_name="Boulangerie Martin",
        siret="73282932000074",
        last_name="Martin",
        first_name="Claire",
        email="contact@boulangerie.fr",
    )
    ClientAccountFactory(
        partner=partner,
        company_name="Transports Leroy",
        siret="55208131766522",
        last_name="Leroy",
        first_name="Paulin",
        email="flotte@leroy.fr",
    )
    response = staff_client.get(reverse("backoffice:client_list"), {"q": query})
    clients = list(response.context["clients"])
    assert [c.company_name for c in clients] == [expected]


def test_list_htmx_search_returns_only_the_results_partial(staff_client, partner):
    ClientAccountFactory(partner=partner, company_name="Alpha Conseil")
    ClientAccountFactory(partner=partner, company_name="Beta Industrie")
    response = staff_client.get(reverse("backoffice:client_list"), {"q": "alpha"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="client-results">')
    assert "<html" not in body
    assert "Alpha Conseil" in body and "Beta Industrie" not in body
    assert "HX-Request" in response["Vary"]


def test_list_plain_get_renders_full_page_with_search_box(staff_client):
    response = staff_client.get(reverse("backoffice:client_list"), {"q": "x"})
    body = response.content.decode()
    assert "<html" in body and 'name="q"' in body and 'id="client-results"' in body


def test_list_paginates(staff_client, partner):
    ClientAccountFactory.create_batch(PAGE_SIZE + 3, partner=partner)
    first = staff_client.get(reverse("backoffice:client_list"))
    assert len(first.context["clients"]) == PAGE_SIZE
    assert "page=2" in first.content.decode()
    second = staff_client.get(reverse("backoffice:client_list"), {"page": 2})
    assert len(second.context["clients"]) == 3
    assert not set(first.context["clients"]) & set(second.context["clients"])
    assert staff_client.get(reverse("backoffice:client_list"), {"page": "zzz"}).status_code == 200


def test_list_pagination_keeps_search(staff_client, partner):
    ClientAccountFactory.create_batch(PAGE_SIZE + 1, partner=partner, company_name="Dupont & Fils")
    body = staff_client.get(reverse("backoffice:client_list"), {"q": "dupont"}).content.decode()
    assert "q=dupont&amp;page=2" in body


# --- create -----------------------------------------------------------------------------------------------


def test_R_BO_1_create_client(staff_client, partner):
    response = staff_client.post(reverse("backoffice:client_create"), _form_data())
    client = ClientAccount.objects.get(partner=partner)
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:client_detail", kwargs={"client_id": client.pk})
    assert client.company_name == "Boulangerie Dupain"
    assert client.mobile == "+33612345678"
    assert client.landline == "+33145678910"
    assert client.siret == make_siret(4242)


def test_R_BO_1_create_with_bad_siret_shows_french_error_next_to_field(staff_client, partner):
    response = staff_client.post(reverse("backoffice:client_create"), _form_data(siret=_bad_siret()))
    assert response.status_code == 200
    assert response.context["form"].errors["siret"] == [
        "Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas."
    ]
    body = response.content.decode()
    field_html = body[body.index('id="field-siret"') :]
    field_html = field_html[: field_html.index("</div>")]
    assert BAD_SIRET_MESSAGE in field_html
    assert 'value="Boulangerie Dupain"' in body  # the input is kept
    assert not ClientAccount.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siret", "1234", "Le SIRET doit comporter exactement 14 chiffres."),
        ("mobile", "01 45 67 89 10", "Ce numéro n'est pas un numéro de mobile (06 ou 07 en France)."),
        ("mobile", "12345", "Ce numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78)."),
        ("landline", "06 12 34 56 78", "Ce numéro n'est pas un numéro de téléphone fixe."),
        ("postal_code", "7500", "Un code postal français comporte 5 chiffres."),
        ("country", "F1", "Le pays doit être un code ISO à deux lettres (exemple : FR)."),
    ],
)
def test_R_BO_1_service_refusal_lands_on_its_field(staff_client, field, value, message):
    response = staff_client.post(reverse("backoffice:client_create"), _form_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert not ClientAccount.objects.exists()


@pytest.mark.parametrize("field", ["company_name", "siret", "email"])
def test_R_BO_1_starred_fields_required(staff_client, field):
    response = staff_client.post(reverse("backoffice:client_create"), _form_data(**{field: ""}))
    assert field in response.context["form"].errors
    assert not ClientAccount.objects.exists()


def test_R_BO_1_duplicate_siret_refused_for_same_partner_only(staff_client, partner):
    siret = make_siret(99)
    ClientAccountFactory(siret=siret)  # another partner may have the same client
    assert staff_client.post(reverse("backoffice:client_create"), _form_data(siret=siret)).status_code == 302
    response = staff_client.post(
        reverse("backoffice:client_create"), _form_data(siret=siret, company_name="Doublon")
    )
    assert response.context["form"].errors == {"siret": ["Un client de votre compte a déjà ce SIRET."]}
    assert ClientAccount.objects.filter(partner=partner).count() == 1


# --- detail and edit --------------------------------------------------------------------------------------


def test_detail_shows_fields_and_sites(staff_client, partner):
    client = ClientAccountFactory(
        partner=partner, company_name="Cabinet Dubois", mobile="+33612345678", city="Lyon"
    )
    SiteFactory(client=client, name="Siège Lyon")
    SiteFactory(name="Site d'un autre client")
    response = staff_client.get(reverse("backoffice:client_detail", kwargs={"client_id": client.pk}))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("Cabinet Dubois", client.siret, "06 12 34 56 78", "Lyon", "Siège Lyon"):
        assert text in body
    assert "Site d&#x27;un autre client" not in body


def test_detail_renders_sections_registered_by_other_areas(staff_client, partner, monkeypatch):
    client = ClientAccountFactory(partner=partner)
    monkeypatch.setattr(
        "backoffice.clients_views.CLIENT_DETAIL_SECTIONS",
        [
            *CLIENT_DETAIL_SECTIONS,
            lambda request, c: (
                ClientSection("Lignes mobiles", "backoffice/clients/_field.html")
                if c.pk == client.pk and request.staff_partner == partner
                else None
            ),
            lambda request, c: None,
        ],
    )
    body = staff_client.get(reverse("backoffice:client_detail", kwargs={"client_id": client.pk})).content
    assert "Lignes mobiles" in body.decode()


def test_R_BO_1_edit_client(staff_client, partner):
    client = ClientAccountFactory(partner=partner, company_name="Ancien Nom", mobile="+33612345678")
    page = staff_client.get(reverse("backoffice:client_edit", kwargs={"client_id": client.pk}))
    assert page.context["form"].initial["company_name"] == "Ancien Nom"
    assert page.context["form"].initial["mobile"] == "06 12 34 56 78"
    response = staff_client.post(
        reverse("backoffice:client_edit", kwargs={"client_id": client.pk}),
        _form_data(company_name="Nouveau Nom", siret=client.siret, mobile="07 80 00 00 01"),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.company_name == "Nouveau Nom"
    assert client.mobile == "+33780000001"


def test_R_BO_1_edit_with_bad_siret_saves_nothing(staff_client, partner):
    client = ClientAccountFactory(partner=partner, company_name="Intact")
    response = staff_client.post(
        reverse("backoffice:client_edit", kwargs={"client_id": client.pk}),
        _form_data(company_name="Modifié", siret=_bad_siret()),
    )
    assert response.status_code == 200
    assert BAD_SIRET_MESSAGE in response.content.decode()
    client.refresh_from_db()
    assert client.company_name == "Intact"


# --- API token page ---------------------------------------------------------------------------------------


def test_api_token_page_creates_a_named_token_and_shows_the_secret_once(staff_client, staff):
    url = reverse("backoffice:api_token")
    assert "pas encore de jeton" in staff_client.get(url).content.decode()
    response = staff_client.post(url, {"name": "ERP"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=staff)
    secret = response.context["secret"]
    assert token.key_hash == api_token_hash(secret) and secret in response.content.decode()
    page = staff_client.get(url).content.decode()
    assert secret not in page  # never shown again
    assert "ERP" in page and f"{token.prefix}…" in page


def test_api_token_page_needs_a_name(staff_client, staff):
    response = staff_client.post(reverse("backoffice:api_token"), {"name": "  "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_api_token_revoke_stops_the_token(staff_client, staff, partner):
    ClientAccountFactory(partner=partner, company_name="Visible Par Jeton")
    staff_client.post(reverse("backoffice:api_token"), {"name": "ERP"})
    token = ApiToken.objects.get(user=staff)
    secret = staff_client.post(reverse("backoffice:api_token"), {"name": "Autre"}).context["secret"]
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert [c["company_name"] for c in api.get("/api/v1/clients").json()["results"]] == ["Visible Par Jeton"]
    other = ApiToken.objects.get(user=staff, name="Autre")
    revoke = reverse("backoffice:api_token_revoke", kwargs={"token_id": other.pk})
    assert staff_client.get(revoke).status_code == 405  # POST only (with its CSRF token)
    assert staff_client.post(revoke).status_code == 302
    assert api.get("/api/v1/clients").status_code == 401
    token.refresh_from_db()
    assert token.revoked_at is None  # the other token still works


def test_api_token_revoke_of_someone_elses_token_is_404(staff_client, partner):
    from partners.services import api_token_create
    from tests.factories.partners import MembershipFactory

    colleague, _ = api_token_create(user=MembershipFactory(partner=partner).user, name="Collègue")
    stranger, _ = api_token_create(user=MembershipFactory().user, name="Autre partenaire")
    for token in (colleague, stranger):
        url = reverse("backoffice:api_token_revoke", kwargs={"token_id": token.pk})
        assert staff_client.post(url).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None


def test_pages_require_login(client):
    for name in ("backoffice:client_list", "backoffice:client_create", "backoffice:api_token"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
