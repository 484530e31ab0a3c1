"""Demo tenants: two partners (so tenancy can be seen), their staff and clients. Idempotent."""

from .models import ClientAccount, Partner, PartnerMembership, SelfcareAccess, User
from .selfcare import selfcare_access_create
from .services import client_create, partner_create, partner_staff_create

DEMO_PARTNER_SLUG = "telcom-pro"
DEMO_PASSWORD = "demo-alphalink-2026"
DEMO_LOGINS = [
    ("Partenaire Telcom Pro (admin)", "admin@telcom-pro", DEMO_PASSWORD),
    ("Partenaire Telcom Pro (staff)", "staff@telcom-pro", DEMO_PASSWORD),
    ("Partenaire Réseau Ouest (admin)", "admin@reseau-ouest", DEMO_PASSWORD),
    ("Admin plateforme (/admin/)", "platform-admin", DEMO_PASSWORD),
    ("Client Boulangerie Martin (selfcare)", "flotte@boulangerie-martin", DEMO_PASSWORD),
]
DEMO_SELFCARE = ("73282932000074", "flotte@boulangerie-martin", "flotte@boulangerie-martin.fr")  # telcom-pro

# Valid SIRETs (Luhn over 14 digits and a valid SIREN).
DEMO_CLIENTS = {
    "telcom-pro": [
        (
            "Boulangerie Martin",
            "73282932000074",
            "Martin",
            "Claire",
            "contact@boulangerie-martin.fr",
        ),
        ("Transports Leroy", "55208131766522", "Leroy", "Paul", "flotte@transports-leroy.fr"),
        ("Cabinet Dubois Avocats", "44306184100047", "Dubois", "Anne", "it@dubois-avocats.fr"),
    ],
    "reseau-ouest": [
        ("Garage de l'Ouest", "35600000000048", "Morel", "Luc", "garage@ouest.fr"),
    ],
}


def _partner(slug: str, name: str, **flags) -> Partner:
    return Partner.objects.filter(slug=slug).first() or partner_create(name=name, slug=slug, **flags)


def _staff(partner: Partner, username: str, role: str) -> None:
    if not User.objects.filter(username=username).exists():
        partner_staff_create(
            partner=partner,
            username=username,
            password=DEMO_PASSWORD,
            email=f"{username.replace('@', '.')}@example.fr",
            role=role,
        )


def load(stdout) -> None:
    telcom = _partner(DEMO_PARTNER_SLUG, "Telcom Pro", is_init_sys=True)
    ouest = _partner("reseau-ouest", "Réseau Ouest", is_rezocean=True)
    _staff(telcom, "admin@telcom-pro", PartnerMembership.Role.ADMIN)
    _staff(telcom, "staff@telcom-pro", PartnerMembership.Role.STAFF)
    _staff(ouest, "admin@reseau-ouest", PartnerMembership.Role.ADMIN)
    if not User.objects.filter(username="platform-admin").exists():
        User.objects.create_superuser("platform-admin", "admin@alphalink.localhost", DEMO_PASSWORD)
    for partner in (telcom, ouest):
        for company, siret, last, first, email in DEMO_CLIENTS[partner.slug]:
            if not ClientAccount.objects.filter(partner=partner, siret=siret).exists():
                client_create(
                    partner=partner,
                    company_name=company,
                    siret=siret,
                    last_name=last,
                    first_name=first,
                    email=email,
                    postal_code="75001",
                    address="1 rue de la Paix",
                    city="Paris",
                )
    siret, login, email = DEMO_SELFCARE
    if not SelfcareAccess.objects.filter(user__username=login).exists():
        client = ClientAccount.objects.get(partner=telcom, siret=siret)
        selfcare_access_create(client=client, username=login, email=email, password=DEMO_PASSWORD)
    stdout.write("  partenaires, clients et accès selfcare de démonstration : ok")
