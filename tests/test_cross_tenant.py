"""Tenancy proof: partner A gets 404 — never data — for partner B's objects, on EVERY page and endpoint.

The test walks every URL pattern of ``alphalink.urls`` (back-office and API) and of ``alphalink.urls_selfcare``
(the partners' self-care hosts, at the end of this file). Each pattern with a path parameter must either

* have an entry in ``CROSS_TENANT_CASES`` (URL name → how to build partner B's object and the URL kwargs), or
* be listed in ``NOT_TENANT_SCOPED`` with the reason its parameter selects no partner-owned data (shared
  catalog…), or in ``PUBLIC`` (admin, login, API schema…) with the reason it is open.

A new pattern with no entry fails ``test_every_url_with_parameters_has_a_cross_tenant_case``: add your case
here when you add a page or an endpoint (contracts, stock, orders…). Builders put ``label`` in a visible field
of the object (name, reference…): the tests check that B's label never appears in A's responses.

Fail-closed checks ride on the same walk: on every pattern not in ``PUBLIC``, anonymous callers and users
with no partner membership get nothing (login redirect / 401 / 403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from partners.models import ClientAccount, Partner
from tests.factories.api import api_token
from tests.factories.partners import (
    ClientAccountFactory,
    MembershipFactory,
    PartnerFactory,
    SelfcareAccessFactory,
    SiteFactory,
    UserFactory,
    make_siret,
)

pytestmark = pytest.mark.django_db

SECRET = "Confidentiel-B-9Z"  # partner B's visible label: must never reach partner A
OWN = "Propre-A"

# --------------------------------------------------------------------------------------------------------
# The tables. Keys are URL names with their namespace ("backoffice:client_detail", "api-client-detail").
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How to probe one parametrised URL.

    ``build(partner, label)`` creates that partner's object(s), puts ``label`` in a visible field and returns
    the URL kwargs. ``methods`` are all sent by partner A to partner B's object and must all answer 404;
    ``data`` is the body of write methods (valid for A's own object, so only tenancy can refuse it);
    ``unchanged(kwargs)`` asserts B's object was not modified. A GET on A's own object must answer
    ``own_status`` (proves the 404 comes from tenancy, not from a broken URL)."""

    build: Callable[[Partner, str], dict]
    methods: tuple[str, ...] = ("get",)
    data: dict | Callable[[dict], dict] = field(default_factory=dict)
    unchanged: Callable[[dict], None] | None = None
    own_status: int = 200


def _client(partner: Partner, label: str) -> dict:
    client = ClientAccountFactory(partner=partner, company_name=f"{label} SARL", city=label)
    SiteFactory(client=client, name=f"Site {label}")
    return {"client_id": client.pk}


def _client_pk(partner: Partner, label: str) -> dict:
    return {"pk": _client(partner, label)["client_id"]}


def _client_kept(kwargs: dict) -> None:
    pk = kwargs.get("client_id") or kwargs["pk"]
    client = ClientAccount.objects.get(pk=pk)
    assert client.company_name == f"{SECRET} SARL", "partner A modified partner B's client"


def _client_form(kwargs: dict) -> dict:
    return {
        "account_type": "pro_vat",
        "company_name": "Piraté",
        "siret": make_siret(987654),
        "email": "pirate@example.fr",
        "country": "FR",
    }


# Issue 9 invoices: the partner's wholesale invoice of December 2026 made by a real run, its PDF stored; the
# label is in its billing identity (printed on the invoice) and its client's name (the lines' groups).
def _invoice(partner: Partner, label: str):
    import datetime as dt

    from django.test import override_settings

    from billing.models import Invoice, PartnerBillingProfile
    from tests.factories.billing import billing_profile, live_line, run_month, with_pdf

    invoice = Invoice.objects.filter(customer_partner=partner).first()
    if invoice is None:
        if not PartnerBillingProfile.objects.filter(partner=partner).exists():
            PartnerBillingProfile.objects.filter(pk=billing_profile(partner).pk).update(
                legal_name=f"{label} SAS"
            )
        live_line(partner, client=ClientAccountFactory(partner=partner, company_name=f"{label} SARL"))
        with override_settings(BILLING_RENDER_PDF_ON_ISSUE=False):
            run_month(dt.date(2026, 12, 1))
        invoice = with_pdf(Invoice.objects.get(customer_partner=partner))
    return invoice


def _invoice_kwargs(partner: Partner, label: str) -> dict:
    return {"invoice_id": _invoice(partner, label).pk}


def _invoice_pk(partner: Partner, label: str) -> dict:
    return {"pk": _invoice(partner, label).pk}


