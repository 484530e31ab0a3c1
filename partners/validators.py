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
