"""Who is looking, for back-office views: the partner of the logged-in staff user (fail-closed)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from partners.selectors import partner_for_user


def partner_required(view):
    """Logged in and member of a partner; ``request.staff_partner`` is that partner.

    A user with no partner (e.g. platform staff) gets 403 on partner pages: no data without a tenant."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        partner = partner_for_user(request.user)
        if partner is None:
            raise PermissionDenied("no partner")
        request.staff_partner = partner
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    """Partner admins only (prices, settings)."""

    @partner_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.membership.is_admin:
            raise PermissionDenied("partner admin only")
        return view(request, *args, **kwargs)

    return wrapper