# R-BO-3 reseller billing: one of the partner's invoices to its clients (a draft, or issued with its PDF), the
# label in the client's name; ``client``: whose invoice (default a new client of the partner).
def _client_invoice(partner: Partner, label: str, *, issued: bool, client=None):
    import datetime as dt
    from decimal import Decimal

    from django.test import override_settings
    from django.utils import timezone

    from billing.models import Invoice, InvoiceLine, PartnerBillingProfile
    from billing.reseller import reseller_invoice_issue
    from tests.factories.billing import billing_profile, with_pdf

    state = Invoice.State.ISSUED if issued else Invoice.State.DRAFT
    found = Invoice.objects.filter(issuer_partner=partner, kind="invoice", state=state)
    if client is not None:
        found = found.filter(customer_client=client)
    if found.first() is not None:
        return found.first()
    if not PartnerBillingProfile.objects.filter(partner=partner).exists():
        billing_profile(partner)
    client = client or ClientAccountFactory(partner=partner, company_name=f"{label} SARL")
    month = dt.date(2026, 11 if issued else 12, 1)
    invoice = Invoice.objects.create(
        issuer_partner=partner,
        customer_partner=partner,
        customer_client=client,
        period_month=month,
        period_start=month,
        period_end=month.replace(day=28),
        customer={"name": client.company_name},
        total_ht=Decimal("10.00"),
        total_vat=Decimal("2.00"),
        total_ttc=Decimal("12.00"),
        created_at=timezone.now(),
    )
    InvoiceLine.objects.create(
        invoice=invoice, partner=partner, position=1, group=f"Contrat {label}", label=f"Forfait {label}",
        quantity=1, unit_price_ht=Decimal("10"), amount_ht=Decimal("10.00"),
    )  # fmt: skip
    if issued:
        with override_settings(BILLING_RENDER_PDF_ON_ISSUE=False):
            invoice = with_pdf(reseller_invoice_issue(partner=partner, invoice=invoice))
    return invoice


def _client_invoice_draft(partner: Partner, label: str) -> dict:
    return {"invoice_id": _client_invoice(partner, label, issued=False).pk}


def _client_invoice_issued(partner: Partner, label: str) -> dict:
    return {"invoice_id": _client_invoice(partner, label, issued=True).pk}


def _client_invoice_kept(kwargs: dict) -> None:
    from billing.models import Invoice

    invoice = Invoice.objects.get(pk=kwargs["invoice_id"])
    assert not Invoice.objects.filter(credit_note_of=invoice).exists(), "partner A credited B's invoice"
    assert invoice.state == Invoice.State.ISSUED or invoice.number is None, "partner A issued B's invoice"


# R-ORD / R-CON order and contract pages and endpoints (contracts area)
def _contract(partner: Partner, label: str):
    from tests.factories.contracts import ContractFactory

    client = ClientAccountFactory(partner=partner, company_name=f"{label} SARL")
    return ContractFactory(order__client=client, user_name=label, contact_email=f"{label.lower()}@example.fr")


def _contract_kwargs(partner: Partner, label: str) -> dict:
    return {"contract_id": _contract(partner, label).pk}


def _contract_tab_kwargs(partner: Partner, label: str) -> dict:
    return {"contract_id": _contract(partner, label).pk, "tab": "historique"}


def _order_kwargs(partner: Partner, label: str) -> dict:
    return {"order_id": _contract(partner, label).order_id}


def _contract_pk(partner: Partner, label: str) -> dict:
    return {"pk": _contract(partner, label).pk}


def _order_pk(partner: Partner, label: str) -> dict:
    return {"pk": _contract(partner, label).order_id}


def _no_order_placed(kwargs: dict) -> None:
    from contracts.models import Order

    assert not Order.objects.filter(client_id=kwargs["client_id"]).exists(), (
        "partner A ordered for B's client"
    )


def _no_esim_resend(kwargs: dict) -> None:
    from contracts.models import ContractEvent
    from notifications.models import OutboxMessage

    contract_id = kwargs["contract_id"]
    assert not OutboxMessage.objects.filter(
        ref_type="contracts.contract", ref_id=str(contract_id)
    ).exists(), "partner A sent partner B's eSIM details"
    assert not ContractEvent.objects.filter(
        contract_id=contract_id, kind=ContractEvent.Kind.RESOURCE
    ).exists()


# Contract lifecycle actions (issue 4: R-CON-5/6/9, R-OPT-3/4/8, R-ORD-5): pages and POST endpoints
def _contract_action_kwargs(partner: Partner, label: str) -> dict:
    return {"contract_id": _contract(partner, label).pk, "action": "suspend"}


def _contract_option(partner: Partner, label: str):
    from django.utils import timezone

    from contracts.models import ContractOption

    contract = _contract(partner, label)
    return ContractOption.objects.create(
        partner=partner,
        contract=contract,
        code="fixed_ip",
        label=f"IP fixe {label}",
        status=ContractOption.Status.ACTIVE,
        created_at=timezone.now(),
    )


def _contract_option_kwargs(partner: Partner, label: str) -> dict:
    option = _contract_option(partner, label)
    return {"contract_id": option.contract_id, "option_id": option.pk}


def _contract_option_pk(partner: Partner, label: str) -> dict:
    option = _contract_option(partner, label)
    return {"pk": option.contract_id, "option_id": option.pk}


