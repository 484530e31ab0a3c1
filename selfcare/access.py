"""Who is looking, for self-care views (STYLE 15, 16): a self-care user of ``request.partner``'s clients, on a
session opened on this very host."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse

from partners.selectors import selfcare_access_for_user

SESSION_PARTNER_KEY = "selfcare_partner_id"  # the partner whose host opened the session (set at login)


def selfcare_session_access(request):
    """The SelfcareAccess of the logged-in user if the session was opened on this partner's host, else None.

    A session opened on another partner's host, a back-office session, a partner staff user: None, and the
    session is flushed (it is not valid here, and never will be)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    partner = request.partner
    access = None
    if request.session.get(SESSION_PARTNER_KEY) == partner.pk:
        access = selfcare_access_for_user(partner, user)
    if access is None:
        logout(request)
    return access


def selfcare_login_required(view):
    """Every self-care page goes through this: anonymous or foreign callers are sent to the login page;
    ``request.client_account`` is the client whose fleet the page shows, ``request.selfcare_access`` the
    caller's access. Later pages scope every read with ``request.client_account``."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        access = selfcare_session_access(request)
        if access is None:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('selfcare:login')}?{query}")
        request.selfcare_access = access
        request.client_account = access.client
        return view(request, *args, **kwargs)

    return wrapper
