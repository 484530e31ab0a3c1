"""Demo stock for the demo partners (after ``partners/demo.py``): SIM cards with valid ICCIDs (ID-ICCID),
number pools (ID-MSISDN), and a few SIMs assigned to clients (R-SC-7). Idempotent: a partner that already
has SIM stock is left untouched. Goes through the real services (CSV import, range import, range assignment).
"""

from __future__ import annotations

from core.networks import Network
from partners.models import ClientAccount, Partner

from . import rules, services
from .models import SimCard

ISSUER = {Network.ORANGE: "01", Network.BOUYGUES: "20"}

# partner slug → (digit used in identifiers, SIM counts, number ranges, assignments)
DEMO_STOCK = {
    "telcom-pro": {
        "digit": "1",
        "sims": [
            (Network.ORANGE, 150, True),
            (Network.ORANGE, 50, False),
            (Network.BOUYGUES, 100, True),
            (Network.BOUYGUES, 50, False),
        ],
        "numbers": [
            (Network.BOUYGUES, "0660100000", "0660100149"),
            (Network.BOUYGUES, "0758100000", "0758100049"),
            (Network.ORANGE, "0680100000", "0680100099"),
        ],
        # (client SIRET, network, first SIM index, last SIM index) — SIMs with PIN
        "assign": [("73282932000074", Network.ORANGE, 0, 9), ("55208131766522", Network.BOUYGUES, 0, 4)],
    },
    "reseau-ouest": {
        "digit": "2",
        "sims": [
            (Network.ORANGE, 80, True),
            (Network.ORANGE, 20, False),
            (Network.BOUYGUES, 60, True),
            (Network.BOUYGUES, 20, False),
        ],
        "numbers": [
            (Network.BOUYGUES, "0660200000", "0660200079"),
            (Network.BOUYGUES, "0758200000", "0758200019"),
            (Network.ORANGE, "0680200000", "0680200039"),
        ],
        "assign": [("35600000000048", Network.ORANGE, 0, 4)],
    },
}


def demo_iccid(digit: str, network: str, with_pin: bool, index: int) -> str:
    """19-digit ICCID: 8933 + issuer + partner digit + PIN flag + 10-digit index + Luhn digit."""
    return rules.iccid_with_check_digit(f"8933{ISSUER[network]}{digit}{1 if with_pin else 0}{index:010d}")


def _sim_csv(digit: str, sims: list) -> str:
    lines = ["iccid;pin;puk;network"]
    for network, count, with_pin in sims:
        for index in range(count):
            pin = f"{(index * 7 + 1000) % 10000:04d}" if with_pin else ""
            puk = f"{(index * 7919 + int(digit) * 10**7) % 10**8:08d}"
            lines.append(f"{demo_iccid(digit, network, with_pin, index)};{pin};{puk};{network}")
    return "\n".join(lines)


def load(stdout) -> None:
    for slug, plan in DEMO_STOCK.items():
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None or SimCard.objects.filter(partner=partner).exists():
            continue
        services.sim_import_csv(partner=partner, data=_sim_csv(plan["digit"], plan["sims"]))
        for network, first, last in plan["numbers"]:
            services.number_import_range(partner=partner, network=network, first=first, last=last)
        for siret, network, first, last in plan["assign"]:
            client = ClientAccount.objects.filter(partner=partner, siret=siret).first()
            if client is not None:
                services.sim_assign_range(
                    partner=partner,
                    client=client,
                    first_iccid=demo_iccid(plan["digit"], network, True, first),
                    last_iccid=demo_iccid(plan["digit"], network, True, last),
                )
    stdout.write("  stock de démonstration (cartes SIM, réserves de numéros) : ok")