def _no_operator_request(kwargs: dict) -> None:
    from contracts.models import ContractOption, OperatorRequest

    contract_id = kwargs.get("contract_id") or kwargs["pk"]
    assert not OperatorRequest.objects.filter(contract_id=contract_id).exists(), (
        "partner A sent an operator request for B's line"
    )
    assert not ContractOption.objects.filter(contract_id=contract_id).exclude(code="fixed_ip").exists()
    assert not ContractOption.objects.filter(contract_id=contract_id).exclude(status="active").exists()


# Top-ups, data threshold (issue 7: R-CAT-7/8/10, R-PRV-5): a page and endpoints on the contract
def _no_topup_nor_threshold(kwargs: dict) -> None:
    from contracts.models import Contract, ContractTopup

    contract_id = kwargs.get("contract_id") or kwargs["pk"]
    _no_operator_request(kwargs)
    assert not ContractTopup.objects.filter(contract_id=contract_id).exists(), "partner A topped up B's line"
    assert Contract.objects.get(pk=contract_id).data_threshold_bytes is None, "partner A set B's threshold"


def _action_case(build=_contract_pk, data: dict | None = None) -> Case:
    return Case(build=build, methods=("post",), data=data or {}, unchanged=_no_operator_request)


# R-SC-5 / R-ORD-6 consumption journal and month totals (usage): B's record label and counter must not leak
def _contract_usage(partner: Partner, label: str):
    from django.utils import timezone

    from tests.factories.usage import CdrFactory, UsageCounterFactory

    contract = _contract(partner, label)
    CdrFactory(contract=contract, label=f"Appel {label}", destination="0611223344", event_at=timezone.now())
    UsageCounterFactory(contract=contract, metric="voice", quantity=4242)
    return contract


def _contract_usage_kwargs(partner: Partner, label: str) -> dict:
    return {"contract_id": _contract_usage(partner, label).pk}


def _contract_usage_pk(partner: Partner, label: str) -> dict:
    return {"pk": _contract_usage(partner, label).pk}


# R-SC-1 « Configuration selfcare » of a client (back-office)
def _selfcare_access(partner: Partner, label: str):
    client = ClientAccountFactory(partner=partner, company_name=f"{label} SARL")
    return SelfcareAccessFactory(client=client, user__username=f"flotte-{label}-{client.pk}")


def _client_selfcare_kwargs(partner: Partner, label: str) -> dict:
    return {"client_id": _selfcare_access(partner, label).client_id}


def _selfcare_access_kwargs(partner: Partner, label: str) -> dict:
    access = _selfcare_access(partner, label)
    return {"client_id": access.client_id, "access_id": access.pk}


def _selfcare_kept(kwargs: dict) -> None:
    from notifications.models import OutboxMessage
    from partners.models import SelfcareAccess

    accesses = SelfcareAccess.objects.filter(client_id=kwargs["client_id"]).select_related("user")
    assert [a.user.username.startswith(f"flotte-{SECRET}") for a in accesses] == [True], (
        "partner A changed partner B's self-care users"
    )
    assert accesses[0].user.check_password("pw-test-123"), "partner A regenerated B's self-care password"
    assert not OutboxMessage.objects.filter(ref_type="partners.selfcareaccess").exists()


# R-SC-6 the client's self-care orders (back-office « Commandes selfcare »)
def _client_selfcare_orders_kwargs(partner: Partner, label: str) -> dict:
    from selfcare.models import SelfcareOrder

    contract = _contract(partner, label)
    SelfcareOrder.objects.create(
        partner=partner,
        client=contract.client,
        contract=contract,
        number=f"BDC-{label[:6]}-{contract.pk}",
        action=SelfcareOrder.Action.RENAME,
    )
    return {"client_id": contract.client_id}


def _api_token_kwargs(partner: Partner, label: str) -> dict:
    from partners.services import api_token_create

    token, _ = api_token_create(user=MembershipFactory(partner=partner).user, name=label)
    return {"token_id": token.pk}


def _api_token_live(kwargs: dict) -> None:
    from partners.models import ApiToken

    assert ApiToken.objects.get(pk=kwargs["token_id"]).revoked_at is None, (
        "partner A revoked partner B's token"
    )


