"""R-SC-3 forgotten password: login + email → a single-use link; the same answer whether the account exists."""

import pytest

from notifications.models import OutboxMessage
from tests.factories.partners import ClientAccountFactory, SelfcareAccessFactory

from .conftest import PASSWORD, link_in, login

pytestmark = pytest.mark.django_db

ANSWER = "Si un compte correspond à cet identifiant et à cette adresse e-mail"


def _ask(selfcare, username, email):
    response = selfcare.post("/mot-de-passe-oublie/", {"username": username, "email": email}, follow=True)
    assert response.status_code == 200
    return response


def test_R_SC_3_login_page_links_to_forgotten_password(selfcare, partner):
    assert 'href="/mot-de-passe-oublie/"' in selfcare.get("/").content.decode()
    assert selfcare.get("/mot-de-passe-oublie/").status_code == 200


def test_R_SC_3_known_account_gets_a_link_that_sets_the_password_once(selfcare, access):
    response = _ask(selfcare, "FLOTTE@boulangerie", "F@B.fr")
    assert ANSWER in response.content.decode()
    message = OutboxMessage.objects.get()
    assert message.to == "f@b.fr" and "Réinitialisation" in message.subject
    assert PASSWORD not in message.body_text
    path = "/" + link_in(message).split("/", 3)[3]
    access.user.refresh_from_db()
    assert access.user.check_password(PASSWORD)  # asking for a link does not lock anyone out
    new = {"new_password1": "Tartine-Beurree-Du-Matin", "new_password2": "Tartine-Beurree-Du-Matin"}
    assert selfcare.post(path, new).status_code == 302
    assert selfcare.post(path, new).status_code == 404  # single use
    assert login(selfcare, "flotte@boulangerie", "Tartine-Beurree-Du-Matin").status_code == 302


@pytest.mark.parametrize(
    ("username", "email"),
    [("inconnu@nulle-part", "f@b.fr"), ("flotte@boulangerie", "autre@b.fr"), ("autre-partenaire", "o@p.fr")],
    ids=["unknown login", "wrong email", "client of another partner"],
)
def test_R_SC_3_same_answer_and_no_email_when_nothing_matches(
    selfcare, access, other_partner, username, email
):
    SelfcareAccessFactory(
        client=ClientAccountFactory(partner=other_partner),
        user__username="autre-partenaire",
        user__email="o@p.fr",
    )
    known = _ask(selfcare, "flotte@boulangerie", "f@b.fr")
    OutboxMessage.objects.all().delete()
    unknown = _ask(selfcare, username, email)
    assert ANSWER in unknown.content.decode()
    assert [str(m) for m in unknown.context["messages"]] == [str(m) for m in known.context["messages"]]
    assert unknown.redirect_chain == known.redirect_chain == [("/", 302)]
    assert not OutboxMessage.objects.exists()
