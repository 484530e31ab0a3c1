import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siret


def normalize_siret(value: str) -> str:
    return siret.compact(value or "")


def validate_siret(value: str) -> None:
    """ID-SIRET / R-BO-1: 14 digits, Luhn, valid SIREN (La Poste exception handled by python-stdnum)."""
    compact = normalize_siret(value)
    if not compact.isdigit() or len(compact) != 14:
        raise ValidationError(_("Le SIRET doit comporter exactement 14 chiffres."), code="siret_length")
    if not siret.is_valid(compact):
        raise ValidationError(
            _("Ce SIRET n'est pas valide : la clé de contrôle ne correspond pas."),
            code="siret_checksum",
        )


MOBILE_TYPES = frozenset({"MOBILE", "FIXED_LINE_OR_MOBILE"})
LANDLINE_TYPES = frozenset({"FIXED_LINE", "FIXED_LINE_OR_MOBILE", "VOIP", "TOLL_FREE", "SHARED_COST", "UAN"})


def normalize_phone(value: str, *, kind: str, region: str = "FR") -> str:
    """R-BO-1 / ID-MSISDN: a client's mobile or landline number, returned in E.164 (``+33612345678``).

    ``kind`` is ``"mobile"`` or ``"landline"``; national numbers are read in ``region`` (the client's
    country). Raises ``ValidationError`` with a French message when the number is not a valid one of that kind.
    """
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, (region or "FR").upper())
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Ce numéro de téléphone n'est pas valide (exemple : 06 12 34 56 78)."), code="phone_invalid"
        )
    number_type = phonenumbers.PhoneNumberType.to_string(phonenumbers.number_type(number))
    if kind == "mobile" and number_type not in MOBILE_TYPES:
        raise ValidationError(
            _("Ce numéro n'est pas un numéro de mobile (06 ou 07 en France)."), code="phone_not_mobile"
        )
    if kind == "landline" and number_type not in LANDLINE_TYPES:
        raise ValidationError(
            _("Ce numéro n'est pas un numéro de téléphone fixe."), code="phone_not_landline"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """Display form of a stored E.164 number: national for French numbers, international otherwise."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return value
    fmt = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(
        number, fmt.NATIONAL if number.country_code == 33 else fmt.INTERNATIONAL
    )