CROSS_TENANT_CASES: dict[str, Case] = {
    "backoffice:client_selfcare_orders": Case(build=_client_selfcare_orders_kwargs),
    # R-SC-1 self-care configuration of a client
    "backoffice:client_selfcare": Case(
        build=_client_selfcare_kwargs,
        methods=("get", "post"),
        data={"action": "create", "email": "pirate@example.fr", "username": "pirate"},
        unchanged=_selfcare_kept,
    ),
    "backoffice:client_selfcare_access": Case(
        build=_selfcare_access_kwargs,
        methods=("get", "post"),
        data={"email": "pirate@example.fr", "username": "pirate"},
        unchanged=_selfcare_kept,
    ),
    "backoffice:client_selfcare_send": Case(
        build=_selfcare_access_kwargs, methods=("post",), unchanged=_selfcare_kept
    ),
    # orders and contracts (R-ORD-1..3, R-ORD-6)
    "backoffice:order_detail": Case(build=_order_kwargs),
    "backoffice:order_create_for_client": Case(
        build=_client,
        methods=("get", "post"),
        data={"offer": "OR-ILL-10G-B", "quantity": "1"},
        unchanged=_no_order_placed,
    ),
    "backoffice:contract_detail": Case(build=_contract_kwargs),
    "backoffice:contract_tab": Case(build=_contract_tab_kwargs),
    # R-ORD-4 eSIM resend from the Resources tab (contracts.esim)
    "backoffice:contract_esim_resend": Case(
        build=_contract_kwargs,
        methods=("post",),
        data={"email": "pirate@example.fr", "mobile": "0611223344"},
        unchanged=_no_esim_resend,
    ),
    "api-order-detail": Case(build=_order_pk),
    "api-contract-detail": Case(build=_contract_pk),
    # contract lifecycle actions (issue 4)
    "backoffice:contract_action": Case(
        build=_contract_action_kwargs, methods=("get", "post"), unchanged=_no_operator_request
    ),
    "backoffice:contract_option_add": Case(
        build=_contract_kwargs,
        methods=("get", "post"),
        data={"option": "conference"},
        unchanged=_no_operator_request,
    ),
    "backoffice:contract_roaming": Case(
        build=_contract_kwargs,
        methods=("get", "post"),
        data={"zone": "usa_canada", "choice": "OR-ROA-ILL-USCA-OPT-5G"},
        unchanged=_no_operator_request,
    ),
    "backoffice:contract_option_terminate": Case(
        build=_contract_option_kwargs, methods=("get", "post"), unchanged=_no_operator_request
    ),
    "api-contract-action-suspend": _action_case(),
    "api-contract-action-resume": _action_case(),
    "api-contract-action-terminate": _action_case(),
    "api-contract-action-sim-swap": _action_case(data={"target": "sim", "iccid": ""}),
    "api-contract-action-option-add": _action_case(data={"option": "conference"}),
    "api-contract-action-option-terminate": _action_case(build=_contract_option_pk),
    "api-contract-action-option-suspend": _action_case(build=_contract_option_pk),
    "api-contract-action-roaming": _action_case(data={"zone": "usa_canada", "choice": "X"}),
    "api-contract-action-offer-change": _action_case(data={"offer": "OR-ILL-30G-B"}),
    "api-contract-action-offer-change-cancel": _action_case(),
    "api-contract-action-retry": _action_case(),
    "backoffice:contract_data_threshold": Case(
        build=_contract_kwargs,
        methods=("get", "post"),
        data={"threshold_go": "10"},
        unchanged=_no_topup_nor_threshold,
    ),
    "api-contract-action-topups": Case(
        build=_contract_pk,
        methods=("get", "post"),
        data={"volume_bytes": 5 * 10**9},
        unchanged=_no_topup_nor_threshold,
    ),
    "api-contract-action-data-threshold": Case(
        build=_contract_pk,
        methods=("post",),
        data={"threshold_bytes": 10 * 10**9},
        unchanged=_no_topup_nor_threshold,
    ),
    # R-SC-5 consumption journal and month totals (usage)
    "backoffice:contract_usage": Case(build=_contract_usage_kwargs),
    "api-contract-usage-totals": Case(build=_contract_usage_pk),
    "api-contract-usage-consumptions": Case(build=_contract_usage_pk),
    # R-BO-1 client pages and endpoints
    "backoffice:client_detail": Case(build=_client),
    "backoffice:client_edit": Case(
        build=_client, methods=("get", "post"), data=_client_form, unchanged=_client_kept
    ),
    "api-client-detail": Case(
        build=_client_pk,
        methods=("get", "put", "patch"),
        data=_client_form,
        unchanged=_client_kept,
    ),
    # issue 9 invoices (billing): pages, CSV, PDF and endpoints
    "backoffice:invoice_detail": Case(build=_invoice_kwargs),
    "backoffice:invoice_pdf": Case(build=_invoice_kwargs),
    "backoffice:invoice_csv": Case(build=_invoice_kwargs),
    "api-invoice-detail": Case(build=_invoice_pk),
    "api-invoice-pdf": Case(build=_invoice_pk),
    # R-BO-3 reseller billing: « Factures clients » (drafts to issue, issued ones with their PDF and avoir)
    "backoffice:client_invoice_detail": Case(build=_client_invoice_draft),
    "backoffice:client_invoice_pdf": Case(build=_client_invoice_issued),
    "backoffice:client_invoice_issue": Case(
        build=_client_invoice_draft, methods=("post",), unchanged=_client_invoice_kept
    ),
    "backoffice:client_invoice_credit_note": Case(
        build=_client_invoice_issued,
        methods=("post",),
        data={"reason": "Avoir pirate"},
        unchanged=_client_invoice_kept,
    ),
    # issue 10 item 6: revoking partner B's API token (POST only)
    "backoffice:api_token_revoke": Case(
        build=_api_token_kwargs, methods=("post",), unchanged=_api_token_live
    ),
}

# Parametrised patterns whose parameter selects no partner-owned object, and why. They are left out of
# the 404 check only: they still must refuse anonymous callers and users with no partner.
NOT_TENANT_SCOPED: dict[str, str] = {
    "backoffice:catalog_offer": "Catalog offers are shared platform data, the same for every partner.",
    "api-catalog-offer-detail": "Catalog offers are shared platform data, the same for every partner.",
}

