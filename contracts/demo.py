"""Demo orders for the demo partner ``telcom-pro`` (after ``inventory/demo.py``): a few orders through the real
service, so the contracts page shows lines "En cours" with their resources, options and history. Idempotent: an
order already placed for a client is not placed again."""

from __future__ import annotations

from catalog.models import Offer
from core.errors import RuleViolation
from partners.models import ClientAccount, Partner, User

from .models import Order
from .rules import rio_key
from .services import LineSpec, order_place

PARTNER_SLUG = "telcom-pro"
PORTED_NUMBER = "0611223344"
PORTED_RIO = "02E4B7Q21" + rio_key("02E4B7Q21", PORTED_NUMBER)  # a business line leaving SFR (ID-RIO)

# (client SIRET, offer code, order kwargs)
DEMO_ORDERS = [
    (
        "73282932000074",  # Boulangerie Martin
        "OR-ILL-10G-B",
        {
            "lines": [
                LineSpec(user_name="Claire Martin"),
                LineSpec(
                    user_name="Louis Martin",
                    sim_type="esim",
                    contact_email="louis@boulangerie-martin.fr",
                    contact_mobile="0787561725",
                ),
                LineSpec(user_name="Atelier", sim_type="no_pin"),
            ],
            "option_codes": ["conference", "visual_voicemail"],
            "allow_sva": False,
            # Maghreb/Turquie: a 500 Mo cut-off, reached in the demo month (provisioning/demo_traffic.py).
            "roaming": {"usa_canada": "OR-ROA-ILL-USCA-OPT-3G", "maghreb_turquie": "OR-ROA-ILL-MT-CUT-500M"},
        },
    ),
    (
        "55208131766522",  # Transports Leroy
        "BY-ILL-30G-NB",
        {
            "configuration": "multiple",
            "lines": [
                LineSpec(user_name="Paul Leroy", msisdn="0660100007"),
                LineSpec(user_name="Chauffeur 1"),
                LineSpec(user_name="Chauffeur 2"),
                LineSpec(user_name="Chauffeur 3"),
                LineSpec(user_name="Standard", portability=True, msisdn=PORTED_NUMBER, rio=PORTED_RIO),
            ],
            "roaming": {"europe": "BY-ROA-EU-CUT-50E", "monde": "BY-ROA-MONDE-CUT-0E"},
        },
    ),
    (
        "44306184100047",  # Cabinet Dubois Avocats
        "OR-DATA-50G-B",
        {
            "lines": [LineSpec(user_name="Routeur cabinet"), LineSpec(user_name="Routeur secours")],
            "option_codes": ["fixed_ip"],
        },
    ),
]


def load(stdout) -> None:
    partner = Partner.objects.filter(slug=PARTNER_SLUG).first()
    if partner is None:
        return
    author = User.objects.filter(membership__partner=partner, membership__role="admin").first()
    placed = 0
    for siret, code, kwargs in DEMO_ORDERS:
        client = ClientAccount.objects.filter(partner=partner, siret=siret).first()
        offer = Offer.objects.filter(code=code, active=True).first()
        if client is None or offer is None or Order.objects.filter(partner=partner, client=client).exists():
            continue
        try:
            order_place(
                partner=partner,
                client=client,
                created_by=author,
                offer=offer,
                quantity=len(kwargs["lines"]),
                source=Order.Source.DEMO,
                **kwargs,
            )
        except RuleViolation as exc:  # e.g. stock not loaded: the demo goes on without this order
            stdout.write(f"  commande de démonstration ignorée ({client}) : {exc.message} [{exc.rule}]")
            continue
        placed += 1
    stdout.write(f"  commandes de démonstration : {placed} passée(s)")
