"""Who invoices whom: the legal identities an invoice prints (French mandatory mentions, art. L441-9 and
R123-237 C. com.; art. 242 nonies A annexe II CGI), copied onto the invoice at issue.

AlphaLink's identity comes from settings (``ALPHALINK_LEGAL_*``, django-environ; the defaults are a clearly
fake demo company with a valid-looking SIRET and VAT number). A partner's comes from its
``PartnerBillingProfile``; without one its invoice waits (the run reports it)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from .models import PartnerBillingProfile


def alphalink_party() -> dict:
    legal = settings.ALPHALINK_LEGAL
    return {
        "name": legal["name"],
        "siret": legal["siret"],
        "vat_number": legal["vat_number"],
        "address_lines": list(legal["address_lines"]),
        "postcode": legal["postcode"],
        "city": legal["city"],
        "country": legal.get("country", "FR"),
        "email": legal.get("email", ""),
        "legal_form": legal.get("legal_form", ""),
        "rcs": legal.get("rcs", ""),
    }


def partner_party(profile: PartnerBillingProfile) -> dict:
    return {
        "name": profile.legal_name,
        "siret": profile.siret,
        "vat_number": profile.vat_number,
        "address_lines": [profile.address],
        "postcode": profile.postcode,
        "city": profile.city,
        "country": profile.country,
        "email": profile.email,
    }


def payment_terms(days: int | None = None) -> str:
    """The payment mentions every B2B invoice must carry: due date rule, late-payment penalties and the 40 €
    fixed recovery indemnity (art. L441-10 and D441-5 C. com.)."""
    days = settings.BILLING_PAYMENT_DAYS if days is None else days
    return " ".join(
        [
            _("Paiement à %(days)d jours date de facture, par virement.") % {"days": days},
            _("Pas d'escompte pour paiement anticipé."),
            _("En cas de retard de paiement : pénalités au taux de %(rate)s, exigibles de plein droit,")
            % {"rate": settings.BILLING_LATE_PENALTY_RATE},
            _(
                "et indemnité forfaitaire pour frais de recouvrement de 40 € (art. L441-10 et D441-5 du Code de commerce)."
            ),
        ]
    )


def vat_number_for_siren(siren: str) -> str:
    """The French intra-community VAT number of a SIREN: ``FR`` + key + SIREN, key = (12 + 3 × (SIREN mod 97))
    mod 97 (what python-stdnum's ``stdnum.fr.tva`` checks)."""
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def client_party(client) -> dict:
    """A partner's client as the customer of a reseller invoice (``ClientAccount``: company name, SIRET, address;
    its VAT number is the French one of its SIREN)."""
    siret = client.siret or ""
    return {
        "name": client.company_name,
        "siret": siret,
        "vat_number": vat_number_for_siren(siret[:9]) if len(siret) == 14 and siret.isdigit() else "",
        "address_lines": [client.address] if client.address else [],
        "postcode": client.postal_code,
        "city": client.city,
        "country": client.country or "FR",
        "email": client.email,
    }