MEDIA_ROUTE = "^media/(?P<path>.*)$"
DEBUG_ONLY = {MEDIA_ROUTE, "devmail:"}  # alphalink/urls.py adds these only when DEBUG

# Open doors: reachable without a partner membership, and why. A key ending with ":" covers a namespace.
PUBLIC: dict[str, str] = {
    "admin:": "Django admin: platform staff only (is_staff), outside partner tenancy.",
    "login": "Login page: public by nature.",
    "logout": "Logout: ends the caller's own session.",
    "api-schema": "OpenAPI schema: describes endpoints, holds no data.",
    "api-docs": "Interactive API docs: static page.",
    "api-token": "Token exchange: the caller proves their own identity (login + password).",
    "devmail:": "Local mail sink of `make run` (notifications/dev_views.py): URLs exist only when DEBUG "
    "and the views answer 404 when DEBUG is off.",
    MEDIA_ROUTE: "Uploaded files (partner logos, public on the self-care login page), served by Django "
    "only when DEBUG; production serves MEDIA_ROOT from the web server.",
}

# --------------------------------------------------------------------------------------------------------
# Walking the URLconf
# --------------------------------------------------------------------------------------------------------

IGNORED_PARAMS = {"format"}  # DRF format suffixes (.json) do not select an object


@dataclass(frozen=True)
class Route:
    key: str  # namespaced URL name, or the raw route when the pattern has no name
    route: str
    params: tuple[str, ...]
    named: bool

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")


def _params(pattern) -> tuple[str, ...]:
    converters = getattr(pattern, "converters", None)
    if converters:
        names = list(converters)
    else:
        regex = pattern.regex
        names = list(regex.groupindex)
        names += ["<positional>"] * (regex.groups - len(regex.groupindex))
    return tuple(n for n in names if n not in IGNORED_PARAMS)


def _walk(patterns, prefix: str = "", namespace: str = "", params: tuple = ()):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, route, ns, params + _params(p.pattern))
        elif isinstance(p, URLPattern):
            key = f"{namespace}{p.name or route}"
            yield Route(key=key, route=route, params=params + _params(p.pattern), named=bool(p.name))


def all_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver("alphalink.urls").url_patterns):
        seen.setdefault(route.key, route)
    return list(seen.values())


def _listed(key: str, table: dict) -> bool:
    return key in table or any(key.startswith(k) for k in table if k.endswith(":"))


ROUTES = all_routes()
ROUTE_KEYS = {r.key for r in ROUTES}
# Parametrised patterns that must have a cross-tenant case.
PARAM_ROUTES = [
    r for r in ROUTES if r.params and not _listed(r.key, NOT_TENANT_SCOPED) and not _listed(r.key, PUBLIC)
]
PLAIN_ROUTES = [r for r in ROUTES if not r.params]
# Every pattern that must refuse anonymous callers and users with no partner.
GUARDED_ROUTES = [r for r in ROUTES if not _listed(r.key, PUBLIC)]

# --------------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------------


@pytest.fixture
def partner_a():
    return PartnerFactory(name="Partenaire A")


@pytest.fixture
def partner_b():
    return PartnerFactory(name="Partenaire B")


def _logged_in(user) -> APIClient:
    """One client for both doors: a session for the back-office, a token for the API."""
    api = APIClient()
    api.force_login(user)
    if hasattr(user, "membership"):  # an API token belongs to a partner member; others keep the session
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return api


@pytest.fixture
def as_a(partner_a):
    return _logged_in(MembershipFactory(partner=partner_a).user)


def _send(api: APIClient, route: Route, method: str, url: str, data: dict | None = None):
    if method == "get":
        return api.get(url)
    if route.is_api:
        return getattr(api, method)(url, data or {}, format="json")
    return getattr(api, method)(url, data or {})


def _body(response) -> str:
    if response.streaming:  # the self-care CSV export (R-SC-4) streams: read it all
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


# --------------------------------------------------------------------------------------------------------
# The table is complete and honest
# --------------------------------------------------------------------------------------------------------


def test_every_url_with_parameters_has_a_cross_tenant_case():
    missing = [r for r in PARAM_ROUTES if r.key not in CROSS_TENANT_CASES]
    assert not missing, (
        "These URL patterns take a path parameter but have no cross-tenant case:\n"
        + "\n".join(f"  - {r.key!r}  (/{r.route})" for r in missing)
        + "\nAdd an entry to CROSS_TENANT_CASES in tests/test_cross_tenant.py (a builder creating the "
        "partner's object and returning the URL kwargs), or, if the pattern holds no partner-owned data "
        "(shared catalog…), add it to NOT_TENANT_SCOPED with the reason. Unnamed patterns need a name."
    )


def test_tables_name_existing_patterns_only():
    keys = {r.key for r in ROUTES}
    stale = [k for k in CROSS_TENANT_CASES if k not in keys]
    stale += [
        k
        for k in [*NOT_TENANT_SCOPED, *PUBLIC]
        if k not in DEBUG_ONLY and not (k in keys or any(x.startswith(k) for x in keys))
    ]
    assert not stale, f"Remove or rename these entries, no URL pattern has that name: {stale}"


