from .selectors import partner_for_user


def tenancy(request):
    """The partner of the staff user looking (back-office) or of the host (self-care)."""
    if getattr(request, "door", None) == "selfcare":
        return {"current_partner": request.partner, "door": "selfcare"}
    user = getattr(request, "user", None)
    return {"current_partner": partner_for_user(user) if user else None, "door": "backoffice"}
