from rest_framework.permissions import BasePermission

from partners.selectors import partner_for_user


class IsPartnerStaff(BasePermission):
    """Authenticated partner staff only; sets ``request.staff_partner`` (fail-closed)."""

    message = "Authentification requise : jeton d'un membre d'un partenaire."

    def has_permission(self, request, view) -> bool:
        partner = partner_for_user(request.user)
        if partner is None:
            return False
        request.staff_partner = partner
        return True