def test_the_walk_sees_the_client_pages():
    keys = {r.key for r in ROUTES}
    assert {
        "backoffice:client_list",
        "backoffice:client_detail",
        "api-client-list",
        "api-client-detail",
    } <= keys
    assert next(r for r in ROUTES if r.key == "api-client-detail").params == ("pk",)


# --------------------------------------------------------------------------------------------------------
# Partner A never reaches partner B's objects
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(k for k in CROSS_TENANT_CASES if k in ROUTE_KEYS))
def test_partner_a_gets_404_for_partner_b_object(key, as_a, partner_a, partner_b):
    case = CROSS_TENANT_CASES[key]
    route = next(r for r in ROUTES if r.key == key)
    own_kwargs = case.build(partner_a, OWN)
    foreign_kwargs = case.build(partner_b, SECRET)

    if "get" in case.methods:
        own = as_a.get(reverse(key, kwargs=own_kwargs))
        assert own.status_code == case.own_status, f"{key}: A's own object answers {own.status_code}"

    url = reverse(key, kwargs=foreign_kwargs)
    for method in case.methods:
        data = case.data(foreign_kwargs) if callable(case.data) else case.data
        response = _send(as_a, route, method, url, data)
        assert response.status_code == 404, f"{method.upper()} {url} → {response.status_code}, expected 404"
        assert SECRET not in _body(response), f"{method.upper()} {url} leaked partner B's data"
    if case.unchanged:
        case.unchanged(foreign_kwargs)


def test_pages_without_parameters_never_show_partner_b_data(as_a, partner_a, partner_b):
    """Every list, dashboard and endpoint with no parameter, seen by A while B owns objects of every kind."""
    for case in CROSS_TENANT_CASES.values():
        case.build(partner_b, SECRET)
        case.build(partner_a, OWN)
    checked = []
    for route in PLAIN_ROUTES:
        if _listed(route.key, PUBLIC) or not route.named:
            continue
        response = as_a.get(reverse(route.key))
        assert response.status_code < 500, f"GET /{route.route} → {response.status_code}"
        assert SECRET not in _body(response), f"GET /{route.route} shows partner B's data to partner A"
        checked.append(route.key)
    assert {"backoffice:client_list", "api-client-list", "backoffice:home"} <= set(checked)


def test_client_list_page_and_api_list_only_hold_own_rows(as_a, partner_a, partner_b):
    mine = ClientAccountFactory(partner=partner_a, company_name="Client de A")
    theirs = ClientAccountFactory(partner=partner_b, company_name=f"{SECRET} SA", siret=mine.siret)

    page = as_a.get(reverse("backoffice:client_list"))
    assert [c.pk for c in page.context["clients"]] == [mine.pk]
    for query in (SECRET, theirs.siret, theirs.email):  # searching does not reach B's rows either
        found = as_a.get(reverse("backoffice:client_list"), {"q": query})
        assert theirs.pk not in [c.pk for c in found.context["clients"]]
        assert f"{SECRET} SA" not in _body(found)  # the query itself is echoed in the search box

    api_list = as_a.get("/api/v1/clients").json()
    assert [c["id"] for c in api_list["results"]] == [mine.pk]
    assert as_a.get("/api/v1/clients", {"search": SECRET}).json()["count"] == 0


def test_creating_through_a_lands_in_partner_a(as_a, partner_a, partner_b):
    response = as_a.post(
        "/api/v1/clients",
        {"company_name": "Nouveau", "siret": make_siret(5), "email": "n@x.fr"},
        format="json",
    )
    assert response.status_code == 201
    assert ClientAccount.objects.get(pk=response.json()["id"]).partner == partner_a
    assert not ClientAccount.objects.filter(partner=partner_b).exists()


# --------------------------------------------------------------------------------------------------------
# Fail-closed: no partner membership → 403; anonymous → refused
# --------------------------------------------------------------------------------------------------------


def _url_for(route: Route, partner: Partner) -> str:
    """B's real object for tenant-scoped patterns; a placeholder for the others (the guard runs first)."""
    if not route.params:
        return reverse(route.key)
    if route.key in CROSS_TENANT_CASES:
        return reverse(route.key, kwargs=CROSS_TENANT_CASES[route.key].build(partner, SECRET))
    for placeholder in ("999999", "x"):
        try:
            return reverse(route.key, kwargs=dict.fromkeys(route.params, placeholder))
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot build a URL for {route.key}")


@pytest.mark.parametrize("route", [r for r in GUARDED_ROUTES if r.named], ids=lambda r: r.key)
def test_user_without_partner_gets_403(route, partner_b):
    lonely = _logged_in(UserFactory())  # authenticated, but member of no partner
    response = lonely.get(_url_for(route, partner_b))
    assert response.status_code == 403, f"GET /{route.route} → {response.status_code}, expected 403"
    assert SECRET not in _body(response)


