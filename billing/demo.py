"""Demo billing (after ``provisioning/demo.py``): the demo partners' billing identities (clearly fake companies
with valid-looking SIRET and VAT numbers), a few « historical » demo lines live since two months ago (placed
through ``order_place`` on a priced Orange offer, their activation request cancelled and the line marked
delivered on the 1st of month M−2), then the runs the beat made on the 1st of last month and of this month, and
the Factur-X PDFs rendered at once (no worker needed). Idempotent: a second load writes nothing new.

No price is set here: the historical lines use an offer the catalog prices (Orange Illimité 10 Go sans
engagement, 8 € HT), so the demo invoices are issued without touching the catalog."""

from __future__ import annotations

import datetime as dt

from django.test.utils import override_settings
from django.utils import timezone

from catalog.models import Offer
from contracts.models import Contract, OperatorRequest, Order
from contracts.services import LineSpec, contract_transition, operator_request_transition, order_place
from core.clock import PARIS, add_months, month_start
from core.errors import RuleViolation
from partners.models import ClientAccount, Partner, User

from .models import Invoice, PartnerBillingProfile
from .pdf import invoice_pdf_store
from .services import billing_run, partner_billing_profile_set

# Fake companies (« démo ») with valid SIRET (Luhn) and the VAT number of the same SIREN (python-stdnum).
DEMO_PROFILES = {
    "telcom-pro": {
        "legal_name": "Telcom Pro SAS (démo, société fictive)",
        "siret": "90412345200016",
        "vat_number": "FR11904123452",
        "address": "12 rue des Démonstrations",
        "postcode": "69002",
        "city": "Lyon",
        "email": "compta@telcom-pro.localhost",
    },
    "reseau-ouest": {
        "legal_name": "Réseau Ouest SARL (démo, société fictive)",
        "siret": "90467891900013",
        "vat_number": "FR49904678919",
        "address": "4 quai de la Fosse",
        "postcode": "44000",
        "city": "Nantes",
        "email": "compta@reseau-ouest.localhost",
    },
}
HISTORY_OFFER = "OR-ILL-10G-NB"  # priced in the catalog seed (8 € HT)
HISTORY_USERS = ("Ligne historique 1 (démo)", "Ligne historique 2 (démo)")


def _history_lines(partner: Partner, delivered_at: dt.datetime, stdout) -> None:
    """Two lines of the partner's first client live since ``delivered_at`` (placed once)."""
    client = ClientAccount.objects.filter(partner=partner).order_by("id").first()
    offer = Offer.objects.filter(code=HISTORY_OFFER).first()
    if client is None or offer is None:
        return
    if Contract.objects.filter(partner=partner, user_name=HISTORY_USERS[0]).exists():
        return
    author = User.objects.filter(membership__partner=partner, membership__role="admin").first()
    try:
        order = order_place(
            partner=partner,
            client=client,
            created_by=author,
            offer=offer,
            quantity=len(HISTORY_USERS),
            lines=[LineSpec(user_name=name) for name in HISTORY_USERS],
            source=Order.Source.DEMO,
        )
    except RuleViolation as exc:  # e.g. stock not loaded: the demo goes on without history
        stdout.write(f"  lignes historiques ignorées ({partner.name}) : {exc.message}")
        return
    for contract in Contract.objects.filter(order=order):
        for request in OperatorRequest.objects.filter(contract=contract):
            operator_request_transition(request=request, to_state=OperatorRequest.State.CANCELLED)
        contract_transition(
            contract=contract,
            to_state=Contract.State.ACTIVE,
            actor_label="démo",
            message="Ligne historique de démonstration, livrée il y a deux mois.",
            delivered_at=delivered_at,
        )


def load(stdout) -> None:
    now = timezone.now()
    this_month = month_start(now)
    last_month = add_months(this_month, -1)
    delivered_at = dt.datetime.combine(add_months(this_month, -2), dt.time(10), tzinfo=PARIS)
    partners = list(Partner.objects.filter(slug__in=DEMO_PROFILES))
    for partner in partners:
        if not PartnerBillingProfile.objects.filter(partner=partner).exists():
            partner_billing_profile_set(partner=partner, **DEMO_PROFILES[partner.slug])
        _history_lines(partner, delivered_at, stdout)
    if not partners:
        return
    with override_settings(BILLING_RENDER_PDF_ON_ISSUE=False):  # rendered below, no worker needed
        for month in (last_month, this_month):
            run_at = max(dt.datetime.combine(month, dt.time(6), tzinfo=PARIS), delivered_at)
            billing_run(month=month, now=min(run_at, now))
    rendered = 0
    for invoice_id in Invoice.objects.filter(
        customer_partner__in=partners, state=Invoice.State.ISSUED, pdf__isnull=True
    ).values_list("id", flat=True):
        rendered += invoice_pdf_store(invoice_id=invoice_id)
    issued = Invoice.objects.filter(customer_partner__in=partners, state=Invoice.State.ISSUED).count()
    stdout.write(f"  facturation de démonstration : {issued} facture(s), {rendered} PDF produit(s)")
