"""Self-care « Mes factures » (R-BO-3 reseller billing): a client lists and downloads the invoices its partner
issued to it — never a draft, never another client's (404), never on another partner's host."""

import datetime as dt
import html

import pytest

from billing import reseller
from billing.models import Invoice
from core.clock import PARIS
from tests.factories.billing import billing_profile, live_line, run_month, with_pdf
from tests.factories.partners import ClientAccountFactory, SelfcareAccessFactory
from tests.selfcare.conftest import host, login

pytestmark = pytest.mark.django_db

DEC = dt.date(2026, 12, 1)
LIVE = dt.datetime(2026, 12, 1, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _no_pdf_queue(settings):
    settings.BILLING_RENDER_PDF_ON_ISSUE = False


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _issued(partner, clients) -> dict:
    """Each client's issued invoice of December from ``partner`` (reseller billing on, margin 10 %)."""
    billing_profile(partner)
    for client in clients:
        live_line(partner, code="OR-ILL-5G-NB", client=client, delivered=LIVE)
    reseller.resale_policy_set(partner=partner, enabled=True, margin_percent="10", prices={})
    run_month(DEC)
    drafts = reseller.reseller_drafts_make(partner=partner, month=DEC)
    return {
        d.customer_client_id: with_pdf(
            reseller.reseller_invoice_issue(partner=partner, invoice=d), b"%PDF-1.7 c"
        )
        for d in drafts
    }


@pytest.fixture
def a2(partner):
    return ClientAccountFactory(partner=partner, company_name="Client A2")


def test_client_lists_and_downloads_its_invoices(selfcare, partner, client_account, access, a2):
    invoices = _issued(partner, [client_account, a2])
    mine, theirs = invoices[client_account.pk], invoices[a2.pk]
    login(selfcare, access.user.username)
    response = selfcare.get("/factures/")
    text = _text(response)
    assert response.status_code == 200
    assert mine.number in text and theirs.number not in text
    assert f"/factures/{mine.pk}/pdf/" in text
    pdf = selfcare.get(f"/factures/{mine.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{mine.number}.pdf"'
    assert b"".join(pdf) == b"%PDF-1.7 c"
    assert 'id="nav-invoices"' in _text(selfcare.get("/parc/"))


def test_list_query_budget(selfcare, partner, client_account, access, django_assert_max_num_queries):
    _issued(partner, [client_account])
    login(selfcare, access.user.username)
    with django_assert_max_num_queries(10):
        assert selfcare.get("/factures/").status_code == 200


def test_A1_never_sees_A2s_invoice_nor_a_draft(selfcare, partner, client_account, access, a2):
    invoices = _issued(partner, [client_account, a2])
    login(selfcare, access.user.username)
    assert selfcare.get(f"/factures/{invoices[a2.pk].pk}/pdf/").status_code == 404
    # a draft of its own is not shown either
    draft = Invoice.objects.create(
        issuer_partner=partner,
        customer_partner=partner,
        customer_client=client_account,
        period_month=dt.date(2027, 1, 1),
        period_start=dt.date(2027, 1, 1),
        period_end=dt.date(2027, 1, 31),
        created_at=LIVE,
    )
    assert selfcare.get(f"/factures/{draft.pk}/pdf/").status_code == 404
    assert selfcare.get("/factures/99999999/pdf/").status_code == 404
    # AlphaLink's wholesale invoice to the partner is not the client's either
    wholesale = Invoice.objects.get(issuer_partner__isnull=True, customer_partner=partner)
    assert selfcare.get(f"/factures/{wholesale.pk}/pdf/").status_code == 404


def test_another_partners_host_refuses(selfcare, partner, other_partner, client_account, access):
    invoice = _issued(partner, [client_account])[client_account.pk]
    login(selfcare, access.user.username)
    selfcare.defaults["HTTP_HOST"] = host(other_partner)
    for url in ("/factures/", f"/factures/{invoice.pk}/pdf/"):
        response = selfcare.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/?next=")
    # a client of the other partner, on its own host, gets a 404 for this invoice
    b1 = ClientAccountFactory(partner=other_partner)
    other_access = SelfcareAccessFactory(client=b1, user__username="b1@autre")
    login(selfcare, other_access.user.username)
    assert selfcare.get(f"/factures/{invoice.pk}/pdf/").status_code == 404


def test_anonymous_is_sent_to_login(selfcare):
    response = selfcare.get("/factures/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")