@pytest.mark.parametrize("route", [r for r in GUARDED_ROUTES if r.named], ids=lambda r: r.key)
def test_anonymous_gets_nothing(route, partner_b):
    url = _url_for(route, partner_b)
    response = APIClient().get(url)
    if route.is_api:
        assert response.status_code in (401, 403), f"GET {url} → {response.status_code}"
    else:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert SECRET not in _body(response)


def test_anonymous_api_write_is_refused():
    response = APIClient().post(
        "/api/v1/clients", {"company_name": "X", "siret": make_siret(3), "email": "x@x.fr"}, format="json"
    )
    assert response.status_code == 401
    assert not ClientAccount.objects.exists()


# --------------------------------------------------------------------------------------------------------
# Self-care hosts (alphalink/urls_selfcare.py): <slug>.espaceclient.<domain>
#
# The caller is partner A's client, logged in on A's host. Every pattern with a parameter has a case in
# SELFCARE_CASES (public or not: a set-password link of B's client opened on A's host is a 404 too); every
# pattern not in SELFCARE_PUBLIC goes through ``selfcare_login_required`` and refuses anonymous callers,
# partner staff, and B's client (even holding a session opened on B's host).
# --------------------------------------------------------------------------------------------------------

SELFCARE_URLCONF = "alphalink.urls_selfcare"


def _selfcare_link(partner: Partner, label: str) -> dict:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = _selfcare_access(partner, label).user
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _selfcare_password_kept(kwargs: dict) -> None:
    from django.utils.encoding import force_str
    from django.utils.http import urlsafe_base64_decode

    from partners.models import User

    user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(kwargs["uidb64"]))))
    assert user.check_password("pw-test-123"), "a link of partner B's client set a password on A's host"


def _selfcare_client(partner: Partner, label: str):
    """The partner's self-care client that the test logs in as (the latest access), else a new one."""
    from partners.models import SelfcareAccess

    access = SelfcareAccess.objects.filter(client__partner=partner).order_by("-pk").first()
    return (access or _selfcare_access(partner, label)).client


def _selfcare_line(partner: Partner, label: str):
    from tests.factories.contracts import ContractFactory

    client = _selfcare_client(partner, label)
    return ContractFactory(order__client=client, user_name=label, state="active")


def _selfcare_line_kwargs(partner: Partner, label: str) -> dict:
    return {"pk": _selfcare_line(partner, label).pk}


def _selfcare_action_kwargs(partner: Partner, label: str) -> dict:
    return {"pk": _selfcare_line(partner, label).pk, "action": "utilisateur"}


def _selfcare_line_kept(kwargs: dict) -> None:
    from contracts.models import Contract, OperatorRequest
    from selfcare.models import SelfcareOrder

    contract = Contract.objects.get(pk=kwargs["pk"])
    assert contract.user_name == SECRET, "a client of partner A renamed B's line"
    assert not OperatorRequest.objects.filter(contract=contract).exists()
    assert not SelfcareOrder.objects.filter(contract=contract).exists()


def _selfcare_invoice_kwargs(partner: Partner, label: str) -> dict:
    client = _selfcare_client(partner, label)
    return {"invoice_id": _client_invoice(partner, label, issued=True, client=client).pk}


SELFCARE_CASES: dict[str, Case] = {
    "selfcare:invoice_pdf": Case(build=_selfcare_invoice_kwargs),
    "selfcare:line": Case(build=_selfcare_line_kwargs),
    "selfcare:line_sims": Case(build=_selfcare_line_kwargs),
    "selfcare:line_action": Case(
        build=_selfcare_action_kwargs,
        methods=("get", "post"),
        data={"user_name": "Piraté", "request_key": "cross-tenant"},
        unchanged=_selfcare_line_kept,
    ),
    "selfcare:password_set": Case(
        build=_selfcare_link,
        methods=("get", "post"),
        data={"new_password1": "Un-Nouveau-Secret-42", "new_password2": "Un-Nouveau-Secret-42"},
        unchanged=_selfcare_password_kept,
    ),
}
SELFCARE_PUBLIC: dict[str, str] = {
    "selfcare:login": "Login page: public by nature (only the host's partner's clients get in).",
    "selfcare:logout": "Logout: ends the caller's own session.",
    "selfcare:password_forgotten": "Forgotten password (R-SC-3): public, answers the same for any input.",
    "selfcare:password_set": "Set-password link (R-SC-1/3): the token is the credential; scoped to the "
    "host's partner by its SELFCARE_CASES entry.",
    MEDIA_ROUTE: "Uploaded files (partner logos), served by Django only when DEBUG.",
}
SELFCARE_ROUTES = list(
    {r.key: r for r in reversed(list(_walk(get_resolver(SELFCARE_URLCONF).url_patterns)))}.values()
)
SELFCARE_GUARDED = [r for r in SELFCARE_ROUTES if not _listed(r.key, SELFCARE_PUBLIC) and r.named]


def _host(partner: Partner) -> str:
    return f"{partner.slug}.espaceclient.localhost"


