"""Pure identifier rules of the inventory (no ORM): ICCID, PIN, PUK, MSISDN, eSIM activation code.

Every checker returns ``None`` when the value is valid, or a French reason when it is not, so that the
same rule serves the model validators, the CSV import (one reason per bad line) and the API.
Identifier formats come from SPEC.md appendix: ID-ICCID, ID-MSISDN, ID-LPA.
"""

from __future__ import annotations

import re
import secrets

import phonenumbers
from django.utils.translation import gettext as _
from stdnum import luhn

from core.networks import Network

# ID-ICCID: "89" (telecom) + "33" (France) + issuer + account, 19 or 20 digits, Luhn check digit last.
ICCID_PREFIX = "8933"
ICCID_LENGTHS = (19, 20)
ICCID_DB_REGEX = r"^8933[0-9]{15,16}$"
PIN_DB_REGEX = r"^[0-9]{4,8}$"
PUK_DB_REGEX = r"^[0-9]{8}$"
# ID-MSISDN: national forms. Mobile 06/07 (10 digits); Orange data-only / M2M numbers 0700 + 10 digits.
MOBILE_DB_REGEX = r"^0[67][0-9]{8}$"
M2M_DB_REGEX = r"^0700[0-9]{10}$"
# ID-LPA: the matching id is made of upper-case letters, digits and hyphens.
MATCHING_ID_DB_REGEX = r"^[A-Z0-9]+(-[A-Z0-9]+)*$"
MATCHING_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without mistakes

_SEPARATORS = re.compile(r"[\s.\-]")


# --- ICCID -----------------------------------------------------------------------------------------------


def normalize_iccid(value: str | None) -> str:
    """Strip spaces and the trailing ``F`` that listings use to pad a 19-digit ICCID (ID-ICCID)."""
    compact = _SEPARATORS.sub("", value or "").upper()
    if compact.endswith("F"):
        compact = compact[:-1]
    return compact


def iccid_error(value: str | None) -> str | None:
    """Why ``value`` is not a valid French ICCID, or None (value may carry spaces or a trailing ``F``)."""
    iccid = normalize_iccid(value)
    if not iccid:
        return _("L'ICCID est obligatoire.")
    if not iccid.isdigit():
        return _("L'ICCID ne doit contenir que des chiffres (un « F » final est toléré).")
    if len(iccid) not in ICCID_LENGTHS:
        return _("L'ICCID doit comporter 19 ou 20 chiffres (%(n)d reçus).") % {"n": len(iccid)}
    if not iccid.startswith(ICCID_PREFIX):
        return _("L'ICCID doit commencer par 8933 (89 télécom, 33 France).")
    if not luhn.is_valid(iccid):
        return _("La clé de contrôle de l'ICCID (Luhn, dernier chiffre) est fausse.")
    return None


def iccid_with_check_digit(body: str) -> str:
    """Append the Luhn check digit to an ICCID body of 18 or 19 digits."""
    return body + luhn.calc_check_digit(body)


def iccid_range_error(first: str, last: str) -> str | None:
    """R-SC-7: a range is given by its first and last ICCID, ascending, of the same length."""
    if len(first) != len(last):
        return _("Le premier et le dernier ICCID de la plage doivent avoir la même longueur.")
    if first > last:  # same length, digits only: string order is numeric order
        return _(
            "La plage doit être croissante : le premier ICCID (%(first)s) est après le dernier (%(last)s)."
        ) % {"first": first, "last": last}
    return None


# --- PIN / PUK -------------------------------------------------------------------------------------------


def normalize_code(value: str | None) -> str:
    return _SEPARATORS.sub("", value or "")


def pin_error(value: str | None) -> str | None:
    """PIN: 4 to 8 digits; empty means a SIM delivered without PIN (« sans PIN »)."""
    pin = normalize_code(value)
    if pin and not re.fullmatch(r"[0-9]{4,8}", pin):
        return _("Le code PIN doit comporter de 4 à 8 chiffres (ou rester vide pour une SIM sans PIN).")
    return None


def puk_error(value: str | None) -> str | None:
    """PUK: exactly 8 digits."""
    if not re.fullmatch(r"[0-9]{8}", normalize_code(value)):
        return _("Le code PUK doit comporter exactement 8 chiffres.")
    return None


# --- Network ---------------------------------------------------------------------------------------------

_NETWORK_ALIASES = {
    "orange": Network.ORANGE,
    "bouygues": Network.BOUYGUES,
    "bouygues telecom": Network.BOUYGUES,
    "bouyguestelecom": Network.BOUYGUES,
    "bytel": Network.BOUYGUES,
}


def parse_network(value: str | None) -> Network | None:
    """``orange`` / ``bouygues`` (also « Bouygues Telecom », « bytel »), case-insensitive; None if unknown."""
    return _NETWORK_ALIASES.get(" ".join((value or "").lower().split()))


def network_error(value: str | None) -> str | None:
    if parse_network(value) is None:
        return _("Réseau inconnu « %(value)s » : attendu « orange » ou « bouygues ».") % {
            "value": value or ""
        }
    return None


# --- MSISDN ----------------------------------------------------------------------------------------------


def normalize_msisdn(value: str | None) -> str:
    """National form: ``+33 6 12 34 56 78`` / ``33612345678`` → ``0612345678``; ``33700…`` (15) → ``0700…``."""
    compact = _SEPARATORS.sub("", value or "")
    if compact.startswith("+"):
        compact = compact[1:]
    if compact.startswith("0033"):
        compact = compact[2:]
    if compact.startswith("33") and len(compact) in (11, 15):
        compact = "0" + compact[2:]
    return compact


def mobile_number_error(value: str | None) -> str | None:
    """ID-MSISDN: a French mobile number 06/07 allocated by ARCEP (071/072 are not, python ``phonenumbers``)."""
    msisdn = normalize_msisdn(value)
    if not re.fullmatch(MOBILE_DB_REGEX[1:-1], msisdn):
        return _("Le numéro mobile doit comporter 10 chiffres et commencer par 06 ou 07.")
    parsed = phonenumbers.parse(msisdn, "FR")
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return _("Le numéro %(msisdn)s n'appartient pas à une tranche mobile attribuée.") % {"msisdn": msisdn}
    return None


def m2m_number_error(value: str | None) -> str | None:
    """ID-MSISDN: Orange data-only / M2M numbers are 14 digits ``0700`` + 10 digits (R-CAT-5, R-CAT-6)."""
    if not re.fullmatch(M2M_DB_REGEX[1:-1], normalize_msisdn(value)):
        return _("Le numéro data/M2M doit comporter 14 chiffres et commencer par 0700.")
    return None


# --- eSIM (ID-LPA, R-OPT-2, R-ORD-4) ---------------------------------------------------------------------


def new_matching_id(groups: int = 4, size: int = 5) -> str:
    """A random matching id ``XXXXX-XXXXX-XXXXX-XXXXX`` (upper-case letters, digits, hyphens)."""
    return "-".join("".join(secrets.choice(MATCHING_ID_ALPHABET) for _ in range(size)) for _ in range(groups))


def activation_code(smdp_address: str, matching_id: str) -> str:
    """R-ORD-4 / ID-LPA: ``LPA:1$<SM-DP+ address>$<matching id>$$1`` (no OID, confirmation code required)."""
    if "$" in smdp_address or "$" in matching_id:
        raise ValueError("'$' cannot appear inside an LPA field")
    if not re.fullmatch(MATCHING_ID_DB_REGEX[1:-1], matching_id):
        raise ValueError(f"invalid matching id {matching_id!r}")
    return f"LPA:1${smdp_address}${matching_id}$$1"