def _selfcare_reverse(key: str, **kwargs) -> str:
    return reverse(key, urlconf=SELFCARE_URLCONF, kwargs=kwargs or None)


def _selfcare_logged_in(partner: Partner, label: str):
    """A Django test client logged in on ``partner``'s self-care host through the real login form."""
    from django.test import Client

    access = _selfcare_client(partner, label).selfcare_accesses.order_by("-pk").first()
    browser = Client(HTTP_HOST=_host(partner))
    response = browser.post(
        _selfcare_reverse("selfcare:login"), {"username": access.user.username, "password": "pw-test-123"}
    )
    assert response.status_code == 302, "the self-care login failed"
    return browser


def test_every_selfcare_url_with_parameters_has_a_cross_tenant_case():
    missing = [r.key for r in SELFCARE_ROUTES if r.params and r.named and r.key not in SELFCARE_CASES]
    assert not missing, f"Self-care patterns with a path parameter need a SELFCARE_CASES entry: {missing}"
    assert not [r.route for r in SELFCARE_ROUTES if not r.named and r.route not in SELFCARE_PUBLIC]


def test_selfcare_tables_name_existing_patterns_only():
    keys = {r.key for r in SELFCARE_ROUTES}
    stale = [k for k in [*SELFCARE_CASES, *SELFCARE_PUBLIC] if k not in keys and k not in DEBUG_ONLY]
    assert not stale, f"No self-care URL pattern has these names: {stale}"
    assert {"selfcare:login", "selfcare:home", "selfcare:password_set"} <= keys
    assert SELFCARE_GUARDED, "the walk sees no guarded self-care page"


@pytest.mark.parametrize("key", sorted(SELFCARE_CASES))
def test_selfcare_client_of_a_gets_404_for_partner_b_object(key, partner_a, partner_b):
    case = SELFCARE_CASES[key]
    browser = _selfcare_logged_in(partner_a, "Moi")
    own = browser.get(_selfcare_reverse(key, **case.build(partner_a, OWN)))
    assert own.status_code == case.own_status, f"{key}: A's own object answers {own.status_code}"
    foreign_kwargs = case.build(partner_b, SECRET)
    url = _selfcare_reverse(key, **foreign_kwargs)
    for method in case.methods:
        data = case.data(foreign_kwargs) if callable(case.data) else case.data
        response = getattr(browser, method)(url, data) if method != "get" else browser.get(url)
        assert response.status_code == 404, f"{method.upper()} {url} on A's host → {response.status_code}"
        assert SECRET not in _body(response)
    if case.unchanged:
        case.unchanged(foreign_kwargs)


def _selfcare_url_for(route: Route, partner: Partner) -> str:
    if not route.params:
        return _selfcare_reverse(route.key)
    return _selfcare_reverse(route.key, **SELFCARE_CASES[route.key].build(partner, SECRET))


@pytest.mark.parametrize("route", SELFCARE_GUARDED, ids=lambda r: r.key)
def test_selfcare_pages_refuse_anonymous_staff_and_other_partners_clients(route, partner_a, partner_b):
    from django.conf import settings
    from django.test import Client

    url = _selfcare_url_for(route, partner_a)
    login_url = _selfcare_reverse("selfcare:login")
    callers = {"anonymous": Client(HTTP_HOST=_host(partner_a))}
    # B's client, carrying the session cookie opened on B's host to A's host
    on_b = _selfcare_logged_in(partner_b, SECRET)
    stolen = Client(HTTP_HOST=_host(partner_a))
    stolen.cookies[settings.SELFCARE_SESSION_COOKIE_NAME] = on_b.cookies[
        settings.SELFCARE_SESSION_COOKIE_NAME
    ].value
    callers["client of B with B's session"] = stolen
    # partner A's staff, carrying a back-office session as a self-care cookie
    staff = Client()
    staff.force_login(MembershipFactory(partner=partner_a).user)
    as_staff = Client(HTTP_HOST=_host(partner_a))
    as_staff.cookies[settings.SELFCARE_SESSION_COOKIE_NAME] = staff.cookies[
        settings.SESSION_COOKIE_NAME
    ].value
    callers["partner staff"] = as_staff
    for who, browser in callers.items():
        response = browser.get(url)
        assert response.status_code == 302, f"{who}: GET {url} → {response.status_code}"
        assert response["Location"].startswith(login_url), who
        assert SECRET not in _body(response)
    assert _selfcare_logged_in(partner_a, OWN).get(url).status_code == 200  # A's own client gets in


def test_selfcare_pages_without_parameters_never_show_partner_b_data(partner_a, partner_b):
    browser = _selfcare_logged_in(partner_a, OWN)
    for case in SELFCARE_CASES.values():
        case.build(partner_b, SECRET)
    checked = []
    for route in SELFCARE_ROUTES:
        if route.params or not route.named or route.key == "selfcare:logout":
            continue
        response = browser.get(_selfcare_reverse(route.key), follow=True)
        assert response.status_code == 200, f"GET {route.key} → {response.status_code}"
        assert SECRET not in _body(response)
        checked.append(route.key)
    assert {"selfcare:login", "selfcare:home"} <= set(checked)
